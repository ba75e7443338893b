"""What the buyer's order itself answers: where the parcel is, whether it has shipped, where the refund stands.

``OrderAnswers.sentences(order, intent, now)`` gives the sentences for one sub-question of the answer plan, in the
composer's wording (``prompts/composer.yaml`` → ``order``), with every fact taken from the order at ``now``. The
store's policy (how long shipping or a refund takes) is still quoted from the knowledge by the plan.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..orders.model import AFTER_SALE_LABELS, Order, TrackingEvent
from .phrases import OrderPhrases
from .prompting import render

# the sub-questions the order answers, and what of it they ask
SHIPPING_INTENTS = frozenset({"logistics", "shipping"})
REFUND_INTENTS = frozenset({"refund", "return_exchange"})
ORDER_INTENTS = SHIPPING_INTENTS | REFUND_INTENTS | {"address_change", "payment"}


def day(dt: datetime, now: datetime) -> str:
    """「11月28日」, with the year only when it is not this year's."""
    return f"{dt.year}年{dt.month}月{dt.day}日" if dt.year != now.year else f"{dt.month}月{dt.day}日"


def moment(dt: datetime, now: datetime) -> str:
    """「11月28日15:40」"""
    return f"{day(dt, now)}{dt.hour}:{dt.minute:02d}"


# the courier's asides in a tracking event: what to do, whom to call — the agent's reply says that itself
_ASIDE = re.compile(r"如有疑问|请.{0,8}(联系|拨打|致电)|联系电话|客服电话|投诉电话|请及时|请尽快|感谢使用|期待再次")


def event_text(text: str) -> str:
    """A tracking event as the reply quotes it: where the parcel is, without the courier's asides."""
    parts = [p for p in re.split(r"[，,；;。]", text) if p.strip()]
    kept = [p for p in parts if not _ASIDE.search(p)] or parts[:1]
    return "，".join(p.strip() for p in kept)


def money(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


class OrderAnswers:
    def __init__(self, phrases: OrderPhrases) -> None:
        self.p = phrases

    def sentences(self, order: Order, intent: str, now: datetime, *, stale_hours: int = 48) -> list[str]:
        """``stale_hours``: how long without a tracking event the store counts as stalled (``shop.tracking_stale_hours``)."""
        if intent in SHIPPING_INTENTS:
            return self.shipping(order, now, stale_hours)
        if intent in REFUND_INTENTS:
            return self.after_sale(order, now)
        if intent == "address_change":
            if order.status in ("closed", "refunded", "refunding"):
                return self.shipping(order, now)
            if order.shipped:
                when = day(order.shipped_at, now) if order.shipped_at else ""
                latest = order.latest()
                return [render(self.p.shipped_address, when=when)] + (
                    [self._latest(latest, now)] if latest is not None and not order.delivered else [])
            return [self.p.not_shipped_address] if order.paid else [self.p.unpaid]
        if intent == "payment":
            if not order.paid:
                return [self.p.unpaid]
            return [self._paid(order, now)] if order.status == "paid" else []
        return []

    def shipping(self, order: Order, now: datetime, stale_hours: int = 48) -> list[str]:
        if order.status == "closed" and not order.shipped:
            if order.refund_done:
                return self.after_sale(order, now)
            return [self.p.closed if order.paid else self.p.closed_unpaid]
        if not order.paid:
            return [self.p.unpaid]
        if not order.shipped:
            if order.status in ("refunding", "refunded"):
                return self.after_sale(order, now)
            return [self._paid(order, now)]
        out: list[str] = []
        latest = order.latest()
        if order.delivered:
            when = order.delivered_at or (latest.time if latest else None)
            if latest is not None:  # the last event says where and by whom it was signed for: one sentence
                out.append(render(self.p.delivered_event, when=moment(when, now) if when else "",
                                  text=event_text(latest.text)))
                return out[:1]
            out.append(render(self.p.delivered, when=moment(when, now) if when else ""))
        else:
            by = render(self.p.by, carrier=order.carrier) if order.carrier else ""
            number = render(self.p.number, no=order.tracking_no) if order.tracking_no else ""
            when = moment(order.shipped_at, now) if order.shipped_at else ""
            out.append(render(self.p.shipped, when=when, by=by, number=number))
        if latest is not None:
            out.append(self._latest(latest, now))
        elif not order.delivered:
            out.append(self.p.no_tracking)
        last = latest.time if latest else order.shipped_at
        if not order.delivered and last is not None and (now - last).total_seconds() >= stale_hours * 3600:
            out.append(render(self.p.stalled, days=int((now - last).total_seconds() // 86400) or 1))
        if order.status == "completed":
            out = out[:2]
        return out

    def _paid(self, order: Order, now: datetime) -> str:
        return render(self.p.paid, when=moment(order.paid_at, now) if order.paid_at else "")

    def _latest(self, event: TrackingEvent, now: datetime) -> str:
        return render(self.p.latest, time=moment(event.time, now), text=event_text(event.text))

    def after_sale(self, order: Order, now: datetime) -> list[str]:
        a = order.after_sale
        if a is None:
            if order.status == "refunded":
                amount = render(self.p.amount, amount=money(order.amount)) if order.amount is not None else ""
                return [render(self.p.refunded, amount=amount)]
            return [self.p.no_after_sale] if order.status not in ("closed", "refunding") else []
        kind = AFTER_SALE_LABELS[a.type] if a.status != "completed" or a.type == "exchange" else "退款"
        amount = render(self.p.amount, amount=money(a.amount)) if a.amount is not None and a.type != "exchange" else ""
        when = day(a.updated_at, now) if a.updated_at else ""
        if a.status == "completed" and not when:
            return [render(self.p.refunded, amount=amount)] if a.type != "exchange" else []
        return [render(self.p.after_sale[a.status], type=kind, amount=amount, when=when)]
