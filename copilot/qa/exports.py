"""Chat exports read into conversations.

Two formats, both UTF-8:

- **JSON Lines**, one conversation per line::

    {"id": "c1", "agent": "小王", "sku": "AB-1001",
     "turns": [{"role": "buyer", "text": "在吗", "at": "2026-11-23T10:00:00+08:00"},     # "sku" per turn, optional
               {"role": "agent", "text": "在的亲", "at": "2026-11-23T10:00:40+08:00", "agent": "小王"}]}

- **CSV**, one message per row, with a header: ``conversation_id, time, role, text`` and optionally ``agent``,
  ``sku`` (per message). Rows of one conversation may come in any order; they are sorted by time.

Roles are ``buyer``/``agent`` (also 买家/客服). A bad line or row is refused with its number and the reason.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from ..errors import InputError

ROLES = {"buyer": "buyer", "agent": "agent", "买家": "buyer", "客服": "agent", "customer": "buyer", "staff": "agent"}
MAX_TURNS = 500
MAX_CONVERSATIONS = 20_000


class QaTurn(BaseModel):
    role: Literal["buyer", "agent"]
    text: str = Field(max_length=4000)
    at: datetime
    agent: str | None = Field(default=None, max_length=64)
    sku: str | None = Field(default=None, max_length=40, description="the product this turn is about, if not the chat's")

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: object) -> object:
        return ROLES.get(str(v).strip().lower(), v) if isinstance(v, str) else v


class Conversation(BaseModel):
    id: str = Field(min_length=1, max_length=128)
    agent: str | None = Field(default=None, max_length=64)
    sku: str | None = Field(default=None, max_length=40)
    turns: list[QaTurn] = Field(min_length=1, max_length=MAX_TURNS)

    def agent_of(self, turn: QaTurn) -> str:
        return turn.agent or self.agent or "（未署名）"


def _why(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    return f"{where}：{err['msg']}"


def read_jsonl(text: str) -> list[Conversation]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Conversation.model_validate_json(line))
        except ValidationError as exc:
            raise InputError(f"第 {n} 行不是合法的会话：{_why(exc)}", message_en=f"line {n}: {exc.errors()[0]['msg']}") from None
        if len(out) > MAX_CONVERSATIONS:
            raise InputError(f"会话太多：一次最多 {MAX_CONVERSATIONS} 段", message_en="too many conversations")
    return out


def read_csv(text: str) -> list[Conversation]:
    reader = csv.DictReader(io.StringIO(text))
    need = {"conversation_id", "time", "role", "text"}
    have = set(reader.fieldnames or [])
    if not need <= have:
        raise InputError(f"CSV 缺少列：{'、'.join(sorted(need - have))}（需要 conversation_id, time, role, text，可选 agent, sku）",
                         message_en="missing CSV columns")
    rows: dict[str, list[QaTurn]] = {}
    for n, row in enumerate(reader, 2):
        cid = (row.get("conversation_id") or "").strip()
        if not cid:
            raise InputError(f"第 {n} 行没有 conversation_id", message_en=f"row {n}: no conversation_id")
        try:
            turn = QaTurn.model_validate({"role": row.get("role"), "text": row.get("text") or "",
                                          "at": row.get("time"), "agent": (row.get("agent") or None),
                                          "sku": (row.get("sku") or "").strip() or None})
        except ValidationError as exc:
            raise InputError(f"第 {n} 行不合法：{_why(exc)}", message_en=f"row {n}: {exc.errors()[0]['msg']}") from None
        rows.setdefault(cid, []).append(turn)
        if len(rows) > MAX_CONVERSATIONS:
            raise InputError(f"会话太多：一次最多 {MAX_CONVERSATIONS} 段", message_en="too many conversations")
    out = []
    for cid, turns in rows.items():
        try:
            out.append(Conversation(id=cid, turns=sorted(turns, key=lambda t: t.at)))
        except ValidationError as exc:
            raise InputError(f"会话 {cid} 不合法：{_why(exc)}", message_en=f"conversation {cid} invalid") from None
    return out


def read_export(data: bytes, name: str = "") -> list[Conversation]:
    """A chat export by its file name (``.csv``, else JSON Lines)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("聊天记录必须是 UTF-8 编码", message_en="export must be UTF-8") from None
    if not text.strip():
        raise InputError("聊天记录是空的", message_en="empty export")
    if name.lower().endswith(".csv"):
        convs = read_csv(text)
    elif name.lower().endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
        convs = read_jsonl(text)
    else:
        raise InputError("不认识的聊天记录格式：请用 .jsonl（每行一段会话）或 .csv（每行一条消息）",
                         message_en="unknown export format")
    if not convs:
        raise InputError("聊天记录里没有会话", message_en="no conversations")
    return convs


def dumps(conversations: list[Conversation]) -> str:
    return "".join(json.dumps(c.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n" for c in conversations)
