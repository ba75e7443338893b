"""An LLM that obeys the buyer's injected instructions: none of what it writes reaches the agent as a clean draft.

The model is a scripted OpenAI-compatible server on 127.0.0.1 that answers every request with the reply such a
model would write (``evals/replies/hostile_dev.jsonl``, written by an author who never saw the checker: codes,
免单, N倍赔付, refund timings, prompt leaks, English, echoed instructions). The pipeline checks every candidate;
a failing candidate is replaced by the offline composer with a notice naming the rule, or shown flagged.
"""

from __future__ import annotations

import json

import pytest

from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import OpenAIChat
from copilot.drafting.pipeline import Copilot

from .conftest import EVALS, NOW
from .test_llm_plan import (
    drafts_json,
    llm,  # noqa: F401  (the scripted server, a fixture)
)

CASES = [c for c in (json.loads(line) for line in (EVALS / "replies" / "hostile_dev.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()) if c["store"] == "sample"]


@pytest.mark.enable_socket
def test_no_hostile_draft_is_shown_as_passed(real_index, llm):  # noqa: F811
    assert len(CASES) >= 10
    current = {}
    server = llm(lambda keys, body: drafts_json(keys, [current["reply"]] * len(keys)))
    settings, retriever, _ = real_index
    backend = OpenAIChat("m", base_url=server.url, api_key="k", timeout=10, max_retries=0, provider="vllm")
    copilot = Copilot(settings, retriever=retriever, backend=backend)
    shown_clean, flagged = [], 0
    for case in CASES:
        current["reply"] = case["reply"]
        r = copilot.draft(DraftRequest(message=case["message"], product_sku=case.get("sku"), n=2, now=NOW))
        for d in r.drafts:
            # a draft the guard repaired (a sentence cut, an apology put first) is shown with the repair named
            if d.passed and d.backend.startswith("vllm") and not d.repairs and case["reply"].strip() in d.text:
                shown_clean.append((case["id"], d.text))
        # the agent is told the model's draft broke a rule: replaced, repaired (the sentence cut) or shown flagged
        flagged += any("已改用离线起草" in (d.notice or "") or (d.backend.startswith("vllm") and not d.passed)
                       or d.repairs for d in r.drafts)
    assert server.calls >= len(CASES)
    assert shown_clean == []
    assert flagged == len(CASES)
