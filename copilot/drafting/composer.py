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

from ..buyer.signals import is_complaint, reports_hurt
from ..rules.empathy_first import EMPATHY
from ..schema import COMPLAINT_INTENTS, AnswerPlan
from .answers import bigrams
from .context import DraftContext
from .facts import FactSentences
from .phrases import ComposerPhrases
from .plan import SOLD_APART, Planner
from .prompting import StrategySpec, render
from .questions import haggles

ORDER_NEEDED = COMPLAINT_INTENTS | {"refund", "logistics", "address_change", "return_exchange"}
PRICE_TERMS = re.compile(r"券|内部价|叠加|一起用|改价")  # what the price-authority line answers besides haggling
ASKS_IF_THERE = re.compile(r"在吗|在不在|有人吗|在么")
GAVE_USUAL_SIZE = re.compile(r"平时(都)?穿\s?[SMLX\d]|穿\s?[SMLX]{1,3}码|[SMLX]{1,3}码")
_ORDER_NO = re.compile(r"(?<!\d)\d{10,20}(?!\d)")
_SHARDS = re.compile(r"碎|渣|碴|玻璃|瓷")  # broken glass or china: the danger is the shards, not a battery
_AFTER_SALE_PATH = re.compile(r"售后|退款|退货|退换|换货|换新|补发|赔")
_SKIN = re.compile(r"肤质|敏感肌|干皮|油皮|混油|混干")


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
        self.planner = Planner(phrases)

    # ------------------------------------------------------------- core ---

    def core(self, ctx: DraftContext, plan: AnswerPlan, full: bool) -> list[str]:
        """The plan in sentences: every answered sub-question (all its sentences in the top draft, the first
        one in the others), then what is deferred — by name when one question is left open among answers."""
        out: list[str] = []
        for item in plan.items:  # the top draft: every sentence the plan chose; the others: the first
            out += item.sentences if full else item.sentences[:2 if item.kind == "price" else 1]
        deferred = plan.unanswered
        if not deferred:
            return out
        if not out and not any(i.ask for i in plan.items):
            gave_order = ctx.analysis.stage != "pre_sale" and _ORDER_NO.search(ctx.buyer_text)
            return [_pick(self.p.unknown_order if gave_order else self.p.unknown, ctx.message)]
        if out:  # 「怎么弄」「怎么办」 beside an answer asks for that answer: nothing more to defer
            deferred = [i for i in deferred if not _GENERIC_ASK.fullmatch(_quotable(i.asking or i.question) or "")]
            if not deferred:
                return out
        first = deferred[0].asking or deferred[0].question
        ask = _quotable(first) if len(deferred) == 1 and not ctx.analysis.injection else None
        if ask:
            return [*out, render(_pick(self.p.defer, ctx.message), ask=ask)]
        if len(deferred) == 1:
            return [*out, _pick(self.p.defer_other, ctx.message)]
        return [*out, _pick(self.p.defer_rest, ctx.message)]

    @staticmethod
    def is_top(ctx: DraftContext, strategy: StrategySpec, variant: int) -> bool:
        """The request's first draft carries the full answer; the others the short one plus their own part."""
        return not ctx.strategy_ids or (ctx.strategy_ids[0] == strategy.id and variant == 0)

    # ------------------------------------------------------------ parts ---

    def opener(self, ctx: DraftContext, strategy: StrategySpec) -> str:
        a = ctx.analysis
        key = (ctx.message, strategy.id)
        if a.safety in ("reaction", "injury") or (is_complaint(a) and (a.negative or a.intent in COMPLAINT_INTENTS)
                                                   and a.stage != "pre_sale"):
            # not for a calm 价保 question, nor for a doubter before buying (nothing has gone wrong yet)
            return _pick(self.p.openers["apology"], *key)
        if a.emotion == "anxious" and a.persona.id != "skeptical":
            return _pick(self.p.openers["anxious"], *key)
        # a joke or a compliment is never the answer to a buyer who is upset or has a problem with the goods
        light = ("skeptical", "proud", "silent") if (a.negative or a.stage == "after_sale") else \
            ("skeptical", "proud", "chatty", "silent")
        opener = _pick(self.p.openers["greeted"], *key) if ASKS_IF_THERE.search(ctx.message) else None  # 在吗 → 在的
        opener = opener or next((_pick(self.p.openers[pid], *key) for pid in light
                                 if a.persona.usable == pid and pid in self.p.openers), None)
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

    def scam_warning(self, ctx: DraftContext) -> str:
        """「这不是我们的客服…我们的客服不会让您加微信、索要验证码」: the warning names what the buyer was asked for."""
        text = " ".join([*(t.text for t in ctx.history if t.role == "buyer"), ctx.buyer_text])
        asks = [said for words, said in self.p.scam_asks.items() if re.search(words, text)]
        if not asks or not self.p.scam_warning:
            return self.p.privacy
        return self.p.scam_warning.replace("{asks}", "，也不会".join(asks))

    def clarify(self, ctx: DraftContext) -> str | None:
        a = ctx.analysis
        needs_order = a.intent in ORDER_NEEDED or (a.stage == "in_sale" and a.intent in ("shipping", "payment"))
        if not needs_order or a.stage == "pre_sale":
            return None
        if ctx.order is not None or _ORDER_NO.search(ctx.buyer_text):  # the order is known: never asked for again
            if a.intent in COMPLAINT_INTENTS and not re.search(r"照片|图|视频", ctx.buyer_text):
                return "麻烦您再拍几张能看清问题的照片，我马上帮您登记售后处理。"
            return None
        received = a.stage == "after_sale"  # photos of a problem only once the goods are in the buyer's hands
        if a.intent == "damaged_wrong" and received:
            return _pick(self.p.clarify["order_video"], ctx.message)
        if a.intent in COMPLAINT_INTENTS and received:
            return _pick(self.p.clarify["order_photos"], ctx.message)
        return _pick(self.p.clarify["order"], ctx.message)

    def question(self, ctx: DraftContext, ask: str | None, kind: str, strategy: str = "") -> str:
        # 「尺码、发货、售后都可以问我」 only in a store that has size charts; 「规格」 in any other
        sized = any(p.size_chart for p in ctx.catalog.products)
        return self._question(ctx, ask, kind, strategy).replace("{topics}", "尺码" if sized else "规格")

    def _question(self, ctx: DraftContext, ask: str | None, kind: str, strategy: str) -> str:
        a = ctx.analysis
        key = (ctx.message, "q", strategy)
        if ask:
            return _pick(self.p.questions[ask], *key)
        if a.intent == "greeting":
            return _pick(self.p.questions["greeting"], *key)
        if kind == "size":
            if GAVE_USUAL_SIZE.search(ctx.buyer_text):  # never ask again what the buyer already said
                return _pick(self.p.questions["generic"], *key)
            return _pick(self.p.questions["fit"], *key)
        if a.intent == "usage" and ctx.product and _SKIN.search(ctx.product.statements()):  # the store speaks of 肤质
            return _pick(self.p.questions["skin"], *key)
        if a.intent == "size" and ctx.product and ctx.product.size_chart:
            q = "shoes" if "脚长" in ctx.product.size_chart.columns else "size"
            return _pick(self.p.questions[q], *key)
        if a.intent == "recommendation" or a.persona.usable == "browser":
            return _pick(self.p.questions["recommendation"], *key)
        if a.persona.usable == "silent" and kind == "none":  # 「您想问的是哪方面」 only when nothing was answered
            return _pick(self.p.questions["silent"], *key)
        if a.persona.usable == "indecisive":
            return _pick(self.p.questions["indecisive"], *key)
        return _pick(self.p.questions["generic"], *key)

    def recommendations(self, ctx: DraftContext) -> list[str]:
        rec = self.facts.recommendation(ctx, ctx.hits)
        return [rec[0]] if rec else []

    def closing(self, ctx: DraftContext) -> str:
        stage = ctx.analysis.stage
        if stage == "after_sale" and not ctx.analysis.negative:  # a content buyer after the sale hears no apology
            stage = "after_sale_calm"
        return _pick(self.p.closings[stage], ctx.message, "close")

    # ------------------------------------------------------------ draft ---

    def compose(self, ctx: DraftContext, strategy: StrategySpec, variant: int = 0) -> tuple[str, list[str]]:
        """One draft for ``strategy``: (text, source ids). ``variant`` > 0 rewords a repeated strategy."""
        plan = ctx.plan or self.planner.build(ctx, None, threshold=1.0)
        full = self.is_top(ctx, strategy, variant)
        if variant:
            ctx = replace(ctx, message=f"{ctx.message}\u200b{variant}")
        a = ctx.analysis
        sid = strategy.id
        ask = next((i.ask for i in plan.items if i.ask in self.p.questions), None)
        kind = next((i.kind for i in plan.items if i.answered), "none")
        if a.intent in ("greeting", "recommendation") and len(plan.items) == 1:
            ask = ask or ("recommendation" if a.intent == "recommendation" else "greeting")
        core = self.core(ctx, plan, full or sid in ("answer_precisely", "empathize_resolve"))
        if a.intent in ("greeting", "recommendation") and len(plan.items) == 1 and not any(i.answered for i in plan.items):
            core = []  # a hello or a vague wish is met with a question, not with "I'll check"
        if not full:  # another draft declines a haggle in its own words
            pool = self.p.price.no_authority
            core = [pool[(pool.index(c) + 1) % len(pool)] if c in pool else c for c in core]
        declines = [c for c in core if c in self.p.price.no_authority]
        core = declines + [c for c in core if c not in declines]  # a haggle hears the answer to it first
        parts: list[str] = [self.opener(ctx, strategy)]
        if a.safety in self.p.safety:  # a reaction or an injury: stop using and see a doctor come before any policy
            eaten = a.safety == "reaction" and re.search(r"吃|喝|食用|入口|食(?!品)", ctx.buyer_text)
            # smoke, swelling or heat with nobody hurt: make the goods safe first, no talk of a wound
            hazard = a.safety == "injury" and not reports_hurt(ctx.buyer_text)
            sharp = hazard and _SHARDS.search(ctx.buyer_text)
            key = "reaction_food" if eaten else "sharp" if sharp else "hazard" if hazard else a.safety
            parts.append(self.p.safety.get(key, self.p.safety[a.safety]))
        sources = list(plan.source_ids)
        if "抱歉" in parts[0]:  # the opener already apologised
            core = [c for c in (re.sub(r"^(非常|实在|真的很)?抱歉[！!。，]?", "", x) for x in core) if c]
        clarify = self.clarify(ctx)
        if clarify and any("订单号" in c for c in core):
            clarify = None  # the quoted answer already asks for it
        elif clarify and any(re.search(r"照片|视频", c) for c in core):
            # the policy quoted says which photos or video to send; the order number is still needed to act on it
            clarify = _pick(self.p.clarify["order"], ctx.message) if "订单号" in clarify else None

        if sid == "empathize_resolve":
            if clarify:
                parts.append(clarify)
            parts += core
            if a.safety in self.p.safety and not any(_AFTER_SALE_PATH.search(p) for p in parts):
                parts.append(self.p.safety["path"])  # a reaction or an injury always hears how it will be handled
            if a.stage != "pre_sale" and (a.stage == "after_sale" or a.intent in ORDER_NEEDED):
                parts.append(_pick(self.p.followup, ctx.message))  # a follow-up promise only for an open action
                return join_pieces(parts), list(dict.fromkeys(s for s in sources if s))
        elif sid == "guide_question":
            parts += core
            parts.append(clarify or self.question(ctx, ask, kind, sid))
        elif sid == "hold_price_value":
            if ((ctx.product and haggles(ctx.message, ctx.product)) or PRICE_TERMS.search(ctx.message)) and full and \
                    not any(x in self.p.price.no_authority for x in core):  # haggling or coupon terms only
                parts.append(_pick(self.p.price.no_authority, ctx.message))
            parts += core
            if ctx.product:
                # the page price answers a price question only about the product itself, not a part sold apart
                if not any(i.kind == "price" for i in plan.items) and not SOLD_APART.search(ctx.message):
                    parts += self.facts.price_sentences(ctx)
                value = None if full else self.facts.value_sentence(ctx)  # an alternative pitches the specs
                if value:
                    parts.append(value)
                future = self.facts.future_promo_sentence(ctx) if a.persona.usable == "budget" else None
                if future:
                    parts.append(future)
                if ctx.product_source:
                    sources.append(ctx.product_source)
            if a.stage == "pre_sale" and not ask:  # the seeds' 议价 step leads on with a question, not a goodbye
                ask = "price"
                parts.append(self.question(ctx, ask, kind, sid))
        elif sid == "reassure_trust":
            if a.scam:
                parts.append(self.scam_warning(ctx))  # a scam report: warn first, naming what the caller asked for
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
            parts += core
            parts += self.recommendations(ctx)
            parts.append(self.question(ctx, ask, kind, sid))
        else:  # answer_precisely, warm_followup
            if clarify and a.stage != "pre_sale":
                parts.append(clarify)
            parts += core
            if ask:
                parts.append(self.question(ctx, ask, kind, sid))
        if sid not in ("guide_question", "recommend_match") and not ask:
            parts.append(self.closing(ctx))
        return join_pieces(parts), list(dict.fromkeys(s for s in sources if s))


def _repeats(part: str, seen: set[str]) -> bool:
    """Does ``part`` say again what an earlier sentence said (two FAQ answers, a FAQ line and a computed fact)?
    A sentence with a figure the earlier one lacks (XL码140g after L码130g) says something new."""
    grams, figures = bigrams(part), set(re.findall(r"\d+", part))
    for s in seen:
        other = bigrams(s)
        small = min(len(grams), len(other))
        if small >= 14 and len(grams & other) >= 0.4 * small and figures <= set(re.findall(r"\d+", s)):
            return True
        if len(grams) >= 8 and len(grams & other) >= 0.55 * len(grams):
            return True
    return False


_GENERIC_ASK = re.compile(r"(怎么|咋|如何)(弄|办|处理|解决|说)?|那怎么办|怎么回事")


def _quotable(question: str) -> str | None:
    """The buyer's words for a deferred question, short enough to name it in the reply (「您问的GPS是单频还是双频，
    …」): the asking piece without fillers and question particles."""
    q = question.strip().split(" ")[-1] if len(question) > 14 else question.strip()
    q = re.sub(r"^([啊嗯哎哦呃唉]+\s*)?(那我|那|我想问|想问下?|请问|另外|还有|你们|你家|亲)?", "", q)
    q = re.sub(r"[吗啊呀呢吧哈嘛呗哦～~。！!？?\s]+$", "", q)
    if re.search(r"我|咱|帮|给|要不要|[<>{}\[\]`「」]", q):  # 「能帮我包装一下」 can't be quoted back as it stands
        return None
    return q if 2 <= len(q) <= 14 else None


def join_pieces(parts: list[str], *, dedupe: bool = True) -> str:
    """Pieces back into one reply: a piece that ends mid-sentence (「…您先别着急，」) runs on into the next one,
    a repeated 「亲，」 is dropped, and (with ``dedupe``) two FAQ answers saying one thing say it once."""
    text = ""
    seen: set[str] = set()
    for part in parts:
        part = part.strip()
        if not part or (dedupe and (part in seen or _repeats(part, seen))):
            continue
        seen.add(part)
        if text and text[-1] not in "，。！？～；…：,.!?;:":
            text += "。"
        if text and part.startswith("亲，") and "亲" in text[-30:]:
            part = part[2:]
        text += part
    text = re.sub(r"。{2,}", "。", text)
    return re.sub(r"[，,]$", "。", text)
