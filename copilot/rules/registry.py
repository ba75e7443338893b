"""Tone rules: one module per rule, one checker for the runtime guard and the evals.

``check_reply(reply, ctx)`` runs every rule and returns a ``CheckReport``
that lists each rule it evaluated with its verdict, reason and span.
"""

from __future__ import annotations

from pydantic import BaseModel

from .ad_law_words import AdLawWords
from .base import CheckContext, Rule, RuleResult
from .empathy_first import EmpathyFirst
from .honest_urgency import HonestUrgency
from .no_blame_shifting import NoBlameShifting
from .no_sensitive_request import NoSensitiveRequest
from .no_unauthorized_promise import NoUnauthorizedPromise
from .platform_rules import PlatformRules
from .polite_language import PoliteLanguage
from .prompt_leak import PromptLeak

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
]
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
RULE_NAMES: dict[str, str] = {r.id: r.name for r in RULES}


class Check(BaseModel):
    rule: str
    name: str
    passed: bool
    detail: str
    span: str | None = None


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


def check_reply(reply: str, ctx: CheckContext, rules: list[Rule] | None = None) -> CheckReport:
    checks = []
    for rule in rules or RULES:
        res: RuleResult = rule.check(reply, ctx)
        checks.append(Check(rule=res.rule, name=rule.name, passed=res.passed, detail=res.detail, span=res.span))
    return CheckReport(passed=all(c.passed for c in checks), checks=checks)


__all__ = ["RULES", "RULE_IDS", "RULE_NAMES", "CheckContext", "CheckReport", "Check", "check_reply", "get_rule"]
