"""The offline composer's phrases (``prompts/composer.yaml``): a typed schema, loaded strictly.

Every slot holds several wordings where it can; the composer picks one deterministically per message. Nothing
in them may name a store's products, policies or carriers: store facts come from the knowledge only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .prompting import load_data


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PricePhrases(_Data):
    no_authority: list[str]
    active_promo: str
    no_promo: str
    future_promo: str
    ended_promo: str  # {title} {ended}
    after_end: str  # {price}
    changed: str  # {day} {price}
    pending: str  # {day} {price} {now_price} {when}
    store_promo: str  # {name} {title} {discount} {ends} {condition}
    shop_promo: str  # a shop-wide promotion: {title} {discount} {ends} {condition}
    shop_coupon: str  # a shop coupon: {title} {discount} {ends} {condition}
    promo_condition: str  # {condition}: what fills the {condition} of the three above ("" without one)
    value: str
    variant_price: str  # {variant} {price}


class TonePhrases(_Data):
    """The workspace's tone buttons: only these wordings change, every sentence of fact stays as it is."""

    short_apology: str
    formal_opener: str
    formal_apology: str
    formal_closings: dict[str, str]  # by stage, plus after_sale_calm
    warm_opener: str
    warm_continued: str
    warm_closings: dict[str, str]


class OrderPhrases(_Data):
    """What the order itself answers (shipping, tracking, refunds): {when} {carrier} {no} {time} {text} {days}
    {type} {amount} are filled from the order; a piece whose field is missing is left out."""

    unpaid: str
    paid: str
    shipped: str
    by: str
    number: str
    latest: str
    no_tracking: str
    stalled: str
    delivered: str
    delivered_event: str  # {when} {text}: the signing event in the courier's words
    completed: str
    closed: str
    closed_unpaid: str
    not_shipped_address: str
    shipped_address: str
    after_sale: dict[str, str]  # requested / approved / rejected / completed
    refunded: str
    no_after_sale: str
    amount: str


class ComposerPhrases(_Data):
    openers: dict[str, list[str]]
    clarify: dict[str, list[str]]
    followup: list[str]
    questions: dict[str, list[str]]
    price: PricePhrases
    urgency: dict[str, str]
    stock: dict[str, str]  # plenty, low ({stock} {unit}), none, none_promo, variant, variant_in / variant_out /
    # variants_out ({variant}: the variants' labels)
    trust: list[str]
    privacy: str
    # what a scammer asked the buyer for, named back (「我们不会让您加微信…」): {asks}; the words a buyer uses → the phrase
    scam_warning: str = ""
    scam_asks: dict[str, str] = {}
    safety: dict[str, str]  # reaction / injury: stop using, see a doctor (before the store's after-sale steps)
    size_usual_exact: str  # the chart says true to size: {note} {size}
    size_usual: str  # the chart says runs large/small: {note} {size}
    unknown: list[str]
    unknown_order: list[str]
    defer: list[str]  # one sub-question deferred while others are answered: {ask}
    defer_other: list[str]  # one that cannot be quoted
    defer_rest: list[str]  # several
    catalog_overview: str  # {listing}
    recommend: str
    closings: dict[str, list[str]]
    tone: TonePhrases
    order: OrderPhrases


@lru_cache(maxsize=4)
def load_phrases(prompts_dir: str) -> ComposerPhrases:
    return load_data(Path(prompts_dir) / "composer.yaml", ComposerPhrases)
