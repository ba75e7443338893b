"""Reading the buyer's questions: a message cut into the sub-questions it asks, the open questions of the
previous turn, choice questions, haggles, and what an asking piece really needs.

``split_questions`` cuts at punctuation and spaces and keeps the pieces that ask something; a context piece
(「新疆乌鲁木齐」, 「170 62kg」) joins the question after it, a tag (「行不行」) or an alternative (「还是…」) the
question before it, and an address or an order number joins nothing. Bare spec names in a list each ask.
"""

from __future__ import annotations

import re

from ..buyer.signals import HAGGLE, detect_intent
from ..knowledge.catalog import Product
from ..schema import Turn
from ..text.chunking import split_sentences
from ..text.vocabulary import carrier_alternation
from .answers import bigrams

MAX_QUESTIONS = 5
MAX_CARRIED = 2
_CUT = re.compile(r"[？?！!。；;，,\n]+|\s+")
_ASKS = re.compile(
    r"吗|呢|么|嘛|吧$|[？?]|多少|几[天号点件时次码]|几个?(小时|月)|几分钟|(?<![十二三四五六七八九])几年|什么|啥|怎么|咋|哪|能不能|可不可以|可以.{0,8}吗|有没有|是不是|"
    r"行不行|会不会|要不要|多久|多大|多长|谁|如何|怎样|为何|为什么|还有没|包邮|能.{0,6}吗|支持|[没不]$|(?<!要不)还是|"
    r"(.)不\1|给我|帮我|呗$"
)
# a piece that certainly asks something (a leftover without an answer is deferred only then)
REALLY_ASKS = re.compile(
    r"吗|[？?]|多少|(?<![差过才隔])几[天号点件时次]|几个?(小时|月)|几分钟|(?<![十二三四五六七八九])几年|什么|(?<!没)啥|怎么|咋|哪|能不能|可不可以|有没有|是不是|会不会|多久|多大|谁|包邮|"
    r"行不行|(?<!要不)还是|((?!要).)不\1|[能有][^，。]{0,10}[不没]$|[行好]吧$|可以吧$|对吧$|是吧$"
)
USUAL_SIZE = re.compile(r"(?:平时|一般|平常|我)(?:都|一直)?穿\s?(\d{2}(?:\.5)?|[2-4]?X{0,3}[SML])(?:码|号|的)?")
_TAG_QUESTION = re.compile(r"^(行不行|可以吗|行吗|好不好|好吗|可不可以|能不能|是不是|对吧|对不对|是吗|成吗)$")
FUTURE = re.compile(r"会(不会)?(降价|便宜|涨价|有活动|打折)|以后|到时候|过几天|下个月|双1[12]|618|年货节")
PROMO_WORDS = re.compile(r"活动|立减|直降|优惠|赠|半价|\d折|预热|满\d*减|券")
_NOT_CONTEXT = re.compile(r"\*{3}|\d{6,}|[省市区县镇]\S{0,12}[路街道巷]|[路街巷]\S{0,6}号")  # addresses, numbers, masks
def split_questions(message: str) -> list[str]:
    """The sub-questions of one buyer message, in order; a message asking one thing gives one."""
    return [text for text, _ in split(message)]


def split(message: str) -> list[tuple[str, str]]:
    """(sub-question with its context, the piece that asks) pairs: context before a question joins it, a
    trailing remark joins the last one; the asking piece says the need."""
    pieces = [p.strip() for p in _CUT.split(message) if p and p.strip()]
    out: list[tuple[str, str]] = []
    pending: list[str] = []
    for piece in pieces:
        if out and (_TAG_QUESTION.match(piece) or piece.startswith("还是")):  # 「…能换吗 还是我自己剪掉就行」  # 「再便宜20呗 我要两件的 行不行」: the tag asks the question before it
            text, asking = out[-1]
            out[-1] = (" ".join([text, *pending, piece]), asking)
            pending = []
            continue
        if _ASKS.search(piece) or detect_intent(piece) == "product_info":  # 「含绒量 蓬松度 充绒量」: each asks
            out.append((" ".join([*pending, piece]), piece))
            pending = []
        elif not _NOT_CONTEXT.search(piece):  # an address or an order number says nothing about the question
            pending.append(piece)
    if pending:
        tail = " ".join(pending)
        if out:
            out[-1] = (f"{out[-1][0]} {tail}", out[-1][1])
        else:
            out.append((tail, tail))
    if len(out) > MAX_QUESTIONS:  # keep the first ones apart, fold the rest into the last
        rest = out[MAX_QUESTIONS - 1:]
        out = out[: MAX_QUESTIONS - 1] + [(" ".join(t for t, _ in rest), rest[0][1])]
    return out or [(message, message)]


def open_questions(history: list[Turn]) -> list[str]:
    """Questions of the buyer's turn before the agent's last reply that the reply did not take up.

    An agent turn that asked for an order number or photos answers none of them; one that answered the size
    but not the washing question leaves the washing question open."""
    if len(history) < 2 or history[-1].role != "agent":
        return []
    agent = history[-1].text
    earlier = [t for t in history[:-1] if t.role == "buyer"]
    if not earlier:
        return []
    answered_intents = {detect_intent(s) for s in split_sentences(agent)}
    agent_terms = bigrams(agent)
    carried = []
    for q in split_questions(earlier[-1].text):
        intent = detect_intent(q)
        if intent in ("other", "greeting") or not REALLY_ASKS.search(q):
            continue
        if intent in answered_intents or len(bigrams(q) & agent_terms) >= 2:
            continue
        carried.append(q)
    return carried[:MAX_CARRIED]


def haggles(sub: str, product: Product) -> bool:
    """A haggle: 「便宜点」, or a figure offered as a price (「400行不行」, not 「这双也拿39可以吗」)."""
    m = HAGGLE.search(sub)
    if not m or re.search(r"有(没有)?(什么|啥)?(打折|优惠|折扣)", sub):  # 「现在有打折吗」 asks about promotions
        return False
    if re.fullmatch(r"送点|送个|别家|人家才", m.group(0)) or re.search(r"有(没有)?便宜|便宜的|便宜点的(款|办法)", sub):
        return False  # asking for a gift, comparing, or for a cheaper product is not asking to cut this price
    if re.search(r"[退返少减]|便宜", m.group(0)):  # money off: 「退我20块」「便宜20」
        return True
    figures = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", m.group(0))]
    return not figures or any(f >= 0.3 * product.price for f in figures)


_CARRIER = re.compile(carrier_alternation())
_UPGRADE = re.compile(r"加钱|补差价|差价我|运费我(自己)?出|我出运费|改发|换(成|个)?快递|指定|能发|发[^，。？\s]{0,4}(吗|不|行)|太慢")


def refine(intent: str, asking: str, product: Product | None, sub: str = "") -> str:
    """What the asking piece really needs where the first-match intent misreads it: 「补货了还有立减30吗」 asks
    about the promotion; 「前几天不是799吗」 about the price (a figure near the product's price)."""
    if intent in ("stock", "other") and PROMO_WORDS.search(asking):
        return "promotion"
    if intent in ("other", "price") and _CARRIER.search(sub or asking) and _UPGRADE.search(sub or asking):
        return "shipping"  # 「韵达太慢了 我加钱行不行」 asks for another carrier, not a price
    if product is not None and product.variants and intent in ("other", "product_info", "size") and \
            re.search(r"有吗|有没有|有货|还有|没货|缺货|能拍|能买|卖完", asking) and product.variants_in(sub or asking):
        return "stock"  # 「65w黑色 有吗」 names a variant and asks whether it can be bought
    if product is not None and intent in ("other", "stock", "payment", "product_info") and re.search(
            r"到手|多少钱|什么价|啥价|几块|[买拍要]\s*[两俩三几2-9]\s*[盒件个支条双套瓶只]?.{0,4}多少", asking):
        return "price"  # 「到手多少」「买两盒多少」
    if intent == "stock" and product is not None and re.search(r"明天|今天|今晚|之后|以后", asking) and \
            any(p.ends_at > p.starts_at for p in product.promotions):
        return "promotion"  # 「明天还有吗」 after a promotion was mentioned asks whether it still runs
    if intent == "price" and product is not None and not re.search(r"贵|便宜|价|钱|元|块|优惠|折|减|送|券", asking):
        figures = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", asking)]
        if figures and all(f < 0.3 * product.price for f in figures):  # 「这双也拿39可以吗」 names a size, not a price
            return "size" if product.size_chart else "other"
    if intent == "other" and product is not None:
        # a figure near the price, unless it measures something else (「说好的N小时呢」「65W」「128G」)
        for n in re.findall(r"(?<![\d.])(\d{2,5})(?:块|元)?(?![\d.])(?!\s?(?:小时|天|分|号|点|日|月|年|个|周|秒|"
                            r"cm|mm|[gG]|kg|ml|[wW]|mAh|[TG]B?|寸|米|斤|克|%|码))", asking):
            if 0.5 * product.price <= float(n) <= 1.5 * product.price:
                return "price"
    return intent


_OPTIONS = re.compile(r"([^\s，。是]{1,5}?)还是([^\s，。]{1,5}?)(?:的|啊|呀|呢|吗|好|$)")


def options(sub: str) -> list[str]:
    """The options of a choice question (「单频还是双频」, 「信封式还是拉链的」): an answer names one of them."""
    m = _OPTIONS.search(sub)
    if not m:
        return []
    opts = [re.sub(r"^(是|要|选|买|偏)", "", o) or o for o in m.groups()]
    if len(opts) == 2 and (opts[1] in (f"不{opts[0]}", f"没{opts[0]}") or opts[0] in ("有", "是", "能", "行", "可以")):
        return []  # 「有还是没有」 asks yes or no: any answer about it will do
    return [o for o in opts if o]
