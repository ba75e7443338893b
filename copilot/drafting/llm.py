"""Chat backends: one interface, a registry keyed by ``"provider:model"``.

``openai:<model>`` talks to any OpenAI-compatible server through the
``openai`` client: OpenAI, DeepSeek, Qwen/DashScope compatible mode, vLLM,
Ollama, llama.cpp. Provider aliases fill in the usual base URL:

| spec | base URL |
|---|---|
| ``openai:gpt-4o-mini`` | settings / ``OPENAI_BASE_URL`` / api.openai.com |
| ``deepseek:deepseek-chat`` | https://api.deepseek.com/v1 |
| ``qwen:qwen-plus`` | https://dashscope.aliyuncs.com/compatible-mode/v1 |
| ``ollama:qwen2.5:7b`` | http://127.0.0.1:11434/v1 |
| ``vllm:<model>`` | http://127.0.0.1:8000/v1 |
| ``llamacpp:<model>`` | http://127.0.0.1:8080/v1 |

``offline`` means no LLM: drafts come from the offline composer.
Every failure becomes a ``BackendError`` so the caller can fall back to the
composer. Two things keep a slow or dead LLM from becoming an outage:

- a ``Budget``: the LLM time one draft request may spend, all its candidates
  and retries together. Each try gets at most the remaining budget as its
  timeout on the wire, a retry only happens while budget remains, and once it
  is spent the caller stops asking.
- a ``CircuitBreaker`` per backend instance, shared by all requests: after a
  run of consecutive failures (timeouts, 5xx, connection errors) calls are
  skipped at once for a cooling period, then one trial call is let through.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, TypeVar

from ..errors import BackendError, ConfigError
from ..settings import Settings
from .budget import MIN_CALL_S, Budget, CircuitBreaker

log = logging.getLogger(__name__)
T = TypeVar("T")

Message = dict[str, str]
JsonMode = Literal["schema", "object", "off"]
JSON_MODES: tuple[JsonMode, ...] = ("schema", "object", "off")

PRESETS: dict[str, str | None] = {
    "openai": None,
    "deepseek": "https://api.deepseek.com/v1",
    "qwen": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
}
LOCAL = {"ollama", "vllm", "llamacpp"}
# services documented to take only {"type": "json_object"}
JSON_OBJECT_ONLY = {"deepseek", "qwen"}


class ChatBackend(ABC):
    """Turns chat messages into a reply.

    ``budget``, when given, bounds the time the call may take (tries and retries together); a backend
    that cannot honour it on the wire may ignore it, the caller still stops asking once it is spent."""

    name: str = "chat"
    streaming: bool = False
    # accepts ``json_schema=`` on complete/stream: asks for a JSON reply of that shape (constrained where the
    # server can; the prompt asks for it anyway). Callers pass it only to backends that say so.
    structured_output: bool = False

    @abstractmethod
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
                 budget: Budget | None = None) -> str:
        """Return the assistant's reply text; raise ``BackendError`` on any failure."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
               budget: Budget | None = None, **kw) -> Iterator[str]:
        """Yield text pieces; the default yields the whole reply at once."""
        yield self.complete(messages, max_tokens=max_tokens, temperature=temperature, budget=budget, **kw)


class OpenAIChat(ChatBackend):
    """An OpenAI-compatible server. Retries are ours, not the client's, so that every try's timeout is
    ``min(timeout, remaining budget)`` and the breaker sees every try.

    ``json_mode`` says how a ``json_schema`` request is put on the wire: ``"schema"`` sends
    ``response_format: {"type": "json_schema", …}`` (OpenAI, vLLM, Ollama, llama.cpp turn it into a grammar),
    ``"object"`` sends ``{"type": "json_object"}``, ``"off"`` sends nothing (the prompt alone asks for JSON).
    A server that rejects the format (400/422) is asked again with the next weaker one, and the one it took is
    kept for this backend's later calls."""

    streaming = True
    structured_output = True

    def __init__(self, model: str, *, base_url: str | None, api_key: str | None, timeout: float, max_retries: int,
                 provider: str = "openai", breaker: CircuitBreaker | None = None,
                 json_mode: JsonMode = "schema") -> None:
        try:
            from openai import OpenAI
        except ImportError as exc:  # pragma: no cover - core dependency
            raise ConfigError("未安装 openai 客户端", message_en="openai is not installed") from exc
        if not model:
            raise ConfigError(
                "请指定模型名，例如 openai:gpt-4o-mini 或 deepseek:deepseek-chat",
                message_en="model name required",
            )
        if not api_key and provider not in LOCAL and not base_url:
            raise ConfigError(
                f"使用 {provider} 需要 API Key",
                message_en=f"{provider} needs an API key",
                hint="设置 OPENAI_API_KEY（或 COPILOT_OPENAI_API_KEY），或在 copilot.toml 中写 openai_api_key",
            )
        self.model = model
        self.name = f"{provider}:{model}"
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.breaker = breaker or CircuitBreaker(trial_ttl_s=timeout * (max_retries + 1) + 5)
        self.json_mode: JsonMode = json_mode
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)

    def _params(self, messages, max_tokens, temperature) -> dict:
        return {"model": self.model, "messages": list(messages), "max_tokens": max_tokens, "temperature": temperature}

    def _formats(self, json_schema: dict | None) -> list[tuple[JsonMode, dict]]:
        """The request parameters to try, strongest JSON constraint first, from what this server last took."""
        if json_schema is None:
            return [("off", {})]
        wire: dict[str, dict] = {
            "schema": {"response_format": {"type": "json_schema",
                                           "json_schema": {"name": "drafts", "schema": json_schema}}},
            "object": {"response_format": {"type": "json_object"}},
            "off": {},
        }
        modes = list(JSON_MODES[JSON_MODES.index(self.json_mode):])
        return [(m, wire[m]) for m in modes]

    def _with_format(self, json_schema: dict | None, call: Callable[[dict], T]) -> T:
        """``call(extra params)``; a format the server rejects (400/422) falls back to the next weaker one."""
        formats = self._formats(json_schema)
        for i, (mode, extra) in enumerate(formats):
            try:
                result = call(extra)
            except BackendError as exc:
                rejected = (exc.details or {}).get("status") in (400, 422)
                if not rejected or i == len(formats) - 1:
                    raise
                log.warning("%s 不接受 response_format=%s，改用更宽松的 JSON 要求重试", self.name, mode)
                continue
            if json_schema is not None and mode != self.json_mode:
                self.json_mode = mode
            return result
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _call(self, once: Callable[[float], T], budget: Budget | None) -> T:
        """``once(timeout)`` with bounded retries under the budget and the breaker."""
        if budget is not None and budget.exhausted:
            raise budget.error()
        if not self.breaker.allow():
            raise self.breaker.error()
        # a timeout counts against the backend only when the try had a fair share of time
        fair = min(self.timeout, budget.total_s) / 2 if budget is not None else 0.0
        attempt = 0
        while True:
            timeout = self.timeout if budget is None else min(self.timeout, budget.remaining())
            try:
                result = once(timeout)
            except Exception as exc:  # openai raises many types: timeouts, status errors, bad JSON
                outage = _is_outage(exc)
                if outage and not (_is_timeout(exc) and timeout < fair):
                    self.breaker.failure()
                elif outage:
                    self.breaker.neutral()
                else:
                    self.breaker.success()  # the server answered: it is up, whatever it said
                backoff = min(0.5 * 2**attempt, 4.0)
                no_time = budget is not None and budget.remaining() - backoff < MIN_CALL_S
                # allow() last: it claims the half-open trial slot, which only a real retry may take
                if no_time or attempt >= self.max_retries or not _is_retryable(exc) or not self.breaker.allow():
                    if budget is not None and _is_timeout(exc) and budget.exhausted:
                        raise budget.error() from None
                    raise _backend_error(self.name, exc) from None
                time.sleep(backoff)
                attempt += 1
                continue
            self.breaker.success()
            return result

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
                 budget: Budget | None = None, json_schema: dict | None = None) -> str:
        params = self._params(messages, max_tokens, temperature)

        def call(extra: dict) -> str:
            def once(timeout: float) -> str:
                resp = self._client.chat.completions.create(**params, **extra, timeout=timeout)
                return (resp.choices[0].message.content or "").strip() if resp.choices else ""

            return self._call(once, budget)

        text = self._with_format(json_schema, call)
        if not text:
            raise BackendError("大模型返回了空内容", message_en=f"{self.name} returned an empty reply")
        return text

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
               budget: Budget | None = None, json_schema: dict | None = None) -> Iterator[str]:
        params = self._params(messages, max_tokens, temperature)
        # the request and its response headers are retried like ``complete``; once text flows, no retry
        chunks = self._with_format(json_schema, lambda extra: self._call(
            lambda timeout: self._client.chat.completions.create(**params, **extra, stream=True, timeout=timeout),
            budget))
        got = False
        with chunks:
            try:
                for chunk in chunks:
                    if budget is not None and budget.remaining() <= 0:
                        # each read waits at most the budget left when the call began; stop once it is spent
                        raise budget.error()
                    if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                        got = True
                        yield chunk.choices[0].delta.content
            except BackendError:
                raise
            except Exception as exc:
                if _is_outage(exc):
                    self.breaker.failure()
                if budget is not None and _is_timeout(exc) and budget.exhausted:
                    raise budget.error() from None
                raise _backend_error(self.name, exc) from None
        if not got:
            raise BackendError("大模型返回了空的流", message_en=f"{self.name} returned an empty stream")


class FakeChat(ChatBackend):
    """Deterministic fake for tests: replies from a script, or fails on demand.

    ``FakeChat(["回复一", "回复二"])`` cycles through the replies; an item that
    is an exception instance is raised instead (wrapped as ``BackendError``).
    Every call's messages are kept in ``calls`` (and its ``json_schema`` in ``schemas``).

    Asked for drafts as JSON (a ``json_schema`` naming the candidates), it obeys like a compliant model: each
    scripted reply is one candidate's text, taken in turn, and the reply is that JSON. A scripted reply that
    already looks like JSON (starts with ``{``, ``[`` or a code fence) is returned as it is, for tests of
    what a real model may send back.
    """

    streaming = True
    structured_output = True

    def __init__(self, replies: Sequence[str | Exception] = ("亲，您好～这是测试回复。",), name: str = "fake:chat") -> None:
        self.replies = list(replies)
        self.name = name
        self.calls: list[list[Message]] = []
        self.schemas: list[dict | None] = []
        self._turn = 0

    def _next(self) -> str | Exception:
        reply = self.replies[self._turn % len(self.replies)]
        self._turn += 1
        return reply

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
                 budget: Budget | None = None, json_schema: dict | None = None) -> str:
        self.calls.append(list(messages))
        self.schemas.append(json_schema)
        reply = self._next()
        if isinstance(reply, Exception):
            raise _backend_error(self.name, reply)
        if not reply:
            raise BackendError("大模型返回了空内容", message_en="empty reply")
        keys = _draft_keys(json_schema)
        if not keys or reply.lstrip().startswith(("{", "[", "```")):
            return reply
        texts = [reply, *(self._next() for _ in keys[1:])]
        drafts = [{"strategy": k, "text": t} for k, t in zip(keys, texts) if isinstance(t, str)]
        return json.dumps({"drafts": drafts}, ensure_ascii=False)

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3,
               budget: Budget | None = None, json_schema: dict | None = None) -> Iterator[str]:
        text = self.complete(messages, max_tokens=max_tokens, temperature=temperature, budget=budget,
                             json_schema=json_schema)
        for i in range(0, len(text), 4):
            yield text[i : i + 4]


def _draft_keys(json_schema: dict | None) -> list[str]:
    """The candidate ids a drafts schema asks for, in order (see ``prompting.drafts_schema``)."""
    try:
        drafts = json_schema["properties"]["drafts"]  # type: ignore[index]
        keys = drafts["items"]["properties"]["strategy"]["enum"]
        n = int(drafts.get("minItems", len(keys)))
    except (TypeError, KeyError, ValueError):
        return []
    return [keys[i % len(keys)] if i < len(keys) else f"{keys[i % len(keys)]}#{i // len(keys) + 1}"
            for i in range(n)] if keys else []


def _backend_error(name: str, exc: Exception) -> BackendError:
    kind = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if "Timeout" in kind:
        zh = "大模型响应超时"
    elif status:
        zh = f"大模型服务返回错误 {status}"
    elif "Connection" in kind:
        zh = "无法连接大模型服务"
    else:
        zh = f"大模型调用失败（{kind}）"
    return BackendError(zh, message_en=f"{name}: {kind}: {exc}"[:500],
                        details={"status": status} if isinstance(status, int) else None)


def _is_timeout(exc: Exception) -> bool:
    return "Timeout" in type(exc).__name__


def _is_outage(exc: Exception) -> bool:
    """Timeouts, 5xx and connection errors say the service is down; other errors come from a live server."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status >= 500
    return _is_timeout(exc) or "Connection" in type(exc).__name__


def _is_retryable(exc: Exception) -> bool:
    """What the openai client itself would retry: outages, 408, 409 and 429."""
    return _is_outage(exc) or getattr(exc, "status_code", None) in (408, 409, 429)


_REGISTRY: dict[str, Callable[[str, Settings], ChatBackend | None]] = {}


def register(*providers: str) -> Callable:
    def deco(factory):
        for p in providers:
            _REGISTRY[p] = factory
        return factory

    return deco


@register(*PRESETS)
def _openai_compatible(spec: str, settings: Settings) -> ChatBackend:
    provider, _, model = spec.partition(":")
    base_url = settings.openai_base_url or PRESETS[provider]
    return OpenAIChat(
        model or settings.openai_model or "",
        base_url=base_url,
        api_key=settings.openai_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        provider=provider,
        json_mode="object" if provider in JSON_OBJECT_ONLY else "schema",
        breaker=CircuitBreaker(
            settings.llm_breaker_failures, settings.llm_breaker_cooldown_s,
            trial_ttl_s=settings.llm_timeout_s * (settings.llm_max_retries + 1) + 5,
        ),
    )


@register("fake")
def _fake(spec: str, settings: Settings) -> ChatBackend:
    _, _, reply = spec.partition(":")
    return FakeChat([reply or "亲，您好～这是测试回复。"])


@register("offline")
def _offline(spec: str, settings: Settings) -> None:
    return None


def get_backend(settings: Settings, spec: str | None = None) -> ChatBackend | None:
    """The configured chat backend, or ``None`` for the offline composer."""
    spec = (spec or settings.llm or "offline").strip()
    provider = spec.partition(":")[0]
    if provider not in _REGISTRY:
        raise ConfigError(
            f"未知的大模型后端：{spec}",
            message_en=f"unknown LLM backend {spec!r}",
            hint="可用：offline、" + "、".join(f"{p}:<模型名>" for p in PRESETS),
        )
    return _REGISTRY[provider](spec, settings)
