"""The runtime guard: every draft is checked; a failing draft is repaired or replaced.

Repair is conservative: the sentence holding the offending span is removed
(if something useful is left), and a missing apology is put first. A sentence
the store's own knowledge states (``CheckContext.knowledge``: the retrieved
FAQ/policy text and the product's catalog text) is never removed: a rule that
fires on it is a rule false positive, so the draft keeps it and shows the flag.
The draft then carries its final check results and a note of each repair, so
the agent sees which rule fired — nothing is silently shown as clean.
"""

from __future__ import annotations

import re

from ..text.chunking import split_sentences
from .base import from_store
from .registry import CheckContext, CheckReport, check_reply

APOLOGY = "亲，非常抱歉给您带来不好的体验，"
MAX_ROUNDS = 3


def _drop_sentence(text: str, span: str, knowledge: str = "") -> str | None:
    parts = split_sentences(text)
    if any(span in p and from_store(p, knowledge) for p in parts):
        return None  # the store said it: keep the answer, show the flag
    kept = [p for p in parts if span not in p]
    if len(kept) == len(parts) or not kept:
        return None
    body = "".join(kept)
    # a reply must still say something beyond greeting and sign-off
    if len(re.sub(r"^[^，。！？]*[，～]", "", body)) < 8:
        return None
    return body


def _add_apology(text: str) -> str:
    text = re.sub(r"^(亲，)?(您好|在的)?[～~，,]?\s*", "", text)
    return APOLOGY + text


def guard(text: str, ctx: CheckContext) -> tuple[str, CheckReport, list[str]]:
    """Check ``text``; repair what can be repaired. Returns (text, final report, repair notes)."""
    report = check_reply(text, ctx)
    notes: list[str] = []
    for _ in range(MAX_ROUNDS):
        if report.passed:
            break
        changed = False
        for c in report.failed:
            if c.rule == "empathy_first" and "抱歉" not in text:
                text = _add_apology(text)
                notes.append(f"「{c.name}」：已在开头补上道歉")
                changed = True
                break
            if c.span:
                fixed = _drop_sentence(text, c.span, ctx.knowledge)
                if fixed:
                    notes.append(f"「{c.name}」：已删除违规句（{c.span}）")
                    text = fixed
                    changed = True
                    break
                if any(c.span in p and from_store(p, ctx.knowledge) for p in split_sentences(text)):
                    kept = f"「{c.name}」：「{c.span}」出自店铺知识，未删除，请核对后发送"
                    if kept not in notes:
                        notes.append(kept)
        if not changed:
            break
        report = check_reply(text, ctx)
    return text, report, notes
