"""The feedback store (SQLite): what agents did with drafts, and which questions retrieval answered poorly.

- ``feedback``: adopted, edited and rejected drafts, with reasons, edit diffs
  and persona overrides. ``export_cases`` turns edited and rejected drafts
  into candidate eval cases.
- ``queries``: every drafted buyer question with its best retrieval score;
  ``gaps`` ranks the weakly answered ones by frequency — the knowledge to add.

Nothing personal is stored or shown: every text is written without control characters and with
personal data masked (``text.privacy``), and masked again when read, so rows an older version wrote
raw are masked in ``gaps``, ``rows`` and ``export_cases`` too.
"""

from __future__ import annotations

import difflib
import errno
import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import CopilotError, InputError, ReadOnlyError
from ..knowledge.store import writable
from ..text.privacy import KINDS, mask, strip_controls

Action = Literal["adopt", "edit", "reject"]
FREE_TEXT = ("message", "draft_text", "final_text", "reason")  # where buyers' and agents' words go
LABELS = ("strategy", "sku", "persona_detected", "persona_override", "stage", "agent", "conversation_id", "backend")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    action TEXT NOT NULL,
    message TEXT NOT NULL,
    draft_text TEXT NOT NULL,
    final_text TEXT,
    diff TEXT,
    reason TEXT,
    strategy TEXT,
    sku TEXT,
    persona_detected TEXT,
    persona_override TEXT,
    stage TEXT
);
CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    message TEXT NOT NULL,
    normalized TEXT NOT NULL,
    top_score REAL NOT NULL,
    grounded INTEGER NOT NULL,
    top_ref TEXT
);
CREATE INDEX IF NOT EXISTS queries_norm ON queries(normalized);
CREATE TABLE IF NOT EXISTS drafted (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    agent TEXT,
    conversation_id TEXT,
    n INTEGER NOT NULL,
    backend TEXT,
    latency_ms REAL,
    persona TEXT,
    stage TEXT
);
"""
# columns later versions added to ``feedback`` (a store an older version wrote gains them, empty, when opened)
ADDED_COLUMNS = {"agent": "TEXT", "conversation_id": "TEXT", "backend": "TEXT", "request_id": "TEXT",
                 "latency_ms": "REAL", "acted_s": "REAL"}


def _read_only(exc: Exception) -> bool:
    return (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)) or \
        "readonly" in str(exc).lower() or "read-only" in str(exc).lower()


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    message: str = Field(min_length=1, max_length=2000, description="the buyer message the draft answered")
    draft_text: str = Field(min_length=1, max_length=4000)
    final_text: str | None = Field(default=None, max_length=4000, description="what the agent sent, for edit")
    reason: str | None = Field(default=None, max_length=500, description="why it was rejected or edited")
    strategy: str | None = Field(default=None, max_length=60)
    sku: str | None = Field(default=None, max_length=40)
    persona_detected: str | None = Field(default=None, max_length=30)
    persona_override: str | None = Field(default=None, max_length=30)
    stage: str | None = Field(default=None, max_length=20)
    agent: str | None = Field(default=None, max_length=40, description="who acted: the agent's id or name")
    conversation_id: str | None = Field(default=None, max_length=64)
    backend: str | None = Field(default=None, max_length=60, description="who wrote the draft (offline-composer, vllm:…)")
    request_id: str | None = Field(default=None, max_length=64,
                                   description="the drafting request's id (DraftResponse.request_id): joins the action "
                                               "to when it was drafted and how long drafting took")

    @model_validator(mode="after")
    def _unchanged_edit_is_adoption(self) -> "FeedbackIn":
        """An "edit" whose text is the draft's (whitespace aside) is an adoption: it is stored and exported as one."""
        if self.action == "edit" and self.final_text is not None and \
                " ".join(self.final_text.split()) == " ".join(self.draft_text.split()):
            self.action, self.final_text = "adopt", None
        return self


def _normalize(q: str) -> str:
    return re.sub(r"[\s，。？！?!,.~～、…“”\"'亲呀啊呢吧嘛哈]+", "", q.lower())[:120]


def _char_diff(before: str, after: str) -> str:
    return "\n".join(difflib.unified_diff(list(before), list(after), lineterm="", n=0))


class FeedbackStore:
    SPOOL_MAX = 1000  # feedback held in memory while the disk is full

    def __init__(self, path: Path, pii_kinds: list[str] | tuple[str, ...] = KINDS) -> None:
        self.path = Path(path)
        self.pii_kinds = list(pii_kinds)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.spool: list[tuple[str, tuple]] = []

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=5)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                have = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
                for name, kind in ADDED_COLUMNS.items():  # the schema migration: add what an older store lacks
                    if name not in have:
                        conn.execute(f"ALTER TABLE feedback ADD COLUMN {name} {kind}")
                conn.commit()
            except (sqlite3.Error, OSError) as exc:
                if _read_only(exc) or not writable(self.path.parent):
                    raise self._read_only_error(exc) from None
                raise CopilotError(
                    f"无法打开反馈数据库 {self.path}：{exc}", message_en=f"cannot open feedback db: {exc}",
                    hint="检查数据目录权限与磁盘空间", code="feedback_unavailable", status=503,
                ) from None
            self._conn = conn
        return self._conn

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            try:
                self._flush_spool()
                cur = self._db().execute(sql, args)
                self._db().commit()
                return int(cur.lastrowid)
            except sqlite3.Error as exc:
                try:
                    self._db().rollback()
                except sqlite3.Error:
                    pass
                if _read_only(exc):  # not a full disk: spooling would only hide it
                    raise self._read_only_error(exc) from None
                raise CopilotError(
                    f"反馈保存失败：{exc}", message_en=f"feedback write failed: {exc}",
                    hint="检查磁盘空间与数据目录权限；已有记录不受影响", code="feedback_write_failed", status=503,
                ) from None

    def _read_only_error(self, exc: Exception) -> ReadOnlyError:
        return ReadOnlyError(
            f"数据目录不可写（{self.path.parent}），反馈未保存", message_en=f"feedback store is read-only: {exc}",
            hint="数据目录是只读的：起草和检索照常，反馈需要可写的数据目录",
        )

    def _flush_spool(self) -> None:
        while self.spool:
            sql, args = self.spool[0]
            self._db().execute(sql, args)
            self._db().commit()
            self.spool.pop(0)

    def add_or_spool(self, fb: FeedbackIn) -> tuple[int | None, bool]:
        """Save, or when the disk is full keep it in memory to retry with the next write: (id, saved)."""
        pending = self._insert(fb)
        try:
            return self._write(*pending), True
        except CopilotError as exc:
            if exc.code != "feedback_write_failed" or len(self.spool) >= self.SPOOL_MAX:
                raise
            with self._lock:
                self.spool.append(pending)
            return None, False

    def add(self, fb: FeedbackIn) -> int:
        return self._write(*self._insert(fb))

    def _insert(self, fb: FeedbackIn) -> tuple[str, tuple]:
        # personal data and control characters never reach the disk
        fb = fb.model_copy(update={f: self._clean(getattr(fb, f)) for f in (*FREE_TEXT, *LABELS)})
        if fb.action == "edit" and not (fb.final_text and fb.final_text.strip()):
            raise InputError("修改后采用需要提供 final_text（实际发出的文本）", message_en="edit needs final_text")
        if fb.action == "reject" and not (fb.reason and fb.reason.strip()):
            raise InputError("拒绝草稿需要填写原因", message_en="reject needs a reason")
        diff = None
        if fb.final_text and fb.final_text != fb.draft_text:
            diff = _char_diff(fb.draft_text, fb.final_text)
        now = time.time()
        drafted = self.drafted(fb.request_id) if fb.request_id else None
        latency = drafted["latency_ms"] if drafted else None
        acted = round(now - drafted["ts"], 3) if drafted else None
        return (
            "INSERT INTO feedback (ts, action, message, draft_text, final_text, diff, reason, strategy, sku,"
            " persona_detected, persona_override, stage, agent, conversation_id, backend, request_id, latency_ms, acted_s)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (now, fb.action, fb.message, fb.draft_text, fb.final_text, diff, fb.reason, fb.strategy, fb.sku,
             fb.persona_detected, fb.persona_override, fb.stage,
             fb.agent or (drafted or {}).get("agent"), fb.conversation_id or (drafted or {}).get("conversation_id"),
             fb.backend or (drafted or {}).get("backend"), fb.request_id, latency, acted),
        )

    def log_drafted(self, request_id: str, *, n: int, backend: str | None, latency_ms: float | None,
                    persona: str | None, stage: str | None, agent: str | None = None,
                    conversation_id: str | None = None) -> None:
        """A drafting request the agent was shown (for the adoption report: drafts nobody acted on are "ignored")."""
        try:
            self._write(
                "INSERT OR REPLACE INTO drafted (request_id, ts, agent, conversation_id, n, backend, latency_ms, persona,"
                " stage) VALUES (?,?,?,?,?,?,?,?,?)",
                (request_id, time.time(), self._clean(agent), self._clean(conversation_id), int(n), backend,
                 latency_ms, persona, stage),
            )
        except CopilotError:
            pass  # analytics must never break drafting

    def drafted(self, request_id: str) -> dict | None:
        with self._lock:
            cur = self._db().execute("SELECT * FROM drafted WHERE request_id = ?", (request_id,))
            row = cur.fetchone()
            return dict(zip([d[0] for d in cur.description], row)) if row else None

    def drafted_rows(self) -> list[dict]:
        with self._lock:
            cur = self._db().execute("SELECT * FROM drafted ORDER BY ts")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def _clean(self, s: str | None) -> str | None:
        """What may be stored or shown of ``s``: no control characters, personal data masked."""
        return mask(strip_controls(s), self.pii_kinds) if s else s

    def log_query(self, message: str, top_score: float, grounded: bool, top_ref: str | None) -> None:
        message = self._clean(message) or ""
        try:
            self._write(
                "INSERT INTO queries (ts, message, normalized, top_score, grounded, top_ref) VALUES (?,?,?,?,?,?)",
                (time.time(), message[:500], _normalize(message),
                 float(top_score), int(grounded), strip_controls(top_ref)),
            )
        except CopilotError:
            pass  # analytics must never break drafting

    def rows(self, action: str | None = None, *, shown: tuple[str, ...] = (*FREE_TEXT, *LABELS)) -> list[dict]:
        """Stored feedback, masked again on read (rows from an older version may hold raw personal data). ``shown``
        names the fields that will be shown and so are masked again; the others are for counting only (the adoption
        report compares draft and sent text without showing them)."""
        with self._lock:
            cur = self._db().execute(
                "SELECT * FROM feedback" + (" WHERE action = ?" if action else "") + " ORDER BY id", (action,) if action else ()
            )
            names = [d[0] for d in cur.description]
            raw = [dict(zip(names, r)) for r in cur.fetchall()]
        out = []
        for r in raw:
            r.update({f: self._clean(r[f]) for f in shown})
            if r["diff"]:  # derived from the texts: recomputed from what may be shown
                r["diff"] = _char_diff(r["draft_text"] or "", r["final_text"] or "") if r["final_text"] else None
            out.append(r)
        return out

    def export_cases(self) -> list[dict]:
        """Edited and rejected drafts as candidate eval cases (for a human to label)."""
        out = []
        for r in self.rows():
            if r["action"] == "adopt":
                continue
            out.append({
                "id": f"fb-{r['id']}",
                "message": r["message"],
                "sku": r["sku"],
                "persona": r["persona_override"] or r["persona_detected"],
                "stage": r["stage"],
                "rejected_draft": r["draft_text"],
                "agent_reply": r["final_text"],
                "reason": r["reason"],
                "strategy": r["strategy"],
                "source": r["action"],
            })
        return out

    def gaps(self, *, threshold: float, limit: int = 20) -> list[dict]:
        """Buyer questions that retrieval answered weakly, most frequent first."""
        with self._lock:
            cur = self._db().execute(
                "SELECT normalized, COUNT(*) AS n, AVG(top_score) AS score, MIN(message) AS example,"
                " SUM(grounded = 0) AS ungrounded FROM queries WHERE top_score < ? OR grounded = 0"
                " GROUP BY normalized ORDER BY n DESC, score ASC LIMIT ?",
                (threshold, limit),
            )
            rows = cur.fetchall()
        return [{"question": self._clean(r[3]), "count": r[1], "avg_score": round(r[2], 3), "ungrounded": r[4]}
                for r in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def dump_jsonl(rows: list[dict]) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
