"""`copilot qa` on a synthetic 1,000-conversation chat export (issue 14's target: <= 10 s on this machine).

The conversations are built from the blind-written agent replies of the sample store (``evals/replies``), each
2-3 buyer/agent exchanges (at the time their author wrote them for) with seeded random delays and five agents. Prints the time to read the
export, check every agent turn, render the HTML, and the whole command end to end (a fresh process).

    .venv/bin/python benchmarks/qa_bench.py [--conversations 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from _common import ROOT, peak_rss_mb

from copilot.qa.exports import read_export
from copilot.qa.report import render_html
from copilot.qa.review import review
from copilot.rules.checking import Checker
from copilot.settings import Settings

AGENTS = ["小王", "小李", "小张", "小赵", "小陈"]


def synthetic_export(n: int, seed: int = 7) -> str:
    pool = [json.loads(line) for name in ("agent_replies_dev.jsonl", "agent_replies_test.jsonl")
            for line in (ROOT / "evals" / "replies" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    pool = [c for c in pool if c["store"] == "sample"]
    rng = random.Random(seed)
    by_time: dict[str, list[dict]] = {}
    for c in pool:  # a reply is checked at the time its author wrote it for (promotions and prices are dated)
        by_time.setdefault(c["now"], []).append(c)
    lines = []
    for i in range(n):
        first = rng.choice(pool)
        same = by_time[first["now"]]
        at = datetime.fromisoformat(first["now"]) - timedelta(minutes=rng.randrange(30, 120))
        agent = rng.choice(AGENTS)
        turns = []
        for case in [first, *rng.sample(same, min(len(same), rng.randint(1, 2)))]:
            turns.append({"role": "buyer", "text": case["message"], "at": at.isoformat(), "sku": case.get("sku")})
            at += timedelta(seconds=rng.randint(8, 240))
            turns.append({"role": "agent", "text": case["reply"], "at": at.isoformat(), "agent": agent})
            at += timedelta(seconds=rng.randint(20, 600))
        lines.append(json.dumps({"id": f"s{i:05d}", "agent": agent, "turns": turns}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=1000)
    args = ap.parse_args()
    text = synthetic_export(args.conversations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        convs = read_export(path.read_bytes(), path.name)
        t1 = time.perf_counter()
        checker = Checker(Settings(knowledge_dir=ROOT / "knowledge"))
        report = review(convs, checker)
        t2 = time.perf_counter()
        html = render_html(report)
        t3 = time.perf_counter()
        print(f"会话 {report.conversations}，客服回复 {report.turns}，违规 {report.flagged}（{report.flagged_rate:.1%}），"
              f"报告 {len(html) / 1024:.0f} KB")
        print(f"读取 {t1 - t0:.2f} s，检查 {t2 - t1:.2f} s（每条 {(t2 - t1) / max(report.turns, 1) * 1000:.2f} ms），"
              f"写报告 {t3 - t2:.2f} s；进程内合计 {t3 - t0:.2f} s；峰值内存 {peak_rss_mb()} MB")
        cli = Path(sys.executable).with_name("copilot")
        t4 = time.perf_counter()
        subprocess.run([str(cli), "--knowledge-dir", str(ROOT / "knowledge"), "qa", str(path), "--out", str(Path(tmp) / "out")],
                       check=True, capture_output=True)
        print(f"`copilot qa` 整条命令（新进程，含导入）：{time.perf_counter() - t4:.2f} s（目标 ≤ 10 s）")


if __name__ == "__main__":
    main()
