"""A second opinion for the rules whose violations are in the wording itself: a reply that blames, is rude, leaks
the prompt, makes an absolute or efficacy claim, asks for a secret or leaves the platform in words no pattern has.

The rules' patterns are written on the wording they were tuned on; a reply author they never saw phrases the same
violation differently (measured: recall on a new author's replies fell from 1.0 to about 0.5). This reader is a
logistic regression per rule over the reply's character n-grams, trained on the labelled dev replies
(``evals/replies/*_dev.jsonl``, never a frozen ``_test``) by ``copilot rules train``. It only adds failures: a rule
the patterns pass fails when the reader gives its violation at least ``threshold``; the badge then says it is the
model's reading, with the n-grams that weighed most, so the agent can judge it.

Promises are read too, but only in the sentences the store does not back (``Rule.readable``: a running
promotion's amounts, a policy or FAQ sentence told nearly word for word are left out), so money in new words is
denied by default while the store's own offers pass. Honest urgency (the stock and the dates decide) and empathy first
(the buyer's mood decides) are not read here: the same words are right or wrong depending on facts the words lack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix

from ..settings import PACKAGED_PROMPTS
from ..text.linear import HashedLinear, char_grams, file_digest, fit_linear, hash_key, sigmoid_loss

MODEL_RULES = ("no_blame_shifting", "polite_language", "prompt_leak", "ad_law_words", "no_sensitive_request",
               "platform_rules", "no_unauthorized_promise")
DEFAULT_PATH = Path(__file__).with_name("reply_reader.npz")
N_MAX = 3
# chosen by training on the other authors and scoring each held-out author (the rule cases for recall, the realistic
# agent replies for false alarms; evals/replies/crossval.py), over nine authors: recall / false flags / false alarms
# were 0.953 / 7 / 10 at 0.6, 0.938 / 4 / 8 at 0.7, 0.928 / 3 / 8 at 0.8 (the patterns alone 0.884 / 3 / 7)
THRESHOLD = 0.7
C = 10.0


_WORD_CHARS = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")


def featurize(reply: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Hashed n-gram ids, their values (counts scaled to unit length) and the n-grams; punctuation is not a word
    (「的，」 says nothing about blame)."""
    counts: dict[str, int] = {}
    for g in char_grams(reply, N_MAX):
        if _WORD_CHARS.match(g):
            counts[g] = counts.get(g, 0) + 1
    names = list(counts)
    values = np.array([counts[g] for g in names], dtype=np.float64)
    if len(values):
        values /= np.sqrt((values * values).sum())
    return np.array([hash_key(g) for g in names], dtype=np.int64), values, names


@dataclass(frozen=True)
class ReplyExample:
    reply: str
    violations: frozenset[str]  # the MODEL_RULES this reply breaks (any rule not listed is taken as kept)


class ReplyReader(HashedLinear):
    def __init__(self, keys: np.ndarray, weights: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        super().__init__(keys, weights, bias, meta)
        self.rules: list[str] = list(meta["rules"])
        self.threshold = float(meta.get("threshold", THRESHOLD))
        if self.weights.shape[1] != len(self.rules):
            raise ValueError(f"reply reader weights have {self.weights.shape[1]} columns for {len(self.rules)} rules")

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> ReplyReader:
        return super().load(path)

    def _known(self, reply: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        keys, values, names = featurize(reply)
        rows, hit = self.known(keys)
        return rows, values[hit], [n for n, h in zip(names, hit) if h]

    def probabilities(self, reply: str) -> dict[str, float]:
        rows, values, _ = self._known(reply)
        z = values @ self.weights[rows] + self.bias
        return {r: float(p) for r, p in zip(self.rules, 1.0 / (1.0 + np.exp(-z)))}

    def evidence(self, reply: str, rule: str, top: int = 3) -> list[str]:
        """The n-grams (two characters or more) that pushed ``rule`` up the most, strongest first, none inside
        another."""
        rows, values, names = self._known(reply)
        col = self.rules.index(rule)
        pushes = sorted(((float(v * self.weights[r, col]), n) for r, v, n in zip(rows, values, names) if len(n) >= 2),
                        reverse=True)
        out: list[str] = []
        for push, name in pushes:
            if push <= 0 or len(out) >= top:
                break
            if not any(name in o or o in name for o in out):
                out.append(name)
        return out

    def flags(self, reply: str, rules: Iterable[str]) -> dict[str, float]:
        """Of ``rules``, those the reader reads as violated, with its probability."""
        wanted = [r for r in rules if r in self.rules]
        if not wanted or not reply.strip():
            return {}
        probs = self.probabilities(reply)
        return {r: probs[r] for r in wanted if probs[r] >= self.threshold}


def train(examples: Sequence[ReplyExample], *, meta: dict | None = None, c: float = C,
          threshold: float = THRESHOLD) -> ReplyReader:
    """One balanced logistic regression per rule (each rule's violations weigh as much as the rest)."""
    vocab: dict[int, int] = {}
    rows, cols, vals = [], [], []
    for i, e in enumerate(examples):
        keys, values, _ = featurize(e.reply)
        for k, v in zip(keys.tolist(), values.tolist()):
            rows.append(i)
            cols.append(vocab.setdefault(k, len(vocab)))
            vals.append(v)
    X = csr_matrix((np.array(vals), (rows, cols)), shape=(len(examples), len(vocab)))
    Y = np.array([[r in e.violations for r in MODEL_RULES] for e in examples], dtype=np.float64)
    pos = Y.sum(axis=0).clip(min=1)
    n = len(examples)
    weights = np.where(Y > 0, n / (2 * pos), n / (2 * (n - pos).clip(min=1)))
    W, b = fit_linear(X, Y, c, lambda z, y: sigmoid_loss(z, y, weights))
    keys = np.array(list(vocab), dtype=np.int64)
    info = {"rules": list(MODEL_RULES), "threshold": threshold, "c": c, "cases": n,
            "violations": {r: int(Y[:, j].sum()) for j, r in enumerate(MODEL_RULES)}, "features": len(vocab),
            **(meta or {})}
    return ReplyReader(keys, W, b, info)


# ------------------------------------------------------------------ from the evals ---

def dev_files(evals_dir: Path) -> list[Path]:
    """The labelled replies the reader learns from: ``evals/replies/*_dev.jsonl`` and the rules' own dev sets
    ``evals/rules/<rule>.jsonl``, never a frozen ``_test``."""
    return sorted((evals_dir / "replies").glob("*_dev.jsonl")) + sorted((evals_dir / "rules").glob("*.jsonl"))


def examples_from(evals_dir: Path) -> list[ReplyExample]:
    """Rule cases give their own rule's label; hostile replies their labelled rule; agent replies their list."""
    out = []
    for f in dev_files(evals_dir):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            if "violations" in c:
                broken = set(c["violations"])
            elif f.parent.name == "rules":  # one file per rule: its name is the rule
                broken = {f.stem} if c.get("label") == "violation" else set()
            else:
                broken = {c["rule"]} if c.get("label", "violation") == "violation" else set()
            out.append(ReplyExample(reply=c["reply"], violations=frozenset(broken & set(MODEL_RULES))))
    return out


def stock_phrases(prompts_dir: Path = PACKAGED_PROMPTS) -> list[ReplyExample]:
    """The offline composer's own lines (``prompts/composer.yaml``, placeholders left out) as clean replies: reviewed
    package data that keeps every rule, so an apology opener or 「我帮您核实一下」 is not read as a promise."""
    def strings(node) -> Iterable[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
    data = yaml.safe_load((prompts_dir / "composer.yaml").read_text(encoding="utf-8"))
    texts = {re.sub(r"\{\w+\}", "", t).strip() for t in strings(data)}
    return [ReplyExample(reply=t, violations=frozenset()) for t in sorted(texts) if len(t) >= 4]


def train_from_evals(evals_dir: Path) -> ReplyReader:
    files = dev_files(evals_dir)
    return train(examples_from(evals_dir) + stock_phrases(),
                 meta={"trained_on": file_digest([f.relative_to(evals_dir) for f in files], evals_dir),
                       "phrases": file_digest([Path("composer.yaml")], PACKAGED_PROMPTS)})


@lru_cache(maxsize=4)
def builtin_reply_reader(path: Path = DEFAULT_PATH) -> ReplyReader | None:
    """The packaged weights, or None when they were never trained (the rules then judge alone)."""
    return ReplyReader.load(path) if path.exists() else None
