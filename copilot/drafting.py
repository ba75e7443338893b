"""Drafting: the core function every edge (CLI, API, UI) calls.

``Copilot.draft(request)`` reads the buyer, retrieves knowledge, looks up the
product's catalog facts at ``now``, picks ``n`` strategies and writes one
draft per strategy — through the configured LLM, or the offline composer
when none is configured or the LLM fails (the draft then says so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from .analysis import EMOTION_LABELS, STAGE_LABELS, Analysis, OfflineAnalyzer, Turn, format_history
from .checking import build_context, policy_text
from .guard import guard
from .privacy import mask
from .rules import Check, CheckContext
from .catalog import Catalog, CatalogFile, Product
from .composer import Composer, DraftContext
from .errors import BackendError, InputError
from .llm import ChatBackend, get_backend
from .models import Hit
from .personas import check_persona_id, load_personas
from .prompting import StrategySpec, as_data, build_chat_prompt, load_phrases, load_strategies
from .retrieval import Retriever
from .settings import Settings

MAX_MESSAGE = 2000
MAX_HISTORY = 50


class DraftRequest(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY)
    product_sku: str | None = Field(default=None, max_length=40)
    persona: str | None = Field(default=None, description="override the detected persona (one of the 14 ids)")
    stage: Literal["pre_sale", "in_sale", "after_sale"] | None = Field(default=None, description="override the stage")
    emotion: Literal["angry", "anxious", "neutral", "positive"] | None = Field(default=None, description="override the emotion")
    n: int = Field(default=3, ge=1, le=5)
    now: datetime | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("买家消息不能为空")
        return v.strip()


class Draft(BaseModel):
    text: str
    strategy: str
    strategy_label: str
    reason: str
    source_ids: list[str] = Field(default_factory=list)
    backend: str
    checks: list[Check] = Field(default_factory=list)
    passed: bool = True
    repairs: list[str] = Field(default_factory=list, description="what the guard changed, and which rule fired")
    notice: str | None = None


class SourceRef(BaseModel):
    id: str
    title: str
    text: str
    score: float
    source: str
    kind: str
    sku: str = ""


class DraftResponse(BaseModel):
    drafts: list[Draft]
    analysis: Analysis
    sources: list[SourceRef]
    grounded: bool
    product: str | None = None
    backend: dict[str, str]
    timings_ms: dict[str, float] = Field(default_factory=dict)
    notices: list[str] = Field(default_factory=list)


def choose_strategies(analysis: Analysis, strategies: list[StrategySpec], n: int, *, urgency: bool) -> list[StrategySpec]:
    """The ``n`` best-fitting strategies for this buyer, most fitting first."""

    def score(s: StrategySpec) -> float:
        w = s.when
        sc = 0.0
        sc += 3.0 if analysis.persona.id in w.personas else 0.0  # the seeds' strategy for this buyer type leads
        sc += 2.0 if analysis.intent in w.intents else 0.0
        sc += 1.0 if analysis.stage in w.stages else 0.0
        sc += 1.0 if analysis.emotion in w.emotions else 0.0
        return sc

    negative = analysis.emotion in ("angry", "anxious") or (
        analysis.stage == "after_sale" and analysis.intent in ("quality_complaint", "damaged_wrong", "refund")
    )
    trust = analysis.persona.id == "skeptical" or analysis.intent in ("authenticity", "payment") or analysis.scam
    allowed = {
        None: True,
        "urgency": urgency and analysis.stage == "pre_sale",
        "negative": negative or analysis.stage == "after_sale",
        "trust": trust,
        "price": analysis.persona.id in ("bargainer", "budget") or analysis.intent in ("price", "promotion"),
        "recommend": analysis.persona.id == "browser" or analysis.intent == "recommendation",
    }
    usable = [s for s in strategies if allowed.get(s.requires, False)]
    ranked = sorted(usable, key=lambda s: (-score(s), strategies.index(s)))
    if analysis.scam:
        ranked.sort(key=lambda s: s.id != "reassure_trust")  # a scam report: the warning comes first
    elif negative:
        # an upset buyer always gets the empathy-first draft first
        ranked.sort(key=lambda s: s.id != "empathize_resolve")
    # more drafts than fitting strategies: repeat the best ones (the composer varies the wording)
    return [ranked[i % len(ranked)] for i in range(n)] if ranked else []


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
        self.personas = load_personas(settings.prompts_dir)
        self.strategies = load_strategies(str(settings.prompts_dir)).strategies
        self.composer = Composer(load_phrases(str(settings.prompts_dir)))
        self._analyzer = analyzer
        self._lock = threading.Lock()
        self.catalog_file = CatalogFile(settings.catalog_path)
        # called with (masked message, ranked hits, grounded) for every draft request, streamed or not
        self.on_query: Callable[[str, list[Hit], bool], None] | None = None

    # parts ------------------------------------------------------------------

    @property
    def analyzer(self) -> OfflineAnalyzer:
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    idx = self.retriever.index()
                    self._analyzer = OfflineAnalyzer(
                        self.personas, self.retriever.embedder, product_matcher=idx.products
                    )
        return self._analyzer

    @property
    def catalog(self) -> Catalog:
        return self.catalog_file.get() or Catalog()

    def warm_up(self) -> None:
        """Load the index, models and analyzer now instead of on the first request."""
        self.retriever.index()
        _ = self.analyzer

    # core -------------------------------------------------------------------

    def masked(self, req: DraftRequest) -> DraftRequest:
        """The request with personal data masked: nothing downstream (analysis, LLM, drafts, logs) sees it."""
        kinds = self.settings.pii_mask
        if not kinds:
            return req
        return req.model_copy(update={
            "message": mask(req.message, kinds),
            "history": [Turn(role=t.role, text=mask(t.text, kinds)) for t in req.history],
        })

    def _context(self, req: DraftRequest) -> tuple[DraftContext, dict[str, float], list]:
        t = time.perf_counter()
        req = self.masked(req)
        timings: dict[str, float] = {}
        catalog = self.catalog
        now = req.now or datetime.now(catalog.tz)
        if now.tzinfo is None:
            now = now.replace(tzinfo=catalog.tz)
        product: Product | None = catalog.get(req.product_sku) if req.product_sku else None
        if req.persona:
            check_persona_id(req.persona)
        # the analyzer and the three searches embed these texts: do it in one batch
        buyer_hist = [x.text for x in req.history if x.role == "buyer"]
        self.retriever.embedder.warm_queries([
            req.message, "\n".join(buyer_hist[-2:]), "\n".join([*buyer_hist[-3:], req.message]),
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
        timings["analysis_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        context = [x.text for x in req.history if x.role == "buyer"][-2:]
        general = self.retriever.search(req.message, 5, context=context)
        hits = list(general.hits)
        grounded = general.grounded
        extra = [self.retriever.search(req.message, 2, kind="policy", context=context)]
        if product:
            extra.append(self.retriever.search(req.message, 3, sku=product.sku, context=context))
        for res in extra:
            seen = {h.id for h in hits}
            hits += [h for h in res.hits if h.id not in seen]
            if res.hits and res.hits[0].sku and res.hits[0].score >= self.settings.no_answer_threshold:
                grounded = True
        hits.sort(key=lambda h: -h.score)
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
        )
        if self.on_query is not None:
            self.on_query(ctx.message, hits, grounded)
        return ctx, timings, hits

    def draft(self, req: DraftRequest) -> DraftResponse:
        t0 = time.perf_counter()
        ctx, timings, hits = self._context(req)
        chosen = self._choose(ctx, req.n)
        cctx = self.check_context(ctx)
        t = time.perf_counter()
        drafts = []
        for i, s in enumerate(chosen):
            llm_text, notice = None, None
            if self.backend is not None:
                try:
                    llm_text = self.backend.complete(self.messages(ctx, s))
                except BackendError as exc:
                    notice = f"{exc.message}，已改用离线起草"
            drafts.append(self._finish(ctx, s, chosen[:i].count(s), cctx, llm_text, notice))
        timings["drafting_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return DraftResponse(
            drafts=drafts,
            analysis=ctx.analysis,
            sources=[_source(h) for h in hits],
            grounded=ctx.grounded,
            product=ctx.product.sku if ctx.product else None,
            backend={"llm": self.backend.name if self.backend else "offline", "embedder": self.retriever.embedder.name},
            timings_ms={k: round(v, 2) for k, v in timings.items()},
            notices=self._notices(ctx, drafts),
        )

    def _choose(self, ctx: DraftContext, n: int) -> list[StrategySpec]:
        urgency = self.composer.urgency_sentence(ctx) is not None
        return choose_strategies(ctx.analysis, self.strategies, n, urgency=urgency)

    @staticmethod
    def _notices(ctx: DraftContext, drafts: list[Draft]) -> list[str]:
        """What the agent must know about this request: a scam or manipulation attempt, then fallbacks."""
        notices = []
        if ctx.analysis.scam:
            notices.append("买家提到疑似诈骗（冒充客服、索要验证码或链接），草稿已提醒买家防骗")
        elif ctx.analysis.injection:
            notices.append(f"买家消息疑似在操纵 AI（「{ctx.analysis.injection}」），已按普通咨询处理，请留意")
        notices += [d.notice for d in drafts if d.notice]
        return list(dict.fromkeys(notices))

    def _reason(self, ctx: DraftContext, s: StrategySpec) -> str:
        try:
            return s.reason.format(persona=ctx.analysis.persona.label, stage=STAGE_LABELS[ctx.analysis.stage])
        except (KeyError, IndexError):
            return s.reason

    def check_context(self, ctx: DraftContext) -> CheckContext:
        return build_context(
            catalog=ctx.catalog, policies=policy_text(self.settings), sku=ctx.product.sku if ctx.product else None,
            now=ctx.now, message=ctx.message, history=ctx.history,
        )

    def _finish(self, ctx: DraftContext, s: StrategySpec, variant: int, cctx: CheckContext,
                llm_text: str | None, notice: str | None) -> Draft:
        """Guard the LLM's text; without one, or when it fails the rules, the composer writes the draft."""
        if llm_text:
            text, report, repairs = guard(llm_text, cctx)
            if report.passed:
                return self._draft(ctx, s, text, [h.id for h in ctx.hits[:5]], self.backend.name, report, repairs)
            notice = "大模型草稿未通过语气规则（" + "、".join(c.name for c in report.failed) + "），已改用离线起草"
        text, sources = self.composer.compose(ctx, s, variant)
        text, report, repairs = guard(text, cctx)
        return self._draft(ctx, s, text, sources, self.composer.name, report, repairs, notice)

    def _draft(self, ctx, s, text, sources, backend, report, repairs, notice=None) -> Draft:
        text = mask(text, self.settings.pii_mask)  # a draft never echoes full personal data
        return Draft(text=text, strategy=s.id, strategy_label=s.label, reason=self._reason(ctx, s), source_ids=sources,
                     backend=backend, checks=report.checks, passed=report.passed, repairs=repairs, notice=notice)

    def stream(self, req: DraftRequest) -> Iterator[dict]:
        """Events for streaming UIs: analysis, sources, per draft its text pieces then the finished draft,
        and ``done`` with the request's notices and whether the knowledge base answered it."""
        ctx, timings, hits = self._context(req)
        yield {"event": "analysis", "data": ctx.analysis.model_dump()}
        yield {"event": "sources", "data": [_source(h).model_dump() for h in hits]}
        chosen = self._choose(ctx, req.n)
        cctx = self.check_context(ctx)
        drafts = []
        for i, s in enumerate(chosen):
            pieces: list[str] = []
            notice = None
            if self.backend is not None:
                try:
                    for piece in self.backend.stream(self.messages(ctx, s)):
                        pieces.append(piece)
                        yield {"event": "delta", "data": {"index": i, "text": piece}}
                except BackendError as exc:
                    notice = f"{exc.message}，已改用离线起草"
                    pieces = []
            draft = self._finish(ctx, s, chosen[:i].count(s), cctx, "".join(pieces).strip() or None, notice)
            if draft.backend == self.composer.name:  # the streamed pieces, if any, are replaced
                yield {"event": "delta", "data": {"index": i, "text": draft.text, "replace": True}}
            drafts.append(draft)
            yield {"event": "draft", "data": {"index": i, **draft.model_dump()}}
        yield {"event": "done", "data": {"notices": self._notices(ctx, drafts), "grounded": ctx.grounded}}

    # the LLM prompt ------------------------------------------------------------

    def messages(self, ctx: DraftContext, s: StrategySpec) -> list[dict[str, str]]:
        p = ctx.persona
        facts = "（未指定商品）"
        if ctx.product:
            pr = ctx.product
            lines = [pr.describe(), f"库存：{pr.stock} 件（库存紧张阈值 {ctx.catalog.shop.low_stock_threshold} 件）"]
            active = ctx.facts.active_promotions if ctx.facts else []
            lines.append("进行中的活动：" + ("；".join(f"{x.title}（{x.discount}），截止 {x.ends_at:%Y-%m-%d %H:%M}" for x in active) or "无"))
            if pr.next_price and pr.next_price.effective_at > ctx.now:
                lines.append(f"已确定的调价：{pr.next_price.effective_at:%Y-%m-%d} 起 {pr.next_price.price:g} 元")
            lines.append(f"当前时间：{ctx.now:%Y-%m-%d %H:%M}")
            facts = "\n".join(lines)
        policies = "\n".join(f"[{h.id}] {h.title}：{h.text}" for h in ctx.hits if h.kind == "policy")[:1500] or "（无）"
        sources = "\n".join(f"[{h.id}] ({h.kind}) {h.title}：{h.text}" for h in ctx.hits if h.kind != "policy")[:2500]
        history = format_history(ctx.history[-10:])
        values = {
            "shop_name": ctx.catalog.shop.name,
            "persona_label": p.label,
            "persona_strategy": p.strategy.summary,
            "persona_dos": "；".join(p.dos[:4]),
            "persona_donts": "；".join(p.donts[:4]),
            "strategy_label": s.label,
            "strategy_instructions": s.instructions,
            "stage_label": STAGE_LABELS[ctx.analysis.stage],
            "emotion_label": EMOTION_LABELS[ctx.analysis.emotion],
            "intent_label": ctx.analysis.intent_label,
            "sources": as_data(sources or "（知识库中没有相关资料）"),
            "facts": as_data(facts),
            "policies": as_data(policies),
            "history": as_data(history or "（无）"),
            "message": as_data(ctx.message),
        }
        msgs = build_chat_prompt(self.settings.prompts_dir, values)
        role = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": role.get(m.type, "user"), "content": m.content} for m in msgs]


def _source(h) -> SourceRef:
    return SourceRef(id=h.id, title=h.title, text=h.text, score=h.score, source=h.source, kind=h.kind, sku=h.sku)


def parse_history(data: object) -> list[Turn]:
    """History from JSON: a list of {role, text} (roles buyer/agent; 买家/客服 accepted)."""
    if not isinstance(data, list):
        raise InputError("对话记录必须是列表：[{role, text}, …]", message_en="history must be a list of {role, text}")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f"对话记录第 {i + 1} 条格式错误", message_en=f"history item {i + 1} is malformed")
        role = {"买家": "buyer", "客服": "agent", "user": "buyer", "assistant": "agent"}.get(item.get("role"), item.get("role"))
        if role not in ("buyer", "agent"):
            raise InputError(f"对话记录第 {i + 1} 条的 role 只能是 buyer 或 agent", message_en="role must be buyer|agent")
        out.append(Turn(role=role, text=item["text"]))
    return out


