"""``DraftContext``: everything one draft may draw on, built once per request and handed to every writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..buyer.personas import Persona
from ..knowledge.catalog import Catalog, Facts, Product
from ..orders.model import Order
from ..retrieval.lexicon import Lexicon
from ..retrieval.retriever import Retriever
from ..schema import Analysis, AnswerPlan, Hit, Turn, buyer_turns


@dataclass
class DraftContext:
    message: str
    history: list[Turn]
    analysis: Analysis
    persona: Persona
    hits: list[Hit]
    grounded: bool
    catalog: Catalog
    product: Product | None
    facts: Facts | None
    now: datetime
    product_source: str | None = None  # id of the product's catalog chunk
    lexicon: Lexicon | None = None
    traditional: bool = False  # the buyer writes Traditional: drafts are converted at the end
    strategy_ids: list[str] = field(default_factory=list)  # the request's strategies, in draft order
    plan: AnswerPlan | None = None  # what every draft answers (drafting.plan.build_plan), decided once per request
    order: Order | None = None  # the buyer's order, cleaned and in the store's time zone
    order_flags: list[str] = field(default_factory=list)  # instruction-like text removed from the order

    @property
    def buyer_text(self) -> str:
        return "\n".join([*buyer_turns(self.history)[-2:], self.message])


def retrieve(retriever: Retriever, message: str, history: list[Turn], product: Product | None,
             threshold: float, *, k: int = 5) -> tuple[list[Hit], bool]:
    """The knowledge for one draft: a general search, the best policies, and the named product's own chunks.

    Merged without duplicates and ranked by score. A product-specific hit above ``threshold`` grounds the
    answer even when the general search did not."""
    context = buyer_turns(history)[-2:]
    general = retriever.search(message, k, context=context)
    hits = list(general.hits)
    grounded = general.grounded
    extra = [retriever.search(message, 2, kind="policy", context=context)]
    if product:
        extra.append(retriever.search(message, 3, sku=product.sku, context=context))
    for res in extra:
        seen = {h.id for h in hits}
        hits += [h for h in res.hits if h.id not in seen]
        if res.hits and res.hits[0].sku and res.hits[0].score >= threshold:
            grounded = True
    hits.sort(key=lambda h: -h.score)
    return hits, grounded
