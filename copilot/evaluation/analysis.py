"""Analysis eval: labelled buyer messages → persona / stage / emotion / intent accuracy.

``evals/analysis.jsonl`` lines:
``{"id", "history": [{"role", "text"}], "message", "sku", "persona", "stage", "emotion", "intent"}``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from ..buyer.analysis import Analyzer
from ..buyer.personas import PERSONA_IDS
from ..schema import Turn
from . import load_jsonl


class AnalysisCase(BaseModel):
    id: str
    history: list[Turn] = Field(default_factory=list)
    message: str
    sku: str | None = None
    persona: str
    stage: str
    emotion: str | None = None
    intent: str | None = None


def load_cases(path: Path) -> list[AnalysisCase]:
    return load_jsonl(path, AnalysisCase)


def run_analysis_eval(analyzer: Analyzer, cases: list[AnalysisCase]) -> dict:
    confusion: dict[str, Counter] = defaultdict(Counter)
    hits = Counter()
    totals = Counter()
    failures = []
    for c in cases:
        a = analyzer.analyze(c.message, c.history, sku=c.sku)
        confusion[c.persona][a.persona.id] += 1
        for field, got in (("persona", a.persona.id), ("stage", a.stage), ("emotion", a.emotion), ("intent", a.intent)):
            want = getattr(c, field)
            if want is None:
                continue
            totals[field] += 1
            if got == want:
                hits[field] += 1
            elif field in ("persona", "stage"):
                failures.append({"id": c.id, "field": field, "want": want, "got": got, "message": c.message[:60]})
    per_persona = {
        p: round(confusion[p][p] / sum(confusion[p].values()), 3) for p in PERSONA_IDS if sum(confusion[p].values())
    }
    return {
        "cases": len(cases),
        "accuracy": {f: round(hits[f] / totals[f], 4) for f in ("persona", "stage", "emotion", "intent") if totals[f]},
        "per_persona": per_persona,
        "confusion": {p: dict(confusion[p]) for p in PERSONA_IDS if confusion[p]},
        "failures": failures,
    }


def format_report(result: dict) -> str:
    acc = result["accuracy"]
    lines = [
        f"买家分析评测：{result['cases']} 条",
        "准确率：" + "，".join(f"{k} {v:.3f}" for k, v in acc.items()),
        "各类型准确率：" + "，".join(f"{p} {v:.2f}" for p, v in result["per_persona"].items()),
        "混淆矩阵（行=标注，列=预测）：",
    ]
    short = {p: p[:5] for p in PERSONA_IDS}
    lines.append(" " * 14 + "".join(f"{short[p]:>6}" for p in PERSONA_IDS))
    for p in PERSONA_IDS:
        row = result["confusion"].get(p, {})
        lines.append(f"{p:<14}" + "".join(f"{row.get(q, 0) or '.':>6}" for q in PERSONA_IDS))
    return "\n".join(lines)
