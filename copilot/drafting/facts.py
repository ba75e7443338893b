"""Catalog facts in the shop's words: price and active promotions (with the money they save),
upcoming promotions, stock, true urgency, and the product's value.

Every sentence is computed from the catalog at ``now``; an urgency sentence
exists only when the catalog backs it (a promotion ending within 24 hours, or
stock at or under the shop's low-stock threshold).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ..knowledge.catalog import Product
from .context import DraftContext
from .prompting import ComposerPhrases, render

GUARANTEES = {
    "服饰": "签收后7天内吊牌完好、不影响二次销售可以无理由退换",
    "鞋靴": "签收后7天内鞋底无磨损、配件齐全可以无理由退换",
    "美妆护肤": "未拆封的话签收后7天内可以无理由退换",
    "数码": "未激活、未撕膜的话签收后7天内可以无理由退换",
    "家居": "未使用的话签收后7天内可以无理由退换",
}




def when(dt: datetime, now: datetime) -> str:
    dt = dt.astimezone(now.tzinfo) if now.tzinfo else dt
    if dt.hour == 0 and dt.minute == 0:
        day = dt.date().toordinal() - 1
        d = date.fromordinal(day)
        label = "今晚24点" if d == now.date() else ("明晚24点" if day - now.date().toordinal() == 1 else f"{d.month}月{d.day}日24点")
        return label
    clock = f"{dt.hour}:{dt.minute:02d}"
    if dt.date() == now.date():
        return f"今天{clock}"
    if dt.date().toordinal() - now.date().toordinal() == 1:
        return f"明天{clock}"
    return f"{dt.month}月{dt.day}日{clock}"



class FactSentences:
    """Sentences about one product's catalog facts, worded with the composer's phrases."""

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases

    def price_sentences(self, ctx: DraftContext) -> list[str]:
        p, f = ctx.product, ctx.facts
        active = f.active_promotions if f else []
        out = []
        if active:
            for promo in active[:2]:
                line = render(self.p.price.active_promo, title=promo.title, discount=promo.discount,
                              ends=when(promo.ends_at, ctx.now))
                calc = self.promo_math(p.price_at(ctx.now), promo.discount) if p else None
                if calc:
                    line = line.rstrip("。") + f"，{calc}。"
                out.append(line)
        elif p:
            out.append(render(self.p.price.no_promo, price=f"{p.price_at(ctx.now):g}"))
        return out

    @staticmethod
    def promo_math(price: float, discount: str) -> str | None:
        """What the promotion means in money, computed from the page price."""

        def money(x: float) -> str:
            return f"{round(x, 2):g}"

        if m := re.search(r"(?:立减|直降|减)\s*(\d+(?:\.\d+)?)\s*元", discount):
            if "满" not in discount:
                return f"到手{money(price - float(m.group(1)))}元"
        if m := re.search(r"满\s*(\d+)\s*减\s*(\d+)", discount):
            over, off = float(m.group(1)), float(m.group(2))
            return f"单件{money(price)}元已满{money(over)}元，到手{money(price - off)}元" if price >= over else \
                f"凑满{money(over)}元可以减{money(off)}元"
        if m := re.search(r"(\d+)\s*件\s*(\d+(?:\.\d+)?)\s*折", discount):
            k, d = int(m.group(1)), float(m.group(2))
            return f"同一订单拍{k}件合计{money(k * price * d / 10)}元"
        if "第二件半价" in discount:
            return f"拍2件合计{money(price * 1.5)}元（第二件{money(price / 2)}元）"
        if m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*折\s*", discount):
            return f"到手{money(price * float(m.group(1)) / 10)}元"
        return None

    def future_promo_sentence(self, ctx: DraftContext) -> str | None:
        if not ctx.facts:
            return None
        upcoming = [pr for pr in ctx.facts.promotions if pr.starts_at > ctx.now]
        if not upcoming:
            return None
        pr = min(upcoming, key=lambda x: x.starts_at)
        return render(self.p.price.future_promo, title=pr.title, discount=pr.discount,
                      starts=f"{pr.starts_at.month}月{pr.starts_at.day}日")

    def stock_sentence(self, product: Product, ctx: DraftContext) -> str:
        threshold = ctx.catalog.shop.low_stock_threshold
        if product.stock <= 0:
            return self.p.stock["none"]
        if product.stock <= threshold:
            return render(self.p.stock["low"], stock=product.stock)
        return self.p.stock["plenty"]

    def urgency_sentence(self, ctx: DraftContext) -> str | None:
        """A true urgency fact, or ``None`` when the catalog backs none."""
        f, p = ctx.facts, ctx.product
        if not f or not p:
            return None
        ending = [pr for pr in f.active_promotions if pr.ends_within(ctx.now, timedelta(hours=24))]
        if ending:
            pr = ending[0]
            return render(self.p.urgency["promo_ending"], title=pr.title, when=when(pr.ends_at, ctx.now))
        if 0 < p.stock <= ctx.catalog.shop.low_stock_threshold:
            return render(self.p.urgency["low_stock"], stock=p.stock)
        return None

    def value_sentence(self, ctx: DraftContext) -> str | None:
        p = ctx.product
        if not p:
            return None
        highlights = "、".join(f"{k}{v}" for k, v in list(p.specs.items())[:2])
        guarantee = GUARANTEES.get(p.category, "签收后7天内符合条件可以无理由退换")
        return render(self.p.price.value, value=f"是{highlights}" if highlights else "品质有保障", guarantee=guarantee)
