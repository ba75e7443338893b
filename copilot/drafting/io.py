"""What a draft request carries in and what comes back out: the drafting contract of every edge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..orders.model import Order
from ..rules.registry import Check
from ..schema import Analysis, AnswerPlan, Hit, Turn

MAX_MESSAGE = 2000
MAX_HISTORY = 50


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY)
    product_sku: str | None = Field(default=None, max_length=40)
    persona: str | None = Field(default=None, description="override the detected persona (one of the 14 ids)")
    stage: Literal["pre_sale", "in_sale", "after_sale"] | None = Field(default=None, description="override the stage")
    emotion: Literal["angry", "anxious", "neutral", "positive"] | None = Field(default=None, description="override the emotion")
    n: int = Field(default=3, ge=1, le=5)
    now: datetime | None = None
    order: Order | None = Field(default=None, description="the buyer's focus order (status, shipping, tracking, "
                                                          "after-sale); only order_id when an OrderSource holds the rest")
    agent: str | None = Field(default=None, max_length=40, description="the agent asking (for the adoption report)")
    conversation_id: str | None = Field(default=None, max_length=64)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("买家消息不能为空")
        return v.strip()


class Draft(BaseModel):
    text: str
    strategy: str
    strategy_label: str
    reason: str
    source_ids: list[str] = Field(default_factory=list)
    backend: str
    checks: list[Check] = Field(default_factory=list)
    passed: bool = True
    repairs: list[str] = Field(default_factory=list, description="what the guard changed, and which rule fired")
    notice: str | None = None
    review: list[dict] = Field(default_factory=list, description="where the LLM's second opinion differs from the "
                                                                  "rules (llm_rule_review); the rules' verdict stands")


class SourceRef(BaseModel):
    id: str
    title: str
    text: str
    score: float
    source: str
    kind: str
    sku: str = ""

    @classmethod
    def of(cls, h: Hit) -> "SourceRef":
        return cls(id=h.id, title=h.title, text=h.text, score=h.score, source=h.source, kind=h.kind, sku=h.sku)


class DraftResponse(BaseModel):
    drafts: list[Draft]
    analysis: Analysis
    sources: list[SourceRef]
    grounded: bool
    product: str | None = None
    backend: dict[str, str]
    timings_ms: dict[str, float] = Field(default_factory=dict)
    notices: list[str] = Field(default_factory=list)
    plan: AnswerPlan | None = Field(default=None, description="the sub-questions and what answers each (or deferred)")
    request_id: str | None = Field(default=None, description="send it back with the feedback (POST /v1/feedback): "
                                                            "the adoption report joins the action to this request")
