"""Helpers shared by the benchmark scripts (they print numbers; nothing is asserted)."""

from __future__ import annotations

import resource
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    q = statistics.quantiles(s, n=100, method="inclusive")
    return {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2), "max": round(s[-1], 2), "n": len(s)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def fmt_latency(stats: dict[str, float]) -> str:
    return f"p50 {stats['p50']} ms  p95 {stats['p95']} ms  p99 {stats['p99']} ms"


def eval_queries() -> list[str]:
    from copilot.evaluation.retrieval import load_cases

    return [c.query for c in load_cases(ROOT / "evals" / "retrieval.jsonl")]
