"""HTTP load: concurrent clients on loopback against a real `copilot serve`.

Default: 8 clients for 20 s of offline POST /v1/drafts (n=3), the last buyer turn of every sample
dialogue as the workload. ``--mix`` adds /v1/checks and /v1/search requests.

    .venv/bin/python benchmarks/api_bench.py [--clients 8] [--seconds 20] [--mix]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

import httpx
from _common import ROOT, fmt_latency, percentiles

sys.path.insert(0, str(ROOT / "tests"))
from support.server import Server  # noqa: E402

from copilot.evaluation.dialogues import load_dialogues  # noqa: E402


def workload() -> list[dict]:
    """The last buyer turn of every sample dialogue, as /v1/drafts request bodies."""
    return [d.request().model_dump(mode="json") for d in load_dialogues(ROOT / "evals" / "dialogues")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--mix", action="store_true", help="mix drafts with checks and searches")
    args = ap.parse_args()
    server = Server(env={"COPILOT_RATE_LIMIT_PER_MINUTE": "100000"}, ready_path="/readyz", cwd=ROOT)
    url, proc = server.url, server.proc
    try:
        reqs = workload()
        samples: dict[str, list[float]] = {"drafts": [], "checks": [], "search": []}
        errors = []
        lock = threading.Lock()
        stop = time.perf_counter() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            count = 0
            with httpx.Client(base_url=url, timeout=30) as c:
                while time.perf_counter() < stop:
                    count += 1
                    # a unique tail per request, so no cache sees the same buyer text twice
                    body = dict(rng.choice(reqs))
                    body["message"] = f"{body['message']} {seed}-{count}"
                    kind = rng.choice(["drafts", "drafts", "checks", "search"]) if args.mix else "drafts"
                    t = time.perf_counter()
                    try:
                        r = send(c, kind, body)
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(type(exc).__name__)
                        continue
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        if r.status_code == 200:
                            samples[kind].append(ms)
                        else:
                            errors.append(r.status_code)

        def send(c: httpx.Client, kind: str, body: dict) -> httpx.Response:
            if kind == "drafts":
                return c.post("/v1/drafts", json=body)
            if kind == "checks":
                return c.post("/v1/checks", json={"reply": "亲，这款只剩最后3件了", "product_sku": body["product_sku"]})
            return c.post("/v1/search", json={"query": body["message"], "k": 5})

        rss: list[float] = []

        def watch_memory() -> None:
            while time.perf_counter() < stop:
                try:
                    with open(f"/proc/{proc.pid}/status") as fh:
                        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))
                    rss.append(kb / 1024)
                except (OSError, StopIteration):
                    pass
                time.sleep(1)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        threads.append(threading.Thread(target=watch_memory))
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        total = sum(len(v) for v in samples.values())
        print(f"{args.clients} clients, {elapsed:.1f} s, {total} ok requests ({total / elapsed:.1f}/s), {len(errors)} errors")
        for kind, v in samples.items():
            if v:
                s = percentiles(v)
                print(f"  {kind:<7} n={s['n']:<5} {fmt_latency(s)}")
        if rss:
            third = max(1, len(rss) // 3)
            print(f"  server RSS: start {rss[0]:.0f} MB, max {max(rss):.0f} MB, end {rss[-1]:.0f} MB "
                  f"(mean of first third {sum(rss[:third]) / third:.0f} MB, last third {sum(rss[-third:]) / third:.0f} MB)")
        if errors:
            print(f"  errors: {sorted(set(map(str, errors)))[:10]}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
