"""`copilot report adoption` on a synthetic feedback store of 10,000 actions (issue 16's target: <= 3 s with charts).

The rows are seeded-random actions of five agents over 30 days on 12,000 logged drafting requests: adopted as-is,
edited (a sentence added or a word changed) and rejected with one of a few reasons. Prints the time to read the
store, build the report, render the HTML, and the whole command end to end (a fresh process).

    .venv/bin/python benchmarks/adoption_bench.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, peak_rss_mb

from copilot.app.adoption import SHOWN, build_report, render_html
from copilot.app.feedback import FeedbackStore

AGENTS = ["小王", "小李", "小张", "小赵", "小陈"]
STRATEGIES = ["direct", "question", "empathize_resolve", "value", "reassure"]
PERSONAS = ["silent", "bargainer", "impatient", "analytical", "friendly"]
STAGES = ["pre_sale", "in_sale", "after_sale"]
REASONS = ["语气太生硬", "没回答买家的问题", "信息不对", "太长了", "不该催单"]
DRAFT = "亲～这款不可机洗，建议30°C以下温水手洗，平铺阴干。还有什么想了解的随时找我～"


def synthetic_store(path: Path, rows: int, seed: int = 7) -> None:
    FeedbackStore(path)._db()  # the schema
    rng = random.Random(seed)
    t0 = time.time() - 30 * 86400
    con = sqlite3.connect(path)
    requests = [(f"r{i}", t0 + rng.random() * 30 * 86400, rng.choice(AGENTS), f"c{i // 3}", 3, "offline",
                 20 + rng.random() * 60, rng.choice(PERSONAS), rng.choice(STAGES)) for i in range(int(rows * 1.2))]
    con.executemany("INSERT INTO drafted VALUES (?,?,?,?,?,?,?,?,?)", requests)
    out = []
    for i in range(rows):
        rid, ts, agent, conv, _, backend, latency, persona, stage = requests[i]
        action = rng.choices(["adopt", "edit", "reject"], [0.55, 0.3, 0.15])[0]
        final = DRAFT.replace("平铺阴干", "平铺晾干，别暴晒") + ("另外这款支持价保哦。" if rng.random() < 0.5 else "") \
            if action == "edit" else None
        out.append((ts + rng.random() * 120, action, "这个能机洗吗", DRAFT, final, None,
                    rng.choice(REASONS) if action == "reject" else None, rng.choice(STRATEGIES), "DJ-2301", persona,
                    None, stage, agent, conv, backend, rid, latency, rng.random() * 90))
    con.executemany("INSERT INTO feedback (ts, action, message, draft_text, final_text, diff, reason, strategy, sku,"
                    " persona_detected, persona_override, stage, agent, conversation_id, backend, request_id, latency_ms,"
                    " acted_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", out)
    con.commit()
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        path = data / "feedback.sqlite"
        synthetic_store(path, args.rows)
        store = FeedbackStore(path)
        t = time.perf_counter()
        rows, drafted = store.rows(shown=SHOWN), store.drafted_rows()
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        report = build_report(rows, drafted)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        html = render_html(report, "样例店")
        render_s = time.perf_counter() - t
        out = Path(tmp) / "out"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "copilot", "report", "adoption", "--out", str(out)], check=True,
                       cwd=ROOT, capture_output=True, env={"COPILOT_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"})
        e2e_s = time.perf_counter() - t
        print(f"采用报告（{len(rows)} 次操作、{len(drafted)} 个起草请求）：读库 {read_s:.2f} s，统计 {build_s:.2f} s，"
              f"渲染 HTML {render_s:.2f} s（{len(html) // 1024} KB，{html.count('<svg')} 张图）；"
              f"命令端到端 {e2e_s:.2f} s；峰值内存 {peak_rss_mb()} MB")


if __name__ == "__main__":
    main()
