"""Which knowledge answers the buyer's question, and its best sentences in the shop's voice.

Answers are quoted from retrieved FAQ answers, policy sections and product
descriptions, never invented: ``best_hit`` picks the chunk (on topic for
after-sale needs, the named product first), ``best_sentences`` the sentences
of it that share most with the question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..buyer.signals import detect_intent
from ..knowledge.catalog import Product
from ..retrieval.lexicon import Lexicon
from ..rules.base import SHOP_VOICE
from ..schema import Hit, buyer_turns
from ..text.chunking import split_sentences
from ..text.vocabulary import carrier_alternation
from .context import DraftContext

STRICT_TOPICS = {"quality_complaint", "damaged_wrong", "refund", "invoice", "authenticity", "address_change"}
# which knowledge titles answer which need
INTENT_TOPICS = {
    "quality_complaint": "质量",
    "damaged_wrong": "破损|错发|漏发|少发",
    "return_exchange": "退换|无理由|退货",
    "refund": "退款|退货",
    "shipping": "发货|快递",
    "logistics": "物流|快递|发货",
    "address_change": "地址",
    "invoice": "发票",
    "authenticity": "正品",
    "price": "价",
    "promotion": "优惠|活动|券",
    "review": "评价",
}


@dataclass
class Answer:
    sentences: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)
    kind: str = "unknown"
    question: str | None = None  # which question to ask when information is missing



# policy text speaks about the shop; a reply speaks as the shop


def clean_sentence(s: str) -> str:
    s = re.sub(r"^[\s\-*•·]+", "", s.strip())
    for a, b in SHOP_VOICE:
        s = s.replace(a, b)
    s = re.sub(r"^(问|答)[:：]", "", s)
    s = re.sub(r"[；;，,、]$", "。", s)
    if s and s[-1] not in "。！？～…":
        s += "。"
    return s


def _terms(text: str, lexicon: Lexicon | None) -> set[str]:
    return bigrams(text + (" " + " ".join(lexicon.terms(text)) if lexicon else ""))


def bigrams(text: str) -> set[str]:
    """Character bigrams of the Chinese and alphanumeric characters of ``text``."""
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


_FUNCTION = set("吗呢吧啊呀哈的了么嘛哦呗")
_STOP = {"能用", "可以", "什么", "怎么", "多少", "有没", "没有", "是不", "不是", "会不", "不会", "能不", "不能", "还有", "有吗",
         "一下", "这个", "那个", "我们", "你们", "您的", "的话", "这款", "一个", "现在", "还是", "就是", "如果", "要是", "我要",
         "我想", "想问", "请问", "几天", "前几", "天不", "多久", "久能", "合适", "适合", "可以", "这双", "这件", "这个", "页面", "面上" "你家", "你们", "麻烦", "帮我", "给我", "可不", "不可", "行不", "不行", "能不", "有点"}


def content_bigrams(text: str) -> set[str]:
    """Bigrams that carry the topic: no particles (吗呢吧…) and no question or filler words (有没, 可以, 这款…)."""
    return {g for g in bigrams(text) if g not in _STOP and not (set(g) & _FUNCTION)}


_REMEDY = re.compile(r"加急|催(仓库|快递|发)|赔付|补偿|补发|换新|退款|运费由我们承担|由我们承担|优先处理|马上帮您查")


_TABLE_ROW = re.compile(r"^[^：；\n]{1,10}：[^；\n]+(；[^：；\n]{1,10}：[^；\n]+)+。?$")


def with_list_intros(text: str) -> str:
    """List items read on their own carry their intro: 「以下情况不支持：」 + 「- 贴身衣物…拆开后；」 becomes
    「以下情况不支持：贴身衣物…拆开后。」, never the fragment 「贴身衣物…拆开后。」."""
    out, intro, depth = [], "", -1  # depth: the indent of the list item that set the intro (-1: a paragraph)
    for line in text.split("\n"):
        if _TABLE_ROW.match(line):  # a table row read as 「产品线：X；换新期：Y；保修期：Z。」 is one answer, not three
            line = line.replace("；", "，")
        item = re.match(r"^(\s*)[-*•·]\s*(.+)", line)
        if item and intro and len(item.group(1)) > depth:
            out.append(intro + re.sub(r"[；;，,。]$", "", item.group(2).strip()) + "。")
            continue
        m = re.search(r"([^。！？]*[：:])\s*$", line)
        # 「- 反馈时效：」 introduces the items indented under it, not the next item beside it
        intro = re.sub(r"^\s*[-*•·]\s*", "", m.group(1)) if m else ""
        depth = len(item.group(1)) if item else -1
        out.append(line)
    return "\n".join(out)


# what a question asks for, and what an answer sentence to it holds: 「今天能发不」 wants a time (几点前、当天、N小时),
# 「运费贵不贵」 money or 包邮, 「发啥快递」 a carrier's name
_ASKS_KIND = [
    (re.compile(r"几天|多久|多长时间|什么时候|啥时候|几点|几号|今天能|明天能|当天|能发不|发了没|到得了|赶得上|来得及|"
                r"还没发|还不发|没发货|怎么还没"),
     re.compile(r"\d+\s*[:：]\s*\d+|当天|次日|隔天|\d+\s*(个)?(小时|天|工作日)|[一二两三四五六七]天|工作日|周[一二三四五六日]")),
    (re.compile(r"多少钱|运费|邮费|贵不贵|收费|要钱|加钱|差价|包邮"), re.compile(r"\d+\s*(元|块)|包邮|免费|运费|邮费")),
    (re.compile(r"(什么|啥|哪家|哪个)快递|发什么|走什么|用什么快递|顺丰吗|能发顺丰"), re.compile(carrier_alternation())),
]


def _kind_fit(query: str, sentence: str) -> float:
    """A bonus for a sentence that holds the kind of thing the question asks for."""
    return sum(0.4 for ask, holds in _ASKS_KIND if ask.search(query) and holds.search(sentence))


def misses_kind(query: str, sentences: Sequence[str]) -> bool:
    """Does the question ask for a time, a sum or a carrier that none of these sentences holds?"""
    wanted = [holds for ask, holds in _ASKS_KIND if ask.search(query)]
    return bool(wanted) and not any(h.search(x) for h in wanted for x in sentences)


def asks_kind(query: str) -> bool:
    """Does the question ask for a time, a sum or a carrier (a kind of fact a sentence can be checked for)?"""
    return any(ask.search(query) for ask, _ in _ASKS_KIND)


def _about_others(sentence: str, prefer: Sequence[str], avoid: Sequence[str]) -> bool:
    return not any(t in sentence for t in prefer) and any(t in sentence for t in avoid)


def best_sentences(
    text: str, query: str, lexicon: Lexicon | None, k: int = 2, limit: int = 160, *,
    prefer: Sequence[str] = (), avoid: Sequence[str] = (), drop: Callable[[str], bool] | None = None,
    need_overlap: bool = False, lead_states_rule: bool = True, remedy: bool = False,
) -> list[str]:
    """The ``k`` sentences of ``text`` that share most with the query, in their original order.

    A sentence naming this product or its category (``prefer``) wins over one naming only other categories
    (``avoid``); ``drop`` removes sentences that cannot answer (wrong scenario, a promotion that is over);
    ``need_overlap`` keeps only sentences sharing a word with the query."""
    sentences = [clean_sentence(s) for s in split_sentences(with_list_intros(text)) if len(s.strip()) > 3]
    sentences = [s for s in sentences if not (drop and drop(s)) and not re.search(r"[：:]。?$", s)]  # no list intros
    if not sentences:
        return []
    q = _terms(query, lexicon)
    qc = {g for g in q if g in content_bigrams(g)}
    scored = []
    for i, s in enumerate(sentences):
        st = _terms(s, None)
        shared = len(q & st)
        offers = remedy and bool(_REMEDY.search(s))  # an upset buyer hears what will be done: 加急, 赔付, 补发…
        if need_overlap and not (i == 0 and lead_states_rule) and not (qc & st) and not offers:
            continue
        score = shared / (len(st) ** 0.5 or 1) + 0.3 / (1 + i)  # leading sentences usually state the rule
        score += _kind_fit(query, s)
        if offers:
            score += 0.4
        if any(t in s for t in prefer):
            score += 0.5
        elif _about_others(s, prefer, avoid):  # the clause about other categories is not the answer about this one
            continue
        scored.append((score, -i, s))
    top = [x for x in sorted(scored, reverse=True)[:k] if x[0] > -0.3 or len(scored) == 1]
    chosen = [s for _, _, s in sorted(top, key=lambda x: -x[1])]
    out, size = [], 0
    for s in chosen:
        if size + len(s) > limit and out:
            break
        out.append(s)
        size += len(s)
    return out



def best_hit(ctx: DraftContext) -> Hit | None:
    """The FAQ, policy or product chunk that answers the question, or None when nothing is trustworthy."""
    usable = [h for h in ctx.hits if h.kind in ("faq", "policy", "product")]
    if not usable:
        return None
    if not ctx.grounded:
        # below the no-answer threshold: only a hit whose title names the
        # buyer's topic (via the colloquial lexicon) is trusted
        topical = [h for h in usable if _topical(h, ctx) or _on_carried_topic(h, ctx)]
        if not topical:
            return None
        usable = topical
    sku = ctx.product.sku if ctx.product else None
    topic = INTENT_TOPICS.get(ctx.analysis.intent)
    category = ctx.product.category if ctx.product and len(ctx.product.category) >= 2 else ""
    if topic and ctx.analysis.intent in STRICT_TOPICS:
        on_topic = [h for h in usable if re.search(topic, h.title + h.text.split("\n", 1)[0])
                    or (sku and h.sku == sku and h.kind == "faq" and _asks_same(h, ctx))
                    or (category and h.kind == "policy" and category in h.title)]  # 「<品类>售后」
        if on_topic:  # a complaint is answered by the after-sale rule, not by a nearby size FAQ
            usable = on_topic
    top = usable[0].score

    def rank(h: Hit) -> float:
        bonus = 0.0
        if topic and re.search(topic, h.title):
            bonus += 0.1
        if sku and h.sku == sku:
            bonus += 0.05
        if h.kind == "product":
            bonus -= 0.08  # descriptions answer spec questions; FAQ/policy answer the rest
        if h.sku and sku and h.sku != sku:
            bonus -= 0.2
        if category and h.kind == "policy" and category in h.title:
            bonus += 0.1  # the section on this category (「<品类>售后」) beats the store-wide FAQ
        return h.score + bonus

    best = max(usable, key=rank)
    return best if best.score >= top * 0.7 else usable[0]

def _asks_same(h: Hit, ctx: DraftContext) -> bool:
    """Does this product FAQ's question share words with the buyer's, beyond the product's name?"""
    names = " ".join([ctx.product.name, *ctx.product.aliases]) if ctx.product else ""
    shared = _terms(h.text.split("\n", 1)[0], None) & _terms(ctx.message, None)
    return len(shared - _terms(names, None)) >= 2

# a hit this far below the no-answer threshold answers nothing, whatever its title
_FLOOR = 0.04
_AFTER_SALE_NEEDS = {"quality_complaint", "damaged_wrong", "refund", "return_exchange"}


def _on_carried_topic(h: Hit, ctx: DraftContext) -> bool:
    """A hit on the need the conversation is about, although the newest message alone scores low against it:
    a reply to the agent's question (「公司的」 after 发票 → 请问开什么发票) carries the need of the buyer's earlier
    turn; an after-sale complaint told with few topic words (「给我换个新的 别跟我说过了七天」) is answered by the
    store's after-sale section on that need or on this product's category."""
    intent = ctx.analysis.intent
    topic = INTENT_TOPICS.get(intent)
    if h.score < _FLOOR or h.kind == "product":
        return False
    head = h.title + h.text.split("\n", 1)[0]
    earlier = buyer_turns(ctx.history)[-1:]
    carried = (topic is not None and len(ctx.message) <= 12 and not re.search(r"\d{6,}", ctx.message)
               and detect_intent(ctx.message) == "other" and bool(earlier) and detect_intent(earlier[0]) == intent
               and bool(re.search(topic, head)))
    if carried:
        return True
    if ctx.analysis.stage != "after_sale" or intent not in _AFTER_SALE_NEEDS:
        return False
    if topic and re.search(topic, head):
        return True
    category = ctx.product.category if ctx.product else ""
    return h.kind == "policy" and len(category) >= 2 and category in h.title


def _topical(h: Hit, ctx: DraftContext) -> bool:
    terms = ctx.lexicon.terms(ctx.message) if ctx.lexicon else []
    head = h.title + h.text.split("\n", 1)[0]  # a FAQ's question names its topic
    return h.score >= 0.15 and any(t in head for t in terms if len(t) >= 2)

# what a question asks for, and what a value must contain to answer it (「开降噪能用几小时」 is not answered by the
# 降噪 spec 「主动降噪，最高深度40dB」)
_UNITS = [
    (re.compile(r"几个?小时|多久|多长时间|几天|续航"), re.compile(r"小时|天|分钟|\dh", re.I)),
    (re.compile(r"多重|多少克|几克|多少g|重量"), re.compile(r"\d\s*(g|克|kg|公斤|斤)", re.I)),
    (re.compile(r"多大|多长|多宽|多高|尺寸|尺码"), re.compile(r"\d\s*(cm|mm|厘米|毫米|米|英寸|寸)|\d\s*[×xX*]\s*\d")),
    (re.compile(r"多少度|几度|温度"), re.compile(r"°|℃|度")),
]


def _fits(message: str, value: str) -> bool:
    return all(unit.search(value) for ask, unit in _UNITS if ask.search(message))


def spec_answer(product: Product, message: str, skip: set[str] | None = None) -> str | None:
    """The product specs the buyer asks about by name (材质, 容量, 「成分」 for 面料成分) or by value (「60支」,
    「N小时」), as one sentence (at most two specs); a spec in ``skip`` (already said) is left out."""
    found = []
    for key, value in product.specs.items():
        parts = [p for p in re.split(r"[/、]", key) if len(p) >= 2]
        by_name = key in message or any(p in message for p in parts) or (len(key) >= 4 and key[-2:] in message)
        tokens = re.findall(r"\d+(?:\.\d+)?(?:[A-Za-z%℃°]+|[\u4e00-\u9fff]{1,2})", value)
        by_value = any(t in message for t in tokens if len(t) >= 3)
        clause = f"{key}{value}" if re.match(r"[不无有支可]", value) else f"{key}是{value}"
        if (by_name or by_value) and _fits(message, value) and not any(clause in s for s in (skip or ())):
            found.append(clause)
        if len(found) == 2:
            break
    return "这款" + "，".join(found) + "。" if found else None
