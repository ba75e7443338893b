"""Which knowledge answers the buyer's question, and its best sentences in the shop's voice.

Answers are quoted from retrieved FAQ answers, policy sections and product
descriptions, never invented: ``best_hit`` picks the chunk (on topic for
after-sale needs, the named product first), ``best_sentences`` the sentences
of it that share most with the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..knowledge.catalog import Product
from ..retrieval.lexicon import Lexicon
from ..rules.base import SHOP_VOICE
from ..schema import Hit
from ..text.chunking import split_sentences
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
    t = text + (" " + " ".join(lexicon.terms(text)) if lexicon else "")
    chars = [c for c in t if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


def best_sentences(text: str, query: str, lexicon: Lexicon | None, k: int = 2, limit: int = 160) -> list[str]:
    """The ``k`` sentences of ``text`` that share most with the query, in their original order."""
    sentences = [clean_sentence(s) for s in split_sentences(text) if len(s.strip()) > 3]
    if not sentences:
        return []
    q = _terms(query, lexicon)
    scored = []
    for i, s in enumerate(sentences):
        st = _terms(s, None)
        overlap = len(q & st) / (len(st) ** 0.5 or 1)
        scored.append((overlap + 0.3 / (1 + i), -i, s))  # leading sentences usually state the rule
    top = sorted(scored, reverse=True)[:k]
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
        topical = [h for h in usable if _topical(h, ctx)]
        if not topical:
            return None
        usable = topical
    sku = ctx.product.sku if ctx.product else None
    topic = INTENT_TOPICS.get(ctx.analysis.intent)
    if topic and ctx.analysis.intent in STRICT_TOPICS:
        on_topic = [h for h in usable if re.search(topic, h.title + h.text.split("\n", 1)[0])
                    or (sku and h.sku == sku and h.kind == "faq" and _asks_same(h, ctx))]
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
        return h.score + bonus

    best = max(usable, key=rank)
    return best if best.score >= top * 0.7 else usable[0]

def _asks_same(h: Hit, ctx: DraftContext) -> bool:
    """Does this product FAQ's question share words with the buyer's, beyond the product's name?"""
    names = " ".join([ctx.product.name, *ctx.product.aliases]) if ctx.product else ""
    shared = _terms(h.text.split("\n", 1)[0], None) & _terms(ctx.message, None)
    return len(shared - _terms(names, None)) >= 2

def _topical(h: Hit, ctx: DraftContext) -> bool:
    terms = ctx.lexicon.terms(ctx.message) if ctx.lexicon else []
    head = h.title + h.text.split("\n", 1)[0]  # a FAQ's question names its topic
    return h.score >= 0.15 and any(t in head for t in terms if len(t) >= 2)

def spec_answer(product: Product, message: str) -> str | None:
    """A product spec the buyer asks about by name (材质, 容量…), as one sentence."""
    for key, value in product.specs.items():
        if key in message or any(part in message for part in re.split(r"[/、]", key) if len(part) >= 2):
            return f"这款{product.name}的{key}是{value}。"
    return None
