"""The no-answer threshold, calibrated on the store's own data and kept next to its index.

A search whose best score is below the threshold is "not grounded": drafts then say they will check
(「帮您核实」). The setting's default (``no_answer_threshold``) was tuned on the sample store; on another store
the right passage may score lower, so ``copilot ingest`` / a workspace reindex / ``copilot doctor`` calibrate
it per index generation:

- **positives**: the store's FAQ questions (catalog ``faqs[].q`` and CSV 问题, i.e. every FAQ chunk in the index)
  asked the way a buyer paraphrases them — trailing punctuation and the first and last two characters dropped.
  Asked verbatim a question finds its own chunk, which says nothing about a buyer's wording; leaving its own
  chunk out instead measures whichever other chunk happens to be nearest. On the sample store the perturbed
  questions score like the real answerable buyer questions of its eval (median 0.32 vs 0.37, p10 0.21 vs
  0.21), leave-one-out far lower (median 0.25, p10 0.11). Plus the answerable queries of the store's retrieval
  eval file, if there is one (``<knowledge_dir>/../evals/retrieval.jsonl`` unless another path is given).
- **negatives**: the eval's unanswerable queries plus the generic out-of-scope buyer messages shipped as
  package data (``out_of_scope.txt``).
- **threshold**: the one maximising balanced accuracy (ties: the one nearest the setting's default), clamped
  to [``MIN_THRESHOLD``, ``MAX_THRESHOLD``]. Fewer than ``MIN_POSITIVES`` positives: no calibration.

The result is stored in ``<data_dir>/calibration.json`` keyed by generation name. ``CalibrationStore.threshold``
is the one accessor search and drafting use (through ``Retriever.no_answer_threshold``): a threshold the user
set explicitly (CLI, config file or ``COPILOT_NO_ANSWER_THRESHOLD``) wins, then the generation's calibration,
then the setting's default.

The knowledge layer does not import retrieval: ``calibrate`` takes the retriever as an argument.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from bisect import bisect_left
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from ..settings import Settings

MIN_POSITIVES = 8
MIN_THRESHOLD = 0.15
MAX_THRESHOLD = 0.35
MAX_FAQ_QUESTIONS = 400  # evenly sampled beyond this: calibration stays around a second on big stores
MAX_EVAL_CASES = 400
KEEP_GENERATIONS = 4
FILE_NAME = "calibration.json"
_TRAILING = re.compile(r"[\s？?！!。．.，,、；;：:～~…]+$")

ThresholdSource = Literal["explicit", "calibrated", "default"]


class Calibration(BaseModel):
    """One generation's calibration (``threshold`` is None when there was too little data)."""

    generation: str
    threshold: float | None = None
    best: float | None = Field(default=None, description="the balanced-accuracy optimum before clamping")
    positives: int = 0
    negatives: int = 0
    faq_positives: int = 0
    eval_positives: int = 0
    eval_negatives: int = 0
    builtin_negatives: int = 0
    false_no_answer_rate: float | None = Field(default=None, description="positives below the threshold")
    false_answer_rate: float | None = Field(default=None, description="negatives at or above the threshold")
    balanced_accuracy: float | None = None
    default: float = 0.26
    default_false_no_answer_rate: float | None = None
    default_false_answer_rate: float | None = None
    eval_path: str | None = None
    note: str = ""
    calibrated_at: str = ""


def explicit_threshold(settings: Settings) -> bool:
    """Did the user set ``no_answer_threshold`` (CLI, config file, environment or code), rather than leave the default?"""
    return "no_answer_threshold" in settings.model_fields_set


def builtin_negatives() -> list[str]:
    text = resources.files("copilot.knowledge").joinpath("out_of_scope.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def paraphrase(question: str) -> str:
    """What a buyer's rewording of ``question`` roughly shares with it: the question without trailing
    punctuation and without its first and last two characters (one each for short questions)."""
    q = _TRAILING.sub("", question.strip())
    cut = 2 if len(q) >= 8 else 1
    return q[cut:-cut] if len(q) > 2 * cut + 1 else q


def default_eval_path(settings: Settings) -> Path:
    return Path(settings.knowledge_dir).parent / "evals" / "retrieval.jsonl"


def faq_questions(chunks) -> list[tuple[str, str]]:
    """(question, sku) of every FAQ chunk that has an answer."""
    out = []
    for c in chunks:
        if c.kind != "faq" or "\n答：" not in c.text:
            continue
        q, a = c.text.split("\n答：", 1)
        q = q.removeprefix("问：").strip()
        if q and a.strip():
            out.append((q, c.sku))
    return out


def _sample(items: list, limit: int) -> list:
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def _labelled(refs: list[str], labels: list[str]) -> bool:
    return any(r == lab or r.startswith(lab.rstrip("/") + "/") or r.startswith(lab + " > ") for r in refs for lab in labels)


def read_eval(path: Path, refs: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(answerable queries, unanswerable queries, warnings) from a retrieval eval file; cases whose labels
    name no chunk of this index are skipped (an eval written for another version of the store)."""
    answerable: list[str] = []
    unanswerable: list[str] = []
    bad = stale = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            query, relevant = str(case["query"]).strip(), list(case.get("relevant") or [])
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        if not query:
            bad += 1
        elif not relevant:
            unanswerable.append(query)
        elif _labelled(refs, [str(x) for x in relevant]):
            answerable.append(query)
        else:
            stale += 1
    warnings = []
    if bad:
        warnings.append(f"评测文件 {path} 有 {bad} 行无法解析（需要 {{\"id\", \"query\", \"relevant\": [...]}}），已跳过")
    if stale:
        warnings.append(f"评测文件 {path} 有 {stale} 条问题标注的知识块在当前索引里找不到，已跳过")
    return answerable, unanswerable, warnings


def _top(retriever, query: str, sku: str = "") -> float:
    """The score that decides grounding for ``query``: the general search, and for a product's FAQ the search on
    that product's page too (drafting grounds on a product-specific hit the same way)."""
    try:
        best = max((h.score for h in retriever.search(query, 1).hits), default=0.0)
        if sku:
            best = max([best, *(h.score for h in retriever.search(query, 1, sku=sku).hits)])
    except Exception:  # a query the retriever refuses (too long, empty after cleaning) is not evidence
        return -1.0
    return best


def rates(pos: list[float], neg: list[float], t: float) -> tuple[float, float]:
    """(share of positives below ``t``, share of negatives at or above ``t``)."""
    return _rates(sorted(pos), sorted(neg), t)


def _rates(pos_s: list[float], neg_s: list[float], t: float) -> tuple[float, float]:
    return bisect_left(pos_s, t) / (len(pos_s) or 1), (len(neg_s) - bisect_left(neg_s, t)) / (len(neg_s) or 1)


def choose_threshold(pos: list[float], neg: list[float], default: float) -> tuple[float, float]:
    """(threshold, balanced accuracy). Every threshold in (s[i-1], s[i]] between neighbouring scores classifies
    alike; of the best such intervals (ties: the one nearest ``default``) the threshold is ``default`` itself when
    it lies inside — the data cannot tell it apart — else the interval's midpoint."""
    scores = sorted({round(s, 4) for s in [*pos, *neg]})
    pos_s, neg_s = sorted(pos), sorted(neg)
    bounds = [(scores[0] - 0.002, scores[0]), *zip(scores, scores[1:]), (scores[-1], scores[-1] + 0.002)]
    best: tuple[float, float, float] | None = None  # (balanced accuracy, -distance to default, threshold)
    for lo, hi in bounds:
        fnr, far = _rates(pos_s, neg_s, hi if hi > lo else lo)
        t = default if lo < default <= hi else (lo + hi) / 2
        key = (round(1 - (fnr + far) / 2, 9), -abs(t - default), t)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2], best[0]


def calibrate(settings: Settings, retriever, *, eval_path: Path | None = None) -> tuple[Calibration, list[str]]:
    """Calibrate the no-answer threshold on the active index of ``retriever``; returns it and any warnings.
    Raises what ``retriever.index()`` raises when there is no index."""
    idx = retriever.index()
    warnings: list[str] = []
    faqs = _sample(faq_questions(idx.chunks), MAX_FAQ_QUESTIONS)
    path = Path(eval_path) if eval_path else default_eval_path(settings)
    eval_pos: list[str] = []
    eval_neg: list[str] = []
    used_eval = None
    if path.is_file():
        try:
            eval_pos, eval_neg, more = read_eval(path, [c.ref for c in idx.chunks])
            warnings += more
            used_eval = str(path)
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"评测文件 {path} 无法读取：{exc}")
    elif eval_path:
        warnings.append(f"指定的评测文件不存在：{path}")
    eval_pos, eval_neg = _sample(eval_pos, MAX_EVAL_CASES), _sample(eval_neg, MAX_EVAL_CASES)
    builtin = builtin_negatives()
    default = settings.no_answer_threshold
    cal = Calibration(generation=idx.generation.name, default=default, eval_path=used_eval,
                      calibrated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    embedder = getattr(retriever, "embedder", None)
    if embedder is not None and hasattr(embedder, "warm_queries"):
        embedder.warm_queries([*(paraphrase(q) for q, _ in faqs), *eval_pos, *eval_neg, *builtin])
    pos = [s for s in (_top(retriever, paraphrase(q), sku) for q, sku in faqs) if s >= 0]
    cal.faq_positives = len(pos)
    more_pos = [s for s in (_top(retriever, q) for q in eval_pos) if s >= 0]
    neg_eval = [s for s in (_top(retriever, q) for q in eval_neg) if s >= 0]
    neg_builtin = [s for s in (_top(retriever, q) for q in builtin) if s >= 0]
    pos += more_pos
    neg = neg_eval + neg_builtin
    cal.eval_positives, cal.eval_negatives, cal.builtin_negatives = len(more_pos), len(neg_eval), len(neg_builtin)
    cal.positives, cal.negatives = len(pos), len(neg)
    if neg:
        cal.default_false_no_answer_rate, cal.default_false_answer_rate = (round(x, 4) for x in rates(pos, neg, default))
    if len(pos) < MIN_POSITIVES:
        cal.note = (f"本店可用于校准的问题只有 {len(pos)} 条（少于 {MIN_POSITIVES} 条），沿用默认阈值 {default:.2f}；"
                    "在 FAQ（store/*.csv 的「问题,回答」或商品目录的 faqs）里多写几条买家常问的问题后会自动校准")
        return cal, warnings
    best, bal = choose_threshold(pos, neg, default)
    t = round(min(MAX_THRESHOLD, max(MIN_THRESHOLD, best)), 3)
    fnr, far = rates(pos, neg, t)
    cal.best, cal.threshold = round(best, 4), t
    cal.false_no_answer_rate, cal.false_answer_rate = round(fnr, 4), round(far, 4)
    cal.balanced_accuracy = round(1 - (fnr + far) / 2, 4)
    if t != round(best, 3):
        cal.note = f"最优值 {best:.3f} 超出合理范围，已限制在 {MIN_THRESHOLD:.2f}–{MAX_THRESHOLD:.2f}"
    return cal, warnings


class CalibrationStore:
    """``<data_dir>/calibration.json``: calibrations by generation name, re-read when the file changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = Path(settings.data_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int], dict[str, Calibration]] | None = None

    def _all(self) -> dict[str, Calibration]:
        try:
            st = self.path.stat()
        except OSError:
            return {}
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._cached is None or self._cached[0] != key:
                try:
                    raw = json.loads(self.path.read_text(encoding="utf-8")).get("generations", {})
                    data = {name: Calibration.model_validate(v) for name, v in raw.items()}
                except (OSError, ValueError, AttributeError):
                    data = {}  # a broken file means "not calibrated", never a failed search
                self._cached = (key, data)
            return self._cached[1]

    def get(self, generation: str) -> Calibration | None:
        return self._all().get(generation)

    def save(self, cal: Calibration) -> None:
        """Atomically add ``cal`` (keeping the newest few generations); raises OSError when the data dir is not writable."""
        data = {k: v for k, v in self._all().items() if k != cal.generation}
        data[cal.generation] = cal
        keep = dict(list(data.items())[-KEEP_GENERATIONS:])
        body = json.dumps({"version": 1, "generations": {k: v.model_dump() for k, v in keep.items()}},
                          ensure_ascii=False, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".calibration-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def source(self, generation: str) -> ThresholdSource:
        if explicit_threshold(self.settings):
            return "explicit"
        cal = self.get(generation) if generation else None
        return "calibrated" if cal is not None and cal.threshold is not None else "default"

    def threshold(self, generation: str) -> float:
        """The no-answer threshold for ``generation``: explicit setting, else its calibration, else the default."""
        if self.source(generation) == "calibrated":
            return self.get(generation).threshold  # type: ignore[union-attr]
        return self.settings.no_answer_threshold
