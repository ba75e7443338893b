"""Tone rules: one module per rule, one checker for the runtime guard and the evals.

``check_reply(reply, ctx)`` runs every rule and returns a ``CheckReport``
that lists each rule it evaluated with its verdict, reason and span.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .ad_law_words import AdLawWords
from .base import CheckContext, Rule, RuleResult
from .empathy_first import EmpathyFirst
from .honest_urgency import HonestUrgency
from .no_blame_shifting import NoBlameShifting
from .no_sensitive_request import NoSensitiveRequest
from .no_unauthorized_promise import NoUnauthorizedPromise
from .order_facts import OrderFacts
from .platform_rules import PlatformRules
from .polite_language import PoliteLanguage
from .prompt_leak import PromptLeak
from .reply_reader import ReplyReader, builtin_reply_reader

RULES: list[Rule] = [
    NoBlameShifting(),
    HonestUrgency(),
    EmpathyFirst(),
    NoUnauthorizedPromise(),
    NoSensitiveRequest(),
    PoliteLanguage(),
    AdLawWords(),
    PlatformRules(),
    PromptLeak(),
    OrderFacts(),
]
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
RULE_NAMES: dict[str, str] = {r.id: r.name for r in RULES}


class Check(BaseModel):
    rule: str
    name: str
    passed: bool
    detail: str
    span: str | None = None
    by: str = Field(default="rule", description="who failed it: the rule's own check (rule) or the reply reader (model)")


class CheckReport(BaseModel):
    passed: bool
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def public(self) -> dict:
        """What the API and ``copilot check --json`` return: {passed, checks: [{rule, passed, detail, span}]}."""
        return {"passed": self.passed, "checks": [c.model_dump(exclude={"name"}) for c in self.checks]}


def get_rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


_DEFAULT = object()


def check_reply(reply: str, ctx: CheckContext, rules: list[Rule] | None = None,
                reader: ReplyReader | None | object = _DEFAULT) -> CheckReport:
    """Every rule's verdict; then the reply reader (``reply_reader``, the packaged one by default, ``None`` for the
    patterns alone) may fail a wording rule the patterns passed."""
    checks = []
    for rule in rules or RULES:
        res: RuleResult = rule.check(reply, ctx)
        checks.append(Check(rule=res.rule, name=rule.name, passed=res.passed, detail=res.detail, span=res.span))
    model = builtin_reply_reader() if reader is _DEFAULT else reader
    if model is not None:
        by_id = {r.id: r for r in rules or RULES}
        parts = {c.rule: by_id[c.rule].readable(reply, ctx) for c in checks if c.passed and c.rule in model.rules}
        read: dict[str, tuple[float, str]] = {}  # rule -> the most violating part's probability, and that part
        for text in {t for ts in parts.values() for t in ts}:
            for r, p in model.flags(text, [r for r, ts in parts.items() if text in ts]).items():
                if p > read.get(r, (0.0, ""))[0]:
                    read[r] = (p, text)
        flagged = {r: v for r, v in read.items() if not by_id[r].clears(reply, ctx)}  # the reply may show it kept
        for i, c in enumerate(checks):
            if c.rule in flagged:
                p, text = flagged[c.rule]
                words = "」「".join(model.evidence(text, c.rule))
                checks[i] = c.model_copy(update={
                    "passed": False, "by": "model", "span": None,
                    "detail": f"规则没有命中，但这句话读起来像「{c.name}」的违规（模型把握 {p:.2f}"
                              + (f"，依据「{words}」" if words else "") + "）：请核对后再发"})
    return CheckReport(passed=all(c.passed for c in checks), checks=checks)


__all__ = ["RULES", "RULE_IDS", "RULE_NAMES", "Check", "CheckContext", "CheckReport", "check_reply", "get_rule"]
