"""Shared records: what every layer passes around, with no behaviour of its own.

Knowledge (``Chunk``, ``Hit``, ``SearchResult``), the conversation (``Turn``,
``format_history``, ``buyer_turns``), and the buyer analysis (``Analysis``
with its ``Stage`` / ``Emotion`` / ``Intent`` ids and their Chinese labels).
Importing this module pulls in pydantic only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import BaseModel, Field

Kind = Literal["doc", "faq", "product", "policy"]
KINDS: tuple[str, ...] = ("doc", "faq", "product", "policy")


class Chunk(BaseModel):
    """One retrievable piece of store knowledge."""

    id: str
    text: str
    title: str = ""
    kind: Kind
    source: str  # path relative to the knowledge dir, e.g. "store/policies.md"
    section: str = ""  # heading path, "一、… > （二）…"
    ref: str  # stable human-readable reference: "policy/<章节标题>", "faq/<SKU>/<问题>", "product/<SKU>"
    sku: str = ""
    flags: list[str] = Field(default_factory=list, exclude=True, description="instruction-like text removed at load")

    def embed_text(self) -> str:
        """The text the embedder and the lexical ranker see."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def metadata(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "source": self.source,
            "section": self.section,
            "ref": self.ref,
            "sku": self.sku,
            "title": self.title,
        }

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict) -> "Chunk":
        return cls(id=id, text=text, **{k: meta.get(k, "") for k in ("title", "kind", "source", "section", "ref", "sku")})


def chunk_id(source: str, ref: str, text: str, ordinal: int = 0) -> str:
    """Content-addressed id: the same text at the same place keeps its id (and its embedding)."""
    h = hashlib.sha1(f"{source}\x1f{ref}\x1f{ordinal}\x1f{text}".encode()).hexdigest()
    return h[:24]


class Hit(BaseModel):
    """A retrieved chunk with its scores."""

    id: str
    text: str
    title: str
    kind: Kind
    source: str
    section: str
    ref: str
    sku: str = ""
    score: float
    dense: float = 0.0
    lexical: float = 0.0


class SearchResult(BaseModel):
    query: str
    hits: list[Hit]
    grounded: bool = Field(description="False when the best match is below the no-answer threshold")
    threshold: float
    timings_ms: dict[str, float] = Field(default_factory=dict)


# ---------------------------------------------------------------- conversation ---


class Turn(BaseModel):
    role: Literal["buyer", "agent"]
    text: str = Field(max_length=2000)


def format_history(turns: Sequence[Turn]) -> str:
    """A conversation as 买家：… / 客服：… lines (for prompts and the judge)."""
    return "\n".join(f"{'买家' if t.role == 'buyer' else '客服'}：{t.text}" for t in turns)


def buyer_turns(history: Sequence[Turn]) -> list[str]:
    """The buyer's texts in a conversation, oldest first."""
    return [t.text for t in history if t.role == "buyer"]


# -------------------------------------------------------------------- analysis ---

Stage = Literal["pre_sale", "in_sale", "after_sale"]
Emotion = Literal["angry", "anxious", "neutral", "positive"]
Intent = Literal[
    "damaged_wrong", "quality_complaint", "refund", "return_exchange", "address_change", "logistics", "shipping",
    "payment", "invoice", "review", "authenticity", "stock", "promotion", "price", "size", "usage", "recommendation",
    "product_info", "greeting", "other",
]
Safety = Literal["reaction", "injury", "fraud"]
STAGE_LABELS: dict[str, str] = {"pre_sale": "售前", "in_sale": "售中", "after_sale": "售后"}
EMOTION_LABELS: dict[str, str] = {"angry": "生气", "anxious": "着急/担心", "neutral": "平静", "positive": "愉快"}
INTENT_LABELS: dict[str, str] = {
    "damaged_wrong": "破损/错发/漏发", "quality_complaint": "质量问题", "refund": "退款", "return_exchange": "退换货",
    "address_change": "修改地址", "logistics": "物流进度", "shipping": "发货", "payment": "付款", "invoice": "发票",
    "review": "评价", "authenticity": "正品", "stock": "库存", "promotion": "优惠活动", "price": "价格", "size": "尺码",
    "usage": "使用方法/适用", "recommendation": "推荐", "product_info": "参数规格", "greeting": "打招呼", "other": "其他",
}
INTENTS: tuple[str, ...] = get_args(Intent)
# after-sale needs that mean something went wrong with the goods
COMPLAINT_INTENTS: frozenset[str] = frozenset({"quality_complaint", "damaged_wrong"})
# a promotion ending within this many hours is a true reason for urgency (drafts, prompts and the urgency rule)
URGENCY_HOURS = 24


# below this confidence the persona guess is right less than half the time (measured on the fresh buyer dev set):
# drafts then use strategies and phrases that fit any buyer type
PERSONA_UNSURE = 0.25
# the same for the learned reader's persona probability: below it the guess was right less than half the time when
# the reader was trained without, and scored on, each of the dev rounds dev6, dev7, dev9 and dev10
READER_PERSONA_UNSURE = 0.40


class PersonaGuess(BaseModel):
    id: str
    label: str
    confidence: float
    signals: list[str] = Field(default_factory=list)
    overridden: bool = False
    detected: str | None = Field(default=None, description="the persona the reading found, when the agent overrode it")
    unsure: bool = Field(default=False, description="too weak a guess to pick a type-specific strategy or phrase")

    @property
    def usable(self) -> str | None:
        """The type strategies and phrases may be chosen for: none when the guess is unsure."""
        return None if self.unsure else self.id


class Analysis(BaseModel):
    """The buyer as the analyzer read them; computed once per request and passed to drafting and the guard."""

    persona: PersonaGuess
    stage: Stage
    emotion: Emotion
    intent: Intent = Field(description="the main need, by the cue rules the answer plan routes with")
    intent_label: str = ""
    intents: list[Intent] = Field(default_factory=list, description="every need in the newest message, likeliest first")
    safety: Safety | None = Field(default=None, description="a reaction, an injury or a scam report: the reply must respect it")
    alternatives: list[PersonaGuess] = Field(default_factory=list, description="next most likely personas")
    stage_signals: list[str] = Field(default_factory=list)
    emotion_signals: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list, description="skus the buyer names")
    scam: bool = Field(default=False, description="the buyer reports or forwards a likely scam (fake notice, code request)")
    injection: str | None = Field(default=None, description="the phrase by which the message tries to instruct the model")
    negative: bool = Field(
        default=False, exclude=True,
        description="the newest message reads as upset or complaining (see buyer.signals.reads_negative): empathy first",
    )


# ------------------------------------------------------------------------ plan ---

AnswerKind = Literal["faq", "policy", "product", "size", "price", "stock", "spec", "slot", "order", "none"]


class PlanItem(BaseModel):
    """One sub-question of the buyer's message and what the knowledge answers to it."""

    question: str = Field(description="the buyer's words for this sub-question (with the context before it)")
    asking: str = Field(default="", description="the piece of those words that asks (named when it is deferred)")
    intent: Intent
    kind: AnswerKind = Field(default="none", description="where the answer comes from (catalog facts are computed)")
    sentences: list[str] = Field(default_factory=list, description="answer sentences: quoted from the store or computed")
    source_ids: list[str] = Field(default_factory=list)
    ask: str | None = Field(default=None, description="what the reply must ask the buyer first (height and weight…)")
    same_as: int | None = Field(default=None, description="answered by the sentences of this earlier item")

    @property
    def answered(self) -> bool:
        return bool(self.sentences) or self.same_as is not None


class AnswerPlan(BaseModel):
    """What every draft of one request answers, decided before any wording: the sub-questions in the buyer's
    order, each with its answer sentences and sources, or deferred (no sentences) to be checked and answered later."""

    items: list[PlanItem] = Field(default_factory=list)
    carried: int = Field(default=0, description="how many leading items are open questions from earlier buyer turns")

    @property
    def unanswered(self) -> list[PlanItem]:
        return [i for i in self.items if not i.answered and not i.ask]

    @property
    def source_ids(self) -> list[str]:
        return list(dict.fromkeys(s for i in self.items for s in i.source_ids))
