"""Retrieval eval: labelled buyer queries → Recall@k, MRR, no-answer detection.

``evals/retrieval.jsonl`` lines look like
``{"id": "r001", "query": "亲 衣服买大了能换吗", "relevant": ["policy/七天无理由退换货"]}``;
``relevant: []`` marks an out-of-knowledge query. A retrieved chunk counts as
relevant when its ``ref`` equals a label (or lies under it, for document
sections). Recall@k here is the share of answerable queries with at least one
relevant chunk in the top k (hit rate); MRR uses the first relevant chunk.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from ..retrieval.retriever import Retriever
from ..settings import Settings
from . import load_jsonl

MODES = ("dense", "lexical", "hybrid")
KS = (1, 3, 5)


class RetrievalCase(BaseModel):
    id: str
    query: str = Field(min_length=1)
    relevant: list[str] = Field(default_factory=list)
    note: str = ""


def load_cases(path: Path) -> list[RetrievalCase]:
    return load_jsonl(path, RetrievalCase)


def is_relevant(ref: str, labels: list[str]) -> bool:
    return any(ref == lab or ref.startswith(lab.rstrip("/") + "/") or ref.startswith(lab + " > ") for lab in labels)


def first_rank(refs: list[str], labels: list[str]) -> int | None:
    for rank, ref in enumerate(refs, 1):
        if is_relevant(ref, labels):
            return rank
    return None


def score_mode(
    retriever: Retriever, cases: list[RetrievalCase], mode: str, dense_weight: float | None = None, **search_kw
) -> dict:
    answerable = [c for c in cases if c.relevant]
    ranks: list[int | None] = []
    failures = []
    for c in answerable:
        res = retriever.search(c.query, k=max(KS), mode=mode, dense_weight=dense_weight, **search_kw)
        r = first_rank([h.ref for h in res.hits], c.relevant)
        ranks.append(r)
        if r is None or r > 3:
            failures.append({"id": c.id, "query": c.query, "relevant": c.relevant, "got": [h.ref for h in res.hits[:3]]})
    n = len(answerable) or 1
    out = {f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 4) for k in KS}
    out["mrr"] = round(sum(1 / r for r in ranks if r) / n, 4)
    out["failures"] = failures
    return out


def top_scores(retriever: Retriever, cases: list[RetrievalCase]) -> list[tuple[float, bool]]:
    """(best hybrid score, answerable?) for every case: the data for threshold calibration."""
    out = []
    for c in cases:
        res = retriever.search(c.query, k=1)
        out.append((res.hits[0].score if res.hits else 0.0, bool(c.relevant)))
    return out


def calibrate_threshold(points: list[tuple[float, bool]]) -> tuple[float, float]:
    """Threshold maximising balanced accuracy between answerable and out-of-knowledge queries."""
    best = (0.0, 0.0)
    pos = [s for s, a in points if a]
    neg = [s for s, a in points if not a]
    if not pos or not neg:
        return best
    for t in sorted({round(s, 3) for s, _ in points}):
        tpr = sum(1 for s in pos if s >= t) / len(pos)
        tnr = sum(1 for s in neg if s < t) / len(neg)
        bal = (tpr + tnr) / 2
        if bal > best[1]:
            best = (t, bal)
    return best


def run_retrieval_eval(settings: Settings, path: Path, *, sweep: bool = False, retriever: Retriever | None = None) -> dict:
    cases = load_cases(path)
    retriever = retriever or Retriever(settings)
    result: dict = {
        "set": str(path),
        "queries": len(cases),
        "answerable": sum(1 for c in cases if c.relevant),
        "out_of_knowledge": sum(1 for c in cases if not c.relevant),
        "embedder": retriever.embedder.name,
        "weights": {"dense": settings.dense_weight, "lexical": settings.lexical_weight},
        # dense-only and lexical-only are the pure signals; hybrid is the shipped configuration
        "modes": {
            "dense": score_mode(retriever, cases, "dense", expand=False, scoping=False),
            "lexical": score_mode(retriever, cases, "lexical", expand=False, scoping=False),
            "hybrid": score_mode(retriever, cases, "hybrid"),
        },
    }
    # ablations of the shipped hybrid configuration
    result["ablations"] = {
        "hybrid_no_expansion": score_mode(retriever, cases, "hybrid", expand=False),
        "hybrid_no_priors": score_mode(retriever, cases, "hybrid", scoping=False),
        "hybrid_plain": score_mode(retriever, cases, "hybrid", expand=False, scoping=False),
    }
    for m in result["ablations"].values():
        m.pop("failures")
    points = top_scores(retriever, cases)
    t = retriever.no_answer_threshold  # what search and drafting use: explicit setting, calibration or default
    neg = [s for s, a in points if not a]
    pos = [s for s, a in points if a]
    result["no_answer"] = {
        "threshold": t,
        "detection_rate": round(sum(1 for s in neg if s < t) / (len(neg) or 1), 4),
        "false_no_answer_rate": round(sum(1 for s in pos if s < t) / (len(pos) or 1), 4),
        "calibrated_threshold": calibrate_threshold(points)[0],
    }
    if sweep:
        result["sweep"] = {
            f"{w:.1f}": {k: v for k, v in score_mode(retriever, cases, "hybrid", dense_weight=w).items() if k != "failures"}
            for w in [i / 10 for i in range(11)]
        }
    return result


def format_table(result: dict) -> str:
    lines = [
        f"检索评测：{result['set']}（{result['queries']} 条，其中可回答 {result['answerable']}，"
        f"知识库外 {result['out_of_knowledge']}；嵌入模型 {result['embedder']}）",
        f"{'R@1':>8}{'R@3':>8}{'R@5':>8}{'MRR':>8}  方式",
    ]
    names = {
        "dense": "dense（仅向量）",
        "lexical": "lexical（仅字符 1-2 gram TF-IDF）",
        "hybrid": "hybrid（发布配置：融合 + 口语扩展 + 商品/类型先验）",
        "hybrid_no_expansion": "hybrid 去掉口语扩展",
        "hybrid_no_priors": "hybrid 去掉商品/类型先验",
        "hybrid_plain": "hybrid 两者都去掉",
    }
    rows = {**result["modes"], **result.get("ablations", {})}
    for mode, m in rows.items():
        lines.append(f"{m['recall@1']:>8.3f}{m['recall@3']:>8.3f}{m['recall@5']:>8.3f}{m['mrr']:>8.3f}  {names.get(mode, mode)}")
    na = result["no_answer"]
    lines.append(
        f"无答案识别：阈值 {na['threshold']:.2f}，知识库外问题识别率 {na['detection_rate']:.3f}，"
        f"可回答问题误判率 {na['false_no_answer_rate']:.3f}（建议阈值 {na['calibrated_threshold']:.3f}）"
    )
    if "sweep" in result:
        lines.append("权重扫描（dense 权重 → R@1 / R@3 / MRR）：")
        for w, m in result["sweep"].items():
            lines.append(f"  {w}: {m['recall@1']:.3f} / {m['recall@3']:.3f} / {m['mrr']:.3f}")
    fails = result["modes"]["hybrid"]["failures"]
    if fails:
        lines.append(f"hybrid 前三未命中 {len(fails)} 条：")
        for f in fails[:15]:
            lines.append(f"  {f['id']} {f['query']} → 期望 {f['relevant'][0]}，得到 {', '.join(f['got'])}")
    return "\n".join(lines)

