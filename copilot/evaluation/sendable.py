"""Sendability eval: fresh buyer cases with the facts a good reply must and must not contain.

``evals/sendable/dev.yaml`` and ``test.yaml`` were written by a separate author who never read the composer
(``test`` is frozen: never tuned on). Each case lists the sub-questions of the buyer's newest message (and open
earlier ones), whether the store's knowledge answers each, and literal alternatives a correct answer contains.
The top draft is scored per sub-question; every evaluator gives a value and a reason.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..drafting.io import DraftRequest
from ..drafting.pipeline import Copilot
from ..drafting.plan import near_duplicate
from ..errors import InputError
from ..rules.empathy_first import EMPATHY
from ..schema import Turn
from . import states

DEFERRAL = re.compile(r"核实|确认一下|帮您查|查一下|同事|稍后(答复|回复)|再答复|暂时没有确切")


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ask: str
    answerable: bool
    must_include: list[list[str]] = Field(default_factory=list)


class SendableCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str = ""
    persona: str
    stage: Literal["pre_sale", "in_sale", "after_sale"]
    sku: str | None = None
    now: datetime
    script: Literal["simplified", "traditional"] = "simplified"
    turns: list[Turn] = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    must_not_include: list[str] = Field(default_factory=list)
    needs_apology: bool = False
    note: str = ""

    def request(self, n: int = 3) -> DraftRequest:
        return DraftRequest(message=self.turns[-1].text, history=self.turns[:-1], product_sku=self.sku, n=n, now=self.now)


def load_cases(path: Path) -> list[SendableCase]:
    if not path.exists():
        raise InputError(f"评测集不存在：{path}", message_en=f"eval set {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return [SendableCase.model_validate(c) for c in data.get("cases", [])]
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"评测集 {path} 格式错误：{exc}", message_en=str(exc)) from None


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def near_duplicates(texts: list[str]) -> int:
    """Pairs of drafts whose bodies overlap by ≥ NEAR_DUPLICATE (of the smaller one's bigrams)."""
    return sum(1 for i in range(len(texts)) for j in range(i + 1, len(texts)) if near_duplicate(texts[i], texts[j]))


_PRICE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)元")
_NO_PROMO = re.compile(r"没有进行中的活动|没有单品活动|暂无进行中的活动|活动已经.{0,12}结束")
_PROMO_ON = re.compile(r"现在(这款)?有「")


def contradictions(texts: list[str]) -> list[str]:
    """Facts two drafts of one request state differently: one says a promotion runs and another that none does,
    or they quote page or final prices with no figure in common."""
    out = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = texts[i], texts[j]
            if (_NO_PROMO.search(a) and _PROMO_ON.search(b)) or (_NO_PROMO.search(b) and _PROMO_ON.search(a)):
                out.append(f"草稿{i + 1}与草稿{j + 1}对是否有活动说法不一")
            pa, pb = set(_PRICE.findall(a)), set(_PRICE.findall(b))
            if pa and pb and not pa & pb:
                out.append(f"草稿{i + 1}（{'、'.join(sorted(pa))}元）与草稿{j + 1}（{'、'.join(sorted(pb))}元）价格不一")
    return out


def judge_case(case: SendableCase, drafts: list[str]) -> dict:
    top = _nfkc(drafts[0]) if drafts else ""
    verdicts = []
    for q in case.questions:
        missing = [g for g in q.must_include if not any(_nfkc(x) in top for x in g)]
        answered = not missing
        deferred = bool(DEFERRAL.search(top))
        verdicts.append({
            "ask": q.ask, "answerable": q.answerable, "passed": answered,
            "deferred_although_answerable": q.answerable and not answered and deferred,
            "reason": "" if answered else "缺少：" + "；".join("/".join(g) for g in missing),
        })
    forbidden = [w for w in case.must_not_include if states(top, _nfkc(w))]
    apology_ok = not case.needs_apology or bool(EMPATHY.search(top))
    failures = [f"{v['ask']}：{v['reason']}" for v in verdicts if not v["passed"]]
    if forbidden:
        failures.append("不应出现：" + "、".join(forbidden))
    if not apology_ok:
        failures.append("买家不满或在售后，首选草稿没有道歉/共情")
    return {
        "id": case.id, "title": case.title, "persona": case.persona, "stage": case.stage, "script": case.script,
        "message": case.turns[-1].text, "passed": not failures, "failures": failures, "questions": verdicts,
        "near_duplicate_pairs": near_duplicates(drafts), "contradictions": contradictions(drafts), "drafts": drafts,
    }


def run_sendable_eval(copilot: Copilot, cases: list[SendableCase], *, progress=None) -> dict:
    judged = []
    for k, case in enumerate(cases):
        if progress:
            progress(k, len(cases))
        result = copilot.draft(case.request())
        judged.append(judge_case(case, [d.text for d in result.drafts]))
    if progress:
        progress(len(cases), len(cases))
    qs = [q for c in judged for q in c["questions"]]
    answerable = [q for q in qs if q["answerable"]]
    unanswerable = [q for q in qs if not q["answerable"]]

    def rate(items: list, key) -> float:
        return round(sum(1 for x in items if key(x)) / len(items), 4) if items else 1.0

    by_stage: dict[str, list] = {}
    for c in judged:
        by_stage.setdefault(c["stage"], []).append(c)
    return {
        "cases": len(judged),
        "case_pass_rate": rate(judged, lambda c: c["passed"]),
        "question_answer_rate": rate(qs, lambda q: q["passed"]),
        "answerable_answer_rate": rate(answerable, lambda q: q["passed"]),
        "unanswerable_deferral_rate": rate(unanswerable, lambda q: q["passed"]),
        "deferral_when_answerable_rate": rate(answerable, lambda q: q["deferred_although_answerable"]),
        "must_not_violation_rate": rate(judged, lambda c: any(f.startswith("不应出现") for f in c["failures"])),
        "near_duplicate_rate": rate(judged, lambda c: c["near_duplicate_pairs"] > 0),
        "contradiction_rate": rate(judged, lambda c: bool(c["contradictions"])),
        "traditional_case_pass_rate": rate([c for c in judged if c["script"] == "traditional"], lambda c: c["passed"]),
        "per_stage": {s: rate(cs, lambda c: c["passed"]) for s, cs in sorted(by_stage.items())},
        "case_results": judged,
    }
