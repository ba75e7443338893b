"""Catalog facts in the shop's words: price and active promotions (with the money they save),
upcoming promotions, stock, true urgency, and the product's value.

Every sentence is computed from the catalog at ``now``; an urgency sentence
exists only when the catalog backs it (a promotion ending within 24 hours, or
stock at or under the shop's low-stock threshold).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from ..buyer.signals import detect_intent
from ..knowledge.catalog import Product, Variant
from ..schema import URGENCY_HOURS, Hit
from .answers import content_bigrams
from .context import DraftContext
from .phrases import ComposerPhrases
from .prompting import render
from .questions import haggles


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



CATALOG_ASK = re.compile(r"还卖|卖(些|点)?(什么|啥)|有(什么|啥)(别的|其他)?(商品|东西|产品|宝贝)|都有(什么|啥)")
_VARIANT = re.compile(r"[^\s，。]{1,3}色|[SMLX]{1,3}码?|\d{2}码|尺码")
_AFTER_END = re.compile(r"明天|之后|以后|过了|结束|还有吗|还有没")
_OFFER_ASK = re.compile(r"券|优惠|便宜|活动|满减|折|少点|划算|学生")
_EXCLUDES = re.compile(r"除外|不参与|不参加|不可用|不能用|不计入|不适用|不享受")
_ONLY = re.compile(r"仅限|只限|仅适用")
_PRICE_MOVE = re.compile(r"涨价|调价|降价|还是\d+|现在\d+|现在是|变\d+|\d+了|以后|明天|过几天|下个月|到时候")


def _end_day(dt: datetime) -> str:
    """When something ends, as people say it: an end at 00:00 is the previous day's 24点."""
    if (dt.hour, dt.minute) == (0, 0):
        prev = dt - timedelta(minutes=1)
        return f"{prev.month}月{prev.day}日24点"
    return _when_day(dt)


def _when_day(dt: datetime) -> str:
    return f"{dt.month}月{dt.day}日{dt.hour}:{dt.minute:02d}" if (dt.hour or dt.minute) else f"{dt.month}月{dt.day}日"




class FactSentences:
    """Sentences about one product's catalog facts, worded with the composer's phrases."""

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases

    def price_sentences(self, ctx: DraftContext, variant: Variant | None = None) -> list[str]:
        """The page price and running promotions; of the variant the buyer named when it has its own price."""
        p, f = ctx.product, ctx.facts
        active = f.active_promotions if f else []
        base = variant.price_or(p, ctx.now) if (p and variant) else (p.price_at(ctx.now) if p else None)
        out = []
        if active:
            for promo in active[:2]:
                line = render(self.p.price.active_promo, title=promo.title, discount=promo.discount,
                              ends=when(promo.ends_at, ctx.now))
                calc = self.promo_math(base, promo.discount) if base else None
                if calc:
                    line = line.rstrip("。") + f"，{calc}。"
                out.append(line)
        elif p:
            out.append(render(self.p.price.no_promo, price=f"{base:g}"))
        if variant is not None and variant.price is not None and out:
            out.insert(0, render(self.p.price.variant_price, variant=variant.label, price=f"{base:g}"))
        return out

    def shop_offers(self, ctx: DraftContext, product: Product) -> list[str]:
        """The shop-wide promotions and coupons running now that the product may use: a condition excluding
        its category or name (「冷链生鲜不参与」), or limiting the offer to other goods (「仅限某类商品」), leaves it out."""
        words = {w for w in [product.name, *product.aliases, *re.split(r"[/／、>]", product.category)] if len(w) >= 2}
        out = []
        for pr in ctx.catalog.store_promotions(ctx.now):
            cond = pr.condition
            named = any(w in cond for w in words)
            if named and _EXCLUDES.search(cond) or (_ONLY.search(cond) and not named):
                continue
            out.append(self._shop_offer(ctx, pr))
        return out[:2]

    def _condition(self, pr) -> str:
        """「使用条件：…」 for a promotion with a condition, else nothing."""
        text = pr.condition.strip().rstrip("。；;，,")
        return render(self.p.price.promo_condition, condition=text) if text else ""

    def _shop_offer(self, ctx: DraftContext, pr) -> str:
        """One shop-wide promotion or coupon, with its end and condition."""
        phrase = self.p.price.shop_coupon if any(pr is c for c in ctx.catalog.shop.coupons) else self.p.price.shop_promo
        return render(phrase, title=pr.title, discount=pr.discount, ends=when(pr.ends_at, ctx.now),
                      condition=self._condition(pr))

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
            return f"同一订单拍2件合计{money(price * 1.5)}元（第二件{money(price / 2)}元）"
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
                      starts=f"{pr.starts_at.month}月{pr.starts_at.day}日", ends=f"{pr.ends_at.month}月{pr.ends_at.day}日")

    def stock_sentence(self, product: Product, ctx: DraftContext) -> str:
        """The product's stock as a state, the count (in the product's unit) only when it is low."""
        threshold = ctx.catalog.shop.low_stock_threshold
        if product.stock <= 0:
            return self.p.stock["none"]
        if product.stock <= threshold:
            return render(self.p.stock["low"], stock=product.stock, unit=product.unit)
        return self.p.stock["plenty"]

    def urgency_sentence(self, ctx: DraftContext) -> str | None:
        """A true urgency fact, or ``None`` when the catalog backs none."""
        f, p = ctx.facts, ctx.product
        if not f or not p:
            return None
        ending = [pr for pr in f.active_promotions if pr.ends_within(ctx.now, timedelta(hours=URGENCY_HOURS))]
        if ending:
            pr = ending[0]
            return render(self.p.urgency["promo_ending"], title=pr.title, when=when(pr.ends_at, ctx.now))
        if 0 < p.stock <= ctx.catalog.shop.low_stock_threshold:
            return render(self.p.urgency["low_stock"], stock=p.stock, unit=p.unit)
        return None

    def value_sentence(self, ctx: DraftContext) -> str | None:
        """What the product is made of, from its specs: value the buyer can check on the page, no promise."""
        p = ctx.product
        if not p or not p.specs:
            return None
        highlights = "、".join(f"{k}{v}" for k, v in list(p.specs.items())[:2])
        return render(self.p.price.value, value=f"是{highlights}")

    # ------------------------------------------- answers to one question ---

    def price_answer(self, ctx: DraftContext, product: Product, sub: str) -> list[str]:
        """The price and promotions of ``product`` at ``now``: running (with end and the money), just ended, or
        coming; a decided price change when the buyer asks about the price moving."""
        now = ctx.now
        out: list[str] = []
        if haggles(sub, product):
            out.append(self.p.price.no_authority[0])
        facts = ctx.catalog.facts(product.sku, now)
        named_variants = product.variants_in(sub)
        variant = named_variants[0] if len({v.price_or(product, now) for v in named_variants}) == 1 else None
        out += self.price_sentences(replace(ctx, product=product, facts=facts), variant)
        if not facts.active_promotions or _OFFER_ASK.search(sub):  # 「有券吗」「便宜点」: the shop's own offers
            out += self.shop_offers(ctx, product)
        ended = [pr for pr in product.promotions if pr.ends_at <= now and (now - pr.ends_at).days <= 31]
        named = [pr for pr in ended if content_bigrams(pr.title + pr.discount) & content_bigrams(sub)]
        if ended and (named or not facts.active_promotions):  # over: said so, never quoted as running
            pr = max(named or ended, key=lambda x: x.ends_at)
            ended_at = _end_day(pr.ends_at)
            out.insert(len(out) - 1 if not facts.active_promotions else len(out),
                       render(self.p.price.ended_promo, title=pr.title, ended=ended_at))
        if facts.active_promotions and product.stock <= 0:  # a promotion on goods that cannot be bought now
            out.append(self.p.stock["none_promo"])
        if facts.active_promotions and _AFTER_END.search(sub):
            out.append(render(self.p.price.after_end, price=f"{product.price_at(now):g}"))
        nxt = product.next_price
        if nxt and nxt.effective_at <= now and (now - nxt.effective_at).days <= 31 and _PRICE_MOVE.search(sub):
            no_promo = render(self.p.price.no_promo, price=f"{product.price_at(now):g}")
            out = [x for x in out if x != no_promo]  # 「以页面价149元为准」 would say the same again
            out.append(render(self.p.price.changed, day=_when_day(nxt.effective_at), price=f"{nxt.price:g}"))
        upcoming = [pr for pr in product.promotions if pr.starts_at > now]
        if upcoming and (detect_intent(sub) == "promotion" or "开始" in sub or not facts.active_promotions):
            pr = min(upcoming, key=lambda x: x.starts_at)
            out.append(render(self.p.price.future_promo, title=pr.title, discount=pr.discount,
                              starts=_when_day(pr.starts_at), ends=_end_day(pr.ends_at)))
        pending = product.pending_price(now)
        if pending and _PRICE_MOVE.search(sub):
            out.append(render(self.p.price.pending, when=when(pending.effective_at, now).replace("24点", "0点后"),
                              day=_when_day(pending.effective_at), price=f"{pending.price:g}",
                              now_price=f"{product.price_at(now):g}"))
        return out

    def store_promotions(self, ctx: DraftContext) -> list[str]:
        """Running promotions (no product named): the shop-wide promotions and coupons first, with their
        conditions, then the products' own; up to three of each, each with its end."""
        out = [self._shop_offer(ctx, pr) for pr in ctx.catalog.store_promotions(ctx.now)[:3]]
        products = []
        for p in ctx.catalog.products:
            for pr in p.active_promotions(ctx.now):
                products.append(render(self.p.price.store_promo, name=p.aliases[0] if p.aliases else p.name,
                                       title=pr.title, discount=pr.discount, ends=when(pr.ends_at, ctx.now),
                                       condition=self._condition(pr)))
                break
            if len(products) == 3:
                break
        return out + products

    def overview(self, ctx: DraftContext) -> str:
        """The catalog by category, in the buyers' words (each product's first alias)."""
        by_cat: dict[str, list[str]] = {}
        for p in ctx.catalog.products:
            by_cat.setdefault(p.category, []).append(p.aliases[0] if p.aliases else p.name)
        listing = "；".join(f"{c}：{'、'.join(names[:5])}" for c, names in by_cat.items())
        return render(self.p.catalog_overview, listing=listing)

    def stock_answer(self, ctx: DraftContext, product: Product, sub: str) -> str:
        """Stock for the question: of the variants the buyer names (「黑色 / M 目前有货」, never a count: the
        rules check counts against the product's stock), else of the product, saying which variants are out."""
        named = product.variants_in(sub)
        if named:
            have = [v.label for v in named if v.stock > 0]
            out = [v.label for v in named if v.stock <= 0]
            lines = [render(self.p.stock["variant_in"], variant="、".join(have[:3]))] if have else []
            if out:
                lines.append(render(self.p.stock["variant_out"], variant="、".join(out[:3])))
                if not have:  # what the buyer can have instead: the in-stock variants closest to the one asked for
                    asked = {w for v in named for x in v.options.values() for w in re.split(r"[\s/]+", x) if w}
                    alike = sorted((v for v in product.variants if v.stock > 0 and v not in named),
                                   key=lambda v: -len(asked & {w for x in v.options.values() for w in re.split(r"[\s/]+", x)}))
                    if alike:
                        lines.append(render(self.p.stock["variant_alternatives"], variant="、".join(v.label for v in alike[:3])))
            return "".join(lines)
        line = self.stock_sentence(product, ctx)
        if product.stock > 0 and _VARIANT.search(sub):  # a variant the catalog does not list: the page says
            line = line.rstrip("。") + "，" + self.p.stock["variant"]
        elif product.stock > 0 and (out := [v.label for v in product.variants if v.stock <= 0]):
            line += render(self.p.stock["variants_out"], variant="、".join(out[:3]))
        return line

    def recommendation(self, ctx: DraftContext, hits: list[Hit]) -> tuple[str, str] | None:
        """Another product in stock: the first the search found, else one of this product's category
        (「有啥跟这个搭的」 on a product page)."""
        current = ctx.product.sku if ctx.product else None
        found = [h.sku for h in hits if h.sku and h.sku != current]
        same = [p.sku for p in ctx.catalog.products if p.sku != current and
                (ctx.product is None or p.category == ctx.product.category)]
        candidates = []
        for sku in dict.fromkeys([*found, *same]):
            try:
                p = ctx.catalog.get(sku)
            except Exception:
                continue
            if p.stock > 0:
                candidates.append(p)
        low, high = _budget(ctx.buyer_text)
        if high:  # 「300左右吧」: a product the buyer can afford, and not a tenth of what they meant to spend
            fits = [p for p in candidates if low <= p.price_at(ctx.now) <= high]
            if not fits:  # nothing the search found is in range: anything in the catalog that is
                fits = [p for p in ctx.catalog.products if p.sku != current and p.stock > 0
                        and low <= p.price_at(ctx.now) <= high]
            if fits and _GIFT.search(ctx.buyer_text):  # a present for parents or friends: a gift set first
                fits = sorted(fits, key=lambda p: not _GIFT_GOODS.search(p.name + p.category))
            candidates = fits or candidates
        if not candidates:
            return None
        p = candidates[0]
        k, v = next(iter(p.specs.items()), ("", ""))
        reason = f"{k}{v}。" if k else ""
        source = next((h.id for h in hits if h.sku == p.sku), "")  # from the catalog itself: no chunk to cite
        return render(self.p.recommend, name=p.name, price=f"{p.price_at(ctx.now):g}", reason=reason), source


# ------------------------------------------------------------------ helpers ---

_BUDGET = re.compile(r"(?:预算|价位|价格)?\s*(\d{2,5})\s*(?:块|元|米)?\s*(左右|上下|以内|以下|之内|内|封顶)|预算\s*(\d{2,5})")
_GIFT = re.compile(r"送(人|礼|给|朋友|长辈|爸|妈|父母|老人|领导|客户)|礼物|礼品|我爸|我妈|爸妈|父母|长辈|过年|年货")
_GIFT_GOODS = re.compile(r"礼盒|礼包|礼品|套装|组合")


def _budget(text: str) -> tuple[float, float]:
    """The price range a buyer names: 「300左右」 → 210–390, 「200以内」 → up to 200, (0, 0) when none."""
    m = _BUDGET.search(text)
    if not m:
        return 0.0, 0.0
    if m.group(3):
        return 0.0, float(m.group(3)) * 1.1
    n = float(m.group(1))
    return (0.7 * n, 1.3 * n) if m.group(2) in ("左右", "上下") else (0.0, n)

