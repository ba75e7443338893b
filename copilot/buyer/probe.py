"""A reading of harm by meaning: is the buyer telling of a reaction or an injury, in any words?

The cue rules (``signals``) and the learned reader (``reader``) read wording: on safety rounds written blind they
miss about a quarter of the reports (「脚后跟磨出血泡了」, 「喝完心慌得一宿没睡」), because each author finds new words for
a body and what happened to it. This probe reads the sentence vectors the retriever already computes for the same
texts (the configured embedder; in the pipeline the newest message and the buyer's last two turns are embedded in
one batch before the analysis, so the probe costs a dot product there): a softmax over ``none`` / ``reaction`` /
``injury`` on the newest message's vector plus 0.3 × the earlier buyer turns' vector, the same mix the retriever
searches with.

It only adds to the rules and the reader (an OR: a report they found stays found). It was trained on the buyer dev
rounds (``copilot reader train``), and its threshold was chosen by leave-one-round-out cross-validation on them; it
records the embedder it was trained with and is not used under another one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..knowledge.embedders import Embedder
from ..schema import Turn

LABELS = ("none", "reaction", "injury")
HISTORY_WEIGHT = 0.3  # as the retriever mixes the recent turns into its query vector
DEFAULT_PATH = Path(__file__).with_name("harm_probe.npz")


def history_text(history: Sequence[Turn]) -> str:
    """The buyer's last two earlier turns, as the pipeline embeds them."""
    return "\n".join([t.text for t in history if t.role == "buyer"][-2:])


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of many texts as ``embed_query`` makes them one by one (query prefix, normalised), in batches."""
    parts = [embedder.embed_batch([embedder.query_prefix + t for t in texts[i: i + embedder.batch_size]])
             for i in range(0, len(texts), embedder.batch_size)]
    if not parts:
        return np.zeros((0, embedder.dim), np.float32)
    v = np.vstack(parts).astype(np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def probe_vector(embedder: Embedder, message: str, history: Sequence[Turn]) -> np.ndarray:
    return _vectors(embedder, message, history)[0]


def _vectors(embedder: Embedder, message: str, history: Sequence[Turn]) -> tuple[np.ndarray, np.ndarray | None]:
    """The probe's input (the newest message plus 0.3 × the earlier turns) and the earlier turns' own vector."""
    earlier = history_text(history)
    embedder.warm_queries([message, earlier])  # one batch for both (a no-op where the pipeline already did it)
    vec = np.asarray(embedder.embed_query(message), dtype=np.float32)
    if not earlier.strip():
        return vec, None
    before = np.asarray(embedder.embed_query(earlier), dtype=np.float32)
    return vec + HISTORY_WEIGHT * before, before


class HarmProbe:
    """Softmax weights (embedding dims × ``LABELS``), biases, and the meta (embedder, threshold, training data)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        if weights.shape != (int(meta.get("dim", weights.shape[0])), len(LABELS)):
            raise ValueError(f"harm probe weights have shape {weights.shape}, expected (dim, {len(LABELS)})")
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.meta = meta
        self.threshold = float(meta.get("threshold", 0.5))
        # the earlier turns read alone: 「躺会儿了 你就说这咋整吧」 after the harm was told a turn before
        self.history_threshold = float(meta.get("history_threshold", 1.01))

    def usable_with(self, embedder: Embedder | None) -> bool:
        """Only under the embedder it was trained with (another one's vectors mean nothing to these weights)."""
        return embedder is not None and embedder.name == self.meta.get("embedder") \
            and int(getattr(embedder, "dim", 0) or 0) == self.weights.shape[0]

    def probs(self, vec: np.ndarray) -> dict[str, float]:
        z = vec @ self.weights + self.bias
        e = np.exp(z - z.max())
        p = e / e.sum()
        return {lab: float(v) for lab, v in zip(LABELS, p)}

    def read(self, embedder: Embedder, message: str, history: Sequence[Turn] = ()) -> tuple[str | None, float]:
        """("reaction" | "injury", the probability of harm) when it is at or above the threshold, else (None, p).
        The buyer's earlier turns are also read on their own, against the (higher) ``history_threshold``."""
        vec, before = _vectors(embedder, message, history)
        p = self.probs(vec)
        harm = p["reaction"] + p["injury"]
        if harm < self.threshold and before is not None:
            q = self.probs(before)
            if q["reaction"] + q["injury"] >= self.history_threshold:
                p, harm = q, max(harm, self.threshold)
        kind = "reaction" if p["reaction"] >= p["injury"] else "injury"
        return (kind if harm >= self.threshold else None), harm

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float16), bias=self.bias,
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> HarmProbe:
        with np.load(path, allow_pickle=False) as z:
            return cls(z["weights"].astype(np.float32), z["bias"], json.loads(str(z["meta"])))


def fit_probe(vectors: np.ndarray, labels: Sequence[str], *, c: float, threshold: float, meta: dict,
              history_threshold: float = 1.01) -> HarmProbe:
    """L2-regularised softmax regression over the vectors (deterministic: L-BFGS from zeros)."""
    from scipy.sparse import csr_matrix

    from ..text.linear import fit_linear, softmax_loss

    Y = np.zeros((len(labels), len(LABELS)))
    for i, lab in enumerate(labels):
        Y[i, LABELS.index(lab if lab in LABELS else "none")] = 1.0
    W, b = fit_linear(csr_matrix(vectors.astype(np.float64)), Y, c, softmax_loss)
    return HarmProbe(W, b, {**meta, "dim": int(vectors.shape[1]), "threshold": threshold, "c": c,
                            "history_threshold": history_threshold, "cases": len(labels)})


_LOADED: dict[Path, HarmProbe | None] = {}


def builtin_probe(path: Path = DEFAULT_PATH) -> HarmProbe | None:
    """The shipped probe (loaded once), or None when the package has none."""
    if path not in _LOADED:
        _LOADED[path] = HarmProbe.load(path) if path.exists() else None
    return _LOADED[path]
