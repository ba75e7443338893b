"""Every agent turn of every conversation checked with the tone rules, against the store's catalog and policies at
the turn's own time; figures per agent, per rule and per day, response times, and the worst examples."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..errors import InputError
from ..rules.checking import Checker
from ..rules.registry import RULE_IDS, RULE_NAMES
from ..schema import Turn
from .exports import Conversation

HISTORY = 6  # earlier turns a check sees (for empathy and the buyer's planted instructions)
WORST = 20
TURN_CHARS = 2000


class Finding(BaseModel):
    """One agent turn that broke at least one rule."""

    conversation: str
    agent: str
    at: str
    message: str = Field(description="what the buyer had said since the agent's previous turn")
    reply: str
    rules: list[str]
    details: list[str]


class AgentFigures(BaseModel):
    agent: str
    conversations: int
    turns: int
    flagged: int
    flagged_rate: float
    rules: dict[str, int]
    first_response_s: float | None = Field(description="mean seconds from the buyer's first message to the first reply")
    response_s: float | None = Field(description="mean seconds from a buyer message to the next agent turn")


class DayFigures(BaseModel):
    day: str
    turns: int
    flagged: int
    flagged_rate: float


class QaReport(BaseModel):
    conversations: int
    turns: int
    flagged: int
    flagged_rate: float
    skipped: int = Field(description="agent turns that could not be checked (empty)")
    rules: dict[str, int]
    rule_names: dict[str, str]
    first_response_s: float | None
    response_s: float | None
    response_p90_s: float | None
    agents: list[AgentFigures]
    days: list[DayFigures]
    worst: list[Finding]


def _turn(role: str, text: str) -> Turn:
    return Turn(role=role, text=text[:TURN_CHARS])  # a history turn holds at most this much (the API's limit)


def _mean(xs: Sequence[float]) -> float | None:
    return round(statistics.fmean(xs), 1) if xs else None


def review(conversations: Sequence[Conversation], checker: Checker) -> QaReport:
    checker = checker.pinned()  # one export is judged against one reading of the store's files
    per_agent: dict[str, Counter] = defaultdict(Counter)
    agent_rules: dict[str, Counter] = defaultdict(Counter)
    agent_convs: dict[str, set[str]] = defaultdict(set)
    first_waits: dict[str, list[float]] = defaultdict(list)
    waits: dict[str, list[float]] = defaultdict(list)
    days: dict[str, Counter] = defaultdict(Counter)
    rules: Counter = Counter()
    findings: list[Finding] = []
    skipped = 0
    for conv in conversations:
        history: list[Turn] = []
        said: list[str] = []
        sku = conv.sku
        waiting_since = None
        first_buyer = None
        answered = False
        for turn in conv.turns:
            sku = turn.sku or sku  # the product talked about last
            if turn.role == "buyer":
                said.append(turn.text)
                history.append(_turn("buyer", turn.text))
                waiting_since = waiting_since or turn.at
                first_buyer = first_buyer or turn.at
                continue
            agent = conv.agent_of(turn)
            agent_convs[agent].add(conv.id)
            if waiting_since is not None:
                wait = (turn.at - waiting_since).total_seconds()
                if wait >= 0:
                    waits[agent].append(wait)
                    if not answered and first_buyer is not None:
                        first_waits[agent].append((turn.at - first_buyer).total_seconds())
            answered, waiting_since = True, None
            message = " ".join(said)
            said = []
            try:
                report = checker.check(turn.text, message=message, history=history[-HISTORY:], sku=sku,
                                       now=turn.at)
            except InputError:  # an empty reply: nothing to check
                report = None
            history.append(_turn("agent", turn.text))
            if report is None:
                skipped += 1
                continue
            day = turn.at.date().isoformat()
            per_agent[agent]["turns"] += 1
            days[day]["turns"] += 1
            failed = report.failed
            if failed:
                per_agent[agent]["flagged"] += 1
                days[day]["flagged"] += 1
                for c in failed:
                    rules[c.rule] += 1
                    agent_rules[agent][c.rule] += 1
                findings.append(Finding(conversation=conv.id, agent=agent, at=turn.at.isoformat(), message=message,
                                        reply=turn.text, rules=[c.rule for c in failed],
                                        details=[c.detail for c in failed]))
    turns = sum(c["turns"] for c in per_agent.values())
    flagged = sum(c["flagged"] for c in per_agent.values())
    all_waits = sorted(w for ws in waits.values() for w in ws)
    order = {r: i for i, r in enumerate(RULE_IDS)}
    # the worst first: most rules broken in one turn, then the rule the shop is fined most for (registry order)
    findings.sort(key=lambda f: (-len(f.rules), min(order.get(r, 99) for r in f.rules), f.at))
    return QaReport(
        conversations=len(conversations), turns=turns, flagged=flagged,
        flagged_rate=round(flagged / turns, 4) if turns else 0.0, skipped=skipped,
        rules={r: rules[r] for r in RULE_IDS if rules[r]}, rule_names=dict(RULE_NAMES),
        first_response_s=_mean([w for ws in first_waits.values() for w in ws]), response_s=_mean(all_waits),
        response_p90_s=round(all_waits[int(0.9 * (len(all_waits) - 1))], 1) if all_waits else None,
        agents=sorted((AgentFigures(
            agent=a, conversations=len(agent_convs[a]), turns=c["turns"], flagged=c["flagged"],
            flagged_rate=round(c["flagged"] / c["turns"], 4) if c["turns"] else 0.0,
            rules={r: agent_rules[a][r] for r in RULE_IDS if agent_rules[a][r]},
            first_response_s=_mean(first_waits[a]), response_s=_mean(waits[a]),
        ) for a, c in per_agent.items()), key=lambda x: (-x.flagged_rate, x.agent)),
        days=[DayFigures(day=d, turns=c["turns"], flagged=c["flagged"],
                         flagged_rate=round(c["flagged"] / c["turns"], 4) if c["turns"] else 0.0)
              for d, c in sorted(days.items())],
        worst=findings[:WORST],
    )
