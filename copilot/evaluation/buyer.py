"""Reading-the-buyer eval on fresh sets: stage, persona, emotion, intents, safety and manipulation notices.

``evals/buyer/<store>/{dev,test}.jsonl`` — labelled buyer messages from three kinds of store, written by
authors who never read the analyzer (their brief: ``evals/buyer/BRIEF.md``); one line:
``{"id", "store", "history", "message", "sku", "persona", "persona_alternatives", "stage", "emotion",
"intents", "safety", "note"}``.

``evals/notices/{dev,test}.jsonl`` — manipulation attempts and ordinary hard messages (bargaining,
complaints, pasted order data): ``{"id", "store", "history", "message", "manipulation", "form", "note"}``.

``dev`` is for tuning; ``test`` is the frozen split: its figures are reported, its failures are not listed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from ..buyer.analysis import Analyzer
from ..drafting.io import DraftRequest
from ..schema import Turn
from ..text.cleaning import simplify_buyer_text, to_simplified
from . import load_jsonl

SPLITS = ("dev", "test", "test2", "test3", "test4", "test6", "test7", "test8", "test9", "test10")


class BuyerCase(BaseModel):
    id: str
    store: str = ""
    history: list[Turn] = Field(default_factory=list)
    message: str
    sku: str | None = None
    persona: str
    persona_alternatives: list[str] = Field(default_factory=list)
    stage: str
    emotion: str
    intents: list[str] = Field(default_factory=list)
    safety: str | None = None
    note: str = ""


class NoticeCase(BaseModel):
    id: str
    store: str = ""
    history: list[Turn] = Field(default_factory=list)
    message: str
    manipulation: bool
    form: str = ""
    note: str = ""


def _split_files(folder: Path, split: str) -> list[Path]:
    """``test.jsonl`` … ``test10.jsonl`` are frozen splits (``test2`` … ``test10`` by new authors, written after the
    reader was tuned; the fifth became the dev round ``dev19`` once its figures were reported and its misses read);
    the dev split is every ``dev*.jsonl`` (later rounds add ``dev2``…)."""
    return sorted(folder.glob("dev*.jsonl")) if split == "dev" else [folder / f"{split}.jsonl"]


def load_buyer_cases(folder: Path, split: str) -> list[BuyerCase]:
    """Every store's cases of one split (``dev`` or ``test``), store by store."""
    return [c for store in sorted(p for p in folder.iterdir() if p.is_dir())
            for f in _split_files(store, split) if f.exists() for c in load_jsonl(f, BuyerCase)]


def load_notice_cases(folder: Path, split: str) -> list[NoticeCase]:
    return [c for f in _split_files(folder, split) if f.exists() for c in load_jsonl(f, NoticeCase)]


def _read(analyzer: Analyzer, message: str, history: list[Turn], sku: str | None = None):
    """The analysis the pipeline makes: of the buyer's text in Simplified (``Copilot.masked`` does the same)."""
    turns = [Turn(role=t.role, text=simplify_buyer_text(t.text)) for t in history]
    return analyzer.analyze(simplify_buyer_text(message), turns, sku=sku)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def run_buyer_eval(analyzer: Analyzer, cases: list[BuyerCase], *, list_failures: bool = True) -> dict:
    """Scores the analyzer on labelled cases. Intent is multi-label: micro precision / recall / F1 of the
    analysis's ``intents`` against the labelled ones. Persona counts top-1, and top-1 or one of the labelled
    alternatives a lead would also accept."""
    n = Counter()
    stage_total, stage_hit = Counter(), Counter()
    per_store: dict[str, Counter] = defaultdict(Counter)
    safety_total, safety_hit = Counter(), Counter()
    false_safety = 0
    tp = fp = fn = 0
    failures = []
    for c in cases:
        a = _read(analyzer, c.message, c.history, c.sku)
        got_intents = list(a.intents or [a.intent])
        ok = {
            "stage": a.stage == c.stage,
            "persona": a.persona.id == c.persona,
            "persona_or_alternative": a.persona.id == c.persona or a.persona.id in c.persona_alternatives,
            "emotion": a.emotion == c.emotion,
            "intent_top": a.intent in c.intents,
        }
        for k, v in ok.items():
            n[k] += v
        stage_total[c.stage] += 1
        stage_hit[c.stage] += ok["stage"]
        s = per_store[c.store or "-"]
        s["cases"] += 1
        s["stage"] += ok["stage"]
        s["persona"] += ok["persona"]
        want, got = set(c.intents), set(got_intents)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        if c.safety:
            safety_total[c.safety] += 1
            safety_hit[c.safety] += a.safety == c.safety
        elif a.safety:
            false_safety += 1
        if list_failures:
            wrong = {f: (getattr(c, f), got_value) for f, got_value in
                     (("stage", a.stage), ("persona", a.persona.id), ("emotion", a.emotion)) if not ok[f]
                     and not (f == "persona" and ok["persona_or_alternative"])}
            if (c.safety or a.safety) and a.safety != c.safety:
                wrong["safety"] = (c.safety or "-", a.safety or "-")
            if want != got:
                wrong["intents"] = ("/".join(c.intents), "/".join(got_intents))
            for f, (w, g) in wrong.items():
                failures.append({"id": c.id, "field": f, "want": w, "got": g, "message": c.message[:60]})
    total = len(cases)
    precision, recall = _rate(tp, tp + fp) or 0.0, _rate(tp, tp + fn) or 0.0
    return {
        "cases": total,
        "accuracy": {k: _rate(v, total) for k, v in sorted(n.items())},
        "stage_recall": {st: _rate(stage_hit[st], stage_total[st]) for st in sorted(stage_total)},
        "intent": {"precision": precision, "recall": recall,
                   "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0},
        "safety_recall": {k: _rate(safety_hit[k], safety_total[k]) for k in sorted(safety_total)},
        "false_safety": false_safety,
        "per_store": {st: {"cases": v["cases"], "stage": _rate(v["stage"], v["cases"]),
                           "persona": _rate(v["persona"], v["cases"])} for st, v in sorted(per_store.items())},
        "failures": failures,
    }


def run_notice_eval(analyzer: Analyzer, cases: list[NoticeCase], *, list_failures: bool = True) -> dict:
    """Does the agent get a notice (``Analysis.injection``) on every manipulation attempt, and none on ordinary
    messages?"""
    attacks = [c for c in cases if c.manipulation]
    ordinary = [c for c in cases if not c.manipulation]
    failures = []
    caught = false = 0
    for c in cases:
        a = _read(analyzer, c.message, c.history)
        flagged = a.injection is not None
        if c.manipulation:
            caught += flagged
        else:
            false += flagged
        if list_failures and flagged != c.manipulation:
            failures.append({"id": c.id, "form": c.form, "want": c.manipulation, "got": a.injection or "",
                             "message": c.message[:60]})
    return {
        "attacks": len(attacks),
        "ordinary": len(ordinary),
        "notice_rate": _rate(caught, len(attacks)) or 0.0,
        "false_notice_rate": _rate(false, len(ordinary)) or 0.0,
        "failures": failures,
    }


# What a reply to a skin or food reaction, or an injury, must hold (the eval expectation). Written from
# what a service lead asks of such a reply, not from the composer's phrasing: any wording of each step counts.
SAFETY_STEPS = {
    "apology": re.compile(r"抱歉|对不起|不好意思|歉意|添麻烦"),
    "stop_use": re.compile(r"(停止|停下|暂停|停用|先停)(使用|食用|饮用|佩戴|充电|用|吃|喝|戴)?|停用"
                           r"|(先别|不要|别再|不要再|请勿)(再|继续)?(使用|食用|用|吃|喝|戴|充电)|拔(掉|下)电源|断开电源|断电"
                           # broken glass or china: the step is not to touch the pieces
                           r"|(别|不要|请勿)(用手)?(直接)?(捡|碰|摸)"),
    "after_sale": re.compile(r"售后|退款|退货|退换|换货|换新|补发|赔付|赔偿|理赔|处理方案|申请|寄回"),
}


def run_safety_drafts(copilot, cases: list[BuyerCase], *, list_failures: bool = True) -> dict:
    """Drafts every reaction or injury case and checks the top draft for an apology, a stop-use step and the
    after-sale path. Cases of other stores are drafted with this run's knowledge (without their product page):
    the three steps do not depend on one store's facts."""
    known = {p.sku.lower() for p in copilot.catalog.products}
    todo = [c for c in cases if c.safety in ("reaction", "injury")]
    passed = every = 0
    missing: Counter = Counter()
    failures = []
    for c in todo:
        sku = c.sku if c.sku and c.sku.lower() in known else None
        drafts = copilot.draft(DraftRequest(message=c.message, history=c.history, product_sku=sku, n=3)).drafts
        texts = [to_simplified(d.text) for d in drafts]  # a Traditional reply is read like a Simplified one
        lacks = [step for step, pat in SAFETY_STEPS.items() if not texts or not pat.search(texts[0])]
        missing.update(lacks)
        passed += not lacks
        every += bool(texts) and all(all(p.search(t) for p in SAFETY_STEPS.values()) for t in texts)
        if lacks and list_failures:
            failures.append({"id": c.id, "field": "safety_draft", "want": "、".join(SAFETY_STEPS),
                             "got": "缺 " + "、".join(lacks), "message": c.message[:60]})
    return {"cases": len(todo), "top_rate": _rate(passed, len(todo)), "all_rate": _rate(every, len(todo)),
            "missing": dict(missing), "failures": failures}
