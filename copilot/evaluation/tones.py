"""The tone tools on the dialogue eval's drafts: every rewrite keeps the original's facts and passes the rules.

For each dialogue the top draft is written as the workspace would (same analysis, plan and check context), then
rewritten in every tone. A rewrite must keep every figure (prices, durations, sizes, dates) and every product name
of the original, and pass every rule the original passed; a rewrite the tool refused (text unchanged) counts as kept.
"""

from __future__ import annotations

from collections.abc import Callable

from ..drafting.pipeline import Copilot
from ..drafting.tone import TONES, ToneRewriter, lost_facts
from ..rules.base import CheckContext
from ..rules.checking import check_text
from ..schema import AnswerPlan
from .dialogues import Dialogue
from .results import ToneFailure, ToneResult

def run_tone_eval(copilot: Copilot, dialogues: list[Dialogue],
                  progress: Callable[[int, int], None] | None = None) -> dict:
    rewriter = ToneRewriter(copilot.composer.p)
    catalog = copilot.current_catalog()
    names = sorted({p.name for p in catalog.products}, key=len, reverse=True)
    rewrites = changed = kept = passed = 0
    per_tone = {t: {"rewrites": 0, "changed": 0} for t in TONES}
    failures: list[ToneFailure] = []
    for k, d in enumerate(dialogues):
        if progress:
            progress(k, len(dialogues))
        held: list[CheckContext] = []
        events = list(copilot.stream(d.request(n=1), keep=held.append))
        drafts = [e["data"] for e in events if e["event"] == "draft"]
        done = next(e["data"] for e in events if e["event"] == "done")
        if not drafts or not held:
            continue
        plan = AnswerPlan.model_validate(done["plan"]) if done.get("plan") else None
        ctx, text = held[0], drafts[0]["text"]
        before = {c.rule for c in check_text(text, ctx).failed}
        for tone in TONES:
            out = rewriter.rewrite(text, tone, analysis=ctx.analysis, plan=plan)
            rewrites += 1
            per_tone[tone]["rewrites"] += 1
            gone = lost_facts(text, out.text, names)
            broke = [c.name for c in check_text(out.text, ctx).failed if c.rule not in before] if out.changed else []
            changed += out.changed
            per_tone[tone]["changed"] += out.changed
            kept += not gone
            passed += not broke
            if gone or broke:
                reason = "；".join(x for x in (gone and "丢了「" + "、".join(gone) + "」",
                                               broke and "不再符合" + "、".join(broke)) if x)
                failures.append(ToneFailure(id=d.id, tone=TONES[tone], reason=reason, before=text, after=out.text))
    if progress:
        progress(len(dialogues), len(dialogues))
    rate = lambda x: round(x / rewrites, 4) if rewrites else None  # noqa: E731
    return {"rewrites": rewrites, "changed_rate": rate(changed), "facts_kept_rate": rate(kept),
            "rule_pass_rate": rate(passed),
            "changed_by_tone": {TONES[t]: round(v["changed"] / v["rewrites"], 4) if v["rewrites"] else None
                                for t, v in per_tone.items()},
            "failures": [f.model_dump() for f in failures]}
