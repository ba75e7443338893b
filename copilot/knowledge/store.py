"""The vector store: generations of a Chroma collection behind an atomic pointer.

Each ingest builds a complete new collection (a *generation*) and only then
moves the ``active`` pointer to it, so a failed or killed ingest never leaves
a half-written index that queries would use. The pointer lives in Chroma
itself (the metadata of a tiny registry collection), so it works the same for
the embedded ``PersistentClient`` and for a shared Chroma server
(``chroma run``) used by several API workers. The previous generation is kept
until the next ingest, so queries that started before a swap still finish.

Chroma is thread-safe but not process-safe: one process owns a persistent
data dir. Writers take an exclusive lock on ``<data_dir>/.lock``.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..errors import (
    ConfigError,
    IndexBusyError,
    IndexMissingError,
    IndexUnavailableError,
    ReadOnlyError,
)
from ..schema import Chunk
from ..settings import Settings
from .layout import is_store_lexicon

REGISTRY = "copilot_registry"


def writable(directory: Path) -> bool:
    """Can this process create files in ``directory``? (As root only a read-only mount says no.)"""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False
SCHEMA = "1"


@dataclass
class Generation:
    """One complete, immutable-once-active index collection."""

    collection: object
    name: str
    embedder: str
    dim: int
    chunker: str
    manifest: dict[str, str] = field(default_factory=dict)
    built_at: str = ""
    count: int = 0
    # the store files this generation was built from (every catalog file and the lexicon, as a JSON bundle; one
    # plain catalog YAML in generations built before): drafts and checks use them, not the files on disk
    catalog: str = ""

    @classmethod
    def from_collection(cls, col) -> "Generation":
        meta = col.metadata or {}
        return cls(
            collection=col,
            name=col.name,
            embedder=meta.get("embedder", ""),
            dim=int(meta.get("dim", 0)),
            chunker=meta.get("chunker", ""),
            manifest=json.loads(meta.get("manifest", "{}")),
            built_at=meta.get("built_at", ""),
            count=int(meta.get("count", 0)),
            catalog=meta.get("catalog", ""),
        )

    @property
    def store_files(self) -> dict[str, str]:
        """The store files kept with this generation, by path (``store/catalog.yaml`` → its text)."""
        from .catalog_io import generation_files

        return generation_files(self.catalog)

    @property
    def lexicon_text(self) -> str:
        """The store lexicon kept with this generation ("" when the store has none)."""
        return next((text for rel, text in sorted(self.store_files.items()) if is_store_lexicon(rel)), "")

    def add(self, chunks: list[Chunk], embeddings: np.ndarray, batch: int) -> None:
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self.collection.add(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
                embeddings=np.asarray(embeddings[i : i + batch], np.float32),
            )

    def iter_records(self, *, embeddings: bool = False, page: int = 2000) -> Iterator[tuple[list, list, list, object]]:
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["documents"], got["metadatas"], got.get("embeddings")
            offset += len(got["ids"])

    def embeddings_for(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(e, np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def query(self, vector: np.ndarray, n: int) -> tuple[list[str], np.ndarray]:
        n = max(1, min(n, self.count or n))
        res = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        # cosine space: distance = 1 - cosine
        return res["ids"][0], 1.0 - np.asarray(res["distances"][0], np.float32)

    def finalize(self) -> None:
        self.collection.modify(metadata=self._meta())

    def _meta(self) -> dict:
        return {
            "copilot": SCHEMA,
            "embedder": self.embedder,
            "dim": self.dim,
            "chunker": self.chunker,
            "manifest": json.dumps(self.manifest, ensure_ascii=False, sort_keys=True),
            "built_at": self.built_at,
            "count": self.count,
            "catalog": self.catalog,
        }


class VectorStore:
    """Chroma client plus the generation registry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = None
        self._lock = threading.Lock()
        self.read_only = False  # the local index dir is not writable: queries run on a snapshot

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_dir)

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_url:
            url = urlparse(self.settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigError(
                    f"Chroma 服务地址不合法：{self.settings.chroma_url}",
                    message_en="chroma_url must look like http://127.0.0.1:8001",
                    hint="例如 COPILOT_CHROMA_URL=http://127.0.0.1:8001",
                )
            try:
                return chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 80),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            except Exception as exc:
                raise IndexUnavailableError(
                    f"无法连接 Chroma 服务 {self.settings.chroma_url}：{exc}",
                    message_en=f"cannot reach chroma server at {self.settings.chroma_url}",
                    hint="确认 chroma run 已启动，或去掉 chroma_url 使用内嵌存储",
                ) from None
        path = self.settings.chroma_dir
        if path.is_dir() and not writable(path):
            # Chroma writes to its files even to read them: serve queries from a private snapshot of the index,
            # and refuse every write with a clear 503 (the read-only directory itself is never touched)
            self.read_only = True
            snapshot = Path(tempfile.mkdtemp(prefix="copilot-readonly-index-"))
            atexit.register(shutil.rmtree, snapshot, True)
            shutil.copytree(path, snapshot, dirs_exist_ok=True)
            path = snapshot
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise IndexUnavailableError(
                f"无法打开索引目录 {path}：{exc}",
                message_en=f"cannot open index dir {path}: {exc}",
                hint=f"检查目录权限；索引可随时重建：删除 {path} 后运行 copilot ingest --rebuild（知识源文件不受影响）",
            ) from None

    # ---------------------------------------------------------- registry ---

    def _registry(self):
        return self.client.get_or_create_collection(REGISTRY, embedding_function=None, metadata={"active": ""})

    def active_name(self) -> str:
        return (self._registry().metadata or {}).get("active", "")

    def open_active(self) -> Generation | None:
        name = self.active_name()
        if not name:
            return None
        try:
            return Generation.from_collection(self.client.get_collection(name, embedding_function=None))
        except Exception:
            return None

    def require_active(self) -> Generation:
        gen = self.open_active()
        if gen is None:
            raise IndexMissingError(self.where)
        return gen

    def new_generation(self, *, embedder: str, dim: int, chunker: str) -> Generation:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"{self.settings.collection_prefix}-{stamp}-{secrets.token_hex(3)}"
        col = self.client.create_collection(
            name, embedding_function=None, metadata={"copilot": SCHEMA, "building": True},
            configuration={"hnsw": {"space": "cosine"}},
        )
        return Generation(collection=col, name=name, embedder=embedder, dim=dim, chunker=chunker,
                          built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def activate(self, gen: Generation) -> None:
        """Atomically point queries at ``gen``; keep the previous one, drop older ones."""
        gen.finalize()
        previous = self.active_name()
        self._registry().modify(metadata={"active": gen.name, "previous": previous or ""})
        self.collect_garbage(keep={gen.name, previous})

    def collect_garbage(self, keep: set[str]) -> list[str]:
        dropped = []
        prefix = self.settings.collection_prefix + "-"
        for col in self.client.list_collections():
            name = getattr(col, "name", col)
            if name.startswith(prefix) and name not in keep:
                self.client.delete_collection(name)
                dropped.append(name)
        return dropped

    def quarantine(self) -> Path | None:
        """Move an unreadable local index aside (never deleted) so a rebuild can start clean."""
        if self.settings.chroma_url or not self.settings.chroma_dir.exists():
            return None
        target = self.settings.chroma_dir.with_name(f"chroma.broken-{datetime.now():%Y%m%d-%H%M%S}")
        self.settings.chroma_dir.rename(target)
        self._client = None
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # chroma caches one system per path; the broken one must go
        return target

    def max_batch(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:
            return 1000

    # -------------------------------------------------------------- lock ---

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Exclusive writer lock on the local data dir (no-op for a Chroma server)."""
        if self.settings.chroma_url:
            yield
            return
        path = Path(self.settings.data_dir) / ".lock"
        try:
            if self.read_only:
                raise OSError(30, "只读")
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ReadOnlyError(
                f"数据目录不可写：{self.settings.data_dir}（{exc.strerror or exc}），不能重建索引",
                message_en=f"data dir {self.settings.data_dir} is not writable: {exc}",
                hint="检查目录权限或磁盘空间；查询和起草仍使用现有索引，知识源文件不受影响",
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(str(self.settings.data_dir)) from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            os.close(fd)
