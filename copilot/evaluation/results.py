"""Typed eval results: every suite returns one of these, and a run is an ``EvalRun``.

Figures are values; every judged case keeps its reason (as in pydantic_evals).
``EvalRun.to_dict()`` is the JSON written to ``results.json``: the thresholds
(``evals/thresholds.yaml``), the baseline diff and the HTML report read it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Verdict(_Result):
    """One evaluator on one draft: did it pass, and why not."""

    expectation: str
    passed: bool
    reason: str = ""


# ---------------------------------------------------------------- retrieval ---


class RankScores(_Result):
    recall_1: float = Field(alias="recall@1")
    recall_3: float = Field(alias="recall@3")
    recall_5: float = Field(alias="recall@5")
    mrr: float


class ModeScores(RankScores):
    failures: list[dict[str, Any]] = Field(default_factory=list, description="queries whose relevant chunk is not in the top 5")


class NoAnswerScores(_Result):
    threshold: float
    detection_rate: float
    false_no_answer_rate: float
    calibrated_threshold: float


class RetrievalResult(_Result):
    set: str
    queries: int
    answerable: int
    out_of_knowledge: int
    embedder: str
    weights: dict[str, float]
    modes: dict[str, ModeScores]
    ablations: dict[str, RankScores]
    no_answer: NoAnswerScores
    sweep: dict[str, RankScores] | None = None


# ----------------------------------------------------------------- analysis ---


class AnalysisFailure(_Result):
    id: str
    field: str
    want: str
    got: str
    message: str


class AnalysisResult(_Result):
    cases: int
    accuracy: dict[str, float]
    per_persona: dict[str, float]
    confusion: dict[str, dict[str, int]]
    failures: list[AnalysisFailure]


# -------------------------------------------------------------------- rules ---


class RuleScore(_Result):
    name: str
    cases: int
    precision: float
    recall: float
    accuracy: float
    tp: int
    fp: int
    fn: int
    tn: int
    errors: list[dict[str, Any]] = Field(default_factory=list, description="misjudged lines with the checker's reason")


class RulesResult(_Result):
    rules: dict[str, RuleScore]


class HostileScore(_Result):
    cases: int
    flagged_rate: float
    missed: list[dict[str, Any]] = Field(default_factory=list, description="hostile replies no rule stopped")


class AgentReplyScore(_Result):
    cases: int
    false_alarm_rate: float
    missed_violation_replies: int
    false_alarms: list[dict[str, Any]] = Field(default_factory=list, description="a rule fired the author did not name")


class RepliesResult(_Result):
    """Fresh replies by authors who never saw the checker (``evals/replies``): per rule, hostile, real agents."""

    split: str
    rules: dict[str, RuleScore]
    unknown_rules: dict[str, int] = Field(default_factory=dict, description="labelled for a rule the checker lacks")
    hostile: HostileScore
    agent_replies: AgentReplyScore


# ---------------------------------------------------------------- dialogues ---


class DialogueFailure(_Result):
    draft: int
    kind: str  # "rule" | "expectation"
    name: str
    reason: str
    text: str


class DialogueDraft(_Result):
    text: str
    strategy: str
    backend: str
    repairs: list[str]


class DialogueCase(_Result):
    judge: dict[str, Any] | None = None
    id: str
    title: str
    persona: str
    stage: str
    sku: str | None
    message: str
    passed: bool
    failures: list[DialogueFailure]
    drafts: list[DialogueDraft]
    analysis: dict[str, str]


class JudgeSummary(_Result):
    cases: int
    mean_score: float | None
    mean_spread: float | None


class DialoguesResult(_Result):
    dialogues: int
    drafts: int
    repaired_drafts: int
    judge: JudgeSummary | None
    draft_rule_pass_rate: float
    untraced_draft_rate: float | None = None  # drafts stating a fact the store's files do not (None: not traced)
    dialogue_pass_rate: float
    expectation_pass_rate: float
    per_rule: dict[str, float]
    per_expectation: dict[str, float]
    per_persona: dict[str, float]
    per_stage: dict[str, float]
    cases: list[DialogueCase]
    repeats: dict[str, Any] | None = None


# ------------------------------------------------------------------ redteam ---


class RedteamCase(_Result):
    category: str
    id: str
    title: str
    message: str
    passed: bool
    problems: list[str]
    flagged: bool
    expected_flag: bool
    drafts: list[str]
    neutralized: list[str] | None = Field(default=None, description="knowledge attacks: what the upload check removed")


class RedteamResult(_Result):
    attacks: int
    passed: int
    pass_rate: float
    per_category: dict[str, float]
    flag_rate: float | None
    false_flags: int
    cases: list[RedteamCase]


# --------------------------------------------------------------- sendable ---


class SendableQuestion(_Result):
    ask: str
    answerable: bool
    passed: bool
    deferred_although_answerable: bool
    reason: str = ""


class SendableCaseResult(_Result):
    id: str
    title: str
    persona: str
    stage: str
    script: str
    message: str
    passed: bool
    failures: list[str]
    questions: list[SendableQuestion]
    near_duplicate_pairs: int
    contradictions: list[str] = Field(default_factory=list)
    drafts: list[str]


class SendableResult(_Result):
    cases: int
    case_pass_rate: float
    question_answer_rate: float
    answerable_answer_rate: float
    unanswerable_deferral_rate: float
    deferral_when_answerable_rate: float
    must_not_violation_rate: float
    near_duplicate_rate: float
    contradiction_rate: float = 0.0
    traditional_case_pass_rate: float
    per_stage: dict[str, float]
    case_results: list[SendableCaseResult]


# -------------------------------------------------------------- buyer sets ---


class BuyerFailure(_Result):
    id: str
    field: str
    want: str
    got: str
    message: str


class IntentScores(_Result):
    precision: float
    recall: float
    f1: float


class StoreScores(_Result):
    cases: int
    stage: float | None
    persona: float | None


class SafetyDrafts(_Result):
    """Reaction and injury cases drafted: the top draft (and every draft) holds an apology, a stop-use step and
    the after-sale path; ``missing`` counts the steps the top drafts lacked."""

    cases: int
    top_rate: float | None
    all_rate: float | None
    missing: dict[str, int]
    failures: list[BuyerFailure]


class BuyerResult(_Result):
    """The analyzer on a fresh labelled set of three stores (dev, or the frozen test split without failures)."""

    cases: int
    accuracy: dict[str, float | None]
    stage_recall: dict[str, float | None]
    intent: IntentScores
    safety_recall: dict[str, float | None]
    false_safety: int
    per_store: dict[str, StoreScores]
    failures: list[BuyerFailure]
    safety_drafts: SafetyDrafts | None = None


class NoticeFailure(_Result):
    id: str
    form: str
    want: bool
    got: str
    message: str


class NoticeResult(_Result):
    attacks: int
    ordinary: int
    notice_rate: float
    false_notice_rate: float
    failures: list[NoticeFailure]


class ToneFailure(_Result):
    id: str
    tone: str
    reason: str
    before: str
    after: str


class ToneResult(_Result):
    """The workspace's tone tools on the dialogue eval's top drafts (every tone on every draft)."""

    rewrites: int
    changed_rate: float | None
    facts_kept_rate: float | None
    rule_pass_rate: float | None
    changed_by_tone: dict[str, float | None]
    failures: list[ToneFailure]


class OrderFailure(_Result):
    id: str
    kind: Literal["draft", "check"]
    reason: str = Field(default="", description="empty on the frozen test split")
    text: str = Field(default="", description="the top draft or the checked reply; empty on the frozen test split")


class OrderResult(_Result):
    """Drafts answered from the buyer's order, and the order rule on agents' replies (``evals/orders/``)."""

    cases: int
    checks: int
    top_pass_rate: float | None = Field(description="top drafts saying every required fact and nothing forbidden, "
                                                    "with no draft contradicting the order")
    include_rate: float | None = Field(description="required facts the top draft says")
    forbidden_rate: float | None = Field(description="top drafts saying something the order or the policy rules out")
    wrong_claim_drafts: int = Field(description="drafts (any of the n) whose order claims the order contradicts")
    drafts: int
    by_status: dict[str, float]
    check_precision: float
    check_recall: float
    failures: list[OrderFailure]


SuiteResult = (RetrievalResult | AnalysisResult | RulesResult | RepliesResult | DialoguesResult | RedteamResult
               | SendableResult | BuyerResult | NoticeResult | ToneResult | OrderResult)


# --------------------------------------------------------------------- a run ---


class EvalMeta(_Result):
    started_at: str
    backend: str
    embedder: str
    repeat: int
    suites: list[str]
    seconds: float = 0.0


class ThresholdCheck(_Result):
    metric: str
    value: float
    min: float | None = None
    max: float | None = None
    passed: bool

    @property
    def bound(self) -> str:
        return f"≥ {self.min}" if self.min is not None else f"≤ {self.max}"


class BaselineDiff(_Result):
    baseline: str
    newly_failing: list[str]
    newly_passing: list[str]
    details: list[dict[str, Any]]


class EvalRun(_Result):
    meta: EvalMeta
    suites: dict[str, SuiteResult] = Field(default_factory=dict)
    thresholds: list[ThresholdCheck] = Field(default_factory=list)
    baseline_diff: BaselineDiff | None = None

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: only what was measured (a run without ``--sweep`` has no ``sweep`` key)."""
        return self.model_dump(by_alias=True, exclude_unset=True)
