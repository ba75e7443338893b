"""An optional LLM reading of the buyer, validated by the same schema as the offline one, with the offline
analyzer as its fallback.

``LLMAnalyzer.analyze`` asks the configured chat backend (one call, bounded by its own time budget) for the
persona, stage, emotion, intents and safety scenario as JSON (``prompts/analysis.yaml``), validates the answer
with ``LLMReading`` and lays it over the offline analysis. Anything else — a timeout, an outage, malformed or
out-of-vocabulary JSON — keeps the offline analysis and says so in its signals. Manipulation notices and scam
reports stay the offline analyzer's: no model output can clear them. The agent's persona override wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..drafting.budget import Budget
from ..drafting.llm import ChatBackend
from ..drafting.prompting import as_data, load_data, render
from ..errors import BackendError
from ..schema import (
    INTENT_LABELS,
    Analysis,
    Emotion,
    Intent,
    Safety,
    Stage,
    Turn,
    format_history,
)
from .analysis import Analyzer, OfflineAnalyzer
from .signals import detect_intent, negative_from


class AnalysisTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: list[str]
    system: str
    user: str


class LLMReading(BaseModel):
    """What the model must answer: every field from the offline analyzer's own vocabulary."""

    model_config = ConfigDict(extra="ignore")
    persona: str
    stage: Stage
    emotion: Emotion
    intents: list[Intent] = Field(min_length=1, max_length=3)
    safety: Safety | None = None

    @field_validator("safety", mode="before")
    @classmethod
    def _none(cls, v):
        return None if v in ("", "null", "none", "None") else v


def reading_schema(persona_ids: Sequence[str]) -> dict:
    """The JSON schema the backend is asked to follow (constrained where the server can)."""
    return {
        "type": "object",
        "properties": {
            "persona": {"type": "string", "enum": list(persona_ids)},
            "stage": {"type": "string", "enum": ["pre_sale", "in_sale", "after_sale"]},
            "emotion": {"type": "string", "enum": ["angry", "anxious", "neutral", "positive"]},
            "intents": {"type": "array", "items": {"type": "string", "enum": list(INTENT_LABELS)},
                        "minItems": 1, "maxItems": 3},
            "safety": {"type": ["string", "null"], "enum": ["reaction", "injury", "fraud", None]},
        },
        "required": ["persona", "stage", "emotion", "intents", "safety"],
    }


def parse_reading(text: str, persona_ids: Sequence[str]) -> LLMReading | None:
    """The model's JSON (the first object in its text), validated; None when it is not a valid reading."""
    m = re.search(r"\{.*\}", text or "", re.DOTALL)
    if not m:
        return None
    try:
        reading = LLMReading.model_validate(json.loads(m.group(0)))
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None
    return reading if reading.persona in persona_ids else None


class LLMAnalyzer(Analyzer):
    """The LLM's reading laid over the offline analysis; the offline one whenever the LLM fails."""

    name = "llm"

    def __init__(self, offline: OfflineAnalyzer, backend: ChatBackend, prompts_dir: Path, *, budget_s: float = 6.0):
        self.offline = offline
        self.backend = backend
        self.budget_s = budget_s
        self.template: AnalysisTemplate = load_data(Path(prompts_dir) / "analysis.yaml", AnalysisTemplate)
        self.persona_ids = list(offline.ids)
        self._personas = "\n".join(f"- {p}：{offline.personas[p].label}，{offline.personas[p].summary}"
                                   for p in self.persona_ids)

    def messages(self, message: str, history: Sequence[Turn]) -> list[dict]:
        values = {"personas": self._personas, "history": as_data(format_history(list(history)) or "（无）"),
                  "message": as_data(message)}
        return [{"role": "system", "content": self.template.system},
                {"role": "user", "content": render(self.template.user, **values)}]

    def analyze(self, message: str, history: Sequence[Turn] = (), *, sku: str | None = None,
                persona: str | None = None) -> Analysis:
        base = self.offline.analyze(message, history, sku=sku, persona=persona)
        kw = {"json_schema": reading_schema(self.persona_ids)} if self.backend.structured_output else {}
        try:
            text = self.backend.complete(self.messages(message, history), max_tokens=160, temperature=0.0,
                                         budget=Budget(self.budget_s), **kw)
        except BackendError as exc:
            return base.model_copy(update={"stage_signals": [*base.stage_signals, f"大模型分析失败，用离线分析：{exc.message}"]})
        reading = parse_reading(text, self.persona_ids)
        if reading is None:
            return base.model_copy(update={"stage_signals": [*base.stage_signals, "大模型分析输出无法校验，用离线分析"]})
        return merge(base, reading, message, overridden=persona is not None, offline=self.offline)


def merge(base: Analysis, reading: LLMReading, message: str, *, overridden: bool, offline: OfflineAnalyzer) -> Analysis:
    """The model's fields over the offline analysis; notices, scam reports and an agent's override stay."""
    guess = base.persona
    if not overridden and reading.persona != base.persona.id:
        p = offline.personas[reading.persona]
        guess = guess.model_copy(update={"id": p.id, "label": p.label, "signals": ["大模型判断"], "unsure": False})
    intent = reading.intents[0]
    # a reaction or an injury either reader saw is kept: an unneeded 就医 line costs less than a missing one
    safety = "fraud" if base.scam else (reading.safety or base.safety)
    return base.model_copy(update={
        "persona": guess,
        "stage": reading.stage,
        "stage_signals": [*base.stage_signals, "大模型判断阶段"],
        "emotion": reading.emotion,
        "emotion_signals": [*base.emotion_signals, "大模型判断情绪"],
        "intent": intent,
        "intent_label": INTENT_LABELS[intent],
        "intents": list(dict.fromkeys(reading.intents)),
        "safety": safety,
        "negative": negative_from(message, reading.emotion, reading.stage, detect_intent(message)),
    })
