"""Lexical ranking for Chinese: TF-IDF over character 1-2-grams (or jieba words).

Chinese has no spaces, so the default analyzer uses characters and character
bigrams, which match product names, SKU codes, sizes (``M码``), numbers and
exact policy terms without a segmenter. ``jieba`` word analysis is kept for
the ablation in ``copilot eval retrieval``.

The index is a column-major sparse matrix, so a query touches only the
postings of its own terms.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_WORD = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*|[\u3400-\u9fff]")
_SKIP = set("，。？！：；、（）“”‘’《》【】…—～ \n\t,.?!:;()[]'\"/-*#>|")


def char12(text: str) -> list[str]:
    """Characters and bigrams; latin/digit runs (SKUs, sizes) stay whole."""
    tokens = _WORD.findall(text.lower())
    grams = list(tokens)
    grams += [a + b for a, b in zip(tokens, tokens[1:])]
    return grams


def jieba_words(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.lcut_for_search(text.lower()) if w.strip() and w not in _SKIP]


ANALYZERS = {"char12": char12, "jieba": jieba_words}


class LexicalIndex:
    """Sublinear TF-IDF, L2-normalised; ``scores`` returns cosine similarities."""

    def __init__(self, texts: Sequence[str], analyzer: str = "char12") -> None:
        if analyzer not in ANALYZERS:
            raise ValueError(f"unknown analyzer {analyzer!r}")
        self.analyzer = analyzer
        self._analyze = ANALYZERS[analyzer]
        self.n_docs = len(texts)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, text in enumerate(texts):
            counts = Counter(self._analyze(text))
            for term, tf in counts.items():
                j = vocab.setdefault(term, len(vocab))
                rows.append(i)
                cols.append(j)
                vals.append(1.0 + math.log(tf))
        self.vocab = vocab
        n_terms = len(vocab)
        mat = sparse.csr_matrix(
            (np.asarray(vals, np.float32), (np.asarray(rows, np.int32), np.asarray(cols, np.int32))),
            shape=(self.n_docs, n_terms),
        )
        df = np.bincount(np.asarray(cols, np.int64), minlength=n_terms).astype(np.float32)
        self.idf = (np.log((1 + self.n_docs) / (1 + df)) + 1.0).astype(np.float32)
        mat = mat.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix = sparse.diags(1.0 / norms).dot(mat).tocsc().astype(np.float32)

    def query_vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(t for t in self._analyze(text) if t in self.vocab)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idx = np.fromiter((self.vocab[t] for t in counts), np.int64, len(counts))
        w = np.fromiter((1.0 + math.log(c) for c in counts.values()), np.float32, len(counts)) * self.idf[idx]
        return idx, w / (np.linalg.norm(w) or 1.0)

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity of the query to every document (dense array)."""
        idx, w = self.query_vector(text)
        if not len(idx):
            return np.zeros(self.n_docs, np.float32)
        return np.asarray(self.matrix[:, idx] @ w).ravel()

    def scores_for(self, text: str, rows: np.ndarray) -> np.ndarray:
        idx, w = self.query_vector(text)
        if not len(idx) or not len(rows):
            return np.zeros(len(rows), np.float32)
        sub = self.matrix[:, idx].tocsr()[rows]
        return np.asarray(sub @ w).ravel()
