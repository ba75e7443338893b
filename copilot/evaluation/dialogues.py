"""Dialogue eval: sample conversations + expectations, judged by small evaluators.

Each ``evals/dialogues/*.yaml`` holds a conversation whose last turn is the
buyer's, a product, a fixed ``now`` and expectations. The copilot drafts
replies; every draft must pass every tone rule, and the top draft (the one the
copilot ranks first) must meet the expectations. Each evaluator returns a
value and a reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..drafting.io import DraftRequest
from ..drafting.pipeline import Copilot
from ..errors import InputError
from ..rules.empathy_first import EMPATHY
from ..rules.honest_urgency import COUNT, DEADLINE, SCARCITY
from ..rules.no_unauthorized_promise import GIFT, PRICE_CHANGE
from ..schema import Turn, format_history
from . import states
from .judge import judge
from .tracing import StoreEvidence


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apologise: bool = False
    ask_for: list[str] = Field(default_factory=list)
    mention_any: list[list[str]] = Field(default_factory=list)
    not_mention: list[str] = Field(default_factory=list)
    no_discount: bool = False
    no_low_stock_claim: bool = False
    no_deadline_claim: bool = False
    guiding_question: bool = False
    grounded_fact: list[str] = Field(default_factory=list)


class Dialogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    persona: str
    stage: str
    sku: str | None = None
    now: datetime
    turns: list[Turn] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)

    def request(self, n: int = 3) -> DraftRequest:
        """The draft request for the dialogue's last buyer turn."""
        return DraftRequest(message=self.turns[-1].text, history=self.turns[:-1], product_sku=self.sku, n=n, now=self.now)


def load_dialogues(directory: Path) -> list[Dialogue]:
    if not directory.is_dir():
        raise InputError(f"对话评测目录不存在：{directory}", message_en=f"missing {directory}")
    out = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            d = Dialogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise InputError(f"对话文件 {path} 格式错误：{exc}", message_en=str(exc)) from None
        if d.turns[-1].role != "buyer":
            raise InputError(f"对话 {path} 的最后一轮必须是买家", message_en="last turn must be the buyer's")
        out.append(d)
    return out


# evaluators: (reply, expectation value) -> (passed, reason)
ASK_PATTERNS = {
    "order_number": r"订单号|订单编号",
    "photos": r"照片|图片|拍(一下|几张|张)|截图",
    "video": r"视频",
    "body_size": r"身高|体重|脚长|尺码|多大码|穿什么码|平时穿",
    "address": r"地址",
    "skin_type": r"肤质|敏感肌|干皮|油皮|皮肤",
}


def ev_apologise(reply: str, want: bool) -> tuple[bool, str]:
    if not want:
        return True, ""
    return (True, "有道歉/共情") if EMPATHY.search(reply) else (False, "应当先道歉或共情，但没有")


def ev_ask_for(reply: str, items: list[str]) -> tuple[bool, str]:
    missing = [i for i in items if not re.search(ASK_PATTERNS.get(i, re.escape(i)), reply)]
    return (not missing, "没有索要：" + "、".join(missing) if missing else "")


def ev_mention_any(reply: str, groups: list[list[str]]) -> tuple[bool, str]:
    missing = [g for g in groups if not any(x in reply for x in g)]
    return (not missing, "没有提到：" + "；".join("/".join(g) for g in missing) if missing else "")


def ev_not_mention(reply: str, words: list[str]) -> tuple[bool, str]:
    found = [w for w in words if states(reply, w)]
    return (not found, "不应出现：" + "、".join(found) if found else "")


def ev_no_discount(reply: str, want: bool) -> tuple[bool, str]:
    if not want:
        return True, ""
    m = PRICE_CHANGE.search(reply) or GIFT.search(reply)
    if m and not re.search(r"没有|不能|无法|没办法|不好意思", reply[max(0, m.start() - 10) : m.start()]):
        return False, f"出现了让价/赠送：「{m.group(0)}」"
    return True, ""


def ev_no_low_stock_claim(reply: str, want: bool) -> tuple[bool, str]:
    if not want:
        return True, ""
    m = SCARCITY.search(reply) or COUNT.search(reply)
    return (False, f"出现了库存紧张说法：「{m.group(0)}」") if m else (True, "")


def ev_no_deadline_claim(reply: str, want: bool) -> tuple[bool, str]:
    if not want:
        return True, ""
    m = DEADLINE.search(reply)
    return (False, f"出现了截止时间说法：「{m.group(0)}」") if m else (True, "")


def ev_guiding_question(reply: str, want: bool) -> tuple[bool, str]:
    if not want:
        return True, ""
    return (True, "") if re.search(r"[？?]|吗[～~。！]?$|呢[～~。]", reply) else (False, "应当用提问引导买家，但没有问题")


def ev_grounded_fact(reply: str, facts: list[str]) -> tuple[bool, str]:
    if not facts:
        return True, ""
    return (True, "") if any(f in reply for f in facts) else (False, "没有给出依据事实：" + "/".join(facts))


def _nfkc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value)
    if isinstance(value, list):
        return [_nfkc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfkc(v) for k, v in value.items()}
    return value


EVALUATORS: dict[str, Callable] = {
    "apologise": ev_apologise,
    "ask_for": ev_ask_for,
    "mention_any": ev_mention_any,
    "not_mention": ev_not_mention,
    "no_discount": ev_no_discount,
    "no_low_stock_claim": ev_no_low_stock_claim,
    "no_deadline_claim": ev_no_deadline_claim,
    "guiding_question": ev_guiding_question,
    "grounded_fact": ev_grounded_fact,
}


def judge_expectations(reply: str, expect: Expect) -> list[dict]:
    reply = unicodedata.normalize("NFKC", reply)
    expect = Expect.model_validate(_nfkc(expect.model_dump()))
    out = []
    for key, fn in EVALUATORS.items():
        value = getattr(expect, key)
        if not value:
            continue
        passed, reason = fn(reply, value)
        out.append({"expectation": key, "passed": passed, "reason": reason})
    return out


def run_dialogue_eval(copilot: Copilot, dialogues: list[Dialogue], *, n: int = 3, progress=None,
                      judge_repeats: int = 0, evidence: StoreEvidence | None = None) -> dict:
    """Draft for every dialogue and judge the drafts; ``judge_repeats`` > 0 adds the LLM judge (needs an LLM).

    With ``evidence`` (the store's files) every draft's facts are traced to them: a draft stating a figure,
    carrier, guarantee or unit the store does not state fails (kind ``trace``)."""
    cases = []
    untraced_drafts = 0
    rule_totals: dict[str, list[int]] = {}
    exp_totals: dict[str, list[int]] = {}
    for k, d in enumerate(dialogues):
        if progress:
            progress(k, len(dialogues))
        result = copilot.draft(d.request(n))
        failures = []
        for i, draft in enumerate(result.drafts):
            for c in draft.checks:
                rule_totals.setdefault(c.rule, [0, 0])
                rule_totals[c.rule][1] += 1
                rule_totals[c.rule][0] += c.passed
                if not c.passed:
                    failures.append({"draft": i, "kind": "rule", "name": c.rule, "reason": c.detail, "text": draft.text})
            untraced = evidence.trace(draft.text, format_history(d.turns), d.now) if evidence else []
            untraced_drafts += bool(untraced)
            failures += [{"draft": i, "kind": "trace", "name": u.kind, "reason": u.reason, "text": draft.text}
                         for u in untraced]
        top = result.drafts[0].text if result.drafts else ""
        for e in judge_expectations(top, d.expect):
            exp_totals.setdefault(e["expectation"], [0, 0])
            exp_totals[e["expectation"]][1] += 1
            exp_totals[e["expectation"]][0] += e["passed"]
            if not e["passed"]:
                failures.append({"draft": 0, "kind": "expectation", "name": e["expectation"], "reason": e["reason"], "text": top})
        verdict = None
        if judge_repeats and copilot.backend is not None and result.drafts:
            history = format_history(d.turns[:-1])
            verdict = judge(copilot.backend, copilot.settings.prompts_dir, message=d.turns[-1].text, history=history,
                            draft=top, repeats=judge_repeats)
        cases.append({
            "judge": verdict,
            "id": d.id, "title": d.title, "persona": d.persona, "stage": d.stage, "sku": d.sku,
            "message": d.turns[-1].text, "passed": not failures, "failures": failures,
            "drafts": [{"text": x.text, "strategy": x.strategy_label, "backend": x.backend, "repairs": x.repairs} for x in result.drafts],
            "analysis": {"persona": result.analysis.persona.id, "stage": result.analysis.stage},
        })
    if progress:
        progress(len(dialogues), len(dialogues))

    def rate(group_key: str) -> dict:
        groups: dict[str, list[int]] = {}
        for c in cases:
            g = groups.setdefault(c[group_key], [0, 0])
            g[0] += c["passed"]
            g[1] += 1
        return {k: round(v[0] / v[1], 4) for k, v in sorted(groups.items())}

    drafts = sum(len(c["drafts"]) for c in cases)
    clean_drafts = sum(
        1 for c in cases for i in range(len(c["drafts"]))
        if not any(f["kind"] == "rule" and f["draft"] == i for f in c["failures"])
    )
    repaired = sum(1 for c in cases for x in c["drafts"] if x["repairs"])
    judged = [c["judge"] for c in cases if c.get("judge") and c["judge"]["mean"] is not None]
    return {
        "dialogues": len(cases),
        "drafts": drafts,
        "repaired_drafts": repaired,
        "judge": {
            "cases": len(judged),
            "mean_score": round(sum(j["mean"] for j in judged) / len(judged), 3) if judged else None,
            "mean_spread": round(sum(j["spread"] for j in judged) / len(judged), 3) if judged else None,
        } if judge_repeats else None,
        "draft_rule_pass_rate": round(clean_drafts / drafts, 4) if drafts else 1.0,
        "untraced_draft_rate": round(untraced_drafts / drafts, 4) if drafts and evidence else None,
        "dialogue_pass_rate": round(sum(c["passed"] for c in cases) / len(cases), 4) if cases else 1.0,
        "expectation_pass_rate": round(
            sum(v[0] for v in exp_totals.values()) / max(1, sum(v[1] for v in exp_totals.values())), 4
        ),
        "per_rule": {k: round(v[0] / v[1], 4) for k, v in rule_totals.items()},
        "per_expectation": {k: round(v[0] / v[1], 4) for k, v in exp_totals.items()},
        "per_persona": rate("persona"),
        "per_stage": rate("stage"),
        "cases": cases,
    }
