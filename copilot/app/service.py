"""The workspace service: one object behind the HTTP API and the Gradio UI.

The CLI, the HTTP API and the Gradio UI only parse input and call these
methods, so they share behaviour (drafting, checks, search, uploads,
reindex, feedback, knowledge gaps, evals, the store self-check).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..buyer.personas import Persona, check_persona_id
from ..drafting.io import DraftRequest, DraftResponse
from ..drafting.pipeline import Copilot
from ..drafting.budget import Budget
from ..drafting.tone import TONES, LlmToneRewriter, ToneRewriter
from ..errors import (
    CopilotError,
    IndexUnavailableError,
    InputError,
    NotFoundError,
)
from ..evaluation.results import EvalRun
from ..evaluation.run import evaluate
from ..evaluation.suites import SUITES
from ..knowledge.catalog import Catalog
from ..knowledge.doctor import DoctorReport, diagnose
from ..knowledge.ingest import IngestReport, ingest
from ..knowledge.uploads import save_upload
from ..orders import FileOrderSource, Order, OrderSource
from ..qa.exports import Conversation
from ..qa.review import QaReport, review
from ..rules.base import CheckContext
from ..rules.checking import Checker, check_text
from ..rules.registry import CheckReport
from ..schema import Analysis, AnswerPlan, Hit, SearchResult
from ..settings import Settings
from ..knowledge.layout import KnowledgeLayout
from ..rules.checking import policy_text
from .adoption import SHOWN, AdoptionReport, build_report
from .adoption import render_html as render_adoption
from .feedback import FeedbackIn, FeedbackStore
from .proposals import Proposal, accept, propose, write_review

log = logging.getLogger(__name__)


class ReindexBusyError(CopilotError):
    code = "reindex_running"
    status = 409


class LiveContexts:
    """What the last drafts were checked against, by a random token, so an agent's edit is re-checked against the
    same analysis, product facts and knowledge while they type. Bounded: the oldest go first."""

    def __init__(self, limit: int = 512) -> None:
        self.limit = limit
        self._by_token: OrderedDict[str, CheckContext] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, token: str, ctx: CheckContext) -> None:
        with self._lock:
            self._by_token[token] = ctx
            self._by_token.move_to_end(token)
            while len(self._by_token) > self.limit:
                self._by_token.popitem(last=False)

    def get(self, token: str) -> CheckContext:
        with self._lock:
            ctx = self._by_token.get(token)
        if ctx is None:
            raise NotFoundError("这组草稿的检查上下文已过期，请重新起草后再编辑",
                                message_en="unknown or expired live-check token; draft again")
        return ctx


@dataclass(frozen=True)
class Retoned:
    text: str
    changed: bool
    note: str
    report: CheckReport
    backend: str = "offline-tone"


class Workspace:
    def __init__(self, settings: Settings, copilot: Copilot | None = None, orders: OrderSource | None = None) -> None:
        self.settings = settings
        self.copilot = copilot or Copilot(settings)
        self.checker = Checker(settings, catalog=self.copilot.current_catalog)
        self.live = LiveContexts()
        self.tones = ToneRewriter(self.copilot.composer.p)
        self.feedback = FeedbackStore(settings.feedback_path, settings.pii_mask)
        self.orders: OrderSource | None = orders or (FileOrderSource(settings.orders_file) if settings.orders_file else None)
        self.copilot.on_query = self._log_query  # streamed and plain drafts both feed the knowledge-gap report
        self._reindex = threading.Lock()
        self.last_doctor: DoctorReport | None = None  # the latest store self-check (refreshed by every reindex)

    # what the edges show ----------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        return self.copilot.catalog

    @property
    def personas(self) -> dict[str, Persona]:
        return self.copilot.personas

    @property
    def llm_name(self) -> str:
        return self.copilot.backend.name if self.copilot.backend else "offline"

    def warm_up(self) -> None:
        self.copilot.warm_up()

    # drafting ---------------------------------------------------------------

    def draft(self, req: DraftRequest) -> DraftResponse:
        out = self.copilot.draft(self.with_order(req))
        out.request_id = secrets.token_urlsafe(12)
        self._log_drafted(out.request_id, req, len(out.drafts), out.backend.get("llm"), out.timings_ms.get("total_ms"),
                          out.analysis)
        return out

    def _log_drafted(self, request_id: str, req: DraftRequest, n: int, backend: str | None, latency_ms: float | None,
                     analysis) -> None:
        self.feedback.log_drafted(request_id, n=n, backend=backend, latency_ms=latency_ms,
                                  persona=analysis.persona.id if analysis else None,
                                  stage=analysis.stage if analysis else None,
                                  agent=req.agent, conversation_id=req.conversation_id)

    def with_order(self, req: DraftRequest) -> DraftRequest:
        """A request that sends only ``order.order_id`` gets the order from the configured ``OrderSource``."""
        if req.order is None or not req.order.only_id or self.orders is None:
            return req
        return req.model_copy(update={"order": self.order(req.order.order_id)})

    def order(self, order_id: str) -> Order:
        """The order with this id from the configured ``OrderSource`` (the workspace's 查订单)."""
        if self.orders is None:
            raise NotFoundError("没有配置订单来源，请直接粘贴订单信息", message_en="no order source configured",
                                hint="在 copilot.toml 里设置 orders_file，或接入店铺自己的 OrderSource")
        found = self.orders.get(order_id.strip())
        if found is None:
            raise NotFoundError(f"找不到订单 {order_id}", message_en=f"unknown order {order_id}",
                                hint="检查订单号，或在请求里直接带上订单信息（order 的各字段）")
        return found

    def _log_query(self, message: str, hits: list[Hit], grounded: bool) -> None:
        top = hits[0] if hits else None
        self.feedback.log_query(message, top.score if top else 0.0, grounded, top.id if top else None)

    def stream(self, req: DraftRequest, *, live: bool = False) -> Iterator[dict]:
        """The drafting events. With ``live`` the first event is ``live`` with a token for ``live_check``."""
        req = self.with_order(req)
        token = secrets.token_urlsafe(16)
        if live:
            yield {"event": "live", "data": {"token": token}}
        t0, analysis, n = time.perf_counter(), None, 0
        for ev in self.copilot.stream(req, keep=(lambda ctx: self.live.put(token, ctx)) if live else None):
            if ev["event"] == "analysis":
                analysis = Analysis.model_validate(ev["data"])
            elif ev["event"] == "draft":
                n += 1
            elif ev["event"] == "done":  # the request id the feedback sends back (the live token in the workspace)
                ev = {"event": "done", "data": {**ev["data"], "request_id": token}}
                self._log_drafted(token, req, n, self.llm_name, round((time.perf_counter() - t0) * 1000, 2), analysis)
            yield ev

    def live_check(self, token: str, reply: str) -> CheckReport:
        """An agent's edit of a draft, checked against what that draft was checked against (the workspace's live
        badges)."""
        return check_text(reply, self.live.get(token))

    def retone(self, token: str, reply: str, tone: str, plan: AnswerPlan | None = None) -> Retoned:
        """A draft (or the agent's edit of it) in another tone — the workspace's 更亲切 / 更简短 / 更正式 / 更详细.

        With an LLM configured it rewrites first (bounded by ``llm_tone_budget_s``); offline, or when the model's text
        drops a fact or breaks a rule, the composer's wordings are swapped instead (facts stay word for word). Either
        result is checked against what the draft was checked against: a rewrite that breaks a rule the text kept is
        refused and the text stays."""
        if tone not in TONES:
            raise InputError(f"未知的语气：{tone}（可用：{'、'.join(TONES)}）", message_en=f"unknown tone {tone}")
        ctx = self.live.get(token)
        before = check_text(reply, ctx)
        kept = {c.rule for c in before.failed}

        def broken(report: CheckReport) -> list[str]:
            return [c.name for c in report.failed if c.rule not in kept]

        why = ""
        backend = self.copilot.backend
        if backend is not None:
            names = [p.name for p in self.catalog.products]
            text, why = LlmToneRewriter(backend, self.settings.prompts_dir).rewrite(
                reply, tone, Budget(self.settings.llm_tone_budget_s), names)
            if text is not None:
                report = check_text(text, ctx)
                if not broken(report):
                    return Retoned(text=text, changed=True, note="", report=report, backend=backend.name)
                why = f"大模型改写不符合「{'、'.join(broken(report))}」"
        fallback = f"{why}，已用离线改写" if why else ""
        out = self.tones.rewrite(reply, tone, analysis=ctx.analysis, plan=plan)
        if not out.changed:
            return Retoned(text=reply, changed=False, note="；".join(x for x in (fallback, out.note) if x),
                           report=before)
        after = check_text(out.text, ctx)
        if broken(after):
            return Retoned(text=reply, changed=False, report=before,
                           note=f"改写后不再符合「{'、'.join(broken(after))}」，已保留原文")
        return Retoned(text=out.text, changed=True, note=fallback, report=after)

    def check(self, reply: str, *, order: Order | None = None, **kw) -> CheckReport:
        if order is not None and order.only_id and self.orders is not None:
            order = self.order(order.order_id)
        return self.checker.check(reply, order=order, **kw)

    def qa(self, conversations: list[Conversation]) -> QaReport:
        """Every agent turn of a chat export checked with the rules, at its own time (``copilot qa``, ``/v1/qa``)."""
        return review(conversations, self.checker)

    def search(self, query: str, k: int = 5, kind=None, sku: str | None = None) -> SearchResult:
        return self.copilot.retriever.search(query, k, kind=kind, sku=sku)

    # knowledge ----------------------------------------------------------------

    def upload(self, filename: str, data: bytes, *, policy: bool = False, replace: bool = False) -> dict:
        """Validate and store a knowledge file (document, FAQ CSV, or the catalog). Nothing is written if it is bad,
        and an existing file is replaced only with ``replace`` (otherwise 409 with a preview of the change)."""
        return save_upload(self.settings, filename, data, policy=policy, replace=replace)

    def reindex(self, *, rebuild: bool = False, progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        if not self._reindex.acquire(blocking=False):
            raise ReindexBusyError("索引正在重建中，请稍后再试", message_en="a reindex is already running")
        try:
            retriever = self.copilot.retriever
            report = ingest(self.settings, rebuild=rebuild, embedder=retriever.embedder, store=retriever.store,
                            progress=progress)
            retriever.reload()
            self._recalibrate()
            return report
        finally:
            self._reindex.release()

    def doctor(self, *, eval_path: Path | None = None, save: bool = True) -> DoctorReport:
        """The store self-check: what the knowledge folder lacks for good drafts, and the no-answer threshold
        calibrated on the store's own questions (stored with the served index unless ``save`` is False, so search and
        drafting use it at once)."""
        report = diagnose(self.settings, self.copilot.retriever, eval_path=eval_path, save=save)
        self.last_doctor = report
        return report

    def _recalibrate(self) -> None:
        """After a reindex: check the store again and calibrate the new generation. A failure here never fails the
        reindex (the new index serves with the setting's threshold)."""
        try:
            self.doctor()
        except (CopilotError, OSError, ValueError) as exc:
            log.warning("store self-check after reindex failed: %s", exc)
            self.last_doctor = None

    @property
    def no_answer_threshold(self) -> float:
        """The threshold in effect for the served index (the setting's value while there is none)."""
        try:
            return self.copilot.retriever.no_answer_threshold
        except CopilotError:
            return self.settings.no_answer_threshold

    # feedback ------------------------------------------------------------------

    def add_feedback(self, fb: FeedbackIn) -> tuple[int | None, bool]:
        """(id, saved); saved is False when the disk is full and the feedback waits in memory."""
        if fb.persona_override:
            check_persona_id(fb.persona_override)
        return self.feedback.add_or_spool(fb)

    def gaps(self, limit: int = 20) -> list[dict]:
        return self.feedback.gaps(threshold=self.no_answer_threshold, limit=limit)

    # adoption telemetry ------------------------------------------------------

    def adoption(self) -> AdoptionReport:
        """What agents did with the drafts (``copilot report adoption``, ``GET /v1/reports/adoption``, 「数据」)."""
        return build_report(self.feedback.rows(shown=SHOWN), self.feedback.drafted_rows(), self.catalog.tz)

    def adoption_html(self) -> str:
        return render_adoption(self.adoption(), self.catalog.shop.name)

    @property
    def proposals_path(self) -> Path:
        return self.settings.data_dir / "proposals.yaml"

    def propose_faqs(self, min_count: int = 3) -> list[Proposal]:
        """Facts agents keep adding to drafts, proposed as FAQ rows in a review file (nothing is added yet)."""
        found = propose(self.feedback.rows("edit"), policy_text(self.settings), min_count=min_count)
        write_review(self.proposals_path, found)
        return found

    def accept_proposal(self, proposal_id: str) -> Proposal:
        """Add exactly that proposal's row to the store's faqs.csv (reindex to use it)."""
        return accept(proposal_id, self.proposals_path, KnowledgeLayout(self.settings.knowledge_dir).store / "faqs.csv")

    def export_feedback(self) -> list[dict]:
        """Edited and rejected drafts as candidate eval cases."""
        return self.feedback.export_cases()

    # evals -------------------------------------------------------------------

    def evaluate(self, progress: Callable[[str, int, int], None] | None = None) -> tuple[EvalRun, tuple[Path, Path]]:
        """Every offline suite, written to the report the workspace serves at /reports/latest; ``progress`` hears
        (suite, done, total) as the suites run."""
        return evaluate(self.settings, tuple(SUITES), report_dir=self.settings.latest_report_dir, progress=progress)

    # health ------------------------------------------------------------------

    def ready(self) -> dict:
        try:
            gen = self.copilot.retriever.index().generation  # cached for a second; checks the embedder too
        except IndexUnavailableError as exc:
            return {"ready": False, "reason": exc.message, "hint": exc.hint}
        return {"ready": True, "generation": gen.name, "chunks": gen.count, "embedder": gen.embedder,
                "llm": self.llm_name}
