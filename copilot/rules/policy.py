"""Reading the store's policy text, so that the rules know no shop.

What is excluded from returns, which courier may be promised, and which durations and amounts
belong to which promise all come from the policy text the check context carries:

- ``sections`` splits the text at its ``##`` headings; ``topic_text`` is the part about one
  topic (价保, 无理由, 退款, 质保, 运费险, 发货…): the sections whose heading names it, and every
  sentence that mentions it (FAQ rows have no heading);
- ``exclusions`` reads sentences such as 「生鲜、冷链商品不支持七天无理由退货」「食品一经拆封不退不换」
  and the items under 「以下情况不支持：」 into the classes of goods they exclude, and whether only
  once opened or used;
- ``courier_permissions`` reads the positive statements about each courier with their conditions
  (a class of goods, an order amount, a paid upgrade). A negative statement (不支持/不提供/不可/暂不/
  无法/不能/不发/除外…) is never a permission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..knowledge.catalog import Catalog, Product
from ..text.vocabulary import carrier_alternation

# a policy sentence that denies rather than grants
NEGATIVE = re.compile(r"不支持|不提供|不可|暂不|无法|不能|不发|除外|不接受|不予|不参加|不参与|不享受|不适用|不包括|不含|不包邮|不再")
COURIER = f"({carrier_alternation('京东', 'ems')})"

# topic: (words that name it in a promise, words that name it in a heading)
TOPICS: dict[str, tuple[str, str]] = {
    "价保": (r"价保|价格保护|保价|退差价|降价", r"价保|价格保护|保价"),
    "无理由": (r"无理由", r"无理由|退换|退货"),
    "运费险": (r"运费险", r"运费险"),
    "质保": (r"质保|保修|质量问题|维修", r"质量|质保|保修"),
    "退款": (r"退款|到账", r"退款"),
    "发货": (r"发货|发出", r"发货"),
    "发票": (r"发票|开票|专票|普票", r"发票"),
}
_TOPIC_WORDS = {t: re.compile(w) for t, (w, _) in TOPICS.items()}
_TOPIC_HEADS = {t: re.compile(h) for t, (_, h) in TOPICS.items()}

_HEADING = re.compile(r"^#{2,6}\s*(.+?)\s*#*\s*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[。；;！!？?])|\n")
_CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n]")
_MARKUP = re.compile(r"\*\*|__|`|^\s*(?:[-*•]|\d+[.、)])\s*", re.M)


@dataclass(frozen=True)
class Exclusion:
    """Goods the policy takes out of returns: ``classes`` (empty: any goods), only once ``opened``,
    ``scope`` "无理由" (no-reason returns) or "退换" (any return or exchange), and the policy's words."""

    classes: tuple[str, ...]
    opened: bool
    scope: str
    clause: str


@dataclass(frozen=True)
class Permission:
    """A positive policy statement about a courier, with its conditions (none: every order)."""

    courier: str
    classes: tuple[str, ...]
    threshold: float | None
    paid: bool  # an upgrade the buyer pays for (补差价)
    clause: str

    @property
    def unconditional(self) -> bool:
        return not self.classes and self.threshold is None


def plain(text: str) -> str:
    """Markdown emphasis and list bullets removed."""
    return _MARKUP.sub("", text)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(plain(text)) if s and s.strip()]


@lru_cache(maxsize=16)
def sections(text: str) -> tuple[tuple[str, str], ...]:
    """(heading, body) for each ``##`` section; text before the first heading has heading ""."""
    out: list[tuple[str, str]] = []
    heads = list(_HEADING.finditer(text))
    start, title = 0, ""
    for h in heads:
        out.append((title, text[start : h.start()]))
        start, title = h.end(), h.group(1)
    out.append((title, text[start:]))
    return tuple((t, b) for t, b in out if b.strip() or t)


def topics_in(text: str) -> list[str]:
    """The topics ``text`` names (in ``TOPICS`` order)."""
    return [t for t, w in _TOPIC_WORDS.items() if w.search(text)]


@lru_cache(maxsize=64)
def topic_text(text: str, topic: str) -> str:
    """What the policy says about ``topic``: the sections headed with it and every sentence that names it."""
    head, words = _TOPIC_HEADS[topic], _TOPIC_WORDS[topic]
    parts = [body for title, body in sections(text) if title and head.search(title)]
    parts += [s for s in split_sentences(text) if words.search(s)]
    return "\n".join(parts)


# ---------------------------------------------------------------- classes of goods
# words that start an opened/used condition: 「拆开外包装后」「一经拆封」「已激活」「有穿着痕迹」
OPENED_CONDITION = re.compile(
    r"一经|一旦|已经?|(?<![未没不])(拆|开封|开袋|开罐|开盒|开瓶|撕|剪开|使用|用过|激活|绑定|洗涤|洗过|穿着|穿过|试穿|磨损|损坏|"
    r"痕迹|食用|吃过|喝过|泡过|冲泡|试用|打开)|有(?=[^，。；]{0,4}(磨损|痕迹|污渍|异味))"
)
_CLASS_SPLIT = re.compile(r"[、，,；;（）()【】\[\]：:/｜|\s]+|等|及|和|与|或者?|以及|属于")
_CLASS_EDGE = re.compile(r"^(属于|凡是|凡|所有|全部|以下|例如|如|包括|其中|其他|其它|这类|此类)+|(的|类|等|商品|产品|类商品|类产品)+$")
_NOT_A_CLASS = re.compile(r"^(情况|商品|产品|订单|物品|货品|本店|店铺|我们|以下|其他|其它|全部|所有|买家|您)$|仓|在|位于|省|市|地址")
_QUALITY_EXCEPT = re.compile(r"[（(]?(无|非|没有|除)质量问题(的|外|除外)?[）)]?")


def class_words(subject: str) -> tuple[str, ...]:
    """The classes of goods a subject names: 「甲、乙等某类商品」 → (甲, 乙, 某类)."""
    out = []
    for piece in _CLASS_SPLIT.split(_QUALITY_EXCEPT.sub("", plain(subject))):
        piece = _CLASS_EDGE.sub("", piece.strip())
        if len(re.findall(r"[\u4e00-\u9fff]", piece)) >= 2 and not _NOT_A_CLASS.search(piece) and not re.search(r"\d", piece):
            out.append(piece)
    return tuple(dict.fromkeys(out))


def product_names(product: Product) -> list[str]:
    """What a product is called: its category (and each level of it), name and aliases."""
    cats = [product.category, *re.split(r"[/／>、|]", product.category)]
    return [n.strip() for n in (*cats, product.name, *product.aliases) if n and len(n.strip()) >= 2]


FOOD_CLASS = re.compile(r"食品|食物|零食|饮品|饮料")
_EDIBLE = re.compile(r"(?<!非)食品(?!级)|食用|即食|冲泡|饮用|配料|零食|饮品|饮料")


def is_food(product: Product) -> bool:
    """Is the product something to eat or drink, by its own description (配料, 冲泡, 即食…)?"""
    return bool(_EDIBLE.search(product.describe()))


def covering(classes: tuple[str, ...], product: Product) -> str | None:
    """The class of ``classes`` that takes in ``product`` (by its category, name or aliases; 「食品」 takes in
    any edible product), or None."""
    names = product_names(product)
    hit = next((c for c in classes for n in names if c in n or n in c), None)
    if hit is None and is_food(product):
        hit = next((c for c in classes if FOOD_CLASS.search(c)), None)
    return hit


def covers(classes: tuple[str, ...], product: Product) -> bool:
    return covering(classes, product) is not None


def mentioned_products(sentence: str, catalog: Catalog | None) -> list[Product]:
    """The catalog's products a sentence names by name or alias."""
    if catalog is None:
        return []
    return [p for p in catalog.products if any(len(a) >= 2 and a in sentence for a in (p.name, *p.aliases))]


# ---------------------------------------------------------------- exclusions from returns
_NO_REASON_DENIED = re.compile(
    r"(不支持|不享受|不适用|不参加|不提供|不接受|不能|不可|不予|无法|暂不支持|不在|不属于)[^，。；]{0,6}?"
    r"((\d+|[一二两三四五六七八九十]+)天)?无理由"
)
_RETURN_DENIED = re.compile(
    r"不退不换|不退也不换|概不退换|不予退换|(不|无法|不能|不可|不予|不支持|不接受)(退换|退货|退)(?!差价|运费|券|回|还|款|给|至|到)"
)
_LIST_HEAD = re.compile(r"(以下|下列)[^。；]{0,8}(不支持|不享受|不适用|不可|不能|不予|不接受|除外)[^。；]{0,6}[：:]\s*$")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.、)])\s*")


def _top_pieces(text: str) -> list[str]:
    """``text`` split at 、，; outside brackets: 「某类（甲、乙）拆开后」 is one piece."""
    pieces, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "（(【["
        depth -= ch in "）)】]"
        if ch in "、，,；;" and depth <= 0:
            pieces.append(cur)
            cur, depth = "", 0
        else:
            cur += ch
    return [p for p in [*pieces, cur] if p.strip()]


def _exclusion(subject: str, scope: str, clause: str) -> list[Exclusion]:
    """The goods a subject names, split into those excluded outright and those only once opened/used.

    A noun without its own condition shares the one after it: 「甲、乙等某类商品拆开后」 are all opened."""
    subject = _QUALITY_EXCEPT.sub("", plain(subject))
    opened: list[str] = []
    outright: list[str] = []
    later_condition = False
    for piece in reversed(_top_pieces(subject)):
        cond = OPENED_CONDITION.search(piece)
        later_condition = later_condition or bool(cond)
        classes = list(class_words(piece[: cond.start()] if cond else piece))
        if later_condition:
            opened[:0] = classes
        else:
            outright[:0] = classes
    out = []
    if later_condition:
        out.append(Exclusion(tuple(dict.fromkeys(opened)), True, scope, clause.strip()))
    if outright:
        out.append(Exclusion(tuple(dict.fromkeys(outright)), False, scope, clause.strip()))
    return out


@lru_cache(maxsize=16)
def exclusions(text: str) -> tuple[Exclusion, ...]:
    """Every exclusion from returns the policy states (see ``Exclusion``)."""
    out: list[Exclusion] = []
    for title, body in sections(text):
        lines = body.splitlines()
        head_scope: str | None = None
        for line in lines:
            if not line.strip():
                continue
            if head_scope is not None and _ITEM.match(line):
                for piece in re.split(r"[；;。]", plain(line)):
                    if piece.strip() and not re.match(r"\s*质量问题", piece):
                        out += _exclusion(piece, head_scope, piece)
                continue
            head_scope = None
            for sentence in split_sentences(line):
                if _LIST_HEAD.search(sentence):
                    head_scope = "无理由" if re.search("无理由", line + title) else "退换"
                    continue
                for pattern, scope in ((_NO_REASON_DENIED, "无理由"), (_RETURN_DENIED, "退换")):
                    m = pattern.search(sentence)
                    if m and not re.search(r"质量问题(不受|不在|除外)", sentence[: m.start()]):
                        out += _exclusion(sentence[: m.start()], scope, sentence)
                        break
    return tuple(out)


# ---------------------------------------------------------------- couriers
_THRESHOLD = re.compile(r"(?:实付|订单|金额)?满\s?(\d+(?:\.\d+)?)\s?元|(\d+(?:\.\d+)?)\s?元(?:及|或)?以上")
_PAID = re.compile(r"补差价|差价|加\s?\d+\s?元|补\s?\d+\s?元|链接|升级")
_FILLER = re.compile(
    r"默认|只|仅|均|都|统一|一律|全部|所有|可以|可|会|将|发出|发货|发往|发|走|用|使用|采用|快递|物流|配送|冷运|订单|我们|本店|"
    r"店铺|实付|拍下|链接|升级|备注|从|的|是|为|由|说明|时效|方式|规则|与"
)


def _conditions(text: str) -> tuple[tuple[str, ...], float | None]:
    t = _THRESHOLD.search(text)
    threshold = float(t.group(1) or t.group(2)) if t else None
    rest = re.sub(COURIER, " ", _THRESHOLD.sub(" ", text))
    rest = re.sub(r"[“”\"'‘’「」]?[^“”\"'‘’「」]{0,10}(补差价|差价)[^“”\"'‘’「」]{0,6}[“”\"'‘’「」]?", " ", rest)
    return class_words(_FILLER.sub(" ", rest)), threshold


@lru_cache(maxsize=16)
def courier_permissions(text: str) -> tuple[Permission, ...]:
    """Each positive clause that names a courier, with the conditions it states (its own words, else its
    sentence's, else its section heading's)."""
    out: list[Permission] = []
    for title, body in sections(text):
        for sentence in split_sentences(body):
            clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if c.strip()]
            for i, clause in enumerate(clauses):
                if NEGATIVE.search(clause) or re.search(r"[吗么呢]\W*$", clause) or sentence.endswith(("？", "?")):
                    continue  # a denial, or a question (an FAQ row's 「可以指定…吗」), allows nothing
                for m in re.finditer(COURIER, clause):
                    courier = _courier(m.group(0))
                    paid = bool(_PAID.search(clause))
                    classes, threshold = _conditions(clause)
                    if not classes and threshold is None:
                        classes, threshold = _conditions("，".join(c for c in clauses[:i] if not NEGATIVE.search(c)))
                    if not classes and threshold is None and re.search(r"发货|配送|快递|物流|运输|冷链|冷运", title):
                        classes, threshold = _conditions(title)
                    out.append(Permission(courier, classes, threshold, paid, clause.strip()))
    return tuple(out)


def courier_denials(text: str, courier: str) -> list[str]:
    """The policy clauses that deny ``courier`` (「不支持指定顺丰」)."""
    out = []
    for sentence in split_sentences(text):
        for clause in _CLAUSE_SPLIT.split(sentence):
            if NEGATIVE.search(clause) and any(_courier(m) == courier for m in re.findall(COURIER, clause)):
                out.append(clause.strip())
    return out


def _courier(name: str) -> str:
    return "京东" if name.startswith("京东") else name.upper() if name.lower() == "ems" else name
