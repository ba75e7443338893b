"""The offline composer: grounded drafts without any LLM.

It follows the seeds' flows — 售后 道歉→澄清事实→给出方案→跟进; 售前
问好→询问→推荐→议价→核实→道别 — and builds each draft from:

- the best retrieved FAQ answer or policy sentences (quoted, never invented);
- catalog facts for the product: size-chart advice, price, active
  promotions with their end times, stock;
- the persona's strategy and the draft's strategy (``prompts/strategies.yaml``);
- phrases from ``prompts/composer.yaml``, picked deterministically per
  message so replies do not read like one form letter.

When nothing in the knowledge answers the question it says so and offers to
check, rather than guessing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from .analysis import Analysis, Turn
from .catalog import Catalog, Facts, Product
from .chunking import split_sentences
from .lexicon import Lexicon
from .models import Hit
from .personas import Persona
from .prompting import ComposerPhrases, StrategySpec, render
from .rules.empathy_first import EMPATHY, buyer_is_negative
from .sizing import parse_body, recommend

COMPLAINTS = {"quality_complaint", "damaged_wrong"}
STRICT_TOPICS = {"quality_complaint", "damaged_wrong", "refund", "invoice", "authenticity", "address_change"}
# which knowledge titles answer which need
INTENT_TOPICS = {
    "quality_complaint": "质量",
    "damaged_wrong": "破损|错发|漏发|少发",
    "return_exchange": "退换|无理由|退货",
    "refund": "退款|退货",
    "shipping": "发货|快递",
    "logistics": "物流|快递|发货",
    "address_change": "地址",
    "invoice": "发票",
    "authenticity": "正品",
    "price": "价",
    "promotion": "优惠|活动|券",
    "review": "评价",
}
ORDER_NEEDED = COMPLAINTS | {"refund", "logistics", "address_change", "return_exchange"}
_ORDER_NO = re.compile(r"(?<!\d)\d{10,20}(?!\d)")
GUARANTEES = {
    "服饰": "签收后7天内吊牌完好、不影响二次销售可以无理由退换",
    "鞋靴": "签收后7天内鞋底无磨损、配件齐全可以无理由退换",
    "美妆护肤": "未拆封的话签收后7天内可以无理由退换",
    "数码": "未激活、未撕膜的话签收后7天内可以无理由退换",
    "家居": "未使用的话签收后7天内可以无理由退换",
}


@dataclass
class DraftContext:
    """Everything a draft may draw on. Built once per request by ``drafting``."""

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

    @property
    def buyer_text(self) -> str:
        recent = [t.text for t in self.history if t.role == "buyer"][-2:]
        return "\n".join([*recent, self.message])


@dataclass
class Answer:
    sentences: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)
    kind: str = "unknown"
    question: str | None = None  # which question to ask when information is missing


def _pick(options: list[str], *keys: str) -> str:
    if not options:
        return ""
    h = int(hashlib.md5("|".join(keys).encode()).hexdigest(), 16)
    return options[h % len(options)]


def _when(dt: datetime, now: datetime) -> str:
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


# policy text speaks about the shop; a reply speaks as the shop
_VOICE = [("请联系客服提供", "麻烦您提供"), ("请联系客服", "您跟我说一声"), ("联系客服", "找我"), ("本店", "我们")]


def _clean_sentence(s: str) -> str:
    s = re.sub(r"^[\s\-*•·]+", "", s.strip())
    for a, b in _VOICE:
        s = s.replace(a, b)
    s = re.sub(r"^(问|答)[:：]", "", s)
    s = re.sub(r"[；;，,、]$", "。", s)
    if s and s[-1] not in "。！？～…":
        s += "。"
    return s


def _terms(text: str, lexicon: Lexicon | None) -> set[str]:
    t = text + (" " + " ".join(lexicon.terms(text)) if lexicon else "")
    chars = [c for c in t if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


def best_sentences(text: str, query: str, lexicon: Lexicon | None, k: int = 2, limit: int = 160) -> list[str]:
    """The ``k`` sentences of ``text`` that share most with the query, in their original order."""
    sentences = [_clean_sentence(s) for s in split_sentences(text) if len(s.strip()) > 3]
    if not sentences:
        return []
    q = _terms(query, lexicon)
    scored = []
    for i, s in enumerate(sentences):
        st = _terms(s, None)
        overlap = len(q & st) / (len(st) ** 0.5 or 1)
        scored.append((overlap + 0.3 / (1 + i), -i, s))  # leading sentences usually state the rule
    top = sorted(scored, reverse=True)[:k]
    chosen = [s for _, _, s in sorted(top, key=lambda x: -x[1])]
    out, size = [], 0
    for s in chosen:
        if size + len(s) > limit and out:
            break
        out.append(s)
        size += len(s)
    return out


class Composer:
    """Deterministic, grounded drafts from knowledge, facts and phrases."""

    name = "offline-composer"

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases

    # ----------------------------------------------------------- answer ---

    def answer(self, ctx: DraftContext) -> Answer:
        intent = ctx.analysis.intent
        product = ctx.product
        src = [ctx.product_source] if ctx.product_source else []
        if product and product.size_chart and intent == "size":
            body = parse_body(ctx.buyer_text)
            advice = recommend(product.size_chart, body) if not body.empty else None
            if advice:
                sentences = [advice.describe() + "。"]
                if advice.note:
                    sentences.append(_clean_sentence(split_sentences(advice.note)[0]))
                return Answer(sentences, src, "size")
            q = "shoes" if "脚长" in product.size_chart.columns else "size"
            note = [_clean_sentence(split_sentences(product.size_chart.note)[0])] if product.size_chart.note else []
            return Answer(note, src, "size", question=q)
        if product and ctx.facts and intent in ("price", "promotion"):
            return Answer(self.price_sentences(ctx), src, "price")
        if product and intent == "stock":
            return Answer([self.stock_sentence(product, ctx)], src, "stock")
        hit = self._best_hit(ctx)
        if hit is not None:
            body = hit.text.split("答：", 1)[1] if hit.kind == "faq" and "答：" in hit.text else hit.text
            if hit.kind == "policy":
                body = body.split("\n", 1)[1] if "\n" in body else body
            k = 3 if hit.kind == "faq" else 2
            sentences = best_sentences(body, ctx.message, ctx.lexicon, k=k)
            if sentences:
                return Answer(sentences, [hit.id], hit.kind)
        if product and intent in ("product_info", "usage"):
            spec = self._spec_answer(product, ctx.message)
            if spec:
                return Answer([spec], src, "spec")
        return Answer([], [], "unknown")

    def _best_hit(self, ctx: DraftContext) -> Hit | None:
        usable = [h for h in ctx.hits if h.kind in ("faq", "policy", "product")]
        if not usable:
            return None
        if not ctx.grounded:
            # below the no-answer threshold: only a hit whose title names the
            # buyer's topic (via the colloquial lexicon) is trusted
            topical = [h for h in usable if self._topical(h, ctx)]
            if not topical:
                return None
            usable = topical
        sku = ctx.product.sku if ctx.product else None
        topic = INTENT_TOPICS.get(ctx.analysis.intent)
        if topic and ctx.analysis.intent in STRICT_TOPICS:
            on_topic = [h for h in usable if re.search(topic, h.title + h.text.split("\n", 1)[0])
                        or (sku and h.sku == sku and h.kind == "faq" and self._asks_same(h, ctx))]
            if on_topic:  # a complaint is answered by the after-sale rule, not by a nearby size FAQ
                usable = on_topic
        top = usable[0].score

        def rank(h: Hit) -> float:
            bonus = 0.0
            if topic and re.search(topic, h.title):
                bonus += 0.1
            if sku and h.sku == sku:
                bonus += 0.05
            if h.kind == "product":
                bonus -= 0.08  # descriptions answer spec questions; FAQ/policy answer the rest
            if h.sku and sku and h.sku != sku:
                bonus -= 0.2
            return h.score + bonus

        best = max(usable, key=rank)
        return best if best.score >= top * 0.7 else usable[0]

    @staticmethod
    def _asks_same(h: Hit, ctx: DraftContext) -> bool:
        """Does this product FAQ's question share words with the buyer's, beyond the product's name?"""
        names = " ".join([ctx.product.name, *ctx.product.aliases]) if ctx.product else ""
        shared = _terms(h.text.split("\n", 1)[0], None) & _terms(ctx.message, None)
        return len(shared - _terms(names, None)) >= 2

    @staticmethod
    def _topical(h: Hit, ctx: DraftContext) -> bool:
        terms = ctx.lexicon.terms(ctx.message) if ctx.lexicon else []
        head = h.title + h.text.split("\n", 1)[0]  # a FAQ's question names its topic
        return h.score >= 0.15 and any(t in head for t in terms if len(t) >= 2)

    def _spec_answer(self, product: Product, message: str) -> str | None:
        for key, value in product.specs.items():
            if key in message or any(part in message for part in re.split(r"[/、]", key) if len(part) >= 2):
                return f"这款{product.name}的{key}是{value}。"
        return None

    # ------------------------------------------------------------ facts ---

    def price_sentences(self, ctx: DraftContext) -> list[str]:
        p, f = ctx.product, ctx.facts
        active = f.active_promotions if f else []
        out = []
        if active:
            for promo in active[:2]:
                line = render(self.p.price.active_promo, title=promo.title, discount=promo.discount,
                              ends=_when(promo.ends_at, ctx.now))
                calc = self.promo_math(p.price, promo.discount) if p else None
                if calc:
                    line = line.rstrip("。") + f"，{calc}。"
                out.append(line)
        elif p:
            out.append(render(self.p.price.no_promo, price=f"{p.price:g}"))
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
            return render(self.p.urgency["promo_ending"], title=pr.title, when=_when(pr.ends_at, ctx.now))
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

    # ------------------------------------------------------------ parts ---

    def opener(self, ctx: DraftContext, strategy: StrategySpec) -> str:
        a = ctx.analysis
        key = (ctx.message, strategy.id)
        complaint = a.emotion == "angry" or (a.stage == "after_sale" and a.intent in COMPLAINTS | {"refund"})
        if complaint or (a.persona.id == "angry" and a.stage == "after_sale"):
            return _pick(self.p.openers["apology"], *key)
        if a.emotion == "anxious" and a.persona.id != "skeptical":
            return _pick(self.p.openers["anxious"], *key)
        opener = next((_pick(self.p.openers[pid], *key) for pid in ("skeptical", "proud", "chatty", "silent")
                       if a.persona.id == pid and pid in self.p.openers), None)
        opener = opener or _pick(self.p.openers["positive" if a.emotion == "positive" else "default"], *key)
        # the empathy rule reads the buyer more eagerly than the analysis (a sigh, a "又"): meet it with
        # understanding in our own words, rather than have the guard prepend an apology for a bad experience
        if not EMPATHY.search(opener) and buyer_is_negative(ctx.message, ctx.history):
            return _pick(self.p.openers["soothe"], *key)
        return opener

    def clarify(self, ctx: DraftContext) -> str | None:
        a = ctx.analysis
        needs_order = a.intent in ORDER_NEEDED or (a.stage == "in_sale" and a.intent in ("shipping", "payment"))
        if not needs_order or a.stage == "pre_sale":
            return None
        if _ORDER_NO.search(ctx.buyer_text):
            if a.intent in COMPLAINTS and not re.search(r"照片|图|视频", ctx.buyer_text):
                return "麻烦您再拍几张能看清问题的照片，我马上帮您登记处理。"
            return None
        if a.intent == "damaged_wrong":
            return _pick(self.p.clarify["order_video"], ctx.message)
        if a.intent in COMPLAINTS:
            return _pick(self.p.clarify["order_photos"], ctx.message)
        return _pick(self.p.clarify["order"], ctx.message)

    def question(self, ctx: DraftContext, answer: Answer, strategy: str = "") -> str:
        a = ctx.analysis
        key = (ctx.message, "q", strategy)
        if answer.question:
            return _pick(self.p.questions[answer.question], *key)
        if a.intent == "greeting":
            return _pick(self.p.questions["greeting"], *key)
        if answer.kind == "size":
            return _pick(self.p.questions["fit"], *key)
        if a.intent == "usage" and ctx.product and ctx.product.category == "美妆护肤":
            return _pick(self.p.questions["skin"], *key)
        if a.intent == "size" and ctx.product and ctx.product.size_chart:
            q = "shoes" if "脚长" in ctx.product.size_chart.columns else "size"
            return _pick(self.p.questions[q], *key)
        if a.intent == "recommendation" or a.persona.id == "browser":
            return _pick(self.p.questions["recommendation"], *key)
        if a.persona.id == "silent":
            return _pick(self.p.questions["silent"], *key)
        if a.persona.id == "indecisive":
            return _pick(self.p.questions["indecisive"], *key)
        return _pick(self.p.questions["generic"], *key)

    def recommendations(self, ctx: DraftContext) -> list[str]:
        skus = [h.sku for h in ctx.hits if h.sku] or [p.sku for p in ctx.catalog.products]
        seen, out = set(), []
        for sku in skus:
            if sku in seen or (ctx.product and sku == ctx.product.sku):
                continue
            seen.add(sku)
            try:
                p = ctx.catalog.get(sku)
            except Exception:
                continue
            if p.stock <= 0:
                continue
            k, v = next(iter(p.specs.items()), ("", ""))
            reason = f"{k}{v}，很多买家回购。" if k else "口碑不错。"
            out.append(render(self.p.recommend, name=p.name, price=f"{p.price:g}", reason=reason))
            if len(out) == 1:
                break
        return out

    def closing(self, ctx: DraftContext) -> str:
        return _pick(self.p.closings[ctx.analysis.stage], ctx.message, "close")

    # ------------------------------------------------------------ draft ---

    def compose(self, ctx: DraftContext, strategy: StrategySpec, variant: int = 0) -> tuple[str, list[str]]:
        """One draft for ``strategy``: (text, source ids). ``variant`` > 0 rewords a repeated strategy."""
        if variant:
            ctx = replace(ctx, message=f"{ctx.message}\u200b{variant}")
        ans = self.answer(ctx)
        sid = strategy.id
        parts: list[str] = [self.opener(ctx, strategy)]
        sources = list(ans.source_ids)
        greeting = ctx.analysis.intent in ("greeting", "recommendation")
        if greeting:
            ans.question = ans.question or ("recommendation" if ctx.analysis.intent == "recommendation" else "greeting")
        core = ans.sentences if ans.sentences else ([] if ans.question else [_pick(self.p.unknown, ctx.message)])
        if "抱歉" in parts[0]:  # the opener already apologised
            core = [c for c in (re.sub(r"^(非常|实在|真的很)?抱歉[！!。，]?", "", x) for x in core) if c]
        clarify = self.clarify(ctx)
        if clarify and any("订单号" in c for c in core):
            clarify = None  # the quoted answer already asks for it

        if sid == "empathize_resolve":
            if clarify:
                parts.append(clarify)
            parts += core
            if ctx.analysis.stage == "after_sale" or ctx.analysis.intent in ORDER_NEEDED:
                parts.append(_pick(self.p.followup, ctx.message))
                return _join(parts), list(dict.fromkeys(s for s in sources if s))
        elif sid == "guide_question":
            parts += core[:1] if (ans.kind != "unknown" or not greeting) else []
            if clarify:
                parts.append(clarify)
            else:
                parts.append(self.question(ctx, ans, sid))
        elif sid == "hold_price_value":
            parts.append(_pick(self.p.price.no_authority, ctx.message))
            if ctx.product:
                parts += self.price_sentences(ctx)
                value = self.value_sentence(ctx)
                if value:
                    parts.append(value)
                future = self.future_promo_sentence(ctx) if ctx.analysis.persona.id == "budget" else None
                if future:
                    parts.append(future)
                if ctx.product_source:
                    sources.append(ctx.product_source)
            elif ans.kind != "unknown":
                parts += core
        elif sid == "reassure_trust":
            if ctx.analysis.scam:
                parts.append(self.p.privacy)  # a scam report: warn first, without repeating what not to share
            else:
                parts += core
                parts.append(_pick(self.p.trust, ctx.message))
        elif sid == "honest_nudge":
            parts += core
            urgency = self.urgency_sentence(ctx)
            if urgency:
                parts.append(urgency)
                if ctx.product_source:
                    sources.append(ctx.product_source)
        elif sid == "recommend_match":
            parts += core[:1] if ans.kind != "unknown" else []
            parts += self.recommendations(ctx)
            parts.append(self.question(ctx, ans, sid))
        else:  # answer_precisely, warm_followup
            if clarify and ctx.analysis.stage != "pre_sale":
                parts.append(clarify)
            parts += core
            if ans.question:
                parts.append(self.question(ctx, ans, sid))
        if sid not in ("guide_question", "recommend_match") and not ans.question:
            parts.append(self.closing(ctx))
        return _join(parts), list(dict.fromkeys(s for s in sources if s))


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if text and text[-1] not in "，。！？～；…：":
            text += "。"
        if text and part.startswith("亲，") and "亲" in text[-30:]:
            part = part[2:]
        text += part
    text = re.sub(r"。{2,}", "。", text)
    return text
