"""Leave-one-author-out cross-validation of the reply reader (the README's figures for it).

For each author of the dev replies (the id's prefix: r14a, r14b, …, ag1, ag2, ag3), train the reply reader on every
other author's replies, then check the held-out author's with the rules alone and with the rules and that reader:
recall and false flags on the rule cases and the hostile replies, false alarms on the realistic agent replies.
Run from the repository root: ``.venv/bin/python evals/replies/crossval.py [threshold]``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from copilot.evaluation.replies import store_checkers
from copilot.rules.registry import check_reply, get_rule
from copilot.rules.reply_reader import THRESHOLD, dev_files, examples_from, train
from copilot.settings import Settings

EVALS = Path(__file__).resolve().parents[1]


def cases() -> list[dict]:
    out = []
    for f in dev_files(EVALS):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                c = json.loads(line)
                if f.parent.name == "rules":  # the project's own rule sets: one file per rule, sample store
                    c = {**c, "rule": f.stem, "id": "own-" + c["id"], "store": "sample"}
                out.append(c)
    return out


def main(threshold: float) -> None:
    all_cases, examples = cases(), examples_from(EVALS)
    checkers = store_checkers(EVALS / "replies", Settings(evals_dir=EVALS))
    author = lambda c: c["id"].split("-")[0]  # noqa: E731
    totals = {"rules": [0, 0, 0, 0], "rules+reader": [0, 0, 0, 0]}
    for held in sorted({author(c) for c in all_cases} - {"own"}):
        reader = train([e for e, c in zip(examples, all_cases) if author(c) != held], threshold=threshold)
        for name, rd in (("rules", None), ("rules+reader", reader)):
            tp = fn = fp = fa = 0
            for c in (c for c in all_cases if author(c) == held):
                ctx = checkers[c["store"]].context(sku=c.get("sku"), facts=c.get("facts"), message=c.get("message") or "",
                                                   now=datetime.fromisoformat(c["now"]) if c.get("now") else None)
                if "violations" in c:
                    report = check_reply(c["reply"], ctx, reader=rd)
                    fa += any(not x.passed and x.rule not in c["violations"] for x in report.checks)
                elif c.get("kind") == "hostile":
                    report = check_reply(c["reply"], ctx, reader=rd)
                    tp, fn = tp + (not report.passed), fn + report.passed
                else:
                    report = check_reply(c["reply"], ctx, [get_rule(c["rule"])], reader=rd)
                    predicted, actual = not report.passed, c["label"] == "violation"
                    tp += predicted and actual
                    fn += actual and not predicted
                    fp += predicted and not actual
            t = totals[name]
            t[0], t[1], t[2], t[3] = t[0] + tp, t[1] + fn, t[2] + fp, t[3] + fa
            recall = f"{tp / (tp + fn):.3f}" if tp + fn else "-"
            print(f"{held:5s} {name:13s} 召回 {recall}  误判 {fp}  客服回复误报 {fa}")
    for name, (tp, fn, fp, fa) in totals.items():
        print(f"合计 {name:13s} 召回 {tp / (tp + fn):.3f}  误判 {fp}  客服回复误报 {fa}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else THRESHOLD)
