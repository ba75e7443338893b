"""Hybrid retrieval: dense (Chroma) + lexical (character n-gram TF-IDF), fused.

``score = dense_weight * cosine(query, chunk) + lexical_weight * tfidf_cosine``

Both parts are cosines in [0, 1], so a weighted sum needs no rank tricks;
the weights and the no-answer threshold are tuned on
``evals/retrieval.jsonl`` (see ``copilot eval retrieval``).

Filters (``kind``, ``sku``) are applied without Chroma ``where`` clauses
(a broad ``where`` filter is slow at 100k items): narrow filters score their
few chunks exactly, broad ones over-fetch and post-filter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import EmbedderMismatchError, InputError
from ..knowledge.calibration import CalibrationStore
from ..knowledge.embedders import Embedder, get_embedder
from ..knowledge.store import Generation, VectorStore
from ..schema import KINDS, Chunk, Hit, SearchResult
from ..settings import Settings
from .lexical import LexicalIndex
from .lexicon import Lexicon, ProductMatcher

Mode = Literal["hybrid", "dense", "lexical"]
MAX_QUERY_CHARS = 2000
EXACT_SUBSET = 512  # filters matching at most this many chunks are scored exactly
EXACT_ALL = 20_000  # indexes this small are scored exactly in memory


@dataclass
class LoadedIndex:
    """An active generation plus its in-memory mirror (texts, metadata, lexical index)."""

    generation: Generation
    chunks: list[Chunk]
    kinds: np.ndarray
    skus: np.ndarray
    row_of: dict[str, int]
    ref_of: dict[str, int]  # first row of each knowledge ref (e.g. product/<SKU>)
    lexical: LexicalIndex
    products: ProductMatcher
    vectors: np.ndarray | None = None  # all chunk embeddings in row order, kept when the index is small

    def vectors_for(self, rows) -> dict[int, np.ndarray] | None:
        if self.vectors is None:
            return None
        return {int(r): self.vectors[int(r)] for r in rows}

    @classmethod
    def load(cls, gen: Generation, analyzer: str, keep_vectors_below: int = 50_000) -> "LoadedIndex":
        chunks: list[Chunk] = []
        vecs: list = []
        keep = gen.count <= keep_vectors_below
        for ids, docs, metas, embs in gen.iter_records(embeddings=keep):
            chunks += [Chunk.from_record(i, d, m) for i, d, m in zip(ids, docs, metas)]
            if keep:
                vecs.append(np.asarray(embs, np.float32))
        return cls(
            vectors=np.vstack(vecs) if keep and vecs else None,
            generation=gen,
            chunks=chunks,
            kinds=np.array([c.kind for c in chunks], dtype=object),
            skus=np.array([c.sku.lower() for c in chunks], dtype=object),
            row_of={c.id: i for i, c in enumerate(chunks)},
            ref_of={c.ref: i for i, c in reversed(list(enumerate(chunks)))},
            lexical=LexicalIndex([c.embed_text() for c in chunks], analyzer),
            products=ProductMatcher([c for c in chunks if c.kind == "product"]),
        )

    def mask(self, kind: Sequence[str] | None, sku: str | None) -> np.ndarray | None:
        if not kind and not sku:
            return None
        m = np.ones(len(self.chunks), bool)
        if kind:
            m &= np.isin(self.kinds, list(kind))
        if sku:
            m &= self.skus == sku.strip().lower()
        return m


class Retriever:
    """Searches the active index; reloads itself when an ingest swaps generations."""

    def __init__(self, settings: Settings, store: VectorStore | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store or VectorStore(settings)
        self._embedder = embedder
        self._index: LoadedIndex | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self.lexicon = Lexicon.load(settings.lexicon_path)
        self.calibration = CalibrationStore(settings)  # the store's no-answer threshold, by generation

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder)
        return self._embedder

    def index(self) -> LoadedIndex:
        """The loaded active generation; checks the pointer at most once a second."""
        now = time.monotonic()
        idx = self._index
        if idx is not None and now - self._checked < 1.0:
            return idx
        embedder = self.embedder  # a bad embedder setting is reported before anything else
        with self._lock:
            self._checked = now
            active = self.store.active_name()
            if self._index is None or self._index.generation.name != active:
                gen = self.store.require_active()
                if gen.embedder != embedder.name:
                    raise EmbedderMismatchError(gen.embedder, embedder.name)
                self._index = LoadedIndex.load(gen, self.settings.lexical_analyzer)
                # the store's own buyer vocabulary, as indexed with this generation, joins the built-in table
                self.lexicon = Lexicon.for_generation(gen, self.settings.lexicon_path)
            return self._index

    @property
    def no_answer_threshold(self) -> float:
        """The no-answer threshold for the served index: an explicit user setting, else the store's calibration for
        this generation (``knowledge.calibration``), else the setting's default. Search, drafting, the knowledge-gap
        report and the retrieval eval all use this one value."""
        return self.calibration.threshold(self.index().generation.name)

    def reload(self) -> None:
        with self._lock:
            self._index = None
            self._checked = 0.0

    def chunk_by_ref(self, ref: str) -> Chunk | None:
        idx = self.index()
        row = idx.ref_of.get(ref)
        return idx.chunks[row] if row is not None else None

    # ----------------------------------------------------------- search ---

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        kind: Sequence[str] | str | None = None,
        sku: str | None = None,
        context: Sequence[str] = (),
        mode: Mode = "hybrid",
        dense_weight: float | None = None,
        expand: bool | None = None,
        scoping: bool = True,
    ) -> SearchResult:
        query = validate_query(query)
        if not 1 <= k <= 50:
            raise InputError(f"k 必须在 1 到 50 之间，收到 {k}", message_en="k must be within 1..50")
        kinds = [kind] if isinstance(kind, str) else list(kind or [])
        unknown = [x for x in kinds if x not in KINDS]
        if unknown:
            raise InputError(
                f"未知的知识类型：{'、'.join(unknown)}（可用：{'、'.join(KINDS)}）",
                message_en=f"unknown kind {unknown}; use one of {KINDS}",
            )
        t0 = time.perf_counter()
        idx = self.index()
        timings: dict[str, float] = {}
        wd = self.settings.dense_weight if dense_weight is None else dense_weight
        wl = self.settings.lexical_weight if dense_weight is None else 1.0 - dense_weight
        if mode == "dense":
            wd, wl = 1.0, 0.0
        elif mode == "lexical":
            wd, wl = 0.0, 1.0
        mask = idx.mask(kinds, sku)
        n = len(idx.chunks)
        cand = self.settings.candidate_k

        # lexical side: cosine against every chunk, restricted by the filter
        expand = self.settings.query_expansion if expand is None else expand
        lex_query = self.lexicon.expand(query) if expand else query
        lex = idx.lexical.scores(lex_query) if wl > 0 else np.zeros(n, np.float32)
        if mask is not None:
            lex = np.where(mask, lex, -1.0)
        timings["lexical_ms"] = (time.perf_counter() - t0) * 1000

        dense: dict[int, float] = {}
        if wd > 0:
            t1 = time.perf_counter()
            vec = self._query_vector(query, context)
            timings["embed_ms"] = (time.perf_counter() - t1) * 1000
            t1 = time.perf_counter()
            dense = self._dense(idx, vec, mask, cand)
            timings["dense_ms"] = (time.perf_counter() - t1) * 1000

        # candidates: dense top plus lexical top
        rows = set(dense)
        if wl > 0:
            top = np.argpartition(-lex, min(cand, n - 1))[:cand] if n > cand else np.arange(n)
            rows.update(int(r) for r in top if lex[r] > 0)
        if wd > 0:
            missing = [r for r in rows if r not in dense]
            if missing:
                local = idx.vectors_for(missing)
                if local is not None:
                    for r, e in local.items():
                        dense[r] = float(e @ vec)
                else:
                    embs = idx.generation.embeddings_for([idx.chunks[r].id for r in missing])
                    for r in missing:
                        e = embs.get(idx.chunks[r].id)
                        dense[r] = float(e @ vec) if e is not None else 0.0
        named = idx.products.mentions(" ".join([query, *context])) if scoping and not sku else set()
        scored = []
        for r in rows:
            if mask is not None and not mask[r]:
                continue
            d = dense.get(r, 0.0)
            lx = max(float(lex[r]), 0.0)
            score = wd * d + wl * lx
            if scoping:
                score *= self._scope(idx.chunks[r], named, sku)
            scored.append((score, d, lx, r))
        scored.sort(reverse=True)
        hits = [_hit(idx.chunks[r], s, d, lx) for s, d, lx, r in scored[:k]]
        threshold = self.calibration.threshold(idx.generation.name)
        top_score = hits[0].score if hits else 0.0
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(
            query=query,
            hits=hits,
            grounded=bool(hits) and (top_score >= threshold or mode != "hybrid"),
            threshold=threshold,
            timings_ms={k_: round(v, 2) for k_, v in timings.items()},
        )

    def _scope(self, chunk: Chunk, named: set[str], sku: str | None) -> float:
        """Priors: the named product's chunks first; shop-wide ones when no product is named;
        store facts before agent-facing articles."""
        if chunk.kind == "doc":
            return 1.0 - self.settings.doc_penalty
        chunk_sku = chunk.sku
        if not chunk_sku or sku:
            return 1.0
        if not named:
            return 1.0 - self.settings.generic_product_penalty
        if chunk_sku in named:
            return 1.0 + self.settings.product_boost
        return 1.0 - self.settings.other_product_penalty

    def _query_vector(self, query: str, context: Sequence[str]) -> np.ndarray:
        vec = self.embedder.embed_query(query)
        recent = [c for c in context if c and c.strip()][-2:]
        if recent:
            ctx = self.embedder.embed_query("\n".join(recent))
            vec = vec + 0.3 * ctx
            vec = vec / (np.linalg.norm(vec) or 1.0)
        return vec

    def _dense(self, idx: LoadedIndex, vec: np.ndarray, mask: np.ndarray | None, cand: int) -> dict[int, float]:
        gen = idx.generation
        if idx.vectors is not None and len(idx.chunks) <= EXACT_ALL:
            sims = idx.vectors @ vec  # small index in memory: exact scores beat a round trip to HNSW
            if mask is not None:
                sims = np.where(mask, sims, -2.0)
            top = np.argpartition(-sims, min(cand, len(sims) - 1))[:cand] if len(sims) > cand else np.arange(len(sims))
            return {int(r): float(sims[r]) for r in top if sims[r] > -2.0}
        if mask is None:
            ids, sims = gen.query(vec, cand)
            return {idx.row_of[i]: float(s) for i, s in zip(ids, sims) if i in idx.row_of}
        subset = np.flatnonzero(mask)
        if len(subset) == 0:
            return {}
        if idx.vectors is not None:
            sims = idx.vectors[subset] @ vec
            return {int(r): float(x) for r, x in zip(subset, sims)}
        if len(subset) <= EXACT_SUBSET:
            embs = gen.embeddings_for([idx.chunks[r].id for r in subset])
            return {int(r): float(embs[idx.chunks[r].id] @ vec) for r in subset if idx.chunks[r].id in embs}
        factor = int(np.ceil(len(idx.chunks) / len(subset)))
        ids, sims = gen.query(vec, min(len(idx.chunks), cand * factor * 2))
        out = {}
        for i, s in zip(ids, sims):
            r = idx.row_of.get(i)
            if r is not None and mask[r]:
                out[r] = float(s)
        return out


def validate_query(query: object) -> str:
    if not isinstance(query, str):
        raise InputError("查询必须是文本", message_en="query must be a string")
    q = query.strip()
    if not q:
        raise InputError("查询内容不能为空", message_en="query must not be empty", hint="输入买家的问题，例如：衣服买大了能换吗")
    if len(q) > MAX_QUERY_CHARS:
        raise InputError(
            f"查询过长（{len(q)} 字），上限 {MAX_QUERY_CHARS} 字",
            message_en=f"query too long ({len(q)} chars, max {MAX_QUERY_CHARS})",
        )
    return q


def _hit(c: Chunk, score: float, dense: float, lexical: float) -> Hit:
    return Hit(
        id=c.id, text=c.text, title=c.title, kind=c.kind, source=c.source, section=c.section, ref=c.ref, sku=c.sku,
        score=round(score, 4), dense=round(dense, 4), lexical=round(lexical, 4),
    )
