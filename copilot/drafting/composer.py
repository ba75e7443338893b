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
from dataclasses import replace

from ..buyer.signals import HAGGLE, is_complaint
from ..rules.empathy_first import EMPATHY
from ..schema import COMPLAINT_INTENTS
from ..text.chunking import split_sentences
from .answers import Answer, best_hit, best_sentences, clean_sentence, spec_answer
from .context import DraftContext
from .facts import FactSentences
from .prompting import ComposerPhrases, StrategySpec, render
from .sizing import parse_body, recommend

ORDER_NEEDED = COMPLAINT_INTENTS | {"refund", "logistics", "address_change", "return_exchange"}
PRICE_TERMS = re.compile(r"券|内部价|叠加|一起用|改价")  # what the price-authority line answers besides haggling
ASKS_IF_THERE = re.compile(r"在吗|在不在|有人吗|在么")
GAVE_USUAL_SIZE = re.compile(r"平时(都)?穿\s?[SMLX\d]|穿\s?[SMLX]{1,3}码|[SMLX]{1,3}码")
_ORDER_NO = re.compile(r"(?<!\d)\d{10,20}(?!\d)")


def _pick(options: list[str], *keys: str) -> str:
    if not options:
        return ""
    h = int(hashlib.md5("|".join(keys).encode()).hexdigest(), 16)
    return options[h % len(options)]



class Composer:
    """Deterministic, grounded drafts from knowledge, facts and phrases."""

    name = "offline-composer"

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases
        self.facts = FactSentences(phrases)

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
                    sentences.append(clean_sentence(split_sentences(advice.note)[0]))
                return Answer(sentences, src, "size")
            q = "shoes" if "脚长" in product.size_chart.columns else "size"
            note = [clean_sentence(split_sentences(product.size_chart.note)[0])] if product.size_chart.note else []
            return Answer(note, src, "size", question=q)
        if product and ctx.facts and intent in ("price", "promotion"):
            return Answer(self.facts.price_sentences(ctx), src, "price")
        if product and intent == "stock":
            return Answer([self.facts.stock_sentence(product, ctx)], src, "stock")
        hit = best_hit(ctx)
        if hit is not None:
            body = hit.text.split("答：", 1)[1] if hit.kind == "faq" and "答：" in hit.text else hit.text
            if hit.kind == "policy":
                body = body.split("\n", 1)[1] if "\n" in body else body
            k = 3 if hit.kind == "faq" else 2
            sentences = best_sentences(body, ctx.message, ctx.lexicon, k=k)
            if sentences:
                return Answer(sentences, [hit.id], hit.kind)
        if product and intent in ("product_info", "usage"):
            spec = spec_answer(product, ctx.message)
            if spec:
                return Answer([spec], src, "spec")
        return Answer([], [], "unknown")

    # ------------------------------------------------------------ parts ---

    def opener(self, ctx: DraftContext, strategy: StrategySpec) -> str:
        a = ctx.analysis
        key = (ctx.message, strategy.id)
        if is_complaint(a):
            return _pick(self.p.openers["apology"], *key)
        if a.emotion == "anxious" and a.persona.id != "skeptical":
            return _pick(self.p.openers["anxious"], *key)
        # a joke or a compliment is never the answer to a buyer who is upset or has a problem with the goods
        light = ("skeptical", "proud", "silent") if (a.negative or a.stage == "after_sale") else \
            ("skeptical", "proud", "chatty", "silent")
        opener = _pick(self.p.openers["greeted"], *key) if ASKS_IF_THERE.search(ctx.message) else None  # 在吗 → 在的
        opener = opener or next((_pick(self.p.openers[pid], *key) for pid in light
                                 if a.persona.id == pid and pid in self.p.openers), None)
        if opener is None:
            if any(t.role == "agent" for t in ctx.history):  # mid-conversation: no second hello
                opener = _pick(self.p.openers["continued"], *key)
            else:
                opener = _pick(self.p.openers["positive" if a.emotion == "positive" else "default"], *key)
        # the empathy rule reads the buyer more eagerly than the analysis (a sigh, a "又"): meet it with
        # understanding in our own words, rather than have the guard prepend an apology for a bad experience
        if not EMPATHY.search(opener) and a.negative:
            return _pick(self.p.openers["soothe"], *key)
        return opener

    def clarify(self, ctx: DraftContext) -> str | None:
        a = ctx.analysis
        needs_order = a.intent in ORDER_NEEDED or (a.stage == "in_sale" and a.intent in ("shipping", "payment"))
        if not needs_order or a.stage == "pre_sale":
            return None
        if _ORDER_NO.search(ctx.buyer_text):
            if a.intent in COMPLAINT_INTENTS and not re.search(r"照片|图|视频", ctx.buyer_text):
                return "麻烦您再拍几张能看清问题的照片，我马上帮您登记处理。"
            return None
        if a.intent == "damaged_wrong":
            return _pick(self.p.clarify["order_video"], ctx.message)
        if a.intent in COMPLAINT_INTENTS:
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
            if GAVE_USUAL_SIZE.search(ctx.buyer_text):  # never ask again what the buyer already said
                return self.p.questions["fit"][0]
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
            out.append(render(self.p.recommend, name=p.name, price=f"{p.price_at(ctx.now):g}", reason=reason))
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
            if ctx.analysis.stage != "pre_sale" and (ctx.analysis.stage == "after_sale" or ctx.analysis.intent in ORDER_NEEDED):
                parts.append(_pick(self.p.followup, ctx.message))  # a follow-up promise only for an open action
                return _join(parts), list(dict.fromkeys(s for s in sources if s))
        elif sid == "guide_question":
            parts += core[:1] if (ans.kind != "unknown" or not greeting) else []
            if clarify:
                parts.append(clarify)
            else:
                parts.append(self.question(ctx, ans, sid))
        elif sid == "hold_price_value":
            if HAGGLE.search(ctx.message) or PRICE_TERMS.search(ctx.message):  # haggling or coupon terms, not 「第二件半价咋拍」
                parts.append(_pick(self.p.price.no_authority, ctx.message))
            if ctx.product:
                parts += self.facts.price_sentences(ctx)
                value = self.facts.value_sentence(ctx)
                if value:
                    parts.append(value)
                future = self.facts.future_promo_sentence(ctx) if ctx.analysis.persona.id == "budget" else None
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
            urgency = self.facts.urgency_sentence(ctx)
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
