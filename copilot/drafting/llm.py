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
Timeouts are interactive (seconds), retries bounded; every failure becomes a
``BackendError`` so the caller can fall back to the composer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

from ..errors import BackendError, ConfigError
from ..settings import Settings

Message = dict[str, str]

PRESETS: dict[str, str | None] = {
    "openai": None,
    "deepseek": "https://api.deepseek.com/v1",
    "qwen": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "vllm": "http://127.0.0.1:8000/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
}
LOCAL = {"ollama", "vllm", "llamacpp"}


class ChatBackend(ABC):
    """Turns chat messages into a reply."""

    name: str = "chat"
    streaming: bool = False
    structured_output: bool = False

    @abstractmethod
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> str:
        """Return the assistant's reply text; raise ``BackendError`` on any failure."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> Iterator[str]:
        """Yield text pieces; the default yields the whole reply at once."""
        yield self.complete(messages, max_tokens=max_tokens, temperature=temperature)


class OpenAIChat(ChatBackend):
    streaming = True
    structured_output = True

    def __init__(self, model: str, *, base_url: str | None, api_key: str | None, timeout: float, max_retries: int,
                 provider: str = "openai") -> None:
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
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=max_retries
        )

    def _params(self, messages, max_tokens, temperature) -> dict:
        return {"model": self.model, "messages": list(messages), "max_tokens": max_tokens, "temperature": temperature}

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> str:
        try:
            resp = self._client.chat.completions.create(**self._params(messages, max_tokens, temperature))
            text = (resp.choices[0].message.content or "").strip() if resp.choices else ""
        except Exception as exc:  # openai raises many types: timeouts, status errors, bad JSON
            raise _backend_error(self.name, exc) from None
        if not text:
            raise BackendError("大模型返回了空内容", message_en=f"{self.name} returned an empty reply")
        return text

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> Iterator[str]:
        got = False
        try:
            for chunk in self._client.chat.completions.create(
                **self._params(messages, max_tokens, temperature), stream=True
            ):
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    got = True
                    yield chunk.choices[0].delta.content
        except Exception as exc:
            raise _backend_error(self.name, exc) from None
        if not got:
            raise BackendError("大模型返回了空的流", message_en=f"{self.name} returned an empty stream")


class FakeChat(ChatBackend):
    """Deterministic fake for tests: replies from a script, or fails on demand.

    ``FakeChat(["回复一", "回复二"])`` cycles through the replies; an item that
    is an exception instance is raised instead (wrapped as ``BackendError``).
    Every call's messages are kept in ``calls``.
    """

    streaming = True

    def __init__(self, replies: Sequence[str | Exception] = ("亲，您好～这是测试回复。",), name: str = "fake:chat") -> None:
        self.replies = list(replies)
        self.name = name
        self.calls: list[list[Message]] = []

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> str:
        self.calls.append(list(messages))
        reply = self.replies[(len(self.calls) - 1) % len(self.replies)]
        if isinstance(reply, Exception):
            raise _backend_error(self.name, reply)
        if not reply:
            raise BackendError("大模型返回了空内容", message_en="empty reply")
        return reply

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 400, temperature: float = 0.3) -> Iterator[str]:
        text = self.complete(messages, max_tokens=max_tokens, temperature=temperature)
        for i in range(0, len(text), 4):
            yield text[i : i + 4]


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
    return BackendError(zh, message_en=f"{name}: {kind}: {exc}"[:500])


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
