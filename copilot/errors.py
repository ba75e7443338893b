"""User-facing errors.

Every error the user can cause carries a Chinese message, an English message,
a stable machine code, an HTTP status for the API edge, and (where there is
one) a hint that says how to fix it. Edges (CLI, HTTP, UI) render these; they
never show a traceback for a ``CopilotError``.
"""

from __future__ import annotations


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
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en
        self.hint = hint
        self.details = details
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
        if self.details:
            body["details"] = self.details
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


class TooMuchKnowledgeError(PayloadTooLargeError):
    """A file or a reindex holds more knowledge chunks than the configured caps."""

    code = "too_much_knowledge"


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


class ReadOnlyError(CopilotError):
    """A write (reindex, upload, feedback) to a directory mounted or marked read-only."""

    code = "read_only"
    status = 503


class BackendError(CopilotError):
    """An LLM or embedding backend failed (timeouts, bad responses)."""

    code = "backend_error"
    status = 502


def first_error(exc) -> tuple[str, str]:
    """(dotted location, message) of a pydantic ``ValidationError``'s first problem."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid"}
    return ".".join(str(x) for x in first["loc"] if x != "body"), first["msg"]


# the fields users send, in Chinese (the id stays in parentheses for the developer)
FIELD_LABELS = {
    "message": "买家消息", "history": "对话记录", "role": "角色", "text": "内容", "product_sku": "商品货号",
    "persona": "买家类型", "stage": "阶段", "emotion": "情绪", "n": "草稿数量", "now": "当前时间", "reply": "回复",
    "facts": "事实", "stock": "库存", "low_stock_threshold": "库存紧张阈值", "promotions": "活动", "next_price": "调价",
    "query": "检索问题", "k": "返回条数", "kind": "知识类型", "sku": "货号", "rebuild": "全量重建", "action": "操作",
    "draft_text": "草稿文本", "final_text": "实际发出的文本", "reason": "原因", "strategy": "策略",
    "persona_detected": "识别的买家类型", "persona_override": "手动指定的买家类型", "limit": "条数",
}


def _field(loc: tuple) -> str:
    parts = [str(x) for x in loc if x != "body"]
    if not parts:
        return "请求体"
    if not any(p in FIELD_LABELS for p in parts):
        return f"字段 {'.'.join(parts)}"
    named = [FIELD_LABELS.get(p, p) if not p.isdigit() else f"第 {int(p) + 1} 条" for p in parts]
    return f"{''.join(named)}（{'.'.join(parts)}）"


def explain_error(err: dict) -> str:
    """Chinese for one pydantic error, from its type and context (never pydantic's English text)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "value_error":  # our own validators raise Chinese ValueErrors
        return str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
    simple = {
        "missing": "必填字段缺失", "extra_forbidden": "不认识的字段（请检查拼写，或删去该字段）",
        "string_type": "应为文本", "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
        "float_type": "应为数字", "float_parsing": "应为数字", "bool_type": "应为 true 或 false",
        "bool_parsing": "应为 true 或 false", "list_type": "应为列表", "dict_type": "应为对象（{…}）",
        "model_type": "应为对象（{…}）", "model_attributes_type": "应为对象（{…}）",
        "datetime_type": "应为 ISO 8601 时间", "datetime_parsing": "应为 ISO 8601 时间，例如 2026-11-23T12:00:00+08:00",
        "datetime_from_date_parsing": "应为 ISO 8601 时间，例如 2026-11-23T12:00:00+08:00",
        "json_invalid": "不是合法的 JSON", "string_unicode": "含有无法识别的字符", "none_required": "应为空",
        "url_parsing": "不是合法的网址",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 字"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 字"
    if kind == "too_short":
        return f"至少 {ctx.get('min_length')} 条"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 条"
    bounds = {"greater_than_equal": ("不能小于", "ge"), "greater_than": ("必须大于", "gt"),
              "less_than_equal": ("不能大于", "le"), "less_than": ("必须小于", "lt")}
    if kind in bounds:
        word, key = bounds[kind]
        return f"{word} {ctx.get(key)}"
    if kind in ("literal_error", "enum"):
        return f"只能是 {ctx.get('expected', '')}".replace(" or ", " 或 ")
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    return "取值不合法"


def first_error_zh(exc) -> tuple[str, str]:
    """(field in Chinese, reason in Chinese) of a pydantic ``ValidationError``'s first problem."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "type": ""}
    return _field(tuple(first["loc"])), explain_error(first)


def invalid_input(exc) -> InputError:
    """The ``InputError`` every edge shows for a pydantic validation failure: field and reason, in Chinese.

    The English of pydantic goes to ``message_en`` only."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid", "type": ""}
    loc, msg = first_error(exc)
    more = f"（另有 {len(errors) - 1} 处问题）" if len(errors) > 1 else ""
    return InputError(f"参数不合法：{_field(tuple(first['loc']))}：{explain_error(first)}{more}",
                      message_en=f"invalid {loc or 'body'}: {msg}")
