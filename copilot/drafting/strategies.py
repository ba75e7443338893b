"""Which reply strategies (``prompts/strategies.yaml``) fit this buyer, best first."""

from __future__ import annotations

from ..buyer.signals import is_upset
from ..schema import STAGE_LABELS, Analysis
from .prompting import StrategySpec


def choose_strategies(analysis: Analysis, strategies: list[StrategySpec], n: int, *, urgency: bool) -> list[StrategySpec]:
    """The ``n`` best-fitting strategies for this buyer, most fitting first (``n=0``: all of them, once each)."""

    # an unsure guess of the buyer type picks nothing type-specific: intent, stage and emotion decide
    pid = analysis.persona.usable

    def score(s: StrategySpec) -> float:
        w = s.when
        sc = 0.0
        sc += 3.0 if pid in w.personas else 0.0  # the seeds' strategy for this buyer type leads
        sc += 2.0 if analysis.intent in w.intents else 0.0
        sc += 1.0 if analysis.stage in w.stages else 0.0
        sc += 1.0 if analysis.emotion in w.emotions else 0.0
        return sc

    upset = is_upset(analysis)
    trust = pid == "skeptical" or analysis.intent in ("authenticity", "payment") or analysis.scam
    allowed = {
        None: True,
        "urgency": urgency and analysis.stage == "pre_sale",
        "negative": upset or analysis.stage == "after_sale",
        "trust": trust,
        "price": pid in ("bargainer", "budget") or analysis.intent in ("price", "promotion"),
        "recommend": pid == "browser" or analysis.intent == "recommendation",
    }
    usable = [s for s in strategies if allowed.get(s.requires, False)]
    ranked = sorted(usable, key=lambda s: (-score(s), strategies.index(s)))
    if analysis.scam:
        ranked.sort(key=lambda s: s.id != "reassure_trust")  # a scam report: the warning comes first
    elif upset:
        # an upset buyer always gets the empathy-first draft first
        ranked.sort(key=lambda s: s.id != "empathize_resolve")
    if n <= 0:
        return ranked  # every fitting strategy, best first, each once
    # more drafts than fitting strategies: repeat the best ones (the composer varies the wording)
    return [ranked[i % len(ranked)] for i in range(n)] if ranked else []


def strategy_reason(s: StrategySpec, analysis: Analysis) -> str:
    """The strategy's reason for the agent, filled in with this buyer's type and stage."""
    try:
        return s.reason.format(persona=analysis.persona.label, stage=STAGE_LABELS[analysis.stage])
    except (KeyError, IndexError):
        return s.reason
