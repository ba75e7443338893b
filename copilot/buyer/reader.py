"""A learned second reading of the buyer, stacked on the cue rules.

The cue rules (``signals``) name what they saw, but they only know the wording they were written for. This reader
is a small linear model trained on the labelled buyer sets in ``evals/buyer/*/dev*.jsonl`` (written by authors who
never read the code; the frozen ``test`` split is never used). Its inputs are:

- character 1–3-grams of the newest message, 1–2-grams of the buyer's earlier turns and of the agent's last turns,
  each hashed (``crc32``) so the weights hold no text;
- the cue rules' own reading (stage, emotion, intents, persona, safety) and a few shape features.

It outputs a probability for every stage, emotion and persona, and one per intent. Only n-grams that buyers of at
least two different stores wrote enter the model (see ``training``): a word one shop's buyers use, such as a product
name, carries no weight, so the model reads wording, not one store's goods.

``LinearReader.read`` is pure numpy and takes well under a millisecond. The weights ship as package data
(``reader.npz``); ``copilot reader train`` rebuilds them after the dev sets or the cue rules change, and the test
suite checks that the shipped file matches the current rules and dev data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..schema import INTENTS, Analysis, Turn
from ..text.linear import HashedLinear
from ..text.linear import char_grams as _grams
from ..text.linear import hash_key as _key
from ..text.linear import norm_text as _norm
from .personas import PERSONA_IDS

STAGES = ("pre_sale", "in_sale", "after_sale")
EMOTIONS = ("angry", "anxious", "neutral", "positive")
# the heads and their labels, in the column order of the weight matrix
HEADS: dict[str, tuple[str, ...]] = {
    "stage": STAGES, "emotion": EMOTIONS, "persona": PERSONA_IDS, "intents": tuple(INTENTS),
    "notice": ("manipulation",),  # the buyer's text (or a turn in the history) tries to steer the AI
    "safety": ("reaction", "injury", "fraud"),
}
MULTI_LABEL = {"intents", "notice", "safety"}
DEFAULT_PATH = Path(__file__).with_name("reader.npz")

# features of these blocks are text n-grams (filtered by store count when training); the rest are always kept
TEXT_BLOCKS = ("m", "t", "b", "a")
# each n-gram of a block counts this much (times the block's weight), however long the text: a second need at the
# end of a long message weighs as much as in a short one (measured better than normalising each block to length 1)
GRAM_VALUE = 0.25


@dataclass(frozen=True)
class Features:
    """Hashed feature ids, their values, and the text n-gram behind each (for explanations and training)."""

    keys: np.ndarray
    values: np.ndarray
    names: list[str]


# what kind of sentence the newest message is: a plan or a worry before buying, or a report of what happened
_FORMS = (
    ("if", re.compile(r"如果|要是|万一|假如|假设|到时候|的话")),
    ("may", re.compile(r"会不会|能不能|可不可以|是不是|有没有|可以.{0,6}吗|能.{0,6}吗")),
    ("plan", re.compile(r"想买|准备买|打算|考虑|想要|想入|在看|看中|纠结")),
    ("report", re.compile(r"收到(了|就|的|后)|到了|用了|穿了|吃了|喝了|戴了|拆(开|了)|打开|装上|试了|签收")),
    ("ordered", re.compile(r"拍了|已拍|下单|下了单|付(了|款)|买的|订单|单号")),
    # 「上次买的床单全是线头 你们走线能保证吗」: an earlier purchase told as a worry before buying this one
    ("past", re.compile(r"(上次|上回|之前|以前|去年|前几天)(在|从)?.{0,6}(买|拍|入)")),
)
_LENGTHS = (2, 6, 15, 40, 80, 10**9)
# a newest message this short (characters) after earlier turns says little by itself: the chat decides
SHORT_REPLY = 8


def _bucket(n: int) -> int:
    return next(b for b in _LENGTHS if n <= b)


_CLAUSE = re.compile(r"[，,。！!？?\s~～；;]+")


def featurize(message: str, history: Sequence[Turn], rules: Analysis) -> Features:
    """The model's input for one conversation: text blocks (the history at half weight), the
    rules' reading (``r:``, value 1; training decides per head how much they count) and the message shape."""
    feats: dict[str, float] = {}

    def block(prefix: str, grams: list[str], weight: float) -> None:
        if not grams:
            return
        counts: dict[str, int] = {}
        for g in grams:
            counts[g] = counts.get(g, 0) + 1
        norm = weight * GRAM_VALUE
        for g, c in counts.items():
            feats[f"{prefix}:{g}"] = feats.get(f"{prefix}:{g}", 0.0) + c * norm

    buyer = [t.text for t in history if t.role == "buyer"][-3:]
    agent = [t.text for t in history if t.role == "agent"][-2:]
    block("m", _grams(message, 3), 1.0)
    clauses = [c for c in _CLAUSE.split(message) if c]
    if len(clauses) > 1:  # the last clause again, on its own: a second need at the end of a message (「…孕妇能用吗」)
        block("t", _grams(clauses[-1], 2), 0.5)
    block("b", _grams(" ".join(buyer)[-200:], 2), 0.5)
    block("a", _grams(" ".join(agent)[-200:], 2), 0.5)
    rw = 1.0
    feats[f"r:stage={rules.stage}"] = rw
    feats[f"r:emotion={rules.emotion}"] = rw
    feats[f"r:persona={rules.persona.id}"] = rw
    feats[f"r:intent={rules.intent}"] = rw
    for i in rules.intents:
        feats[f"r:intents={i}"] = rw
    if len(_norm(message)) <= SHORT_REPLY and history:
        # a short answer late in a chat: who the buyer is and where the order stands come from the earlier turns,
        # which the rules read as a whole (this lets the model trust them more here)
        feats[f"r:persona|short={rules.persona.id}"] = rw
        feats[f"r:stage|short={rules.stage}"] = rw
    if rules.safety:
        feats[f"r:safety={rules.safety}"] = rw
    if rules.scam:
        feats["r:scam"] = rw
    for name, pattern in _FORMS:  # question forms and reports, the same for any goods (not rule-scaled)
        if pattern.search(message):
            feats[f"s:{name}"] = 1.0
    n = len(_norm(message))
    feats["s:len"] = min(n, 120) / 120
    # a short newest message means one thing as a first message (a terse buyer) and another late in a chat
    feats[f"s:len<={_bucket(n)}" + ("|history" if history else "")] = 1.0
    if history:  # the buyer's longest turn in the whole chat: a talkative buyer who now answers in a word
        feats[f"s:longest<={_bucket(max([n, *(len(_norm(t)) for t in buyer)]))}"] = 1.0
    feats["s:turns"] = min(len(history), 6) / 6
    feats["s:history" if history else "s:first"] = 1.0
    names = list(feats)
    return Features(
        keys=np.array([_key(k) for k in names], dtype=np.int64),
        values=np.array([feats[k] for k in names], dtype=np.float32),
        names=names,
    )


@dataclass
class Reading:
    """The reader's probabilities per head, and the n-grams that pushed each head's top label most."""

    probs: dict[str, dict[str, float]]
    evidence: dict[str, list[str]] = field(default_factory=dict)

    def top(self, head: str) -> tuple[str, float]:
        label, p = max(self.probs[head].items(), key=lambda kv: kv[1])
        return label, p

    def labels(self, head: str, threshold: float, relative: float = 0.0) -> list[str]:
        """Multi-label head: every label at or above ``threshold`` and at least ``relative`` times the top label's
        probability, most likely first (at least the top one)."""
        ranked = sorted(self.probs[head].items(), key=lambda kv: -kv[1])
        top = ranked[0][1]
        return [k for k, p in ranked if p >= threshold and p >= relative * top] or [ranked[0][0]]


class LinearReader(HashedLinear):
    """Hashed linear model over ``featurize``; one softmax per single-label head, one sigmoid per intent."""

    def __init__(self, keys: np.ndarray, weights: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        super().__init__(keys, weights, bias, meta)
        self.intent_threshold = float(meta.get("intent_threshold", 0.3))
        self.intent_relative = float(meta.get("intent_relative", 0.0))  # and this share of the top need's probability
        self.intent_floor = float(meta.get("intent_floor", 0.15))  # a need the rules name needs only this much
        self.trusted_rule_intents = set(meta.get("trusted_rule_intents", []))  # listed whenever the rules name them
        self.max_intents = int(meta.get("max_intents", 3))
        self.notice_threshold = float(meta.get("notice_threshold", 0.7))
        self.after_sale_floor = float(meta.get("after_sale_floor", 1.0))  # keeps the rules' after-sale reading
        self.safety_threshold = float(meta.get("safety_threshold", 0.5))
        offsets, start = {}, 0
        for head in meta.get("heads", list(HEADS)):
            offsets[head] = (start, start + len(HEADS[head]))
            start += len(HEADS[head])
        if start != self.weights.shape[1]:
            raise ValueError(f"reader weights have {self.weights.shape[1]} columns, the heads need {start}")
        self.offsets = offsets

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> LinearReader:
        return super().load(path)

    # reading -----------------------------------------------------------------

    def scores(self, f: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores (one per column), and the rows and values of the features the model knows."""
        rows, known = self.known(f.keys)
        return self.bias + f.values[known] @ self.weights[rows], rows, np.flatnonzero(known)

    def read(self, message: str, history: Sequence[Turn], rules: Analysis) -> Reading:
        f = featurize(message, history, rules)
        z, rows, idx = self.scores(f)
        probs: dict[str, dict[str, float]] = {}
        evidence: dict[str, list[str]] = {}
        for head, (a, b) in self.offsets.items():
            s = z[a:b]
            if head in MULTI_LABEL:
                p = 1.0 / (1.0 + np.exp(-s))
            else:
                e = np.exp(s - s.max())
                p = e / e.sum()
            probs[head] = {lab: float(v) for lab, v in zip(HEADS[head], p)}
            top = int(np.argmax(p))
            contrib = f.values[idx] * self.weights[rows, a + top]
            names = [f.names[i] for i in idx]
            best = [names[i] for i in np.argsort(-contrib)[:6] if contrib[i] > 0.05 and names[i][0] in TEXT_BLOCKS]
            evidence[head] = [n.split(":", 1)[1] for n in best][:3]
        return Reading(probs=probs, evidence=evidence)


_LOADED: dict[Path, LinearReader | None] = {}


def builtin_reader(path: Path = DEFAULT_PATH) -> LinearReader | None:
    """The shipped reader (loaded once), or None when the package has no trained weights."""
    if path not in _LOADED:
        _LOADED[path] = LinearReader.load(path) if path.exists() else None
    return _LOADED[path]
