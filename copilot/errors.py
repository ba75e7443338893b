"""User-facing errors.

Every error the user can cause carries a Chinese message, an English message,
a stable machine code, an HTTP status for the API edge, and (where there is
one) a hint that says how to fix it. Edges (CLI, HTTP, UI) render these; they
never show a traceback for a ``CopilotError``.
"""

from __future__ import annotations

import re


class CopilotError(Exception):
    """Base class: a problem the user can understand and act on."""

    code = "copilot_error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        message_en: str = "",
        hint: str = "",
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en
        self.hint = hint
        if code:
            self.code = code
        if status:
            self.status = status

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n提示：{self.hint}"
        return text

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "message_en": self.message_en}
        if self.hint:
            body["hint"] = self.hint
        return body


class InputError(CopilotError):
    """Bad user input: empty query, wrong type, unknown id."""

    code = "invalid_input"
    status = 422


class NotFoundError(CopilotError):
    code = "not_found"
    status = 404


class PayloadTooLargeError(CopilotError):
    code = "payload_too_large"
    status = 413


class ConfigError(CopilotError):
    """Settings that cannot work (unknown backend, bad config file)."""

    code = "config_error"
    status = 400


class KnowledgeFileError(CopilotError):
    """One knowledge file could not be loaded; the rest of the ingest goes on."""

    code = "bad_knowledge_file"
    status = 422

    def __init__(self, path: str, reason: str, *, reason_en: str = "") -> None:
        super().__init__(
            f"知识文件无法读取：{path}：{reason}",
            message_en=f"cannot load knowledge file {path}: {reason_en or reason}",
            hint="修正或删除该文件后重新运行 copilot ingest",
        )
        self.path = path
        self.reason = reason


class IndexUnavailableError(CopilotError):
    """The vector index is missing, unusable, or built by another embedder."""

    code = "index_unavailable"
    status = 409


class IndexMissingError(IndexUnavailableError):
    code = "index_missing"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"知识库索引不存在（{where}）",
            message_en=f"no knowledge index at {where}",
            hint="先运行 copilot ingest 建立索引",
        )


class EmbedderMismatchError(IndexUnavailableError):
    code = "embedder_mismatch"

    def __init__(self, built_with: str, requested: str) -> None:
        super().__init__(
            f"索引由嵌入模型 {built_with} 建立，当前配置的是 {requested}，两者不能混用",
            message_en=f"index was built with embedder {built_with!r}, but {requested!r} is configured",
            hint="运行 copilot ingest --rebuild 用当前模型重建索引，或把 embedder 设回 " + built_with,
        )


class IndexBusyError(IndexUnavailableError):
    code = "index_busy"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"另一个进程正在写入知识库索引（{where}）",
            message_en=f"another process holds the index lock at {where}",
            hint="一个数据目录只能由一个进程写入：等待该进程结束，或通过正在运行的服务调用 /v1/knowledge/reindex",
        )


class BackendError(CopilotError):
    """An LLM or embedding backend failed (timeouts, bad responses)."""

    code = "backend_error"
    status = 502


def first_error(exc) -> tuple[str, str]:
    """(dotted location, message) of a pydantic ``ValidationError``'s first problem."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid"}
    return ".".join(str(x) for x in first["loc"] if x != "body"), first["msg"]


_ZH = {
    "Field required": "必填字段缺失",
    "String should have at least 1 character": "不能为空",
    "Input should be a valid string": "应为文本",
    "Input should be a valid integer": "应为整数",
    "Input should be a valid list": "应为列表",
}


def explain(msg: str) -> str:
    """Chinese for pydantic's most common validation messages (others pass through)."""
    for en, zh in _ZH.items():
        if msg.startswith(en):
            return zh
    m = re.match(r"String should have at most (\d+) characters", msg)
    if m:
        return f"不能超过 {m.group(1)} 字"
    m = re.match(r"List should have at most (\d+) items", msg)
    if m:
        return f"最多 {m.group(1)} 条"
    return msg


def invalid_input(exc) -> InputError:
    """The ``InputError`` every edge shows for a pydantic validation failure: field and reason, in Chinese."""
    loc, msg = first_error(exc)
    return InputError(f"参数不合法：{loc or '请求体'}：{explain(msg)}", message_en=f"invalid {loc or 'body'}: {msg}")
