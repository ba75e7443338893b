"""The HTTP API's own request and response bodies (drafting's live in ``drafting.io``). Unknown fields are errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..orders.model import Order
from ..qa.exports import Conversation
from ..rules.checking import InlineFacts
from ..schema import Turn


class ChecksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(min_length=1, max_length=4000)
    message: str | None = Field(default=None, max_length=2000)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    product_sku: str | None = Field(default=None, max_length=40)
    facts: InlineFacts | None = None
    order: Order | None = Field(default=None, description="the buyer's order: claims of shipping, delivery and refunds "
                                                          "are checked against it (rule order_facts)")


class LiveCheckIn(BaseModel):
    """The workspace's live badges: an agent's edit of a draft and the token of that draft's check context."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=64)
    reply: str = Field(min_length=1, max_length=4000)


class CheckOut(BaseModel):
    rule: str
    passed: bool
    detail: str
    span: str | None = None
    by: str = Field(default="rule", description="rule: the rule's own check; model: the reply reader's reading")


class ChecksOut(BaseModel):
    passed: bool
    checks: list[CheckOut]


class NamedCheckOut(CheckOut):
    name: str = Field(description="the rule's Chinese name, as on the badge")


class LiveChecksOut(BaseModel):
    passed: bool
    checks: list[NamedCheckOut]


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    kind: list[Literal["doc", "faq", "product", "policy"]] | None = None
    sku: str | None = Field(default=None, max_length=40)


class ReindexIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rebuild: bool = False


class ErrorBody(BaseModel):
    code: str
    message: str
    message_en: str = ""
    hint: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class QaIn(BaseModel):
    """A batch of conversations to check (the JSON Lines export's objects, as a list)."""

    model_config = ConfigDict(extra="forbid")

    conversations: list[Conversation] = Field(min_length=1, max_length=2000)
