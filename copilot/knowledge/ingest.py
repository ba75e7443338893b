"""Ingestion: knowledge files → chunks → embeddings → a new index generation.

Incremental by content hash: files whose bytes (and the chunking settings)
are unchanged keep their chunks and embeddings; changed files are re-chunked
and only chunks with new content are embedded; removed files disappear. When
nothing changed, no embedding is computed and no generation is written.

Safe: the new generation becomes active only once complete (see ``store``).
A file that fails to load is reported with its path and reason while the rest
ingests; if an earlier version of it was indexed, that version is kept.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import (
    ConfigError,
    CopilotError,
    IndexUnavailableError,
    KnowledgeFileError,
    TooMuchKnowledgeError,
)
from ..schema import Chunk
from ..settings import Settings
from ..text.chunking import ChunkerConfig
from .catalog_io import bundle, parse_catalog
from .embedders import Embedder, get_embedder
from .layout import is_store_catalog, is_store_lexicon, kind_of
from .loaders import decode, faq_csv_warnings, load_file, scan
from .store import Generation, VectorStore

# c2: knowledge sanitised on every path; the catalog is kept with the generation
# c3: open catalogs (a store's own fields, variants, units), every catalog file and the lexicon kept with it
CLEANING_VERSION = "c3"
MAX_WARNINGS_SHOWN = 10
Progress = Callable[[str, int, int], None]


@dataclass
class FileProblem:
    path: str
    reason: str
    kept_previous: bool = False


@dataclass
class IngestReport:
    files: int = 0
    files_changed: list[str] = field(default_factory=list)
    files_unchanged: int = 0
    files_removed: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    flagged: list[tuple[str, str]] = field(default_factory=list)  # (file, instruction-like text removed)
    chunks: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    embeddings_computed: int = 0
    generation: str = ""
    swapped: bool = False
    embedder: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # loaded, but worth a look: a store's own fields, unknown SKUs
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"知识文件 {self.files} 个：变更 {len(self.files_changed)}，未变 {self.files_unchanged}，"
            f"删除 {len(self.files_removed)}，出错 {len(self.problems)}",
            f"知识块 {self.chunks} 个：新增 {self.chunks_added}，移除 {self.chunks_removed}；"
            f"计算嵌入 {self.embeddings_computed} 次（模型 {self.embedder}）",
        ]
        lines.append(f"索引已切换到 {self.generation}" if self.swapped else f"索引无变化（{self.generation or '无'}）")
        lines += [f"注意：{n}" for n in self.notes]
        for path, text in self.flagged[:10]:
            lines.append(f"已移除疑似指令注入的内容：{path}：{text}")
        lines += [f"提示：{w}" for w in self.warnings[:MAX_WARNINGS_SHOWN]]
        if len(self.warnings) > MAX_WARNINGS_SHOWN:
            lines.append(f"提示：另有 {len(self.warnings) - MAX_WARNINGS_SHOWN} 条提示未列出")
        for p in self.problems:
            kept = "（沿用上次成功导入的版本）" if p.kept_previous else ""
            lines.append(f"错误：{p.path}：{p.reason}{kept}")
        lines.append(f"用时 {self.seconds:.2f} 秒")
        return "\n".join(lines)


def config_fingerprint(settings: Settings) -> str:
    cfg = ChunkerConfig(target=settings.chunk_size, overlap=settings.chunk_overlap)
    return f"{cfg.fingerprint()}-{CLEANING_VERSION}"


def _catalog_text(files: list[tuple[Path, str]], report: "IngestReport", old: Generation | None) -> str:
    """The store files the new generation serves (every catalog file and the lexicon, as a ``bundle``): each as
    indexed, or its previous version if it is broken now; "" when the store has none."""
    previous = old.store_files if old is not None else {}
    broken = {p.path for p in report.problems}
    texts: dict[str, str] = {}
    for path, rel in files:
        if not (is_store_catalog(rel) or is_store_lexicon(rel)):
            continue
        if rel in broken:
            if rel in previous:
                texts[rel] = previous[rel]
            continue
        texts[rel] = decode(path.read_bytes(), rel)
    return bundle(texts) if texts else ""


def _warnings(catalog_text: str, files: list[tuple[Path, str]], manifest: dict[str, str]) -> list[str]:
    """The merged catalog's warnings, and the FAQ exports' unknown columns and SKUs the catalog lacks."""
    out: list[str] = []
    skus: set[str] | None = None
    if catalog_text:
        try:
            catalog = parse_catalog(catalog_text)
            out += catalog.warnings
            skus = {p.sku.lower() for p in catalog.products}
        except CopilotError:
            skus = None  # reported as the file's problem
    for path, rel in files:
        if rel in manifest and kind_of(rel) == "faq_csv":
            try:
                out += faq_csv_warnings(decode(path.read_bytes(), rel), rel, skus)
            except (CopilotError, OSError):
                continue
    return list(dict.fromkeys(out))


def too_many_chunks(n: int, limit: int) -> str:
    return f"切出 {n} 个知识块（CSV 每行、目录里每个商品和每条问答各算一个），超过单个文件的上限 {limit} 个"


def ingest(
    settings: Settings,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with ``settings.knowledge_dir``."""
    t0 = time.perf_counter()
    kdir = settings.knowledge_dir
    if not kdir.is_dir():
        raise ConfigError(
            f"知识目录不存在：{kdir}",
            message_en=f"knowledge dir {kdir} does not exist",
            hint="在项目根目录运行，或用 --knowledge-dir / COPILOT_KNOWLEDGE_DIR 指定",
        )
    store = store or VectorStore(settings)
    emb = embedder or get_embedder(settings.embedder)
    cfg = ChunkerConfig(target=settings.chunk_size, overlap=settings.chunk_overlap)
    fingerprint = config_fingerprint(settings)
    report = IngestReport(embedder=emb.name)
    files = scan(kdir)
    report.files = len(files)
    hashes = {rel: hashlib.sha256(path.read_bytes()).hexdigest() for path, rel in files}

    with store.write_lock():
        if rebuild:
            try:
                store.client
            except IndexUnavailableError:
                moved = store.quarantine()  # a corrupt index: keep it for inspection, build a fresh one
                if moved is None:
                    raise
                report.notes.append(f"原索引无法打开，已移到 {moved} 并全量重建")
        old = None if rebuild else store.open_active()
        if old is not None and old.embedder != emb.name:
            report.notes.append(f"索引原由 {old.embedder} 建立，已改用 {emb.name} 全量重建")
            old_reusable = False
        else:
            old_reusable = old is not None
        same_config = old_reusable and old.chunker == fingerprint
        if same_config and old.manifest == hashes:
            report.files_unchanged = len(files)
            report.chunks = old.count
            report.generation = old.name
            report.seconds = time.perf_counter() - t0
            return report

        # what the previous generation holds, by source file
        old_chunks: dict[str, list[Chunk]] = defaultdict(list)
        old_vecs: dict[str, np.ndarray] = {}
        if old_reusable:
            for ids, docs, metas, embs in old.iter_records(embeddings=True):
                for i, d, m, e in zip(ids, docs, metas, embs):
                    c = Chunk.from_record(i, d, m)
                    old_chunks[c.source].append(c)
                    old_vecs[i] = np.asarray(e, np.float32)

        chunks: list[Chunk] = []
        manifest: dict[str, str] = {}
        for n, (path, rel) in enumerate(files):
            if progress:
                progress("读取文件", n, len(files))
            if same_config and old.manifest.get(rel) == hashes[rel]:
                chunks += old_chunks.get(rel, [])
                manifest[rel] = hashes[rel]
                report.files_unchanged += 1
                continue
            try:
                loaded = load_file(path, rel, cfg)
            except KnowledgeFileError as exc:
                # a lexicon has no chunks: its previous version is the text kept with the generation
                kept = rel in old_chunks or (is_store_lexicon(rel) and old is not None and rel in old.store_files)
                report.problems.append(FileProblem(rel, exc.reason, kept_previous=kept))
                if kept:
                    chunks += old_chunks[rel]
                    manifest[rel] = old.manifest.get(rel, "")
                continue
            if len(loaded) > settings.max_file_chunks:
                kept = rel in old_chunks
                report.problems.append(FileProblem(rel, too_many_chunks(len(loaded), settings.max_file_chunks),
                                                   kept_previous=kept))
                if kept:
                    chunks += old_chunks[rel]
                    manifest[rel] = old.manifest.get(rel, "")
                continue
            chunks += loaded
            report.flagged += [(rel, f) for c in loaded for f in c.flags]
            manifest[rel] = hashes[rel]
            report.files_changed.append(rel)
        report.files_removed = sorted(set(old.manifest) - set(hashes)) if old_reusable else []

        unique: dict[str, Chunk] = {}
        for c in chunks:
            unique.setdefault(c.id, c)
        chunks = list(unique.values())
        if not chunks:
            raise ConfigError(
                "没有可导入的知识：所有文件都为空或出错",
                message_en="nothing to ingest: every knowledge file is empty or failed",
                hint="\n".join(f"{p.path}：{p.reason}" for p in report.problems) or f"向 {kdir} 添加文档",
            )
        if len(chunks) > settings.max_index_chunks:  # checked before any embedding: the active index stays
            raise TooMuchKnowledgeError(
                f"知识库共 {len(chunks)} 个知识块，超过一次导入的上限 {settings.max_index_chunks} 个，索引未更新",
                message_en=f"{len(chunks)} chunks exceed max_index_chunks={settings.max_index_chunks}",
                hint="删减或拆分知识文件，或调大设置 max_index_chunks（COPILOT_MAX_INDEX_CHUNKS）",
            )
        old_ids = set(old_vecs)
        new_ids = set(unique)
        report.chunks = len(chunks)
        report.chunks_added = len(new_ids - old_ids)
        report.chunks_removed = len(old_ids - new_ids)
        catalog = _catalog_text(files, report, old)
        report.warnings = _warnings(catalog, files, manifest)
        if (old_reusable and not report.chunks_added and not report.chunks_removed and old.manifest == manifest
                and old.chunker == fingerprint and old.catalog == catalog):
            report.generation = old.name
            report.seconds = time.perf_counter() - t0
            return report

        need = [c for c in chunks if c.id not in old_vecs]
        vectors = dict(old_vecs)
        step = max(emb.batch_size, 64)
        for i in range(0, len(need), step):
            if progress:
                progress("计算嵌入", i, len(need))
            part = need[i : i + step]
            for c, v in zip(part, emb.embed_documents([c.embed_text() for c in part])):
                vectors[c.id] = v
        report.embeddings_computed = len(need)
        if progress:
            progress("计算嵌入", len(need), len(need))

        gen = store.new_generation(embedder=emb.name, dim=emb.dim, chunker=fingerprint)
        try:
            matrix = np.vstack([vectors[c.id] for c in chunks])
            gen.add(chunks, matrix, store.max_batch())
            gen.count = len(chunks)
            gen.manifest = manifest
            gen.catalog = catalog
            store.activate(gen)
        except BaseException:
            try:
                store.client.delete_collection(gen.name)
            except Exception:
                pass
            raise
        report.generation = gen.name
        report.swapped = True
        report.seconds = time.perf_counter() - t0
        return report


__all__ = ["ingest", "IngestReport", "FileProblem", "CopilotError"]
