"""Optional LLM judge: a 1–5 score with reasons against a Chinese rubric drawn from the seeds.

Reported separately from the rule checker; each draft is judged ``repeats``
times and the spread is kept, because judges are noisy.
"""

from __future__ import annotations

import json
import re
import statistics

from pydantic import BaseModel, ConfigDict

from ..drafting.llm import ChatBackend
from ..drafting.prompting import as_data, load_data, render
from ..errors import BackendError


class JudgeTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: list[str]
    system: str
    user: str


class Verdict(BaseModel):
    score: int | None
    reasons: list[str]
    raw: str = ""


def parse_verdict(text: str) -> Verdict:
    """JSON first; a bare digit as fallback; otherwise no score (never a guess)."""
    m = re.search(r"\{.*\}", text, re.S)
    if m:
        try:
            data = json.loads(m.group(0))
            score = int(data.get("score"))
            if 1 <= score <= 5:
                reasons = data.get("reasons") or []
                return Verdict(score=score, reasons=[str(r) for r in reasons][:5], raw=text[:500])
        except (ValueError, TypeError, json.JSONDecodeError):
            pass
    m = re.search(r"(?<!\d)([1-5])\s*分", text)
    if m:
        return Verdict(score=int(m.group(1)), reasons=["（从非 JSON 输出中读取分数）"], raw=text[:500])
    return Verdict(score=None, reasons=["评审输出无法解析"], raw=text[:500])


def judge(backend: ChatBackend, prompts_dir, *, message: str, history: str, draft: str, repeats: int = 3) -> dict:
    tpl = load_data(prompts_dir / "judge.yaml", JudgeTemplate)
    values = {"message": as_data(message), "history": as_data(history or "（无）"), "draft": as_data(draft)}
    messages = [
        {"role": "system", "content": tpl.system},  # no variables: the rubric is shown as written
        {"role": "user", "content": render(tpl.user, **values)},
    ]
    verdicts = []
    for _ in range(repeats):
        try:
            verdicts.append(parse_verdict(backend.complete(messages, max_tokens=200, temperature=0.7)))
        except BackendError as exc:
            verdicts.append(Verdict(score=None, reasons=[exc.message]))
    scores = [v.score for v in verdicts if v.score is not None]
    return {
        "scores": [v.score for v in verdicts],
        "mean": round(statistics.mean(scores), 2) if scores else None,
        "spread": (max(scores) - min(scores)) if scores else None,
        "reasons": [r for v in verdicts for r in v.reasons][:6],
    }
