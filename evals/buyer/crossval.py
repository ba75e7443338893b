"""Leave-one-round-out cross-validation of the learned buyer reader (the README's CV figures).

Each blind dev round (``dev6``, ``dev7``, …; the same file name in every store's folder) is held out in turn: the
reader is trained on every other dev file, buyer and notice, then the held-out round is read with that reader and
scored like the frozen splits. The older rounds (``dev``…``dev5``) the cue rules were tuned on are always trained
on, never held out. Run from the repository root: ``.venv/bin/python evals/buyer/crossval.py [--failures] [dev6 dev7 …]``
(``--failures`` also prints, ``--all`` in full, the held-out rounds' misses, counted by field and label: dev data, safe to read).

``--probe`` cross-validates the harm probe instead (``copilot/buyer/probe.py``): each blind round held out in turn,
the probe trained on the others; per regularisation and threshold, the held-out recall of reactions and injuries, the
precision, and the false reports on ordinary messages (how the shipped ``PROBE_C`` / ``PROBE_THRESHOLD`` were
chosen from this table is noted beside them in ``copilot/buyer/training.py``).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

from copilot.buyer.analysis import OfflineAnalyzer
from copilot.buyer.training import Example, labelled_examples, train
from copilot.drafting.pipeline import Copilot, CurrentProducts
from copilot.evaluation.buyer import BuyerCase, NoticeCase, run_buyer_eval, run_notice_eval
from copilot.settings import Settings

EVALS = Path(__file__).resolve().parents[1]
FIRST_HELD = 6  # dev6 is the first round written after the cue rules stopped being tuned on dev data


def main(held_out: list[str], show: bool = False, limit: int = 3) -> None:
    cp = Copilot(Settings(evals_dir=EVALS))
    rules_only = OfflineAnalyzer(cp.personas)  # as `copilot reader train` reads the rules
    by_round: dict[str, list[tuple[Example, object]]] = defaultdict(list)
    for f, c, ex in labelled_examples(EVALS, rules_only):
        by_round[f.stem].append((ex, c))  # a round is one file name across the stores
    rounds = held_out or sorted((r for r in by_round if r[3:].isdigit() and int(r[3:]) >= FIRST_HELD),
                                key=lambda r: int(r[3:]))
    total = defaultdict(float)
    n_buyer = n_attacks = n_ordinary = 0
    misses: Counter = Counter()
    examples: dict[tuple, list[str]] = defaultdict(list)
    for r in rounds:
        reader = train([ex for k, v in by_round.items() if k != r for ex, _ in v])
        analyzer = OfflineAnalyzer(cp.personas, cp.retriever.embedder, product_matcher=CurrentProducts(cp.retriever),
                                   reader=reader)
        buyer = [c for _, c in by_round[r] if isinstance(c, BuyerCase)]
        notices = [c for _, c in by_round[r] if isinstance(c, NoticeCase)]
        line = [f"{r:6s}"]
        if buyer:
            b = run_buyer_eval(analyzer, buyer, list_failures=show)
            for x in b["failures"]:
                key = (x["field"], str(x["want"]), str(x["got"]))
                misses[key] += 1
                examples[key].append(f"{x['id']} {x['message']}")
            acc, sr = b["accuracy"], b["stage_recall"]
            line.append(f"买家 {len(buyer)} 条：阶段 {acc['stage']:.3f}（售后 {sr.get('after_sale', 0):.3f}，售中 "
                        f"{sr.get('in_sale', 0):.3f}）类型 {acc['persona']:.3f}（含备选 {acc['persona_or_alternative']:.3f}）"
                        f"情绪 {acc['emotion']:.3f} 意图 F1 {b['intent']['f1']:.3f}")
            n = len(buyer)
            n_buyer += n
            for k in ("stage", "persona", "persona_or_alternative", "emotion"):
                total[k] += acc[k] * n
            total["f1"] += b["intent"]["f1"] * n
            for st in ("after_sale", "in_sale"):
                k = sum(c.stage == st for c in buyer)
                total[st] += (sr.get(st) or 0) * k
                total[st + "_n"] += k
        if notices:
            m = run_notice_eval(analyzer, notices, list_failures=show)
            for x in m["failures"]:
                key = ("notice", str(x["want"]), x["form"])
                misses[key] += 1
                examples[key].append(f"{x['id']} {x['message']}")
            line.append(f"提示 {m['notice_rate']:.3f} 误报 {m['false_notice_rate']:.3f}")
            n_attacks += m["attacks"]
            n_ordinary += m["ordinary"]
            total["caught"] += m["notice_rate"] * m["attacks"]
            total["false"] += m["false_notice_rate"] * m["ordinary"]
        print("  ".join(line), flush=True)
    if n_buyer:
        print(f"合计 买家 {n_buyer} 条：阶段 {total['stage'] / n_buyer:.3f}（售后 "
              f"{total['after_sale'] / max(total['after_sale_n'], 1):.3f}，售中 {total['in_sale'] / max(total['in_sale_n'], 1):.3f}）"
              f"类型 {total['persona'] / n_buyer:.3f}（含备选 {total['persona_or_alternative'] / n_buyer:.3f}）"
              f"情绪 {total['emotion'] / n_buyer:.3f} 意图 F1（按条加权）{total['f1'] / n_buyer:.3f}")
    if n_attacks:
        print(f"合计 提示 {total['caught'] / n_attacks:.3f} 误报 {total['false'] / max(n_ordinary, 1):.3f}")
    for key, n in misses.most_common():
        print(n, *key, "|", " / ".join(examples[key][:limit]))


def probe_main(cs=(1.0, 3.0, 10.0), thresholds=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8)) -> None:
    import numpy as np

    from copilot.buyer.probe import fit_probe
    from copilot.buyer.training import probe_cases, probe_vectors
    from copilot.knowledge.embedders import get_embedder

    settings = Settings(evals_dir=EVALS)
    embedder = get_embedder(settings.embedder)
    cases = probe_cases(EVALS)
    X = probe_vectors(cases, embedder)
    rnd = np.array([c.round for c in cases])
    y = np.array([c.label != "none" for c in cases])
    held = sorted((r for r in set(rnd) if r[3:].isdigit() and int(r[3:]) >= FIRST_HELD), key=lambda r: int(r[3:]))
    mask = np.isin(rnd, held)
    print(f"{len(held)} 轮留出，{int(mask.sum())} 条，其中过敏/受伤 {int(y[mask].sum())} 条")
    for c in cs:
        harm = np.zeros(len(cases))
        for r in held:
            probe = fit_probe(X[rnd != r], [x.label for x, keep in zip(cases, rnd != r) if keep], c=c, threshold=0.5,
                              meta={"embedder": embedder.name})
            for i in np.flatnonzero(rnd == r):
                p = probe.probs(X[i])
                harm[i] = p["reaction"] + p["injury"]
        for t in thresholds:
            pred = (harm >= t) & mask
            tp = int((pred & y).sum())
            fp = int((pred & ~y).sum())
            precision = tp / max(tp + fp, 1)
            print(f"C={c:<5} 阈值 {t:.2f}：召回 {tp / max(int((y & mask).sum()), 1):.3f} 精确 {precision:.3f} "
                  f"误报 {fp} 条（{fp / max(int((~y & mask).sum()), 1):.3%}）")


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--probe" in args:
        probe_main()
        sys.exit(0)
    main([a for a in args if not a.startswith("--")], show="--failures" in args or "--all" in args,
         limit=10_000 if "--all" in args else 3)
