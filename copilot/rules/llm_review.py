"""An LLM's second opinion on a draft the rules have judged: when an LLM is configured and ``llm_rule_review`` is
on, every shown draft is also read by the LLM against the rule list. The rules still decide (a draft's ``passed``
never changes); where the two disagree the draft carries the LLM's view for the agent, and the disagreement is
appended to ``<data_dir>/rule_reviews.jsonl`` for whoever maintains the rules. Bounded: one budget per request for all
its drafts; a slow, failing or unparseable LLM adds nothing and costs at most that budget.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..drafting.budget import Budget
from ..drafting.llm import ChatBackend
from ..drafting.prompting import as_data, load_data, render
from ..errors import BackendError
from .registry import RULE_NAMES, RULES, CheckReport


class ReviewTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: list[str]
    system: str
    user: str


class Disagreement(BaseModel):
    rule: str
    rules_say: str  # "passed" | "failed"
    llm_says: str  # "violated" | "kept"
    reason: str = ""


def rule_list() -> str:
    return "\n".join(f"- {r.id}（{r.name}）" for r in RULES)


def parse_violations(text: str) -> dict[str, str] | None:
    """The rules the LLM says are broken, with its reasons; None when the output is not the JSON asked for."""
    m = re.search(r"\{.*\}", text, re.DOTALL)
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    items = data.get("violations") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    out: dict[str, str] = {}
    for it in items:
        if isinstance(it, dict) and it.get("rule") in RULE_NAMES:
            out[str(it["rule"])] = str(it.get("reason") or "")[:200]
    return out


class RuleReview:
    """Asks ``backend`` about one draft; ``review`` returns the disagreements (empty when the LLM agrees, fails or
    runs out of time)."""

    def __init__(self, backend: ChatBackend, prompts_dir: Path, log_path: Path | None = None) -> None:
        self.backend = backend
        self.template = load_data(prompts_dir / "rule_review.yaml", ReviewTemplate)
        self.log_path = log_path
        self._lock = threading.Lock()

    def review(self, draft: str, message: str, report: CheckReport, budget: Budget) -> list[Disagreement]:
        if budget.remaining() <= 0:
            return []
        messages = [
            {"role": "system", "content": self.template.system},
            {"role": "user", "content": render(self.template.user, message=as_data(message or "（无）"),
                                               draft=as_data(draft), rules=rule_list())},
        ]
        try:
            said = parse_violations(self.backend.complete(messages, max_tokens=300, temperature=0.0, budget=budget))
        except BackendError:
            return []
        if said is None:
            return []
        out = []
        for c in report.checks:
            if c.passed and c.rule in said:
                out.append(Disagreement(rule=c.rule, rules_say="passed", llm_says="violated", reason=said[c.rule]))
            elif not c.passed and c.rule not in said:
                out.append(Disagreement(rule=c.rule, rules_say="failed", llm_says="kept"))
        if out:
            self._log(draft, message, out)
        return out

    def _log(self, draft: str, message: str, found: list[Disagreement]) -> None:
        if self.log_path is None:
            return
        row = {"at": datetime.now().isoformat(timespec="seconds"), "message": message, "draft": draft,
               "disagreements": [d.model_dump() for d in found]}
        with self._lock:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def notice_of(found: list[Disagreement]) -> str | None:
    """One line for the agent: where the LLM reads a rule differently (the rules' verdict stands)."""
    if not found:
        return None
    parts = [f"{RULE_NAMES[d.rule]}（{'大模型认为违反' if d.llm_says == 'violated' else '大模型认为没有违反'}"
             + (f"：{d.reason}" if d.reason else "") + "）" for d in found]
    return "大模型复核与规则判断不同，以规则为准，已记录供复核：" + "；".join(parts)
