"""Tone tools for a draft (the workspace's 更亲切 / 更简短 / 更正式 / 更详细 buttons), offline and deterministic.

A draft is read back into its parts: the composer's own wordings (openers, apologies, follow-ups, closings,
questions, deferrals — every one of them is in ``prompts/composer.yaml``) and everything else, which is content:
the store's sentences, computed facts and whatever the agent typed. A rewrite changes only the wordings:

- 更简短 drops greetings, follow-up promises, closings and generic questions; an upset buyer still hears a (short)
  apology first; questions that ask for what the answer needs (身高体重, 肤质) and deferrals stay.
- 更正式 says 您 instead of 亲, drops the ～ and the chatty particles of the wordings, and closes formally.
- 更亲切 opens and closes warmly (never with a joke to an upset buyer).
- 更详细 adds the answer plan's sentences the draft left out (the top draft's full answer), in the plan's order.

Content is never reworded, so every number, duration and product name survives; ``rewrite`` checks that anyway
and refuses a rewrite that lost one. The caller re-checks the result with the rules before showing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..errors import BackendError
from ..schema import Analysis, AnswerPlan
from ..text.cleaning import is_traditional, to_simplified, to_traditional
from .answers import bigrams
from .budget import Budget
from .composer import join_pieces
from .llm import ChatBackend
from .phrases import ComposerPhrases
from .prompting import as_data, load_data, render
from .writers import degenerate

Tone = Literal["warmer", "shorter", "formal", "fuller"]
TONES: dict[str, str] = {"warmer": "更亲切", "shorter": "更简短", "formal": "更正式", "fuller": "更详细"}

# the wordings' roles; "content" is everything that is not one of them
KEEP_SHORT = {"content", "care", "safety", "clarify", "ask", "defer"}
_ENDS = "。！？～!?，；"
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_CHATTY_END = re.compile(r"(?:哦|呢|呀|啦|哈|嘛)?[～~]+")
_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")


@dataclass(frozen=True)
class Piece:
    text: str
    role: str  # content | opener | care | safety | clarify | ask | question | followup | trust | defer | closing


@dataclass(frozen=True)
class Rewrite:
    text: str
    changed: bool
    note: str = ""


def _pattern(phrase: str) -> str:
    """A wording as a regex: its placeholders match the buyer's words, a leading 亲， and the end mark are optional
    (the composer drops a second 亲 and joins parts with 。)."""
    core = phrase.rstrip(_ENDS)
    body = _PLACEHOLDER.sub(lambda m: "(?:尺码|规格)" if m.group(1) == "topics" else ".{1,24}?", re.escape(core))
    if core.startswith("亲，"):
        body = "(?:亲，)?" + body[len(re.escape("亲，")):]
    return body + f"[{_ENDS}]?"


class ToneRewriter:
    """Rewrites a draft in another tone from the composer's wordings and the request's answer plan."""

    def __init__(self, phrases: ComposerPhrases) -> None:
        self.p = phrases
        t = phrases.tone
        roles: list[tuple[str, str]] = []
        for key, pool in phrases.openers.items():
            role = "care" if key in ("apology", "soothe", "anxious", "skeptical") else "opener"
            roles += [(x, role) for x in pool]
        roles += [(x, "clarify") for pool in phrases.clarify.values() for x in pool]
        roles += [(x, "followup") for x in phrases.followup]
        for key, pool in phrases.questions.items():
            roles += [(x, "ask" if key in ("size", "shoes", "skin") else "question") for x in pool]
        roles += [(x, "trust") for x in phrases.trust]
        roles += [(x, "safety") for x in phrases.safety.values()]
        roles += [(x, "defer") for x in (*phrases.unknown, *phrases.unknown_order, *phrases.defer,
                                         *phrases.defer_other, *phrases.defer_rest)]
        roles += [(x, "closing") for pool in phrases.closings.values() for x in pool]
        roles += [(t.short_apology, "care"), (t.formal_apology, "care"), (t.formal_opener, "opener"),
                  (t.warm_opener, "opener"), (t.warm_continued, "opener")]
        roles += [(x, "closing") for x in (*t.formal_closings.values(), *t.warm_closings.values())]
        # longest first, so 「亲，您好～」 is not read as 「亲，」 and a greeting
        roles.sort(key=lambda r: -len(r[0]))
        self._wordings = [(re.compile(_pattern(x)), role, len(x.rstrip(_ENDS)) <= 3) for x, role in roles]

    # ----------------------------------------------------------------- reading

    def pieces(self, text: str) -> list[Piece]:
        """The draft as wordings and content, in order. A short wording (「亲，」「亲～」) counts only at the start."""
        found: list[tuple[int, int, str]] = []
        for rx, role, short in self._wordings:
            found += [(m.start(), m.end(), role) for m in rx.finditer(text)
                      if m.end() > m.start() and not (short and m.start() != 0)]
        # the longest match wins where wordings overlap (「亲，您好～」 matches 「您好」 too)
        spans: list[tuple[int, int, str]] = []
        for s, e, role in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
            if not any(s < e2 and s2 < e for s2, e2, _ in spans):
                spans.append((s, e, role))
        spans.sort()
        out: list[Piece] = []
        at = 0
        for s, e, role in spans:
            if s > at and text[at:s].strip(" "):
                out.append(Piece(text[at:s], "content"))
            out.append(Piece(text[s:e], role))
            at = e
        if text[at:].strip():
            out.append(Piece(text[at:], "content"))
        return out

    # ---------------------------------------------------------------- rewriting

    def rewrite(self, text: str, tone: str, *, analysis: Analysis | None = None, plan: AnswerPlan | None = None
                ) -> Rewrite:
        if tone not in TONES:
            raise ValueError(f"未知的语气：{tone}（可用：{'、'.join(TONES)}）")
        traditional = is_traditional(text)
        simple = to_simplified(text) if traditional else text
        pieces = self.pieces(simple.strip())
        upset = bool(analysis and (analysis.negative or analysis.safety in ("reaction", "injury")))
        stage = analysis.stage if analysis else "pre_sale"
        if stage == "after_sale" and not upset:
            stage = "after_sale_calm"
        new = getattr(self, "_" + tone)(pieces, upset=upset, stage=stage, plan=plan)
        out = join_pieces([p.text for p in new], dedupe=False)
        lost = lost_facts(simple, out)
        if lost:
            return Rewrite(text, False, f"改写会丢掉「{'、'.join(lost)}」，已保留原文")
        if traditional:
            out = to_traditional(out)
        if _same(out, text):
            return Rewrite(text, False, _UNCHANGED[tone])
        return Rewrite(out, True)

    def _shorter(self, pieces: list[Piece], *, upset: bool, stage: str, plan) -> list[Piece]:
        out = [p for p in pieces if p.role in KEEP_SHORT]
        if not any(p.role != "care" for p in out):  # nothing but a greeting: the question is the answer
            out = [p for p in pieces if p.role in KEEP_SHORT | {"question"}]
        if upset:
            if not any(p.role == "care" for p in out):
                out.insert(0, Piece(self.p.tone.short_apology, "care"))
            else:  # the shortest apology, where the draft had a longer one
                out = [Piece(self.p.tone.short_apology, "care") if p.role == "care" and
                       len(p.text) > len(self.p.tone.short_apology) else p for p in out]
        return out

    def _formal(self, pieces: list[Piece], *, upset: bool, stage: str, plan) -> list[Piece]:
        t = self.p.tone
        out: list[Piece] = []
        for p in pieces:
            if p.role in ("opener", "closing", "followup"):  # the formal closing says what a follow-up said
                continue
            if p.role == "care":
                out.append(Piece(t.formal_apology if upset else _formal_words(p.text), "care"))
            elif p.role == "content":
                out.append(Piece(_CHATTY_END.sub("。", re.sub(r"^亲[，,～~]\s*", "", p.text)), "content"))
            else:
                out.append(Piece(_formal_words(p.text), p.role))
        if not any(p.role == "care" for p in out):
            out.insert(0, Piece(t.formal_apology if upset else t.formal_opener, "opener"))
        if not _ends_with_question(out):
            out.append(Piece(t.formal_closings.get(stage, t.formal_closings["pre_sale"]), "closing"))
        return out

    def _warmer(self, pieces: list[Piece], *, upset: bool, stage: str, plan) -> list[Piece]:
        t = self.p.tone
        out = [p for p in pieces if p.role not in ("closing", "followup") and p.text != t.formal_opener]
        if not any(p.role in ("opener", "care") for p in out):
            out.insert(0, Piece(t.warm_continued if upset else t.warm_opener, "opener"))
        out = [Piece(re.sub(r"^您好[，,]", "亲，您好～", p.text), p.role) if p.role == "opener" else p for p in out]
        if not _ends_with_question(out):
            out.append(Piece(t.warm_closings.get(stage, t.warm_closings["pre_sale"]), "closing"))
        return out

    def _fuller(self, pieces: list[Piece], *, upset: bool, stage: str, plan: AnswerPlan | None) -> list[Piece]:
        said = "".join(p.text for p in pieces)
        extra = [s for item in (plan.items if plan else []) for s in item.sentences if not _contains(said, s)]
        extra = list(dict.fromkeys(extra))
        if not extra:
            return pieces
        # after the last piece of content (before a question or a closing), in the plan's order
        last = max((i for i, p in enumerate(pieces) if p.role in ("content", "safety", "clarify", "defer")),
                   default=len(pieces) - 1 if pieces and pieces[-1].role in ("opener", "care") else -1)
        return [*pieces[:last + 1], *(Piece(s, "content") for s in extra), *pieces[last + 1:]]


_UNCHANGED = {
    "shorter": "已经是最简短的说法（事实句和必要的道歉、提问都要保留）",
    "formal": "已经是正式的说法",
    "warmer": "已经是亲切的说法",
    "fuller": "资料里没有更多可补充的内容",
}


def _formal_words(text: str) -> str:
    text = re.sub(r"^亲[，,～~]?", "", text)
    text = text.replace("亲，", "").replace("亲", "您")
    text = _CHATTY_END.sub("。", text)
    return text.replace("好吗？", "可以吗？")


def _ends_with_question(pieces: list[Piece]) -> bool:
    return bool(pieces) and pieces[-1].text.rstrip().endswith(("？", "?")) and pieces[-1].role != "content" or \
        bool(pieces) and pieces[-1].role in ("ask", "question")


def _contains(said: str, sentence: str) -> bool:
    """Does the draft already say ``sentence`` (verbatim, or nearly: the composer trims a leading 抱歉)?"""
    core = sentence.strip().rstrip(_ENDS)
    if core in said:
        return True
    grams = bigrams(core)
    return bool(grams) and len(grams & bigrams(said)) >= 0.8 * len(grams)


def facts_of(text: str, names: list[str] = ()) -> list[str]:
    """The facts a reply states that a rewrite must keep: its figures (prices, durations, sizes, dates) and the
    product names in ``names``, each as often as it states it."""
    return [*_FIGURE.findall(text), *(n for n in names if n in text)]


def lost_facts(before: str, after: str, names: list[str] = ()) -> list[str]:
    """Facts of ``before`` that ``after`` no longer states."""
    have = facts_of(after, names)
    lost = []
    for f in facts_of(before, names):
        if f in have:
            have.remove(f)
        else:
            lost.append(f)
    return list(dict.fromkeys(lost))



class TonePrompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: list[str]
    system: str
    tones: dict[str, str]
    user: str


class LlmToneRewriter:
    """The tone buttons through the configured LLM (``prompts/tone.yaml``). Returns None when the model fails, runs
    out of time, or writes something that drops a fact; the caller then rewrites offline. The caller checks the
    result with the rules as it checks the offline one."""

    def __init__(self, backend: ChatBackend, prompts_dir: Path) -> None:
        self.backend = backend
        self.prompt = load_data(prompts_dir / "tone.yaml", TonePrompt)

    def rewrite(self, text: str, tone: str, budget: Budget, names: list[str] = ()) -> tuple[str | None, str]:
        """(the rewrite or None, why not)."""
        keep = list(dict.fromkeys(facts_of(text, names)))
        messages = [
            {"role": "system", "content": self.prompt.system},
            {"role": "user", "content": render(self.prompt.user, tone=TONES[tone], instruction=self.prompt.tones[tone],
                                               draft=as_data(text), facts="、".join(keep) or "（无）")},
        ]
        try:
            out = self.backend.complete(messages, max_tokens=400, temperature=0.2, budget=budget).strip()
        except BackendError as exc:
            return None, exc.message
        broken = degenerate(out)
        if broken:
            return None, f"大模型改写{broken}"
        gone = lost_facts(text, out, names)
        if gone:
            return None, f"大模型改写丢了「{'、'.join(gone)}」"
        if _same(out, text):
            return None, "大模型没有改动"
        return out, ""


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)
