"""订单事实相符: what a reply says of the buyer's order must be what the order says.

With an order in the context (``order`` in ``/v1/drafts``, ``/v1/checks``), a reply's claims that the goods have
shipped (「已经给您发货了」「包裹昨天就出库了」), arrived (「已签收」「送到您家了」), been refunded (「退款已到账」
「钱已经原路退回去了」) or reshipped (「已补发」) are read at clause level and checked against the order's state,
and so are the dates, tracking numbers, couriers and refund amounts said with them. A negated, asked, conditional
or quoted claim (「还没发货」「您看下是不是已经签收了？」「等审核通过后原路退回」) claims nothing. Without an order
there is nothing to check against, and the rule passes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ..orders.model import Order
from ..text.vocabulary import CARRIERS, carrier_core
from .base import CheckContext, Rule, RuleResult, clause_around, negated, quotes_the_buyer

_WHEN = r"(?:今天|今早|今晚|昨天|昨晚|前天|刚刚?|\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*[日号]?|\d{1,2}\s*[日号])"
_THING = r"(?:包裹|快递|货|东西|宝贝|商品|订单|件)"
SHIPPED = re.compile(
    r"已经?(?:给您|帮您|为您)?(?:安排)?(?:发货|发出|寄出|出库|揽收|发走|寄走|交给快递|交付快递)(?![的后])|"
    r"已经?(?:由|通过|用|走)[^，。！？!?]{0,8}(?:发出|寄出|发货|发走)|"
    r"(?:发货|发出|寄出|出库|揽收|发走|寄走|出仓|打包发出)(?:了|啦|啰)|"
    rf"{_THING}[^，。！？!?]{{0,6}}(?:在路上|运输中|在途中|在运输|正在派送|派送中|在中转)|(?:已经|都)在路上|在路上(?:了|啦)|"
    rf"{_WHEN}[^，。！？!?]{{0,6}}(?:发的|发货的|发出|寄出|发走|揽收|出库|发了)|"
    r"(?:给您|帮您)(?:发|寄)(?:出去)?了|刚(?:刚)?(?:给您)?(?:发|寄)(?:出|走)?(?:了|的)"
)
DELIVERED = re.compile(
    r"已经?(?:被)?(?:签收|送达|妥投|派送成功|送到)|(?:签收|送达|妥投)(?:了|啦)|派送成功|"
    rf"{_THING}[^，。！？!?]{{0,6}}(?:送到|到)(?:您)?(?:家|手上|楼下|门口)?(?:了|啦)|"
    r"(?:放|存)(?:在|到)?(?:了)?(?:驿站|快递柜|丰巢|门口|门卫|前台)(?:了|啦)|已经?(?:到|到达)(?:您)?(?:家|手上|驿站)"
)
REFUNDED = re.compile(
    r"已经?(?:给您|帮您|为您)?(?:全额)?(?:退款|退回|退了|原路退回|退到|打款|到账|退给您|退还)|"
    r"(?:退款|钱|款|货款|差价)[^，。！？!?]{0,10}(?:到账了|已到账|退回(?:去|来)?了|退(?:给您|到您)[^，。！？!?]{0,8}了|回到您[^，。！？!?]{0,8}了|打(?:给您|到您)[^，。！？!?]{0,6}了|原路返回了)|"
    r"退款成功|(?:退款|钱)[^，。！？!?]{0,6}(?:已经)?(?:到了|到账啦)|"
    r"(?:退款|退货退款|退钱)[^，。！？!?]{0,6}(?:办好了|办理好了|处理好了|已经?完成|完成了|搞定了|办完了)"
)
PACKING = re.compile(r"(?:已经|正在)?在?(?:打包|备货|配货|拣货)(?:了|中|啦)|已经?(?:打包|备好货)")
# the reverse claims: not yet shipped, still on the way, refund not yet done — wrong once the order says otherwise
NOT_SHIPPED = re.compile(r"(?:还没|尚未|没有|还未|没)(?:给您)?(?:发货|发出|寄出|出库)|还在(?:仓库|打包|备货)|等待发货")
NOT_DELIVERED = re.compile(r"(?:还在|正在)(?:派送|运输|路上|中转)|派送中|还没(?:送到|签收|到)")
NOT_REFUNDED = re.compile(r"(?:退款|钱)[^，。！？!?]{0,4}(?:还在处理|处理中|还没(?:退|到|办)|没退)|还没(?:给您)?退")
APPROVED = re.compile(r"(?:申请|售后|退货|退款|换货)[^，。！？!?]{0,6}(?:已经?通过|通过了|审核通过|同意了|已同意|批了)")
# where the parcel is said to be: 「还在福州转运中心」「已经到哈尔滨了」
PLACE = re.compile(r"(?:在|到了?|到达)([\u4e00-\u9fff]{2,6}?)(?:的)?(?:转运中心|分拣中心|集散中心|中转场|分拨中心|营业部|网点|驿站)|"
                   r"已经(?:到|到达)([\u4e00-\u9fff]{2,4}?)(?:了|啦)")
RESHIPPED = re.compile(r"已经?(?:给您|帮您|为您)?(?:补发|重新发|重发|换新发出|补寄)|补发的?[^，。！？!?]{0,8}(?:已经?|寄出|发出|在路上)")
_ASKED = re.compile(r"吗|么|？|\?|是不是|有没有|是否|有无|没有呢")
_IF = re.compile(r"如果|若是?|要是|万一|假如|等(?!等)|待|之后|以后|后就|后会|一旦|的话|预计|会|将|才能|能|可以|准备|争取|审核通过后|通过后")
_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d{8})[0-9A-Za-z]{8,24}(?![0-9A-Za-z])")
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块)")


def _said_day(clause: str, now: datetime) -> date | None:
    """The day a clause names for its claim (「11月28日」「28号」「昨天」「刚刚」), or None."""
    today = now.date()
    if re.search(r"今天|今早|今晚|刚", clause):
        return today
    if "前天" in clause:
        return today - timedelta(days=2)
    if re.search(r"昨天|昨晚", clause):
        return today - timedelta(days=1)
    m = re.search(r"(\d{1,2})\s*[月\-/.]\s*(\d{1,2})", clause)
    try:
        if m:
            d = date(now.year, int(m.group(1)), int(m.group(2)))
            return d if d <= today + timedelta(days=1) else date(now.year - 1, d.month, d.day)
        m = re.search(r"(?<![\d月])(\d{1,2})\s*[日号]", clause)
        if m:
            d = date(now.year, now.month, int(m.group(1)))
            return d if d <= today else (d.replace(day=1) - timedelta(days=1)).replace(day=d.day)
    except ValueError:
        return None
    return None


def _wrong_day(clause: str, at: datetime | None, now: datetime) -> bool:
    """Does the clause name a day for its claim other than the order's (``at``)?"""
    said = _said_day(clause, now)
    return bool(said and at and said != at.date())


class OrderFacts(Rule):
    id = "order_facts"
    name = "订单事实相符"
    eval_set = "orders"  # scored on the order eval's check cases (evals/orders/), not evals/rules/

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        order = ctx.order
        if order is None:
            return self.ok("没有订单信息，未核对订单事实")
        for why, span in self._wrong(reply, order, ctx):
            return self.fail(why, span)
        return self.ok()

    def _claims(self, reply: str, pattern: re.Pattern, ctx: CheckContext, *, plain: bool = False):
        """The claims of ``pattern`` the reply makes: not asked, quoted from the buyer, or (unless ``plain``, for
        patterns that are themselves negative) negated or conditional."""
        for m in pattern.finditer(reply):
            clause = clause_around(reply, m.start(), m.end())
            at = reply.find(clause)
            before = reply[at:m.start()] if at >= 0 else clause
            if _ASKED.search(clause) or quotes_the_buyer(reply, m.start(), ctx.message):
                continue
            if not plain and (negated(reply, m.start()) or re.search(r"[没未不]$", before) or _IF.search(before)
                              or re.search(r"会|将|能|可以|准备", m.group(0))):  # 「今天会发出」 is a plan
                continue
            yield m, clause

    def _wrong(self, reply: str, order: Order, ctx: CheckContext):
        now = ctx.now
        for m, clause in self._claims(reply, SHIPPED, ctx):
            if not order.shipped and (order.status is not None or order.shipped_at is None):
                yield f"订单{'还没有付款' if not order.paid else '还没有发货'}，回复却说已发出（「{m.group(0)}」）", m.group(0)
                return
            if _wrong_day(clause, order.shipped_at, now):
                yield f"订单是{order.shipped_at.month}月{order.shipped_at.day}日发出的，回复说的日期不对（「{clause}」）", clause
                return
        for m, _ in self._claims(reply, PACKING, ctx):
            if not order.paid:
                yield f"订单还没有付款，回复却说在打包（「{m.group(0)}」）", m.group(0)
                return
        for m, clause in self._claims(reply, DELIVERED, ctx):
            if not order.delivered:
                yield f"订单物流还没有签收记录，回复却说已送到（「{m.group(0)}」）", m.group(0)
                return
            if _wrong_day(clause, order.delivered_at, now):
                yield f"订单是{order.delivered_at.month}月{order.delivered_at.day}日签收的，回复说的日期不对（「{clause}」）", clause
                return
        for m, clause in self._claims(reply, REFUNDED, ctx):
            if not order.refund_done:
                a = order.after_sale
                state = "还没有退款申请" if a is None else {"requested": "退款申请还在处理中", "approved": "退款已同意、还没完成",
                                                     "rejected": "退款申请被拒绝了"}.get(a.status, "退款还没有完成")
                yield f"订单{state}，回复却说钱已退回（「{m.group(0)}」）", m.group(0)
                return
            when = order.after_sale.updated_at if order.after_sale else None
            if _wrong_day(clause, when, now) and not re.search(r"到账", m.group(0)):
                yield f"退款是{when.month}月{when.day}日完成的，回复说的日期不对（「{clause}」）", clause
                return
            amounts = {x for x in (order.amount, order.after_sale.amount if order.after_sale else None) if x is not None}
            for money in _MONEY.finditer(clause_around(reply, m.start(), m.end(), stops="。！？!?\n")):
                if amounts and float(money.group(1)) not in amounts:
                    yield f"退款金额是{'、'.join(f'{a:g}元' for a in sorted(amounts))}，回复说的是{money.group(0)}", money.group(0)
                    return
        for m, _ in self._claims(reply, RESHIPPED, ctx):
            a = order.after_sale
            if not (a and a.type == "exchange" and a.status == "completed"):
                yield f"订单没有已办理的补发或换货，回复却说已补发（「{m.group(0)}」）", m.group(0)
                return
        for m, _ in self._claims(reply, NOT_SHIPPED, ctx, plain=True):
            if order.shipped and (order.status is not None or order.shipped_at is not None):
                yield f"订单已经发出了，回复却说还没发（「{m.group(0)}」）", m.group(0)
                return
        for m, _ in self._claims(reply, NOT_DELIVERED, ctx, plain=True):
            if order.delivered:
                yield f"订单物流已经签收，回复却说还在路上（「{m.group(0)}」）", m.group(0)
                return
        for m, _ in self._claims(reply, NOT_REFUNDED, ctx, plain=True):
            if order.refund_done:
                yield f"退款已经完成，回复却说还没退（「{m.group(0)}」）", m.group(0)
                return
        for m, _ in self._claims(reply, APPROVED, ctx):
            a = order.after_sale
            if a is None or a.status in ("requested", "rejected"):
                state = "没有售后申请" if a is None else "售后申请还在处理中" if a.status == "requested" else "售后申请被拒绝了"
                yield f"订单{state}，回复却说已通过（「{m.group(0)}」）", m.group(0)
                return
        latest = order.latest()
        if latest is not None and not order.delivered:
            for m, _ in self._claims(reply, PLACE, ctx):
                place = m.group(1) or m.group(2)
                if place and place not in latest.text:
                    yield f"最新物流是「{latest.text[:30]}」，回复说的位置不对（「{m.group(0)}」）", m.group(0)
                    return
        if order.tracking_no:
            known = {order.tracking_no.upper(), (order.order_id or "").upper()}
            for m in _NUMBER.finditer(reply):
                clause = clause_around(reply, m.start(), m.end())
                if re.search(r"单号|运单|快递|物流|查件", clause) and m.group(0).upper() not in known \
                        and not quotes_the_buyer(reply, m.start(), ctx.message) and m.group(0) not in ctx.message:
                    yield f"运单号是{order.tracking_no}，回复写的是{m.group(0)}", m.group(0)
                    return
        if order.carrier and order.shipped:
            mine = carrier_core(order.carrier)
            for c in CARRIERS:
                for m in re.finditer(re.escape(c), reply):
                    clause = clause_around(reply, m.start(), m.end())
                    other = carrier_core(c)
                    if other and other not in mine and mine not in other and not negated(reply, m.start()) \
                            and (SHIPPED.search(clause) or re.search(r"单号|运单|发的|走的|用的|由", clause)) \
                            and not _ASKED.search(clause) and not _IF.search(clause):
                        yield f"订单是{order.carrier}发的，回复说的是{c}（「{clause}」）", clause
                        return
