"""The rule interface and what every rule may look at."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from ..buyer.signals import detect_intents, detect_safety, is_scam_report, reads_negative
from ..knowledge.catalog import Catalog, Facts, Product
from ..orders.model import Order
from ..schema import Analysis, Turn
from ..text.chunking import split_sentences

# Words that cancel a claim when they come shortly before it: "我们不会索要验证码".
_NEGATION = re.compile(
    r"(不会|不要|请勿|切勿|千万别|别|绝不|从不|不用|无需|不需要|没有|没办法|没法|无法|不以|不做|不能|不支持|不可以|不会向|禁止|拒绝|严禁|"
    r"不存在|并非|不是|不一定|未必|不算|算不上|不加|不搞|不走|不接受|不得(?!已|不)|不可(?!思议))"
)


@dataclass
class CheckContext:
    """What a reply is checked against. Time is explicit so results are reproducible."""

    now: datetime
    message: str = ""
    history: list[Turn] = field(default_factory=list)
    facts: Facts | None = None
    product: Product | None = None
    catalog: Catalog | None = None
    policies: str = ""  # the shop's policy text (and shop FAQs)
    analysis: Analysis | None = None  # the drafting pipeline's reading of the buyer; None for a bare check
    knowledge: str = ""  # what the store's knowledge says for this request: the guard never cuts it from a draft
    order: Order | None = None  # the buyer's order: claims about shipping, delivery and refunds are checked against it

    @property
    def buyer_is_negative(self) -> bool:
        """Does the buyer's message call for empathy first? The pipeline's analysis knows; a bare check reads the words."""
        if self.analysis is not None:
            return self.analysis.negative
        return reads_negative(self.message, self.history)

    @property
    def buyer_reports_a_problem(self) -> bool:
        """Is the buyer reporting goods that arrived damaged, wrong or faulty, or that harmed them (「冰袋全化了」「用了
        脸上起红疹」)? The pipeline's analysis knows; a bare check reads the words."""
        if self.analysis is not None:
            return self.analysis.safety in ("reaction", "injury") or bool(
                {"quality_complaint", "damaged_wrong"} & set(self.analysis.intents))
        if not self.message:
            return False
        return detect_safety(self.message, self.history)[0] in ("reaction", "injury") or bool(
            {"quality_complaint", "damaged_wrong"} & set(detect_intents(self.message)))

    @property
    def buyer_reports_scam(self) -> bool:
        """Is the buyer reporting a scam contact? The pipeline's analysis knows; a bare check reads the words."""
        if self.analysis is not None:
            return self.analysis.scam
        return is_scam_report(self.message, self.history)

    @property
    def low_stock_threshold(self) -> int:
        if self.facts is not None:
            return self.facts.low_stock_threshold
        return self.catalog.shop.low_stock_threshold if self.catalog else 10


@dataclass
class RuleResult:
    rule: str
    passed: bool
    detail: str
    span: str | None = None


class Rule(ABC):
    """One tone rule: ``check`` returns passed, a reason in Chinese, and the offending span."""

    id: str = ""
    name: str = ""
    eval_set: str = "rules"  # where its labelled replies live: evals/rules/<id>.jsonl, or another suite's cases

    @abstractmethod
    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        """Judge ``reply``; a failing result names the span that broke the rule."""

    def ok(self, detail: str = "") -> RuleResult:
        return RuleResult(self.id, True, detail or f"符合「{self.name}」")

    def fail(self, detail: str, span: str | None) -> RuleResult:
        return RuleResult(self.id, False, detail, span)

    def clears(self, reply: str, ctx: CheckContext) -> bool:
        """Does the reply itself show it keeps this rule (so the reply reader's doubt is overruled)? By default no."""
        return False

    def readable(self, reply: str, ctx: CheckContext) -> list[str]:
        """The parts of the reply the reply reader judges for this rule, each on its own: by default the whole reply
        (a rule whose claims the store's own text can back gives the sentences it does not back)."""
        return [reply]


def negated(text: str, start: int, window: int = 8) -> bool:
    """Is the phrase starting at ``start`` negated by a word shortly before it (same clause)?

    In a list ("不会发链接让您退款或要求私下转账") the negation at the head of
    the clause covers every item after "或/和/、/及".
    """
    clauses = re.split(r"[。！？!?；;，,]", text[:start])
    clause = clauses[-1]
    either_way = len(clause) >= 2 and clause[-1] in "不没未" and text[start:start + 1] == clause[-2]  # 「拆没拆封」
    if not either_way and (_NEGATION.search(clause[-window:]) or re.search(r"[不没未]$", clause)):
        return True  # 「我们不加微信」: 不 right before it
    if re.match(r"\s*(或|或者|以及|及|和|也不|更不)", clause) and len(clauses) > 1:
        clause = clauses[-2] + clause  # "不会让您加微信，或要求私下转账": the negation carries over
    tail = clause[-window:]
    return bool(re.search(r"或|及|以及|、|和|也不", tail)) and bool(_NEGATION.search(clause))


_NOISE = re.compile(r"[\s，。！？；：、,.!?;:～~…“”\"'（）()【】「」]+")
# the composer speaks as the shop where the knowledge speaks about it (drafting.answers.clean_sentence)
SHOP_VOICE = [("请联系客服提供", "麻烦您提供"), ("请联系客服", "您跟我说一声"), ("联系客服", "找我"), ("本店", "我们")]


def _plain(text: str) -> str:
    return _NOISE.sub("", text)


def from_store(sentence: str, knowledge: str) -> bool:
    """Is ``sentence`` (greeting aside) something the store's knowledge says, word for word?"""
    body = _plain(re.sub(r"^(亲|您好|在的)[～~，,！!]*", "", sentence.strip()))
    if len(body) < 8 or not knowledge:
        return False
    return any(body in plain for plain in _plain_store(knowledge))


@lru_cache(maxsize=32)
def _plain_store(knowledge: str) -> tuple[str, str]:
    """The store's text without punctuation, as written and in the shop's voice (computed once per store text)."""
    plain = voiced = _plain(knowledge)
    for a, b in SHOP_VOICE:
        voiced = voiced.replace(_plain(a), _plain(b))
    return plain, voiced


def clause_around(text: str, start: int, end: int, stops: str = "。！？\n，,；;") -> str:
    """The stretch of ``text`` holding ``start:end`` between the nearest ``stops`` on either side."""
    left = max(text.rfind(p, 0, start) for p in stops) + 1
    ends = [i for i in (text.find(p, end) for p in stops) if i >= 0]
    return text[left : min(ends) if ends else len(text)]


def clause_from_store(text: str, start: int, end: int, knowledge: str) -> bool:
    """Is the clause of ``text`` holding ``start:end`` (between commas or stops, 5 characters at least) a stretch of
    the store's own text, word for word?"""
    clause = _plain(clause_around(text, start, end))
    return len(clause) >= 5 and bool(knowledge) and clause in _plain(knowledge)


def last_clause_denies(span: str) -> bool:
    """A match that runs over a comma into a clause denying it: "不以好评返现…评价，也不会要求您…来换取退款"."""
    parts = re.split(r"[，,；;]", span)
    return len(parts) > 1 and bool(_NEGATION.search(parts[-1]))


def sentences(text: str) -> list[str]:
    return [s for s in split_sentences(text) if s.strip()]


_OPEN_QUOTES, _CLOSE_QUOTES = "「“\"‘『", "」”\"’』"
_DENIAL_AFTER = re.compile(r"^[^。！？]{0,4}(不了|不行|不能|不敢|不可以|不支持|做不到|没法|没办法|无法|办不到|不会|不是|没有|不做|不搞)")


def quoted_and_denied(text: str, start: int, end: int) -> bool:
    """The phrase is the buyer's words in quotes, then denied: 「抹个零」这个真做不了, “最好”不敢这么说."""
    opened = max(text.rfind(q, max(0, start - 10), start + 1) for q in _OPEN_QUOTES)
    if opened < 0 or any(q in text[opened + 1:start] for q in _CLOSE_QUOTES):
        return False
    closes = [i for i in (text.find(q, end - 1, end + 10) for q in _CLOSE_QUOTES) if i >= 0]
    return bool(closes) and bool(_DENIAL_AFTER.search(text[min(closes) + 1:]))


def _quote_opened(text: str, start: int) -> int:
    """Where the quotation holding ``start`` opens (at most 20 characters back), or -1 when it is not quoted."""
    opened = max(text.rfind(q, max(0, start - 20), start + 1) for q in _OPEN_QUOTES)
    return opened if opened >= 0 and not any(q in text[opened + 1:start] for q in _CLOSE_QUOTES) else -1


def inside_quotes(text: str, start: int) -> bool:
    """The phrase sits inside quotation marks opened shortly before it (someone's words repeated, 「您说的“是不是快递压坏的”」)."""
    return _quote_opened(text, start) >= 0


_BUYER_SAID = re.compile(r"(您|你|买家|亲)(刚才|刚刚|上面)?(说|问|提到|讲|看到)的?[^，。！？]{0,3}$")


def quotes_the_buyer(text: str, start: int, message: str = "") -> bool:
    """The phrase is inside quotation marks that repeat the buyer: 「您说的“最好”要看口味」, or quoted words the buyer wrote."""
    opened = _quote_opened(text, start)
    if opened < 0:
        return False
    closes = [i for i in (text.find(q, start) for q in _CLOSE_QUOTES) if i >= 0]
    quoted = _plain(text[opened + 1 : min(closes)]) if closes else ""
    return bool(_BUYER_SAID.search(text[max(0, opened - 10):opened])) or (len(quoted) >= 2 and quoted in _plain(message))


# the claim refused right after it: 「抹零这个真做不了哈」「额外加送这个我做不了主」
_REFUSED_AFTER = re.compile(r"^(这个|这种|这样|的话|的事|这事)?[^，。！？]{0,3}(真|确实|实在|是)?"
                            r"(做不了|不行|办不到|没法(做|办|给)|不可以|没有?(这个)?权限|不支持|给不了)")


def refused_after(text: str, end: int) -> bool:
    return bool(_REFUSED_AFTER.match(text[end:]))


def matches(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """Every match of ``pattern`` in ``text`` that is not negated (before it, as quoted words denied after, or
    refused right after)."""
    for m in pattern.finditer(text):
        if not negated(text, m.start()) and not quoted_and_denied(text, m.start(), m.end()) \
                and not refused_after(text, m.end()):
            yield m


def find(pattern: re.Pattern, text: str) -> re.Match | None:
    """First match of ``pattern`` in ``text`` that is not negated."""
    return next(matches(pattern, text), None)


# Chinese counting measure words any shop may count stock in; a catalog adds its own (``Catalog.units``)
MEASURE_WORDS = ("件", "个", "只", "双", "套", "盒", "瓶", "支", "罐", "袋", "包", "箱", "条", "台", "片", "份", "枚", "听",
                 "桶", "块")
# a number of days, in digits or in Chinese ("N天", "七天", "十五天")
NUM_DAYS = r"(\d+|[一二两三四五六七八九十]+)天"


def catalog_units(catalog: Catalog | None) -> frozenset[str]:
    """The measure words the catalog counts its products in (empty without a catalog)."""
    return frozenset(u for u in catalog.units if u.strip()) if catalog is not None else frozenset()


def unit_alternation(extra: frozenset[str] = frozenset()) -> str:
    """A regex alternation of measure words: the generic ones plus ``extra``, longest first.

    "个" is a unit, but not in "个小时/个月/个工作日"."""
    words = sorted({*MEASURE_WORDS, *extra} - {"个"}, key=lambda w: (-len(w), w))
    return "(" + "|".join([*map(re.escape, words), r"个(?!多?(小时|钟头|月|星期|礼拜|工作日))"]) + ")"


def product_unit(ctx: "CheckContext", default: str = "件") -> str:
    """What this product's stock is counted in (the catalog's ``unit``, else ``default``)."""
    return ctx.product.unit if ctx.product is not None and ctx.product.unit.strip() else default


CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "半": 0.5}


# a number in digits or spelled in Chinese up to the thousands (「一百九十九」「四十」「三百六十八」)
NUMBER = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千]+)"


def to_number(token: str) -> float | None:
    token = token.strip()
    if len(token) > 2 and re.fullmatch(r"[零一二两三四五六七八九十百千]+", token):
        total, unit_value, digit = 0, {"千": 1000, "百": 100, "十": 10}, 0
        for ch in token:
            if ch in unit_value:
                total += (digit or 1) * unit_value[ch]
                digit = 0
            elif ch != "零":
                digit = CN_DIGITS.get(ch, 0)
        return float(total + digit)
    try:
        return float(token)
    except ValueError:
        pass
    if token in CN_DIGITS:
        return float(CN_DIGITS[token])
    if len(token) == 2 and token[0] == "十" and token[1] in CN_DIGITS:
        return 10 + CN_DIGITS[token[1]]
    if len(token) == 2 and token[1] == "十" and token[0] in CN_DIGITS:
        return CN_DIGITS[token[0]] * 10
    return None
