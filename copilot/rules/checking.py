"""Checking replies: building the facts a reply is judged against, and the CLI/API core.

``check_text`` is what ``copilot check`` and ``POST /v1/checks`` call: facts
come from the catalog by sku, optionally overridden by inline facts
``{stock, low_stock_threshold, promotions: [...], next_price, now}``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, first_error_zh
from ..knowledge.catalog import Catalog, CatalogFile, Facts, NextPrice, Promotion
from ..knowledge.layout import KnowledgeLayout
from ..orders.model import Order, prepared
from ..schema import Analysis, Turn
from ..settings import Settings
from ..text.cleaning import simplify_buyer_text
from ..text.privacy import strip_controls
from ..text.safety import neutralize
from .registry import CheckContext, CheckReport, check_reply

FAQ_HEADING = "## 店铺问答"


class InlineFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stock: int | None = Field(default=None, ge=0)
    low_stock_threshold: int | None = Field(default=None, ge=0)
    price: float | None = Field(default=None, gt=0)  # the page price at ``now``, instead of the catalog's
    promotions: list[Promotion] | None = None
    next_price: NextPrice | None = None
    now: datetime | None = None


@lru_cache(maxsize=8)
def _policy_text(knowledge_dir: str, stamp: float) -> str:
    policies, faqs = KnowledgeLayout(Path(knowledge_dir)).policy_sources()
    parts = []
    for md in policies:
        parts.append(md.read_text(encoding="utf-8", errors="replace"))
    for path in faqs:
        try:
            rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig", errors="replace")))
            # FAQ rows under a heading of their own: they are not part of the last policy section
            parts += [FAQ_HEADING, *("。".join(r) for r in rows)]
        except csv.Error:
            continue
    # what a promise may be backed by: the same sanitised text drafting sees (a poisoned「赔付20元」backs nothing)
    return neutralize("\n".join(parts))[0]


def policy_text(settings: Settings) -> str:
    """The store's policy and FAQ text, re-read when a store file changes."""
    store = KnowledgeLayout(settings.knowledge_dir).store
    stamp = max((p.stat().st_mtime for p in store.glob("*") if p.is_file()), default=0.0) if store.exists() else 0.0
    return _policy_text(str(settings.knowledge_dir), stamp)


def build_context(
    *,
    catalog: Catalog | None,
    policies: str,
    sku: str | None = None,
    facts: dict[str, Any] | InlineFacts | None = None,
    now: datetime | None = None,
    message: str = "",
    history: list[Turn] | None = None,
    analysis: Analysis | None = None,
    knowledge: str = "",
    order: Order | None = None,
) -> CheckContext:
    if isinstance(facts, dict):
        try:
            facts = InlineFacts.model_validate(facts)
        except ValidationError as exc:
            field, why = first_error_zh(exc)
            raise InputError(f"facts 字段不合法：{field}：{why}", message_en=str(exc)) from None
    tz = catalog.tz if catalog else None
    when = (facts.now if facts and facts.now else None) or now or datetime.now(tz)
    if when.tzinfo is None and tz is not None:
        when = when.replace(tzinfo=tz)
    product = catalog.get(sku) if (catalog and sku) else None
    base = catalog.facts(sku, when) if catalog else Facts(now=when)
    if facts is not None:
        update = {k: v for k, v in facts.model_dump(exclude_unset=True).items() if k != "now" and v is not None}
        if "promotions" in update:
            update["promotions"] = list(facts.promotions or [])
        if "next_price" in update:
            update["next_price"] = facts.next_price
        base = base.model_copy(update=update)
    has_facts = product is not None or facts is not None
    return CheckContext(
        now=when,
        message=message,
        history=list(history or []),
        facts=base if has_facts else None,
        product=product,
        catalog=catalog,
        policies=policies,
        analysis=analysis,
        # what the store says for this request: the retrieved knowledge, and the product's own text once
        knowledge="\n".join(x for x in (knowledge, product.statements() if product else "") if x),
        order=order,  # already prepared (orders.prepared): by the pipeline, or by Checker.context for a bare check
    )


class Checker:
    """Checks replies against the catalog and the policies (policy text is re-read when files change).

    ``catalog`` says where the catalog comes from: the drafting pipeline passes the catalog of the index it
    serves, so drafts and checks agree; by default the file on disk is read."""

    def __init__(self, settings: Settings, catalog: Callable[[], Catalog | None] | None = None) -> None:
        self.settings = settings
        self._catalog = catalog or CatalogFile(KnowledgeLayout(settings.knowledge_dir).catalog).get
        self._policies: str | None = None  # set by ``pinned``: the policy text read once

    @property
    def catalog(self) -> Catalog | None:
        return self._catalog()

    def pinned(self) -> Checker:
        """This checker with the catalog and the policies read now, once: a batch of checks (``copilot qa``)
        judges every reply against the same files and does not look at the disk for each one."""
        catalog = self.catalog
        out = Checker(self.settings, catalog=lambda: catalog)
        out._policies = policy_text(self.settings)
        return out

    def context(self, **kw: Any) -> CheckContext:
        policies = self._policies if self._policies is not None else policy_text(self.settings)
        catalog = self.catalog
        if kw.get("order") is not None:  # an order sent with a bare check: cleaned and in the store's time zone
            kw["order"] = prepared(kw["order"], catalog.tz if catalog else timezone.utc)[0]
        return build_context(catalog=catalog, policies=policies, **kw)

    def check(self, reply: str, **kw: Any) -> CheckReport:
        return check_text(reply, self.context(**kw))


def check_text(reply: str, ctx: CheckContext) -> CheckReport:
    """A reply someone typed, checked against ``ctx``: refused when empty or too long, read in one script."""
    if not isinstance(reply, str) or not reply.strip():
        raise InputError("要检查的回复不能为空", message_en="reply must not be empty")
    if len(reply) > 4000:
        raise InputError(f"回复过长（{len(reply)} 字），上限 4000 字", message_en="reply too long (max 4000)")
    return check_reply(simplify_buyer_text(strip_controls(reply)).strip(), ctx)
