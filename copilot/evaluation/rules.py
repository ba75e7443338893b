"""Rule-checker eval: labelled replies per rule → precision and recall of violations.

``evals/rules/<rule_id>.jsonl`` lines:
``{"id", "reply", "message"?, "sku"?, "facts"?, "now", "label": "violation"|"clean", "note"}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..errors import InputError
from ..rules.checking import Checker
from ..rules.registry import RULE_NAMES, RULES, get_rule
from ..rules.registry import check_reply as _check


def load_rule_cases(directory: Path, rule: str) -> list[dict]:
    path = directory / f"{rule}.jsonl"
    if not path.exists():
        raise InputError(f"规则评测集不存在：{path}", message_en=f"missing {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# the rules scored on evals/rules/<id>.jsonl (the order rule is scored on the order eval's check cases)
WORDING_RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES if r.eval_set == "rules")


def run_rules_eval(checker: Checker, directory: Path, rules: tuple[str, ...] = WORDING_RULE_IDS) -> dict:
    out: dict = {"rules": {}}
    for rule in rules:
        cases = load_rule_cases(directory, rule)
        tp = fp = fn = tn = 0
        errors = []
        for c in cases:
            ctx = checker.context(
                sku=c.get("sku"), facts=c.get("facts"), now=datetime.fromisoformat(c["now"]) if c.get("now") else None,
                message=c.get("message") or "",
            )
            res = _check(c["reply"], ctx, [get_rule(rule)]).checks[0]
            predicted = not res.passed
            actual = c["label"] == "violation"
            tp += predicted and actual
            fp += predicted and not actual
            fn += (not predicted) and actual
            tn += (not predicted) and not actual
            if predicted != actual:
                errors.append({"id": c["id"], "label": c["label"], "reply": c["reply"], "detail": res.detail, "note": c.get("note", "")})
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out["rules"][rule] = {
            "name": RULE_NAMES[rule], "cases": len(cases), "precision": round(precision, 4), "recall": round(recall, 4),
            "accuracy": round((tp + tn) / len(cases), 4) if cases else 1.0, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "errors": errors,
        }
    return out


def format_rules(result: dict) -> str:
    lines = [f"{'规则':<26}{'条数':>6}{'精确率':>8}{'召回率':>8}"]
    for rule, r in result["rules"].items():
        lines.append(f"{rule + ' ' + r['name']:<26}{r['cases']:>6}{r['precision']:>9.3f}{r['recall']:>9.3f}")
    for rule, r in result["rules"].items():
        for e in r["errors"]:
            lines.append(f"  ✗ {e['id']}（标注 {e['label']}）{e['reply'][:60]} —— {e['detail'][:60]}")
    return "\n".join(lines)
