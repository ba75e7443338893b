"""The LLM's second opinion on the rules (``llm_rule_review``), over the wire to a scripted server on 127.0.0.1.

The rules decide: a draft's ``passed`` never follows the LLM. Where the two differ the draft carries the LLM's view
and the disagreement is logged to ``<data_dir>/rule_reviews.jsonl``; a slow or garbled LLM adds nothing, within the
review's own budget.
"""

from __future__ import annotations

import json
import time

import pytest

from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import OpenAIChat
from copilot.drafting.pipeline import Copilot
from copilot.rules.llm_review import parse_violations

from .conftest import NOW
from .test_llm_plan import (
    drafts_json,
    llm,  # noqa: F401  (the scripted server, a fixture)
)

CLEAN = "亲，羽绒服不可机洗，建议轻柔手洗、平铺阴干哦～"


def reviewing(real_index, tmp_path, url: str, budget_s: float = 4.0) -> Copilot:
    settings, retriever, _ = real_index
    settings = settings.model_copy(update={"llm_rule_review": True, "llm_rule_review_budget_s": budget_s,
                                           "data_dir": tmp_path})
    backend = OpenAIChat("m", base_url=url, api_key="k", timeout=10, max_retries=0, provider="vllm")
    return Copilot(settings, retriever=retriever, backend=backend)


def answer(review):
    """Drafting requests (they carry the candidates' schema) get CLEAN; review requests get ``review(body)``."""
    return lambda keys, body: drafts_json(keys, [CLEAN] * len(keys)) if keys else review(body)


@pytest.mark.enable_socket
def test_a_disagreement_is_shown_and_logged_but_the_rules_decide(real_index, tmp_path, llm):  # noqa: F811
    said = json.dumps({"violations": [{"rule": "polite_language", "reason": "语气生硬"}]}, ensure_ascii=False)
    server = llm(answer(lambda body: said))
    c = reviewing(real_index, tmp_path, server.url)
    r = c.draft(DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW))
    d = r.drafts[0]
    assert d.backend.startswith("vllm") and d.passed  # the rules passed it, and that stands
    assert [x["rule"] for x in d.review] == ["polite_language"] and d.review[0]["llm_says"] == "violated"
    review_calls = [b for b in server.bodies if "<客服草稿>" in b["messages"][-1]["content"]]
    assert len(review_calls) == 1 and CLEAN in review_calls[0]["messages"][-1]["content"]
    rows = [json.loads(line) for line in (tmp_path / "rule_reviews.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["draft"] == d.text and rows[0]["disagreements"][0]["reason"] == "语气生硬"


@pytest.mark.enable_socket
def test_agreement_or_garbage_adds_nothing(real_index, tmp_path, llm):  # noqa: F811
    for text in ('{"violations": []}', "我觉得还行", '{"violations": [{"rule": "no_such_rule"}]}'):
        server = llm(answer(lambda body, t=text: t))
        d = reviewing(real_index, tmp_path, server.url).draft(
            DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW)).drafts[0]
        assert d.passed and d.review == []
    assert not (tmp_path / "rule_reviews.jsonl").exists()


@pytest.mark.enable_socket
def test_a_slow_reviewer_costs_at_most_its_budget(real_index, tmp_path, llm):  # noqa: F811
    def slow(body):
        time.sleep(3)
        return '{"violations": [{"rule": "polite_language"}]}'

    server = llm(answer(slow))
    c = reviewing(real_index, tmp_path, server.url, budget_s=0.8)
    t = time.monotonic()
    d = c.draft(DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW)).drafts[0]
    assert time.monotonic() - t < 2.8  # the review gave up at its budget, not after the 3 s answer
    assert d.passed and d.review == []


def test_parsing_keeps_only_known_rules():
    assert parse_violations('好的 {"violations": [{"rule": "prompt_leak", "reason": "泄露"}, {"rule": "x"}]}') == \
        {"prompt_leak": "泄露"}
    assert parse_violations("没有问题") is None
