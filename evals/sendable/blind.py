#!/usr/bin/env python3
"""Blind grading of drafts (rubric: ../shared/rubrics/sendable.md).

``packet``: draft every case of a split offline and write what a grader may see — the conversation, ``now``,
the product, the copilot's reading of the buyer (persona, stage) and the drafts, nothing about how they were
made — to ``evals/reports/sendable_blind/<split>/packet.yaml``.

``report``: read the grader's ``grades.yaml`` next to it and write ``report.md``: the means of (a)–(c), the share
of top drafts sendable as-is and as-is-or-small-edit, the same for the best draft, persona/stage agreement, and
the failure taxonomy the grader wrote.

Usage: python evals/sendable/blind.py packet --split test [--data-dir .copilot]
       python evals/sendable/blind.py report --split test
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "evals" / "reports" / "sendable_blind"
SENDABLE = ("as_is", "small_edit", "not_sendable")


def packet(split: str, data_dir: Path | None) -> Path:
    from copilot.drafting.pipeline import Copilot
    from copilot.evaluation.sendable import load_cases
    from copilot.settings import Settings

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    cp = Copilot(settings, backend=None)
    cases = load_cases(ROOT / "evals" / "sendable" / f"{split}.yaml")
    rows = []
    for c in cases:
        r = cp.draft(c.request())
        rows.append({
            "id": c.id, "now": c.now.isoformat(), "product_sku": c.sku,
            "labels": {"persona": c.persona, "stage": c.stage},
            "copilot_read": {"persona": r.analysis.persona.id, "stage": r.analysis.stage},
            "turns": [{"role": t.role, "text": t.text} for t in c.turns],
            "drafts": [d.text for d in r.drafts],
        })
    path = OUT / split / "packet.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"split": split, "cases": rows}, allow_unicode=True, sort_keys=False, width=1000),
                    encoding="utf-8")
    return path


def report(split: str) -> Path:
    base = OUT / split
    grades = yaml.safe_load((base / "grades.yaml").read_text(encoding="utf-8"))
    packet_cases = {c["id"]: c for c in yaml.safe_load((base / "packet.yaml").read_text(encoding="utf-8"))["cases"]}
    cases = grades["cases"]
    n = len(cases)

    def share(key, values) -> float:
        return sum(1 for c in cases if c[key] in values) / n

    def mean(key) -> float:
        return sum(c["top"][key] for c in cases) / n

    top_as_is = sum(1 for c in cases if c["top"]["sendable"] == "as_is") / n
    top_ok = sum(1 for c in cases if c["top"]["sendable"] in ("as_is", "small_edit")) / n
    best_as_is = share("best_sendable", ("as_is",))
    best_ok = share("best_sendable", ("as_is", "small_edit"))
    persona_ok = sum(1 for c in cases if packet_cases[c["id"]]["copilot_read"]["persona"] == packet_cases[c["id"]]["labels"]["persona"]) / n
    stage_ok = sum(1 for c in cases if packet_cases[c["id"]]["copilot_read"]["stage"] == packet_cases[c["id"]]["labels"]["stage"]) / n
    defers = sum(1 for c in cases if c.get("defers_although_answerable")) / n
    differ = sum(1 for c in cases if c.get("drafts_differ_in_substance")) / n
    lines = [
        f"# 盲评结果：可发送性（{split}，{n} 条）",
        "",
        f"评分人：{grades.get('grader', '独立评审')}（未读代码，只看对话、店铺知识文件和草稿；细则见 ../shared/rubrics/sendable.md）。",
        "草稿由离线起草器生成（`python evals/sendable/blind.py packet --split " + split + "`）。",
        "",
        "| 指标 | 数值 |",
        "|---|---|",
        f"| (a) 答其所问 平均分 | {mean('answers'):.2f} |",
        f"| (b) 正确且有据 平均分 | {mean('correct'):.2f} |",
        f"| (c) 语气、类型与流程 平均分 | {mean('tone'):.2f} |",
        f"| 首选草稿可直接发送 | {top_as_is:.0%} |",
        f"| 首选草稿直接发送或小改可发 | {top_ok:.0%} |",
        f"| 最佳草稿可直接发送 | {best_as_is:.0%} |",
        f"| 最佳草稿直接发送或小改可发 | {best_ok:.0%} |",
        f"| 知识里有答案却推迟 | {defers:.0%} |",
        f"| 几份草稿内容确有不同 | {differ:.0%} |",
        f"| 买家类型判断正确 | {persona_ok:.0%} |",
        f"| 阶段判断正确 | {stage_ok:.0%} |",
        "",
        "## 失败类型（按出现次数）",
        "",
    ]
    for t in grades.get("taxonomy", []):
        lines.append(f"- **{t.get('type') or t.get('kind')}**（{t['count']} 条）")
        for ex in t.get("examples", [])[:3]:
            lines.append(f"  - {ex}")
    counts = collections.Counter(c["top"]["sendable"] for c in cases)
    lines += ["", "首选草稿分布：" + "，".join(f"{k} {counts.get(k, 0)}" for k in SENDABLE), ""]
    path = base / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=("packet", "report"))
    ap.add_argument("--split", default="test", choices=("dev", "test", "holdout2", "holdout3", "holdout4"))
    ap.add_argument("--data-dir", type=Path)
    a = ap.parse_args()
    print(packet(a.split, a.data_dir) if a.command == "packet" else report(a.split))


if __name__ == "__main__":
    main()
