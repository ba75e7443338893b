"""The drafting pipeline: the core every edge (CLI, API, UI) reaches through ``Workspace``.

``Copilot.draft(request)`` masks personal data, reads the buyer, retrieves
knowledge, looks up the product's catalog facts at ``now``, picks ``n``
strategies and has its writers put one draft per strategy into words: the
configured LLM first (when there is one), the offline composer otherwise or
when the LLM fails or its text breaks a tone rule (the draft then says so).
Every draft passes the runtime guard, which receives the same analysis.
``Copilot.stream`` is the same loop, yielding events as the text arrives.
The LLM gets one time budget per request (``llm_budget_s``, all candidates
together); once it is spent, or while the backend's circuit breaker is open,
the composer writes the remaining candidates at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..buyer.analysis import Analyzer, OfflineAnalyzer
from ..buyer.personas import check_persona_id, load_personas
from ..buyer.probe import builtin_probe
from ..buyer.reader import builtin_reader
from ..errors import BackendError, ConfigError, IndexUnavailableError
from ..knowledge.catalog import Catalog, CatalogFile, Product, parse_catalog
from ..knowledge.layout import CATALOG, KnowledgeLayout
from ..orders.model import prepared
from ..retrieval.retriever import Retriever
from ..rules.base import CheckContext
from ..rules.checking import build_context, policy_text
from ..rules.guard import guard
from ..schema import INTENT_LABELS, Hit, Turn, buyer_turns
from ..settings import Settings
from ..text.cleaning import is_traditional, simplify_buyer_text, to_traditional
from ..text.privacy import mask, strip_controls
from .budget import Budget, request_budget_s
from .composer import Composer
from .context import DraftContext, retrieve
from .io import Draft, DraftRequest, DraftResponse, SourceRef
from .llm import ChatBackend, get_backend
from .phrases import load_phrases
from .plan import near_duplicate
from .prompting import load_strategies
from .questions import open_questions
from .questions import split as split_pieces
from .strategies import choose_strategies, strategy_reason
from .writers import ComposerWriter, LLMWriter, Writer, degenerate


class CurrentProducts:
    """Product mentions against the index being served now: after a reindex, a removed product is no longer
    recognised and a new one is (the analyzer lives longer than one index generation)."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def mentions(self, text: str) -> set[str]:
        return self.retriever.index().products.mentions(text)


class Copilot:
    """Holds the loaded parts; thread-safe for concurrent ``draft`` calls."""

    def __init__(
        self,
        settings: Settings,
        *,
        retriever: Retriever | None = None,
        backend: ChatBackend | None | str = "configured",
        analyzer=None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        self.backend = get_backend(settings) if backend == "configured" else backend
        self.llm_budget_s = request_budget_s(settings)
        self.reviewer = None  # the LLM's second opinion on the rules (llm_rule_review)
        if settings.llm_rule_review and self.backend is not None:
            from ..rules.llm_review import RuleReview

            self.reviewer = RuleReview(self.backend, settings.prompts_dir, settings.data_dir / "rule_reviews.jsonl")
        self.personas = load_personas(settings.prompts_dir)
        self.strategies = load_strategies(str(settings.prompts_dir)).strategies
        self.composer = Composer(load_phrases(str(settings.prompts_dir)))
        self._analyzer = analyzer
        self._lock = threading.Lock()
        self.catalog_file = CatalogFile(KnowledgeLayout(settings.knowledge_dir).catalog)
        self._served: tuple[str, Catalog] | None = None  # (generation, its catalog)
        # called with (masked message, ranked hits, grounded) for every draft request, streamed or not
        self.on_query: Callable[[str, list[Hit], bool], None] | None = None

    # parts ------------------------------------------------------------------

    @property
    def analyzer(self) -> Analyzer:
        """The offline analyzer; with ``llm_analysis`` set and an LLM configured, the LLM's reading over it."""
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    self.retriever.index()
                    reader = probe = None
                    if self.settings.buyer_reader == "learned":
                        reader, probe = builtin_reader(), builtin_probe()
                        if reader is None:
                            raise ConfigError("包里缺少读懂买家的模型文件 copilot/buyer/reader.npz",
                                              hint="运行 copilot reader train 重新训练，或设置 COPILOT_BUYER_READER=rules 只用提示规则",
                                              message_en="the learned buyer reader is missing")
                    offline = OfflineAnalyzer(
                        self.personas, self.retriever.embedder, product_matcher=CurrentProducts(self.retriever),
                        reader=reader, probe=probe,
                    )
                    if self.settings.llm_analysis and self.backend is not None:
                        from ..buyer.llm_analysis import LLMAnalyzer

                        offline = LLMAnalyzer(offline, self.backend, self.settings.prompts_dir,
                                              budget_s=self.settings.llm_analysis_budget_s)
                    self._analyzer = offline
        return self._analyzer

    @property
    def catalog(self) -> Catalog:
        return self.current_catalog() or Catalog()

    def current_catalog(self) -> Catalog | None:
        """The catalog of the index being served: an uploaded or edited catalog takes effect at the reindex,
        together with its products' knowledge. Without an index (or one built before catalogs were kept with it)
        the file on disk is read."""
        try:
            gen = self.retriever.index().generation
        except IndexUnavailableError:
            return self.catalog_file.get()
        if not gen.catalog:
            return self.catalog_file.get()
        with self._lock:
            if self._served is None or self._served[0] != gen.name:
                self._served = (gen.name, parse_catalog(gen.catalog, CATALOG))
            return self._served[1]

    def warm_up(self) -> None:
        """Load the index, models and analyzer now instead of on the first request."""
        self.retriever.index()
        _ = self.analyzer

    def writers(self, *, stream: bool, budget: Budget | None = None) -> list[Writer]:
        """Who writes a draft, in the order they are tried: the LLM (if configured), then the composer.
        ``budget`` bounds the LLM's time for the whole request (a fresh one if not given)."""
        composer = ComposerWriter(self.composer)
        if self.backend is None:
            return [composer]
        budget = budget or Budget(self.llm_budget_s)
        return [LLMWriter(self.backend, self.settings.prompts_dir, stream=stream, budget=budget), composer]

    # core -------------------------------------------------------------------

    def masked(self, req: DraftRequest) -> DraftRequest:
        """The request with control characters (NUL…) removed, Traditional characters made Simplified and personal
        data masked: nothing downstream (analysis, retrieval, LLM, drafts, logs) sees the raw text."""
        kinds = self.settings.pii_mask

        def clean(text: str) -> str:
            text = simplify_buyer_text(strip_controls(text))  # one script for analysis, retrieval and the rules
            return mask(text, kinds) if kinds else text

        return req.model_copy(update={
            "message": clean(req.message),
            "history": [Turn(role=t.role, text=clean(t.text)) for t in req.history],
        })

    def context(self, req: DraftRequest, timings: dict[str, float] | None = None) -> DraftContext:
        """Everything the drafts of ``req`` draw on: analysis, knowledge, product facts at ``now``."""
        timings = {} if timings is None else timings
        t = time.perf_counter()
        script = self.settings.reply_script
        traditional = script == "traditional" or (script == "auto" and is_traditional(req.message))
        req = self.masked(req)
        catalog = self.catalog
        now = req.now or datetime.now(catalog.tz)
        if now.tzinfo is None:
            now = now.replace(tzinfo=catalog.tz)
        product: Product | None = catalog.get(req.product_sku) if req.product_sku else None
        order, order_flags = prepared(req.order, catalog.tz, self.settings.pii_mask) if req.order else (None, [])
        if req.persona:
            check_persona_id(req.persona)
        # the analyzer and the three searches embed these texts: do it in one batch
        buyer_hist = buyer_turns(req.history)
        subs = [text for text, _ in split_pieces(req.message)]
        more = [*subs, *open_questions(req.history)] if len(subs) > 1 or len(req.history) > 1 else []
        self.retriever.embedder.warm_queries([  # the plan's sub-questions are searched too: one batch for all
            req.message, "\n".join(buyer_hist[-2:]), "\n".join([*buyer_hist[-3:], req.message]), *more,
        ])
        analysis = self.analyzer.analyze(req.message, req.history, sku=product.sku if product else None, persona=req.persona)
        if req.stage or req.emotion:
            analysis = analysis.model_copy(update={
                "stage": req.stage or analysis.stage,
                "emotion": req.emotion or analysis.emotion,
                "stage_signals": (["客服手动指定"] if req.stage else analysis.stage_signals),
                "emotion_signals": (["客服手动指定"] if req.emotion else analysis.emotion_signals),
            })
        if product is None and len(analysis.products) == 1:
            product = catalog.get(analysis.products[0])
        if order is not None and not req.stage and analysis.stage == "pre_sale" and order.paid \
                and not order.delivered and order.status not in ("refunded", "closed"):
            # the platform says this buyer has paid an order that is on its way: whatever the words, it is in-sale
            analysis = analysis.model_copy(update={"stage": "in_sale",
                                                   "stage_signals": [*analysis.stage_signals, "订单已付款"]})
        if product is None and order is not None and not analysis.products:  # 「这个能机洗吗」 about what they bought
            known = [s for s in order.skus if catalog.has(s)]
            product = catalog.get(known[0]) if len(known) == 1 else None
        timings["analysis_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        threshold = self.retriever.no_answer_threshold  # the store's calibrated value unless the user set one
        hits, grounded = retrieve(self.retriever, req.message, req.history, product, threshold)
        timings["retrieval_ms"] = (time.perf_counter() - t) * 1000
        product_chunk = self.retriever.chunk_by_ref(f"product/{product.sku}") if product else None
        ctx = DraftContext(
            message=req.message,
            history=list(req.history),
            analysis=analysis,
            persona=self.personas[analysis.persona.id],
            hits=hits,
            grounded=grounded,
            catalog=catalog,
            product=product,
            facts=catalog.facts(product.sku, now) if product else None,
            now=now,
            product_source=product_chunk.id if product_chunk else None,
            lexicon=self.retriever.lexicon,
            traditional=traditional,
            order=order,
            order_flags=order_flags,
        )
        t = time.perf_counter()
        ctx.plan = self.composer.planner.build(
            ctx, self.retriever, threshold=threshold, mentions=self.retriever.index().products.mentions,
        )
        timings["plan_ms"] = (time.perf_counter() - t) * 1000
        items = ctx.plan.items
        if len(items) == 1 and items[0].intent not in (ctx.analysis.intent, "other") and not (req.stage or req.emotion) \
                and ctx.analysis.safety not in ("reaction", "injury"):  # a reaction stays a problem with the goods
            # the plan read the one question more closely (「这双也拿39可以吗」 asks a size, not a price)
            ctx.analysis = ctx.analysis.model_copy(update={"intent": items[0].intent,
                                                           "intent_label": INTENT_LABELS[items[0].intent]})
        if self.on_query is not None:
            self.on_query(ctx.message, hits, grounded)
        return ctx

    def check_context(self, ctx: DraftContext) -> CheckContext:
        """What the guard judges this request's drafts against; it carries the pipeline's analysis."""
        return build_context(
            catalog=ctx.catalog, policies=policy_text(self.settings), sku=ctx.product.sku if ctx.product else None,
            now=ctx.now, message=ctx.message, history=ctx.history, analysis=ctx.analysis,
            knowledge="\n".join(h.text for h in ctx.hits), order=ctx.order,
        )

    def draft(self, req: DraftRequest) -> DraftResponse:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        ctx = self.context(req, timings)
        t = time.perf_counter()
        drafts = [data for event, data in self._write(ctx, req.n, stream=False) if event == "draft"]
        timings["drafting_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return DraftResponse(
            drafts=drafts,
            analysis=ctx.analysis,
            sources=[SourceRef.of(h) for h in ctx.hits],
            grounded=ctx.grounded,
            product=ctx.product.sku if ctx.product else None,
            backend={"llm": self.backend.name if self.backend else "offline", "embedder": self.retriever.embedder.name},
            timings_ms={k: round(v, 2) for k, v in timings.items()},
            notices=self._notices(ctx, drafts),
            plan=ctx.plan,
        )

    def stream(self, req: DraftRequest, *, keep: Callable[[CheckContext], None] | None = None) -> Iterator[dict]:
        """Events for streaming UIs: analysis, sources, per draft its text pieces then the finished draft,
        and ``done`` with the request's notices and whether the knowledge base answered it.
        ``keep`` receives what the guard checks these drafts against (the workspace re-checks an agent's edits
        against the same context while they type)."""
        ctx = self.context(req)
        yield {"event": "analysis", "data": ctx.analysis.model_dump()}
        yield {"event": "sources", "data": [SourceRef.of(h).model_dump() for h in ctx.hits]}
        drafts = []
        for event, data in self._write(ctx, req.n, stream=True, keep=keep):
            if event == "draft":
                drafts.append(data)
                data = {"index": len(drafts) - 1, **data.model_dump()}
            yield {"event": event, "data": data}
        yield {"event": "done", "data": {"notices": self._notices(ctx, drafts), "grounded": ctx.grounded,
                                         "plan": ctx.plan.model_dump() if ctx.plan else None}}

    def _write(self, ctx: DraftContext, n: int, *, stream: bool,
               keep: Callable[[CheckContext], None] | None = None) -> Iterator[tuple[str, Any]]:
        """The one drafting loop: per strategy, try the writers in order; yields ("delta", …) and ("draft", Draft)."""
        urgency = self.composer.facts.urgency_sentence(ctx) is not None
        chosen = choose_strategies(ctx.analysis, self.strategies, n, urgency=urgency)
        # when a draft repeats an earlier one, the next fitting strategy is tried instead (composer only)
        spares = [s for s in choose_strategies(ctx.analysis, self.strategies, 0, urgency=urgency) if s not in chosen]
        cctx = self.check_context(ctx)
        if keep is not None:
            keep(cctx)
        ctx = replace(ctx, strategy_ids=[s.id for s in chosen])
        writers = self.writers(stream=stream)  # one LLM budget for all n candidates
        for w in writers:
            w.prepare(ctx, chosen)
        composer_only = [w for w in writers if isinstance(w, ComposerWriter)]
        written: list[str] = []
        review_budget = Budget(self.settings.llm_rule_review_budget_s) if self.reviewer else None
        fallback = None  # why the LLM did not write: a spare (composer) draft says so too
        for i, s in enumerate([*chosen, *spares]):
            if len(written) >= n:
                break
            variant = chosen[:i].count(s)
            notice = None if i < len(chosen) else fallback
            k = len(written)  # index of this draft among those returned (a near-duplicate is dropped)
            for w in (writers if i < len(chosen) else composer_only):
                last = isinstance(w, ComposerWriter)
                sources: list[str] = []
                pieces: list[str] = []
                try:
                    for piece in w.write(ctx, s, variant, sources):
                        pieces.append(piece)
                        if w.streams:
                            yield "delta", {"index": k, "text": piece}
                except BackendError as exc:
                    notice = f"{exc.message}，已改用离线起草"
                    continue
                text = "".join(pieces).strip()
                if not text and not last:
                    continue
                broken = None if last else degenerate(text)
                if broken:
                    notice = f"大模型草稿{broken}，已改用离线起草"
                    continue
                text, report, repairs = guard(text, cctx)
                if not report.passed and not last:
                    notice = "大模型草稿未通过语气规则（" + "、".join(c.name for c in report.failed) + "），已改用离线起草"
                    continue
                text = mask(text, self.settings.pii_mask)  # a draft never echoes full personal data
                draft = Draft(
                    text=to_traditional(text) if ctx.traditional else text,  # answer in the buyer's script
                    strategy=s.id, strategy_label=s.label, reason=strategy_reason(s, ctx.analysis),
                    source_ids=sources, backend=w.name, checks=report.checks, passed=report.passed,
                    repairs=repairs, notice=notice if last else None,
                )
                fallback = fallback or (notice if last else None)
                if any(near_duplicate(draft.text, t) for t in written):  # fewer drafts rather than padding
                    if stream and pieces and w.streams:
                        yield "delta", {"index": k, "text": "", "replace": True}
                    break
                written.append(draft.text)
                if self.reviewer is not None and review_budget is not None:
                    found = self.reviewer.review(text, ctx.message, report, review_budget)
                    draft.review = [d.model_dump() for d in found]
                if stream and not w.streams:  # the streamed pieces, if any, are replaced
                    yield "delta", {"index": k, "text": draft.text, "replace": True}
                yield "draft", draft
                break

    @staticmethod
    def _notices(ctx: DraftContext, drafts: list[Draft]) -> list[str]:
        """What the agent must know about this request: a scam or manipulation attempt, then fallbacks."""
        notices = []
        if ctx.analysis.scam:
            notices.append("买家提到疑似诈骗（冒充客服、索要验证码或链接），草稿已提醒买家防骗")
        elif ctx.analysis.injection:
            notices.append(f"买家消息疑似在操纵 AI（「{ctx.analysis.injection}」），已按普通咨询处理，请留意")
        if ctx.order_flags:
            notices.append(f"订单信息里有像指令的文字（「{ctx.order_flags[0][:30]}」），已当作数据忽略，请留意")
        notices += [d.notice for d in drafts if d.notice]
        return list(dict.fromkeys(notices))
