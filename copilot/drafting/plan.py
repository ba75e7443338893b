"""The answer plan: what every draft of a request answers, decided once, before any wording.

``split_questions`` cuts the newest buyer message into sub-questions (a context piece such as 「新疆乌鲁木齐」
or 「170 62kg」 joins the question after it; bare spec names in a list each ask for that spec), and
``open_questions`` carries forward what the buyer asked in the previous turn that the agent's reply did not
take up. ``Planner.build`` answers each sub-question on its own — its own intent, its own retrieval filtered
to the product — with sentences, not chunks: catalog facts are computed at ``now`` (price, promotions before /
while / after, stock, size chart, specs), knowledge sentences are quoted from the FAQ / policy / product text,
preferring the clause about this product's category and the request's scenario and skipping sentences about
promotions that are over. A sub-question the knowledge does not answer stays in the plan without sentences, so
the drafts defer it alone while answering the rest. All drafts of a request render the same plan, so they
state the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from ..buyer.signals import INTENT_LABELS, detect_intent, only_threat
from ..knowledge.catalog import Catalog, Product
from ..retrieval.retriever import Retriever
from ..schema import COMPLAINT_INTENTS, AnswerPlan, Hit, PlanItem, buyer_turns
from ..text.chunking import split_sentences
from ..text.vocabulary import CARRIERS, carrier_core
from .answers import (
    INTENT_TOPICS,
    asks_kind,
    best_hit,
    best_sentences,
    bigrams,
    clean_sentence,
    content_bigrams,
    misses_kind,
    spec_answer,
    with_list_intros,
)
from .context import DraftContext, retrieve
from .facts import CATALOG_ASK, FactSentences
from .order_answers import ORDER_INTENTS, REFUND_INTENTS, SHIPPING_INTENTS, OrderAnswers
from .phrases import ComposerPhrases
from .prompting import render
from .questions import (
    FUTURE,
    PROMO_WORDS,
    REALLY_ASKS,
    USUAL_SIZE,
    haggles,
    open_questions,
    options,
    refine,
    split,
)
from .sizing import chart_lookup, named_size, parse_body, recommend

_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_STARTS = re.compile(r"将于|将在|即将|会在.{0,12}开始")


def stale(sentence: str, now: datetime) -> bool:
    """Does a knowledge sentence describe a promotion as running or coming although, at ``now``, it is over
    (all its dates are past) or has already started (「将于12月1日开始」 on 12-02)?"""
    if not PROMO_WORDS.search(sentence):
        return False
    days = []
    for y, m, d in _DATE.findall(sentence):
        try:
            days.append(date(int(y) if y else now.year, int(m), int(d)))
        except ValueError:
            continue
    if not days:
        return False
    today = now.date()
    if all(d < today for d in days):
        return True
    if re.search(r"现在.{0,4}不|目前.{0,4}(不|没有)|暂无|尚未开始|还没开始", sentence) and min(days) <= today:
        return True  # 「12月10日至12日下单赠表带（现在下单不赠）」 read on 12-11
    return bool(_STARTS.search(sentence)) and max(days) <= today


class Planner:
    """Builds the ``AnswerPlan`` of a request: one ``PlanItem`` per sub-question."""

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases
        self.facts = FactSentences(phrases)
        self.orders = OrderAnswers(phrases.order)

    def build(self, ctx: DraftContext, retriever: Retriever | None, *, threshold: float,
              mentions: Callable[[str], set[str]] | None = None) -> AnswerPlan:
        pairs = split(ctx.message)
        subs = [t for t, _ in pairs]
        carried = open_questions(ctx.history)
        asking_of = dict(pairs)
        if retriever is not None and (len(subs) > 1 or carried):
            retriever.embedder.warm_queries([*subs, *carried])
        single = len(subs) == 1 and not carried
        # the newest of the last three buyer turns that reported a problem with the goods (「一股哈喇味」)
        report = next((t for t in reversed(buyer_turns(ctx.history)[-3:]) if detect_intent(t) in COMPLAINT_INTENTS), None)
        faulty = ctx.analysis.intent in COMPLAINT_INTENTS or report is not None
        # 「20号买的 今天页面立减30了 退我30」: a price cut after the purchase is the store's price-protection rule
        dropped = PRICE_DROPPED.search(ctx.buyer_text) if ctx.analysis.stage != "pre_sale" else None
        anchor = ""  # the last sub-question that named its topic
        apart = False  # an earlier sub-question asked to buy a part on its own
        items: list[PlanItem] = []
        used: set[str] = set()  # sentences already given to an earlier sub-question
        previous: Hit | None = None  # the knowledge the previous sub-question was answered from
        for k, sub in enumerate([*subs, *carried]):
            asking = asking_of.get(sub, sub)  # the piece that asks says the need; the rest is context
            said, whole = detect_intent(asking), detect_intent(sub)
            # 「补差价链接发我 不然就给我退了」 asks for the link; the threat asks for nothing
            intent = said if said != "other" and not only_threat(asking) else whole
            if intent in REMEDY_INTENTS and whole in COMPLAINT_INTENTS:
                intent = whole  # 「开胶了 这种能换吗」: the exchange of faulty goods is the after-sale rule
            if single or (intent == "other" and k == 0 and len(subs) == 1):
                intent = ctx.analysis.intent
            product = self._product_for(sub, ctx, mentions)
            intent = refine(intent, asking, product, sub)
            if single or retriever is None:
                hits, grounded = ctx.hits, ctx.grounded
            else:
                hits, grounded = self._retrieve(retriever, sub, product, threshold)
            if product is not None and not single and intent != "recommendation":  # nor another product's FAQ
                hits = [h for h in hits if not h.sku or h.sku == product.sku]
            complaint = next((j for j, it in enumerate(items) if it.intent in COMPLAINT_INTENTS and it.answered), None)
            if complaint is not None and intent in ("return_exchange", "refund"):
                # 「…这算质量问题吗 能换一条吗」: the after-sale rule just quoted says how the goods are exchanged
                items.append(PlanItem(question=sub, asking=asking, intent=intent, kind=items[complaint].kind,
                                      same_as=complaint))
                continue
            item = self.answer(ctx, sub, intent, product, hits, grounded, strict=not single, faulty=faulty, used=used,
                               follow=previous, asking=asking)
            followed = None
            if retriever is not None and intent == "other" and items and items[-1].intent in FOLLOWED_TOPICS \
                    and len(sub) <= 10 and not re.search(r"[A-Za-z]{2}|\d", sub) and (not item.answered or item.kind == "faq"):
                # 「想开专票 需要提供啥 多久能开出来」: a short follow-up without a topic of its own asks about the last one
                # (a product FAQ sharing its words, 「电子普票…N小时内开出」, answers another question)
                followed = self._follow_up(ctx, retriever, item, items, anchor, product, threshold, faulty, used)
                item = followed or item
            if followed is None:
                anchor = sub  # what the next short follow-up continues
            if not item.answered and retriever is not None and intent in REMEDY_INTENTS and report is not None \
                    and whole not in COMPLAINT_INTENTS:
                item = self._for_complaint(ctx, retriever, item, report, product, threshold, used) or item
            if item.sentences and retriever is not None and product is not None and intent in COMPLAINT_INTENTS:
                item = self._with_category_row(ctx, retriever, item, product, used)
            if dropped and retriever is not None and (intent in ("price", "promotion", "refund") or MONEY_BACK.search(sub)):
                item = self._price_protection(ctx, retriever, item, dropped, product, threshold, used) or item
            if SOLD_APART.search(sub) and not any(SOLD_APART_SAID.search(x) for x in item.sentences):
                # 「接收器弄丢了 能单独买一个吗 多少钱」: only the store can say whether a part is sold on its own, and
                # the price asked next is that part's, not the page's
                item = PlanItem(question=sub, asking=asking, intent=intent)
                apart = True
            elif apart and intent == "price" and not (mentions and mentions(sub)):
                item = PlanItem(question=sub, asking=asking, intent=intent)
            used.update(item.sentences)
            by_id = {h.id: h for h in [*hits, *([previous] if previous else [])]}
            previous = by_id.get(item.source_ids[0]) if item.source_ids else previous
            if not item.answered and not item.ask and not single and not REALLY_ASKS.search(sub):
                continue  # 「要不还是算了」: not a question, nothing to defer
            if intent == "greeting" and not single:
                continue
            items.append(item)
        if not items:  # a message of fillers only: answer it as one
            items = [self.answer(ctx, ctx.message, ctx.analysis.intent, ctx.product, ctx.hits, ctx.grounded,
                                 strict=False, faulty=faulty)]
        if ctx.order is not None:
            self._with_order(ctx, items, retriever)
        if ctx.order is not None or _ORDER_GIVEN.search(ctx.buyer_text):  # 「麻烦发一下订单号…」 to a buyer who sent it
            for i in items:
                i.sentences = [t for t in (_ASK_ORDER.sub("", s).strip() for s in i.sentences) if len(t) > 4]
        if any(i.kind == "stock" and i.sentences for i in items):  # sold out is said once, by the stock answer
            for i in items:
                i.sentences = [s for s in i.sentences if s != self.p.stock["none_promo"]]
        plan = AnswerPlan(items=items, carried=sum(1 for i in items if i.question in carried))
        _dedupe(plan)
        return plan

    def _with_order(self, ctx: DraftContext, items: list[PlanItem], retriever: Retriever | None) -> None:
        """Shipping, tracking, refund, address and payment sub-questions answered from the buyer's order first: its
        state at ``now`` (shipped when and by whom, the latest tracking event, the refund's state), then what the
        store's knowledge said to it, less what the order has made moot (a shipping time once it has shipped, a
        transit time once it is signed for, the default courier once the order names its own); a refund's state is
        followed by the store's rule for how long it takes to arrive."""
        order = ctx.order
        first: dict[str, int] = {}  # what of the order is said once: the second 「到哪了」 points at the first
        for k, item in enumerate(items):
            if item.same_as is not None:
                continue
            intent = _order_intent(item, order)
            if intent is None:
                continue
            said = self.orders.sentences(order, intent, ctx.now, stale_hours=ctx.catalog.shop.tracking_stale_hours)
            if not said:
                continue
            topic = "shipping" if intent in SHIPPING_INTENTS else intent
            if topic in first:
                items[k] = item.model_copy(update={"intent": intent, "same_as": first[topic], "sentences": [],
                                                   "source_ids": [], "kind": "order"})
                continue
            first[topic] = k
            kept = [x for x in item.sentences if not _moot(x, order, intent)] \
                if item.intent == intent or item.intent in ("other", "logistics", "shipping") else []
            open_case = intent in REMEDY_INTENTS and order.after_sale is not None and order.after_sale.status != "rejected"
            if open_case or (intent in REMEDY_INTENTS and order.refund_done):
                kept = [x for x in kept if _REFUND_TIME.search(x)]  # the case's state is said: what is left is when
            sources = list(item.source_ids) if kept else []
            if (open_case or order.refund_done) and not kept and retriever is not None:
                found = self._policy_sentence(retriever, REFUND_TIME_QUERY, _REFUND_TIME, _NOT_REFUND)
                if found:
                    kept, sources = [found[0]], [found[1]]
            if intent == "address_change" and order.shipped and not kept and retriever is not None:
                found = self._policy_sentence(retriever, ADDRESS_QUERY, _ADDRESS_RULE)  # 「发货后…可联系快递改派」
                if found:
                    kept, sources = [found[0]], [found[1]]
            items[k] = item.model_copy(update={"intent": intent, "kind": "order", "sentences": [*said, *kept[:2]],
                                               "source_ids": sources})

    @staticmethod
    def _policy_sentence(retriever: Retriever, query: str, wanted: re.Pattern,
                         unwanted: re.Pattern | None = None) -> tuple[str, str] | None:
        """The store's own sentence on what the order leaves open, from its policies or FAQs: how a refund comes
        back and how long it takes (「原路退回…N个工作日」, not a shipping-insurance payout), or what can be done about
        the address once the parcel has left (「发货后…可联系快递改派」)."""
        hits = [*retriever.search(query, 4, kind="policy").hits, *retriever.search(query, 3, kind="faq").hits]
        for h in sorted(hits, key=lambda h: -h.score):
            for line in split_sentences(with_list_intros(_answer_body(h))):
                x = clean_sentence(line)
                if wanted.search(x) and not (unwanted and unwanted.search(x)) and not _CONTRADICTS_ORDER.search(x):
                    return x, h.id
        return None

    def _searched(self, ctx: DraftContext, retriever: Retriever, item: PlanItem, query: str, intent: str,
                  product: Product | None, threshold: float, used: set[str], *, faulty: bool = False,
                  keep: Callable[[Hit], bool] | None = None) -> PlanItem | None:
        """``item`` answered from the store's policies and FAQs found by another query than its own words (the
        earlier report, the topic before it, the price-protection rule); with ``keep``, only from the hits it keeps,
        and None when it keeps none."""
        hits, grounded = retrieve(retriever, query, [], product, threshold, k=4)
        hits = [h for h in hits if h.kind in ("policy", "faq") and (keep is None or keep(h))]
        if keep is not None and not hits:
            return None
        return self.answer(ctx, query, intent, product, hits, grounded, strict=True, faulty=faulty, used=used,
                           asking=item.asking)

    def _for_complaint(self, ctx: DraftContext, retriever: Retriever, item: PlanItem, report: str,
                       product: Product | None, threshold: float, used: set[str]) -> PlanItem | None:
        """「我要退全款 吃了的也要算」 after 「一股哈喇味」 two turns ago: the remedy asked for is answered by the
        store's rule for the problem the buyer reported earlier, found by searching with that report."""
        query = f"{report} {INTENT_LABELS[item.intent]}"  # the problem and the remedy, not the rest of the message
        again = self._searched(ctx, retriever, item, query, detect_intent(report), product, threshold, used, faulty=True)
        return again.model_copy(update={"question": item.question}) if again and again.answered else None

    def _with_category_row(self, ctx: DraftContext, retriever: Retriever, item: PlanItem, product: Product,
                           used: set[str]) -> PlanItem:
        """「用了没几天就开胶了 能换吗」 answered with the general warranty rule: the row of the store's table for this
        product's category (「<品类>：签收N天内…可换新」) says what applies to it, so it is added."""
        prefer, _ = _category_terms(ctx.catalog, product)
        if any(t in x for t in prefer for x in item.sentences):
            return item  # the answer already speaks of this category
        res = retriever.search(f"{product.category} {item.question}", 3, kind="policy")
        mine = content_bigrams(item.question)
        for h in res.hits:
            body = h.text.split("\n", 1)[-1]
            for line in split_sentences(with_list_intros(body)):
                row = clean_sentence(line)
                if _ROW.match(row) and any(t in row for t in prefer) and mine & bigrams(row) and row not in used:
                    return item.model_copy(update={"sentences": [*item.sentences[:1], row],
                                                   "source_ids": [*item.source_ids, h.id]})
        return item

    def _follow_up(self, ctx: DraftContext, retriever: Retriever, item: PlanItem, items: list[PlanItem], anchor: str,
                   product: Product | None, threshold: float, faulty: bool, used: set[str]) -> PlanItem | None:
        """Answered from the knowledge about the sub-question before it, searched with both (「想开专票 需要提供啥」 +
        「多久能开出来」 finds the 专票 line and its time); a sentence that only shares the follow-up's words is not kept."""
        topic = items[-1].intent
        words = content_bigrams(anchor)
        for k in range(len(items) - 1, -1, -1):  # the answer before already holds it (the 专票 line with its time)
            said = items[k].sentences
            if said and words & bigrams("".join(said)) and asks_kind(item.question) and not misses_kind(item.question, said):
                return item.model_copy(update={"intent": topic, "same_as": k, "sentences": [], "source_ids": [],
                                               "kind": items[k].kind})
        again = self._searched(ctx, retriever, item, f"{anchor} {item.question}", topic, product, threshold, used,
                               faulty=faulty)
        if not again or not again.sentences or not all(words & bigrams(x) for x in again.sentences):
            return None
        return again.model_copy(update={"question": item.question})

    def _price_protection(self, ctx: DraftContext, retriever: Retriever, item: PlanItem, cut: re.Match,
                          product: Product | None, threshold: float, used: set[str]) -> PlanItem | None:
        """A buyer who paid before a price cut asks for the difference: the answer is the store's price-protection
        rule (its window, what it excludes, how it is paid back), never a list of today's promotions."""
        clause = re.split(r"[，。？！\s]", ctx.buyer_text[cut.start():])[0]  # 「就满259减30了」
        if re.search(r"满\d+减\d+", clause):
            clause += " 满减"  # 「满259减30」 is how a store-wide 满减 reads on the page
        query = f"{PRICE_PROTECTION} {clause} {item.asking or item.question}"
        again = self._searched(ctx, retriever, item, query, "price", product, threshold, used,
                               keep=lambda h: bool(re.search(PRICE_PROTECTION_TOPIC, h.title + h.text)))
        if again is None or not again.answered:
            return None
        return again.model_copy(update={"question": item.question, "intent": "refund"})  # the difference, paid back

    @staticmethod
    def _product_for(sub: str, ctx: DraftContext, mentions) -> Product | None:
        if mentions is None:
            return ctx.product
        named = mentions(sub)
        if len(named) == 1:
            sku = next(iter(named))
            if not ctx.product or sku != ctx.product.sku:
                try:
                    return ctx.catalog.get(sku)
                except Exception:
                    return ctx.product
        return ctx.product

    @staticmethod
    def _retrieve(retriever: Retriever, sub: str, product: Product | None, threshold: float) -> tuple[list[Hit], bool]:
        return retrieve(retriever, sub, [], product, threshold, k=4)  # the sub-question alone, no earlier turns

    # ------------------------------------------------------------ answer ---

    def answer(self, ctx: DraftContext, sub: str, intent: str, product: Product | None, hits: list[Hit],
               grounded: bool, *, strict: bool, faulty: bool = False, used: set[str] | None = None,
               follow: Hit | None = None, asking: str | None = None) -> PlanItem:
        """The answer to one sub-question. ``strict`` (a message with several questions) asks quoted knowledge
        to share words with this sub-question, so a neighbouring topic's sentence never answers it."""
        item = PlanItem(question=sub, intent=intent, asking=asking or sub)
        used = used or set()
        choices = options(sub) if strict else []

        gave = _GAVE.search(ctx.buyer_text)
        has_video = _HAS_VIDEO.search(ctx.buyer_text)

        def drop(s: str) -> bool:
            if gave and _ASKS_FOR.search(s):
                return True  # 「照片都发了 订单号…」: never asked again for what the buyer has sent
            if _other_case(s, ctx.buyer_text) or (has_video and _NO_VIDEO.search(s)):
                return True  # 「没有开箱视频的…无法受理」 to a buyer who says 「我拍了视频的」
            return s in used or _off_scenario(s, faulty, ctx.now, ctx.analysis.stage != "pre_sale") or bool(choices and not any(o in s for o in choices))

        src = [ctx.product_source] if product is not None and product is ctx.product and ctx.product_source else []
        if product and product.size_chart and intent in ("size", "product_info", "other"):
            cell = chart_lookup(product.size_chart, sub, context=ctx.message.split(sub)[0] if sub in ctx.message else "")
            if cell:
                return item.model_copy(update={"kind": "size", "sentences": [cell], "source_ids": src})
        if product and product.size_chart and intent == "size":
            body = parse_body(ctx.buyer_text)
            advice = recommend(product.size_chart, body) if not body.empty else None
            note = [clean_sentence(split_sentences(product.size_chart.note)[0])] if product.size_chart.note else []
            if advice:
                sentences = [advice.describe() + "。"]
                if advice.note:
                    sentences.append(clean_sentence(split_sentences(advice.note)[0]))
                return item.model_copy(update={"kind": "size", "sentences": sentences, "source_ids": src})
            usual = USUAL_SIZE.search(ctx.buyer_text)
            if usual and note and named_size(product.size_chart, usual.group(1)):
                size = usual.group(1)
                exact = re.search(r"标准码|正常码|按.{0,4}选码", note[0]) and not re.search(r"偏大|偏小|大一码|小一码|半码", note[0])
                line = render(self.p.size_usual_exact if exact else self.p.size_usual, note=note[0].rstrip("。"), size=size)
                return item.model_copy(update={"kind": "size", "sentences": [line], "source_ids": src})
            ask = "shoes" if "脚长" in product.size_chart.columns else "size"
            return item.model_copy(update={"kind": "size", "sentences": note, "source_ids": src, "ask": ask})
        future = strict and bool(FUTURE.search(sub)) and not (
            product and any(pr.starts_at > ctx.now for pr in product.promotions))
        if product and not future and haggles(sub, product):
            intent = "price"  # 「你退我20块呗」 asks for a lower price, whatever else it says
        if intent in ("price", "promotion") and not future and not re.search(r"价保|保价|差价", sub):  # 价保 is policy  # a future price the catalog does not hold is never guessed
            if product:
                lines = _named(self.facts.price_answer(ctx, product, sub), product, ctx)
                return item.model_copy(update={"kind": "price", "sentences": lines, "source_ids": src})
            if intent == "promotion":
                lines = self.facts.store_promotions(ctx)
                if lines:
                    return item.model_copy(update={"kind": "price", "sentences": lines})
        if product and intent == "stock":
            line = self.facts.stock_answer(ctx, product, sub)
            return item.model_copy(update={"kind": "stock", "sentences": _named([line], product, ctx), "source_ids": src})
        if CATALOG_ASK.search(sub):  # 「你们店还卖些啥」: what the catalog holds, computed
            return item.model_copy(update={"kind": "product", "sentences": [self.facts.overview(ctx)]})
        cross = product is None or re.search(r"搭|配什么|别的|其他|还有(什么|啥)", sub)  # not 「黑色跟燕麦色哪个好看」
        if intent == "recommendation" and cross:  # a wish is met with a product (another one than this page's)
            rec = self.facts.recommendation(ctx, hits)
            if rec:
                return item.model_copy(update={"kind": "product", "sentences": [rec[0]],
                                               "source_ids": [rec[1]] if rec[1] else []})
            if product is None:
                return item
        asked = sub + " " + " ".join(ctx.lexicon.terms(sub)) if ctx.lexicon else sub  # 过期 → 保质期
        if product and intent in ("product_info", "usage", "other"):
            spec = spec_answer(product, sub, skip=used) or spec_answer(product, asked, skip=used)
            if spec and strict and not _names_missing(sub, [spec], hits, product):
                return item.model_copy(update={"kind": "spec", "sentences": [spec], "source_ids": src})
        sub_ctx = replace(ctx, message=sub, hits=hits, grounded=grounded, product=product,
                          analysis=ctx.analysis.model_copy(update={"intent": intent}))
        hit = best_hit(sub_ctx) if not strict else _sub_hit(sub_ctx, sub, intent, product, faulty, follow)
        if hit is not None:
            body = hit.text.split("答：", 1)[1] if hit.kind == "faq" and "答：" in hit.text else hit.text
            if hit.kind == "faq" and "答：" in hit.text and not _asks_alike(hit.text.split("答：", 1)[0], sub):
                body = _YES_NO_LEAD.sub("", body, count=1)  # 「不能，这款必须冷冻运输…」 answered another question's yes/no
            if hit.kind == "policy":
                body = body.split("\n", 1)[1] if "\n" in body else body
            elif hit.kind == "product":  # the specs and description, not the name / alias / category lines
                body = "\n".join(x for x in body.split("\n") if not re.match(r"【商品】|简称：|类目：", x))
                body = re.sub(r"^(规格参数|商品介绍)：", "", body, flags=re.M).replace("；", "。")
            k = 3 if hit.kind == "faq" else 2
            prefer, avoid = _category_terms(ctx.catalog, product)
            sentences = best_sentences(
                body, sub, ctx.lexicon, k=(2 if strict else k), limit=(120 if strict else 160),
                prefer=prefer, avoid=avoid, drop=drop, remedy=ctx.analysis.negative or faulty,
                need_overlap=strict or hit.kind == "policy", lead_states_rule=hit.kind == "policy" or not strict,
            )
            if not sentences and strict and hit.kind == "faq":  # the FAQ asks the same: its leading answer
                sentences = best_sentences(body, sub, ctx.lexicon, k=1, drop=drop, prefer=prefer, avoid=avoid)
            named = [t for t in prefer if t]
            missing = bool(sentences) and misses_kind(sub, sentences)
            better = None
            if strict and not sentences:  # every sentence of the best hit was dropped (a promotion that is over)
                better = _fitting(hits, hit, sub, intent, ctx, drop, named, True)
            elif strict and (missing or (named and not any(t in x for t in named for x in sentences))):
                # 「今天能发不」 answered with 「全国包邮」, 「保修多久」 with the general rule: another section on the
                # topic holds the time it asks for, or the row about this product's category (a warranty table)
                better = _fitting(hits, hit, sub, intent, ctx, drop, named, missing)
            if better is not None:
                return item.model_copy(update={"kind": better[0].kind, "sentences": better[1],
                                               "source_ids": [better[0].id]})
            if sentences and not _names_missing(sub, sentences, hits, product):
                return item.model_copy(update={"kind": hit.kind, "sentences": sentences, "source_ids": [hit.id]})
        if product and intent in ("product_info", "usage", "other"):
            spec = spec_answer(product, sub, skip=used) or spec_answer(product, asked, skip=used)
            if spec and not _names_missing(sub, [spec], hits, product):
                return item.model_copy(update={"kind": "spec", "sentences": [spec], "source_ids": src})
        if intent == "recommendation":
            rec = self.facts.recommendation(ctx, hits)
            if rec:
                return item.model_copy(update={"kind": "product", "sentences": [rec[0]], "source_ids": [rec[1]]})
        return item

    # ---------------------------------------------------- computed facts ---

# 「防腐剂用的啥」「主控是什么」: the thing asked after, by its name
_ASKED_NAME = re.compile(r"([\u4e00-\u9fffA-Za-z]{2,8}?)(用的是?|是)(啥|什么|哪种|哪家)")


def _names_missing(sub: str, sentences: list[str], hits: list[Hit], product: Product | None) -> bool:
    """Does the sub-question ask after a thing by name (「防腐剂用的啥」) that neither the answer nor any knowledge
    retrieved for it names? Then the store's files do not speak of it, and the question is deferred rather than
    answered beside the point. (A name the knowledge uses elsewhere, such as 面料, may be answered in other words.)"""
    m = _ASKED_NAME.search(sub)
    if not m:
        return False
    name = re.sub(r"^(那|这|你们|你家|这款|请问|具体|我想问|问下)+", "", m.group(1))
    if len(name) < 2 or any(name in x for x in sentences):
        return False
    # what the files say here, read only when a name was asked after
    return not any(name in h.text for h in hits) and not (product and name in product.statements())


# the price went down after the buyer paid: 「今天看页面立减30了」「才过几天就满259减30了」「比我买的时候便宜了」
PRICE_DROPPED = re.compile(r"降价了?|降了\d*|(页面|今天|现在|又|就)[^，。？\s]{0,4}(立减|直降|满\d+减\d+|减\d+)|便宜了|变便宜|比我买的|"
                           r"买贵了|退(我)?差价|价保|保价")
PRICE_PROTECTION = "价格保护 价保 退差价"
MONEY_BACK = re.compile(r"退(我|给我)?\d+|\d+\s*(块|元)?钱?退|补(我|给我)?\d+|差价|补偿|赔|退钱")
PRICE_PROTECTION_TOPIC = r"价格保护|价保|保价|差价"
# a part or an accessory bought on its own, and the knowledge saying whether it is
SOLD_APART = re.compile(r"(?<!再)单独(买|卖|购买|出售)|单买|单卖|另外(买|配)一?个|能配一?个|补(买|配)一?个")
SOLD_APART_SAID = re.compile(r"单独|单卖|单买|另购|配件")
# the needs a short topic-less follow-up (「多久能开出来」「要多久」) can continue; a product question is not one of them
FOLLOWED_TOPICS = frozenset({"invoice", "refund", "return_exchange", "shipping", "logistics", "address_change",
                             "quality_complaint", "damaged_wrong", "payment", "review"})
REMEDY_INTENTS = REFUND_INTENTS  # what a buyer asks for after reporting a problem: the money or goods back

MIN_SUB_SCORE = 0.06  # below this a hit answers no sub-question, whatever words it shares


def _sub_hit(ctx: DraftContext, sub: str, intent: str, product: Product | None, faulty: bool = False,
             follow: Hit | None = None) -> Hit | None:
    """The knowledge that answers one of several sub-questions: the best hit when it is on this sub-question's
    topic, else the first hit whose question (or title) names the topic or shares its words. Short
    sub-questions score low against whole chunks, so the no-answer threshold alone would defer most of them."""
    topic = INTENT_TOPICS.get(intent)
    names = bigrams(" ".join([product.name, *product.aliases])) if product else set()
    # the standard term of a colloquial phrase (香港 → 港澳台) counts; generic ones (花呗 → 付款) do not
    expanded = sub + " " + " ".join(t for t in ctx.lexicon.terms(sub) if len(t) >= 3) if ctx.lexicon else sub
    mine = content_bigrams(expanded) - names
    catalog_names = bigrams(" ".join(a for p in ctx.catalog.products for a in [p.name, *p.aliases]))

    def on_topic(h: Hit) -> bool:
        head = h.title + h.text.split("\n", 1)[0]
        if topic and h.kind != "product" and re.search(topic, head):
            return True
        text = h.text.split("\n", 3)[-1] if h.kind == "product" else head  # a product's specs, not its name lines
        if mine & bigrams(text):
            return True
        # a FAQ whose answer (not only its question) speaks of this: 「能比普通秋衣暖多少」 → 「比普通棉毛衫暖和一些」
        topical = mine - catalog_names  # naming another product (「再买个那款」) is not the topic
        return h.kind == "faq" and h.score >= 2 * MIN_SUB_SCORE and len(topical & bigrams(h.text)) >= 2

    best = best_hit(ctx)
    if best is None or not on_topic(best):
        best = next((h for h in ctx.hits[:6] if h.kind in ("faq", "policy", "product") and h.score >= MIN_SUB_SCORE
                     and on_topic(h)), None)
    if best is None and follow is not None and follow.kind != "product" and mine & bigrams(follow.text):
        return follow  # 「要专票 需要什么资料 多久能开好」: a follow-up is answered from the same section
    if best is not None and product is not None and best.sku != product.sku and not faulty:
        # what this product's own FAQ says (this product ships by another carrier) beats the store-wide default
        own = next((h for h in ctx.hits[:6] if h.sku == product.sku and h.kind == "faq" and on_topic(h)
                    and h.score >= 0.6 * best.score), None)
        best = own or best
    return best


# a table row as the knowledge reads it: 「产品线：<品类>，换新期：<期限>，保修期：<期限>。」
_ROW = re.compile(r"^[^：，。]{1,10}：[^，。]+(，[^：，。]{1,10}：[^，。]+)+。?$")


def _fitting(hits: list[Hit], chosen: Hit, sub: str, intent: str, ctx: DraftContext,
             drop: Callable[[str], bool], named: list[str], any_on_topic: bool) -> tuple[Hit, list[str]] | None:
    """Another FAQ or policy whose sentence holds the kind of answer the sub-question asks for: the table row about
    this product's category (``named``) first; failing that, with ``any_on_topic``, the first hit on its topic."""
    topic = INTENT_TOPICS.get(intent)
    mine = content_bigrams(sub)
    fallback = None
    for h in hits[:8]:
        if h.id == chosen.id or h.kind not in ("faq", "policy") or h.score < MIN_SUB_SCORE:
            continue
        head = h.title + h.text.split("\n", 1)[0]
        found = best_sentences(_answer_body(h), sub, ctx.lexicon, k=1, limit=120, drop=drop, prefer=named)
        if not found or misses_kind(sub, found):
            continue
        about_it = bool(named) and any(t in found[0] for t in named) and _ROW.match(found[0])
        if about_it and mine & bigrams(found[0]):  # 「保修多久」 → the warranty table's row for this category
            return h, found
        if fallback is None and any_on_topic and topic and re.search(topic, head):
            fallback = (h, found)
    return fallback


def _category_terms(catalog: Catalog, product: Product | None) -> tuple[list[str], list[str]]:
    """Words naming this product or its category (prefer sentences with them) and words naming only other
    categories or products of the catalog (avoid: the clothing clause is not the answer about a watch)."""
    if product is None:
        return [], []
    def parts(category: str) -> list[str]:  # 「<大类>/<小类>」 is spoken of by each of its levels
        return [category, *re.split(r"[/／>＞|、]", category)] if category else []

    mine = [t for t in [*parts(product.category), *product.aliases, product.name] if len(t) >= 2]
    others = {t for p in catalog.products if p.category != product.category
              for t in [*parts(p.category), *p.aliases] if len(t) >= 2}
    avoid = [t for t in others if not any(t in m or m in t for m in mine)]
    return mine, avoid


_GAVE = re.compile(r"(照片|图片|图|视频).{0,3}(都|已经|已)?(发|给|传)了|(发|给)了(照片|图|视频)|\[图片\]")
_ASKS_FOR = re.compile(r"(麻烦|请|方便)(您)?.{0,14}(提供|发|拍).{0,14}(照片|视频|图)")
# a store sentence that asks for what the order already tells (「请提供订单号」 is cut separately)
_CONTRADICTS_ORDER = re.compile(r"(提供|发我|告诉我|发一下).{0,4}(订单号|单号|订单截图)")
def _answer_body(h: Hit) -> str:
    """What a FAQ or policy hit says: a FAQ's answer, a policy section without its heading line."""
    if h.kind == "faq" and "答：" in h.text:
        return h.text.split("答：", 1)[1]
    return h.text.split("\n", 1)[-1]


def _order_intent(item: PlanItem, order) -> str | None:
    """What of the order a sub-question asks about: its own intent when the order answers it, else by its words
    (「到那了」「好几天一动不动」「今天能到吗」「钱呢」「单子怎么没了」 that the intent cues did not place), or None. A
    parcel complaint with a remedy threatened (「卡在南昌五天了 不行直接给我退了」) and no after-sale case open asks
    where the parcel is."""
    words = item.asking or item.question
    parcel = _PARCEL_WORDS.search(item.question)  # 「卡在南昌五天了 … 不行直接给我退了」: the context names the parcel
    if item.intent in _PRODUCT_INTENTS:
        return None
    if _ADDRESS_WORDS.search(words):
        return "address_change"
    if item.intent in REMEDY_INTENTS and parcel and order.after_sale is None and not order.refund_done:
        return "logistics"
    if _REFUND_WORDS.search(words) and item.intent not in REMEDY_INTENTS and not parcel:
        return "refund"  # 「几天到账」 asks after the money, not the parcel
    if item.intent in ORDER_INTENTS:
        return item.intent
    if parcel:
        return "logistics"
    if _REFUND_WORDS.search(words):
        return "refund"
    return None


def _moot(sentence: str, order, intent: str) -> bool:
    """A store sentence the order has made moot or wrong for this buyer."""
    if _CONTRADICTS_ORDER.search(sentence):
        return True
    if order.shipped and intent in SHIPPING_INTENTS and _SHIP_TIME.search(sentence):
        return True  # 「付款后N小时内发货」 to a parcel already on its way
    if order.delivered and _TRANSIT_TIME.search(sentence):
        return True
    if order.shipped and order.carrier and intent in SHIPPING_INTENTS:
        mine = carrier_core(order.carrier)
        named = [c for c in CARRIERS if c in sentence]
        return bool(named) and not any(c in mine or mine in c for c in named)  # 「默认发中通」 to a 顺丰 parcel
    return False


REFUND_TIME_QUERY = "退款 到账 原路退回 多久 工作日"
ADDRESS_QUERY = "已发货 修改地址 改派"
_ADDRESS_RULE = re.compile(r"(已发货|发货后|已打包|发出后).{0,30}(改派|修改地址|改地址|拒收|联系快递)")
_NOT_REFUND = re.compile(r"运费险|赔付|理赔|差价|发票|补发")
_REFUND_WORDS = re.compile(r"到账|退款|退钱|退了没|退没退|钱呢|钱(啥|什么)时候|(给我|把)钱|钱退|退给我|返还")
_PARCEL_WORDS = re.compile(r"发了没|发没|发货|发出|发了吗|还发不发|到哪|到那|到了没|到了吗|到没|几天(能)?到|能到|送到|今天送|明天送|"
                           r"啥时候到|什么时候到|物流|快递|单号|单子|签收|关闭|关了|取消了|没动|不动|卡在|卡住|丢了|丢件|派送|派件")
_ADDRESS_WORDS = re.compile(r"改地址|改送|改到|改派|换个地址|送到公司|送到单位|地址(要|能|可以)?改")
# sub-questions about the goods themselves: the order does not answer them, whatever words they share
_PRODUCT_INTENTS = frozenset({"size", "usage", "product_info", "invoice", "price", "promotion", "stock", "recommendation",
                              "authenticity", "review"})
_DURATION = r"\d+\s*(?:[-~～到至]\s*\d+\s*)?个?(?:工作日|天|小时)"
_REFUND_TIME = re.compile(rf"(到账|原路|退回|退款).{{0,30}}{_DURATION}|{_DURATION}.{{0,12}}(到账|原路|退回|退款)")
_TRANSIT_TIME = re.compile(rf"送达|到货|运输|在途|签收|{_DURATION}.{{0,6}}到")
_SHIP_TIME = re.compile(rf"{_DURATION}.{{0,6}}(发货|发出)|(当天|次日|隔天)(发出|发货|发)|(前|以前|之前)付款.{{0,6}}(发|发出|发货)")
_ORDER_GIVEN = re.compile(r"(?<!\d)\d{10,20}(?!\d)")
_ASK_ORDER = re.compile(r"(麻烦|请|方便)(您)?.{0,6}(发|提供|告诉)(我)?(一下)?(您的)?订单号(给我|发给我)?[^，。；]{0,6}[，；]")
_NUDGE = re.compile(r"尽早下单|早点下单|抓紧|早点安排|尽快下单|趁.{0,4}下单")


# the after-sale cases a policy lists one by one, and the buyer's words for each
_CASES = ((re.compile(r"^(漏发|少发|缺件)[：:]"), re.compile(r"漏|少|缺|没有|只收到|只有")),
          (re.compile(r"^(错发|发错)[：:]"), re.compile(r"错|不是我|不对|发成|换成")),
          (re.compile(r"^(破损|损坏)[：:]"), re.compile(r"破|损|坏|碎|裂|瘪|压|漏")))


_HAS_VIDEO = re.compile(r"(拍|录)了?[^，。？\s]{0,4}视频|有(开箱)?视频|视频[^，。？\s]{0,2}(有|拍|录)(了|的)")
_NO_VIDEO = re.compile(r"^(没有|无)[^，。]{0,4}视频的|(请|要)?先录[^，。]{0,4}视频")


_YES_NO_LEAD = re.compile(r"^\s*(亲[，,]?)?(不能|不可以|不行|可以|能|是的|不是|对的|不会|会的|有的|没有|支持|不支持)(哦|的|呢)?[，,]\s*")


def _asks_alike(faq_question: str, sub: str) -> bool:
    """Does the FAQ's own question ask what this sub-question asks (so its leading 「可以，」 answers the buyer)?"""
    return len(content_bigrams(faq_question.replace("问：", "")) & content_bigrams(sub)) >= 2


def _other_case(sentence: str, buyer_text: str) -> bool:
    """「漏发：有开箱视频的直接补发。」 is not the answer to goods that arrived broken."""
    return any(lead.search(sentence) and not said.search(buyer_text) for lead, said in _CASES)


def _off_scenario(sentence: str, faulty: bool, now: datetime, bought: bool = False) -> bool:
    """A sentence that cannot answer this scenario: the 七天无理由 terms (buyer pays the freight) for goods
    that arrived broken or faulty, or a promotion that is over."""
    if faulty and "无理由" in sentence and "质量" not in sentence:
        return True
    if bought and _NUDGE.search(sentence):  # a buyer who has bought is not urged to buy
        return True
    return stale(sentence, now)


def _dedupe(plan: AnswerPlan) -> None:
    """A sentence already given to an earlier sub-question is not repeated for a later one; a sub-question
    whose whole answer was already given points at that item instead."""
    seen: dict[str, int] = {}
    answered_intent: dict[str, int] = {}
    for k, item in enumerate(plan.items):
        if not item.sentences and item.intent in ("price", "promotion") and item.intent in answered_intent:
            item.same_as = answered_intent[item.intent]  # 「到手多少」 after the promotion's money was computed
        if item.sentences:
            answered_intent.setdefault(item.intent, k)
        elif item.same_as is None and not item.ask:
            # 「…N小时内退款 … 多久到账」: an earlier answer already speaks of it, so it is not deferred after it
            asked = item.asking or item.question
            mine = {g for g in content_bigrams(asked) if not g.isascii() and not any(c.isascii() for c in g)}
            choices = options(asked)
            covering = next((seen[s] for s in seen if len(mine & content_bigrams(s)) >= 2
                             and (not choices or any(o in s for o in choices))), None)
            if covering is not None:
                item.same_as = covering
        kept = [s for s in item.sentences if s not in seen]
        if item.sentences and not kept:
            item.same_as = seen[item.sentences[0]]
        for s in item.sentences:
            seen.setdefault(s, k)
        item.sentences = kept


NEAR_DUPLICATE = 0.7  # character-bigram overlap of two drafts' bodies, of the smaller one


def body_bigrams(text: str) -> set[str]:
    """The bigrams of a draft's body: neither the greeting (「亲，您好～」) nor a short closing line makes two
    drafts differ."""
    body = text.strip()
    while (m := re.match(r"^[^，。！？～]{0,6}[，～！]", body)) and len(m.group(0)) < len(body):
        body = body[m.end():]
    sentences = [x for x in re.split(r"(?<=[。！？～])", body) if x.strip()]
    if len(sentences) > 1 and len(sentences[-1]) <= 20:
        body = "".join(sentences[:-1])
    return bigrams(body)


def near_duplicate(a: str, b: str) -> bool:
    """Do two drafts say the same thing (body bigram overlap ≥ ``NEAR_DUPLICATE`` of the smaller)?"""
    ga, gb = body_bigrams(a), body_bigrams(b)
    return len(ga & gb) / (min(len(ga), len(gb)) or 1) >= NEAR_DUPLICATE


def _named(lines: list[str], product: Product, ctx: DraftContext) -> list[str]:
    """Catalog sentences about a product other than the page's name it: 「这款」 on another product's page would
    state this page's stock or price wrongly (a buyer naming another product on this page)."""
    if ctx.product is not None and ctx.product.sku == product.sku:
        return lines
    name = product.aliases[0] if product.aliases else product.name
    return [x.replace("这款", name, 1) for x in lines]
