"""Rule checks on fresh replies written by authors who never saw the checker (``evals/replies/``, issue 14).

Three kinds of file, each with a ``_dev`` split and frozen ``_test`` / ``_test2`` / ``_test3`` splits (``_test2`` and
``_test3`` by new authors, written after the rules were tuned on the dev files; a split is run when any of its files
is present):

- ``rules_*.jsonl``: one reply per line judged for one rule, ``{"id", "rule", "store", "reply", "message", "sku",
  "facts", "now", "label": "violation"|"clean", "kind": "plain"|"paraphrase"|"hard_negative", "note"}``;
- ``hostile_*.jsonl``: replies an LLM obeying an injected instruction would write; every one must fail some rule;
- ``agent_replies_*.jsonl``: replies real agents send, ``"violations": [rule ids]`` (mostly empty): the false-alarm
  rate is the share of replies on which a rule fires that the author did not name.

Cases name their store; ``stores.yaml`` says where each store's knowledge is, so the catalog and policies they are
checked against are that store's own.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from ..rules.checking import Checker
from ..rules.registry import RULE_IDS, RULE_NAMES, get_rule
from ..rules.registry import check_reply as _check
from ..settings import Settings

SPLITS = ("dev", "test", "test2", "test3", "test4", "test5")


def present_splits(folder: Path) -> list[str]:
    """The splits with at least one file in ``folder`` (dev always runs)."""
    return [s for s in SPLITS if s == "dev" or any(folder.glob(f"*_{s}.jsonl"))]


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def store_checkers(folder: Path, settings: Settings) -> dict[str, Checker]:
    spec = folder / "stores.yaml"
    if not spec.exists():
        raise InputError(f"缺少 {spec}：写明每家店的知识目录，例如 sample: ../../knowledge",
                         message_en=f"missing {spec}")
    stores = yaml.safe_load(spec.read_text(encoding="utf-8")) or {}
    return {store: Checker(settings.model_copy(update={"knowledge_dir": (folder / path).resolve()}))
            for store, path in stores.items()}


def _flagged(checkers: dict[str, Checker], c: dict, rules: list[str]) -> tuple[set[str], dict[str, str]]:
    if c.get("store") not in checkers:
        raise InputError(f"用例 {c.get('id')} 的店铺 {c.get('store')!r} 不在 stores.yaml 里",
                         message_en=f"unknown store in case {c.get('id')}")
    ck = checkers[c["store"]]
    ctx = ck.context(sku=c.get("sku"), facts=c.get("facts"), message=c.get("message") or "",
                     now=datetime.fromisoformat(c["now"]) if c.get("now") else None)
    report = _check(c["reply"], ctx, [get_rule(r) for r in rules])
    failed = {x.rule: x.detail for x in report.checks if not x.passed}
    return set(failed), failed


def run_replies_eval(folder: Path, settings: Settings, split: str, *, list_failures: bool = True) -> dict[str, Any]:
    checkers = store_checkers(folder, settings)
    out: dict[str, Any] = {"split": split, "rules": {}, "unknown_rules": {}}
    counts: dict[str, Counter] = {}
    errors: dict[str, list] = {}
    for c in _load(folder / f"rules_{split}.jsonl"):
        rule = c["rule"]
        if rule not in RULE_IDS:  # a rule the checker does not have yet: counted, not scored
            out["unknown_rules"][rule] = out["unknown_rules"].get(rule, 0) + 1
            continue
        flagged, detail = _flagged(checkers, c, [rule])
        predicted, actual = rule in flagged, c["label"] == "violation"
        n = counts.setdefault(rule, Counter())
        n["tp"] += predicted and actual
        n["fp"] += predicted and not actual
        n["fn"] += actual and not predicted
        n["tn"] += not predicted and not actual
        n[f"{c.get('kind', 'plain')}_cases"] += 1
        n[f"{c.get('kind', 'plain')}_right"] += predicted == actual
        if list_failures and predicted != actual:
            errors.setdefault(rule, []).append({"id": c["id"], "label": c["label"], "kind": c.get("kind", ""),
                                                "reply": c["reply"], "detail": detail.get(rule, "通过"),
                                                "note": c.get("note", "")})
    for rule, n in counts.items():
        tp, fp, fn, tn = n["tp"], n["fp"], n["fn"], n["tn"]
        out["rules"][rule] = {
            "name": RULE_NAMES[rule], "cases": tp + fp + fn + tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
            "accuracy": round((tp + tn) / (tp + fp + fn + tn), 4), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "errors": errors.get(rule, []),
        }
    hostile = _load(folder / f"hostile_{split}.jsonl")
    missed = []
    for c in hostile:
        flagged, _ = _flagged(checkers, c, list(RULE_IDS))
        if not flagged:
            missed.append({"id": c["id"], "rule": c.get("rule", ""),
                           **({"reply": c["reply"], "message": c.get("message", "")} if list_failures else {})})
    out["hostile"] = {"cases": len(hostile), "flagged_rate": round(1 - len(missed) / len(hostile), 4) if hostile else 1.0,
                      "missed": missed}
    agents = _load(folder / f"agent_replies_{split}.jsonl")
    alarms, misses = [], 0
    for c in agents:
        flagged, detail = _flagged(checkers, c, list(RULE_IDS))
        extra = flagged - set(c.get("violations", []))
        misses += bool(set(c.get("violations", [])) & set(RULE_IDS) - flagged)
        if extra:
            alarms.append({"id": c["id"], "rules": sorted(extra),
                           **({"reply": c["reply"], "detail": "；".join(detail[r] for r in sorted(extra))}
                              if list_failures else {})})
    out["agent_replies"] = {
        "cases": len(agents), "false_alarm_rate": round(len(alarms) / len(agents), 4) if agents else 0.0,
        "missed_violation_replies": misses, "false_alarms": alarms}
    return out


def format_replies(result: dict) -> str:
    lines = [f"{'规则':<26}{'条数':>6}{'精确率':>8}{'召回率':>8}"]
    for rule, r in result["rules"].items():
        lines.append(f"{rule + ' ' + r['name']:<26}{r['cases']:>6}{r['precision']:>9.3f}{r['recall']:>9.3f}")
    for rule, n in result.get("unknown_rules", {}).items():
        lines.append(f"{rule:<26}{n:>6}   （检查器还没有这条规则）")
    h, a = result["hostile"], result["agent_replies"]
    lines.append(f"恶意回复 {h['cases']} 条：被拦下 {h['flagged_rate']:.3f}")
    lines.append(f"客服真实回复 {a['cases']} 条：误报 {a['false_alarm_rate']:.3f}，漏掉违规的回复 {a['missed_violation_replies']} 条")
    for rule, r in result["rules"].items():
        for e in r["errors"]:
            lines.append(f"  ✗ {e['id']}（{rule}，标注 {e['label']}/{e['kind']}）{e['reply'][:60]} —— {e['detail'][:50]}")
    for e in h["missed"]:
        if "reply" in e:
            lines.append(f"  ✗ 恶意回复没拦下 {e['id']}：{e['reply'][:70]}")
    for e in a["false_alarms"]:
        if "reply" in e:
            lines.append(f"  ✗ 误报 {e['id']}（{'、'.join(e['rules'])}）{e['reply'][:60]} —— {e['detail'][:50]}")
    return "\n".join(lines)
