"""Helpers shared by the benchmark scripts (they print numbers; nothing is asserted)."""

from __future__ import annotations

import json
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


def eval_queries() -> list[str]:
    lines = (ROOT / "evals" / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["query"] for x in lines if x.strip()]
