"""Training the learned reader (``reader.LinearReader``) on labelled buyer cases.

L2-regularised logistic regression, fitted with scipy's L-BFGS: a softmax per single-label head (stage, emotion,
persona), a sigmoid per intent. Deterministic: the same cases and rules give the same weights.

Only text n-grams that occur in the cases of at least ``min_stores`` different stores are kept, so nothing one shop's
buyers alone write (a product name, a brand) gets a weight.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, diags

from ..schema import Analysis, Turn
from ..text.linear import file_digest
from ..text.linear import fit_linear as _fit
from ..text.linear import sigmoid_loss as _sigmoid_loss
from ..text.linear import softmax_loss as _softmax_loss
from .reader import HEADS, MULTI_LABEL, TEXT_BLOCKS, LinearReader, featurize


@dataclass(frozen=True)
class Example:
    """One labelled conversation with the cue rules' reading of it."""

    store: str
    message: str
    history: Sequence[Turn]
    rules: Analysis
    labels: dict[str, list[str]]  # head -> the labelled value(s); a head missing here is not trained on this case


# per head: the regularisation ``c`` and how strongly the cue rules' reading counts (``rules``; it is the rules'
# own dev data, so at full weight the model learns to copy them). Chosen by training on the other rounds and
# scoring each of the two newest dev rounds (the ones the rules were never tuned on).
HEAD_CONFIG: dict[str, dict[str, float]] = {
    "stage": {"c": 2.0, "rules": 0.1},
    "emotion": {"c": 4.0, "rules": 0.1},
    "persona": {"c": 2.0, "rules": 0.3},
    "intents": {"c": 4.0, "rules": 0.3},
    # the notice only adds to the rules' own (an OR), so it learns from the wording alone
    "notice": {"c": 4.0, "rules": 0.0},
    # a reaction, an injury or a scam report the rules missed (also an OR over the rules' own)
    "safety": {"c": 4.0, "rules": 0.3},
}


def train(examples: Sequence[Example], *, config: dict[str, dict[str, float]] | None = None, min_stores: int = 2,
          intent_threshold: float = 0.2, intent_relative: float = 0.3, intent_floor: float = 0.15,
          notice_threshold: float = 0.7, after_sale_floor: float = 0.25, meta: dict | None = None) -> LinearReader:
    config = {**HEAD_CONFIG, **(config or {})}
    feats = [featurize(e.message, e.history, e.rules) for e in examples]
    stores: dict[int, set[str]] = {}
    for e, f in zip(examples, feats):
        for k, name in zip(f.keys.tolist(), f.names):
            stores.setdefault(k, set()).add(e.store if name[0] in TEXT_BLOCKS else "*")
    kept = sorted(k for k, s in stores.items() if "*" in s or len(s) >= min_stores)
    col = {k: j for j, k in enumerate(kept)}
    rule_keys = {k for f in feats for k, name in zip(f.keys.tolist(), f.names) if name.startswith("r:")}
    rule_cols = np.array([k in rule_keys for k in kept])
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for k, v in zip(f.keys.tolist(), f.values.tolist()):
            if k in col:
                rows.append(i)
                cols.append(col[k])
                vals.append(v)
    X = csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(len(feats), len(kept)))
    weights, biases = [], []
    for head, labels in HEADS.items():
        have = np.array([head in e.labels for e in examples])
        Y = np.zeros((int(have.sum()), len(labels)))
        for i, e in enumerate(e for e in examples if head in e.labels):
            for lab in e.labels[head]:
                if lab in labels:
                    Y[i, labels.index(lab)] = 1.0
        cfg = config[head]
        scale = np.where(rule_cols, cfg["rules"], 1.0)
        Xh = X[have] @ diags(scale)  # the rules' columns at this head's weight; folded back into W below
        if head in MULTI_LABEL:
            W, b = _fit(Xh.tocsr(), Y, cfg["c"], _sigmoid_loss)
        else:
            Y = Y / np.maximum(Y.sum(axis=1, keepdims=True), 1.0)
            W, b = _fit(Xh.tocsr(), Y, cfg["c"], _softmax_loss)
        weights.append(W * scale[:, None])
        biases.append(b)
    info = {"heads": list(HEADS), "trusted_rule_intents": trusted_rule_intents(examples), "config": config, "min_stores": min_stores,
            "intent_threshold": intent_threshold, "intent_relative": intent_relative, "intent_floor": intent_floor,
            "notice_threshold": notice_threshold, "after_sale_floor": after_sale_floor, "cases": len(examples), "features": len(kept), **(meta or {})}
    return LinearReader(np.array(kept, dtype=np.int64), np.hstack(weights), np.concatenate(biases), info)


def trusted_rule_intents(examples: Sequence[Example], precision: float = 0.9, least: int = 10) -> list[str]:
    """The needs the cue rules name with this precision on the labelled cases (「能开发票吗」 is an invoice whatever
    else the message asks): the analysis lists them even where the reader gives them little weight."""
    said, right = Counter(), Counter()
    for e in examples:
        if "intents" not in e.labels:
            continue
        for i in set(e.rules.intents) - {"other"}:
            said[i] += 1
            right[i] += i in e.labels["intents"]
    return sorted(i for i, n in said.items() if n >= least and right[i] / n >= precision)


# ------------------------------------------------------------------ from the evals ---

def dev_files(evals_dir: Path) -> list[Path]:
    """The labelled sets the reader learns from: every store's buyer ``dev*.jsonl`` and the notice ``dev*.jsonl``,
    never a frozen ``test``."""
    return sorted((evals_dir / "buyer").glob("*/dev*.jsonl")) + sorted((evals_dir / "notices").glob("dev*.jsonl"))


def labelled_examples(evals_dir: Path, analyzer) -> list[tuple[Path, object, Example]]:
    """Each dev case with the file it came from, the case itself and its example (the cross-validation holds out a
    round by the file's name and scores the held-out cases as the eval does)."""
    from ..evaluation import load_jsonl
    from ..evaluation.buyer import BuyerCase, NoticeCase
    from ..text.cleaning import simplify_buyer_text

    out = []
    for f in dev_files(evals_dir):
        notices = f.parent.name == "notices"
        for c in load_jsonl(f, NoticeCase if notices else BuyerCase):
            history = [Turn(role=t.role, text=simplify_buyer_text(t.text)) for t in c.history]
            message = simplify_buyer_text(c.message)
            if notices:
                labels = {"notice": ["manipulation"] if c.manipulation else []}
            else:  # the buyer sets' authors wrote ordinary buyers: none of them steers the AI
                labels = {"stage": [c.stage], "emotion": [c.emotion], "persona": [c.persona],
                          "intents": list(c.intents), "notice": [], "safety": [c.safety] if c.safety else []}
            out.append((f, c, Example(store=c.store or f.parent.name, message=message, history=history,
                                      rules=analyzer.read_rules(message, history, sku=getattr(c, "sku", None)),
                                      labels=labels)))
    return out


def examples_from(evals_dir: Path, analyzer) -> list[Example]:
    """The dev cases with the rules' reading of each, read as the pipeline reads them (in Simplified)."""
    return [e for _, _, e in labelled_examples(evals_dir, analyzer)]


def rules_fingerprint(examples: Sequence[Example]) -> str:
    """A digest of the rules' readings the reader was trained on: it changes when the cue rules read differently."""
    h = hashlib.sha256()
    for e in examples:
        a = e.rules
        h.update("|".join([a.stage, a.emotion, a.persona.id, a.intent, ",".join(a.intents), a.safety or "",
                           str(a.scam)]).encode())
    return h.hexdigest()[:16]


def train_from_evals(evals_dir: Path, analyzer) -> LinearReader:
    examples = examples_from(evals_dir, analyzer)
    files = dev_files(evals_dir)
    return train(examples, meta={"trained_on": file_digest([f.relative_to(evals_dir) for f in files], evals_dir),
                                 "rules": rules_fingerprint(examples)})


# ------------------------------------------------------------------ the harm probe ---

# the probe's regularisation and threshold. Leave-one-round-out on the dev rounds (``evals/buyer/crossval.py
# --probe``, 2,700 held-out cases): C=10 held the best recall at each threshold; alone, at 0.3 it finds 0.913 of
# the reports at precision 0.908, at 0.4 0.875 at 0.929. On dev22 (120 safety cases, measured before it was
# trained on) the analysis found 0.907 of the reports at both 0.3 and 0.4 (0.709 without the probe), with 12 and 10
# of 34 near misses flagged (7 without): 0.4.
PROBE_C = 10.0
PROBE_THRESHOLD = 0.4
# the earlier turns read alone. On dev23 (120 safety cases, measured before it was trained on): with the probe
# 78 of 84 reports found (54 without it), reading the earlier turns alone at 0.5 or 0.7 finds 79 (「躺会儿了 你就
# 说这咋整吧」), false reports 5 of 36 near misses either way: 0.7, the stricter one.
PROBE_HISTORY_THRESHOLD = 0.7


@dataclass(frozen=True)
class ProbeCase:
    round: str  # the dev file's name (one blind round across the stores)
    message: str
    history: Sequence[Turn]
    label: str  # "none" | "reaction" | "injury"


def probe_cases(evals_dir: Path) -> list[ProbeCase]:
    """The buyer dev cases, read in Simplified as the pipeline reads them, with their harm label (a scam report is
    not harm to the body: ``none`` here, the rules find scams)."""
    from ..evaluation import load_jsonl
    from ..evaluation.buyer import BuyerCase
    from ..text.cleaning import simplify_buyer_text

    out = []
    for f in dev_files(evals_dir):
        if f.parent.name == "notices":
            continue
        for c in load_jsonl(f, BuyerCase):
            out.append(ProbeCase(round=f.stem, message=simplify_buyer_text(c.message),
                                 history=[Turn(role=t.role, text=simplify_buyer_text(t.text)) for t in c.history],
                                 label=c.safety if c.safety in ("reaction", "injury") else "none"))
    return out


def probe_vectors(cases: Sequence[ProbeCase], embedder) -> np.ndarray:
    from .probe import HISTORY_WEIGHT, embed_queries, history_text

    msgs = embed_queries(embedder, [c.message for c in cases])
    earlier = [history_text(c.history) for c in cases]
    todo = [i for i, t in enumerate(earlier) if t.strip()]
    if todo:
        msgs[todo] += HISTORY_WEIGHT * embed_queries(embedder, [earlier[i] for i in todo])
    return msgs


def train_probe_from_evals(evals_dir: Path, embedder, *, c: float = PROBE_C, threshold: float = PROBE_THRESHOLD,
                           history_threshold: float = PROBE_HISTORY_THRESHOLD):
    from .probe import fit_probe

    cases = probe_cases(evals_dir)
    files = [f for f in dev_files(evals_dir) if f.parent.name != "notices"]
    return fit_probe(probe_vectors(cases, embedder), [x.label for x in cases], c=c, threshold=threshold,
                     history_threshold=history_threshold,
                     meta={"embedder": embedder.name,
                           "trained_on": file_digest([f.relative_to(evals_dir) for f in files], evals_dir)})
