"""Small linear models over hashed character n-grams: the text features and the fitting loop shared by the buyer
reader (``buyer.reader``) and the reply reader (``rules.reply_reader``).

L2-regularised logistic regression fitted with scipy's L-BFGS; deterministic (the same data give the same weights).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix

_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")


def norm_text(text: str) -> str:
    """Lower case, every digit 0, runs of spaces one space: 「仅剩3件」 and 「仅剩8件」 read alike."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def char_grams(text: str, n_max: int) -> list[str]:
    """Every 1..``n_max`` character n-gram of the normalised text that does not span a space."""
    t = norm_text(text)
    return [t[i:i + n] for n in range(1, n_max + 1) for i in range(len(t) - n + 1) if " " not in t[i:i + n]]


def hash_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class HashedLinear:
    """Weights per hashed feature id (rows sorted by id), biases per column and the training meta; saved as one
    .npz (weights in float16, the meta as JSON, no pickles). The buyer reader and the reply reader build on it."""

    def __init__(self, keys: np.ndarray, weights: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        order = np.argsort(keys)
        self.keys = keys[order].astype(np.int64)
        self.weights = weights[order].astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.meta = meta

    def save(self, path: Path) -> None:
        np.savez_compressed(path, keys=self.keys, weights=self.weights.astype(np.float16), bias=self.bias,
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: Path):
        with np.load(path, allow_pickle=False) as z:
            return cls(z["keys"], z["weights"].astype(np.float32), z["bias"], json.loads(str(z["meta"])))

    def known(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For feature ids ``keys``: the weight rows of those the model knows, and which ones they are (a mask)."""
        if not len(self.keys):
            return np.zeros(0, dtype=np.int64), np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[pos] == keys
        return pos[hit], hit


def file_digest(paths: Sequence[Path], root: Path) -> dict[str, str]:
    """sha256 of each training file, keyed by its path under ``root`` (recorded in the weights)."""
    return {p.as_posix(): hashlib.sha256((root / p).read_bytes()).hexdigest()[:16] for p in paths}


def softmax_loss(z: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-(Y * logp).sum()), np.exp(logp) - Y


def sigmoid_loss(z: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Per-column logistic loss; ``weights`` (same shape as ``Y``) weighs each case and label."""
    loss, grad = np.logaddexp(0, z) - Y * z, 1.0 / (1.0 + np.exp(-z)) - Y
    if weights is not None:
        loss, grad = loss * weights, grad * weights
    return float(loss.sum()), grad


def fit_linear(X: csr_matrix, Y: np.ndarray, c: float,
               loss: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised weights (features × columns) and biases minimising ``loss`` (softmax or per-label sigmoid)."""
    d, k = X.shape[1], Y.shape[1]
    XT = X.T.tocsr()

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[: d * k].reshape(d, k), theta[d * k:]
        value, g = loss(X @ W + b, Y)
        gw = XT @ g + W / c
        return value + 0.5 / c * float((W * W).sum()), np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(f, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[: d * k].reshape(d, k), res.x[d * k:]
