"""The workspace service: one object behind the HTTP API and the Gradio UI.

Both edges only parse input and call these methods, so the API, the UI and
the CLI share behaviour (drafting, checks, search, uploads, reindex,
feedback, knowledge gaps).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .checking import Checker
from .chunking import ChunkerConfig
from .drafting import Copilot, DraftRequest, DraftResponse
from .errors import CopilotError, IndexUnavailableError, InputError, KnowledgeFileError, PayloadTooLargeError
from .feedback import FeedbackIn, FeedbackStore
from .ingest import IngestReport, ingest
from .loaders import SUFFIXES, load_file
from .models import Hit, SearchResult
from .rules import CheckReport
from .settings import Settings

_SAFE_NAME = re.compile(r"^\w[\w.\-]{0,100}$")  # \w covers Chinese; no leading dot


class ReindexBusyError(CopilotError):
    code = "reindex_running"
    status = 409


class Workspace:
    def __init__(self, settings: Settings, copilot: Copilot | None = None) -> None:
        self.settings = settings
        self.copilot = copilot or Copilot(settings)
        self.checker = Checker(settings, catalog_file=self.copilot.catalog_file)
        self.feedback = FeedbackStore(settings.feedback_path, settings.pii_mask)
        self.copilot.on_query = self._log_query  # streamed and plain drafts both feed the knowledge-gap report
        self._reindex = threading.Lock()

    # drafting ---------------------------------------------------------------

    def draft(self, req: DraftRequest) -> DraftResponse:
        return self.copilot.draft(req)

    def _log_query(self, message: str, hits: list[Hit], grounded: bool) -> None:
        top = hits[0] if hits else None
        self.feedback.log_query(message, top.score if top else 0.0, grounded, top.id if top else None)

    def stream(self, req: DraftRequest) -> Iterator[dict]:
        yield from self.copilot.stream(req)

    def check(self, reply: str, **kw) -> CheckReport:
        return self.checker.check(reply, **kw)

    def search(self, query: str, k: int = 5, kind=None, sku: str | None = None) -> SearchResult:
        return self.copilot.retriever.search(query, k, kind=kind, sku=sku)

    # knowledge ----------------------------------------------------------------

    def upload(self, filename: str, data: bytes, *, policy: bool = False) -> dict:
        """Validate and store a knowledge file (document, FAQ CSV, or the catalog). Nothing is written if it is bad."""
        name = Path(filename or "").name.strip()
        if not name or not _SAFE_NAME.match(name):
            raise InputError(f"文件名不合法：{filename!r}", message_en="invalid file name",
                             hint="只用中文、字母、数字、点、横线和下划线")
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError(f"不支持的文件类型 {suffix or '（无扩展名）'}，支持：{'、'.join(sorted(SUFFIXES))}",
                             message_en="unsupported file type")
        limit = self.settings.max_upload_mb * 1024 * 1024
        if len(data) > limit:
            raise PayloadTooLargeError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限 {self.settings.max_upload_mb} MB",
                                       message_en="file too large")
        if suffix in (".yaml", ".yml"):
            if not name.startswith("catalog"):
                raise InputError("YAML 只接受商品目录（文件名以 catalog 开头）", message_en="only catalog*.yaml")
            rel = "store/catalog.yaml"
        elif suffix == ".csv" or policy:
            rel = f"store/{name}"
        else:
            rel = f"docs/{name}"
        target = self.settings.knowledge_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                chunks = load_file(Path(tmp), rel, ChunkerConfig(self.settings.chunk_size, self.settings.chunk_overlap))
            except KnowledgeFileError as exc:
                raise KnowledgeFileError(name, exc.reason, reason_en=exc.message_en) from None
            replaced = target.exists()
            if replaced:
                backups = self.settings.data_dir / "backups"
                backups.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backups / f"{time.strftime('%Y%m%d-%H%M%S')}-{target.name}")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        flagged = [f for c in chunks for f in c.flags]
        note = f"；已移除 {len(flagged)} 处疑似给 AI 的指令" if flagged else ""
        return {"path": rel, "chunks": len(chunks), "replaced": replaced, "flagged": flagged,
                "message": f"已保存 {rel}（{len(chunks)} 个知识块）{note}，重建索引后生效"}

    def reindex(self, *, rebuild: bool = False, progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        if not self._reindex.acquire(blocking=False):
            raise ReindexBusyError("索引正在重建中，请稍后再试", message_en="a reindex is already running")
        try:
            retriever = self.copilot.retriever
            report = ingest(self.settings, rebuild=rebuild, embedder=retriever.embedder, store=retriever.store,
                            progress=progress)
            retriever.reload()
            return report
        finally:
            self._reindex.release()

    # feedback ------------------------------------------------------------------

    def add_feedback(self, fb: FeedbackIn) -> tuple[int | None, bool]:
        """(id, saved); saved is False when the disk is full and the feedback waits in memory."""
        if fb.persona_override:
            from .personas import check_persona_id

            check_persona_id(fb.persona_override)
        return self.feedback.add_or_spool(fb)

    def gaps(self, limit: int = 20) -> list[dict]:
        return self.feedback.gaps(threshold=self.settings.no_answer_threshold, limit=limit)

    # health ------------------------------------------------------------------

    def ready(self) -> dict:
        try:
            gen = self.copilot.retriever.index().generation  # cached for a second; checks the embedder too
        except IndexUnavailableError as exc:
            return {"ready": False, "reason": exc.message, "hint": exc.hint}
        return {"ready": True, "generation": gen.name, "chunks": gen.count, "embedder": gen.embedder,
                "llm": self.copilot.backend.name if self.copilot.backend else "offline"}
