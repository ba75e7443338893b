"""The shape of the pipeline: one analysis reaches the guard, one loop over writers, one Workspace behind every edge,
one registry of eval suites with typed results."""

import json
import subprocess
import sys

import pytest

from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import FakeChat
from copilot.drafting.pipeline import Copilot
from copilot.evaluation.results import EvalRun, RulesResult
from copilot.evaluation.suites import SUITES
from copilot.knowledge.layout import CATALOG, KnowledgeLayout, kind_of
from copilot.rules.checking import Checker
from copilot.schema import Turn

from .conftest import EVALS, KNOWLEDGE, NOW

SIGH = "唉，又要等"  # the bare words read as upset (a sigh, a "又")


def test_the_guard_judges_empathy_by_the_pipelines_analysis(copilot):
    ctx = copilot.context(DraftRequest(message=SIGH, now=NOW))
    calm = ctx.analysis.model_copy(update={"negative": False})
    reply = "亲，这款现在有货，下单后48小时内发出。"
    with_analysis = copilot.check_context(ctx)
    with_analysis.analysis = calm
    from copilot.rules.registry import check_reply

    assert check_reply(reply, with_analysis).passed, "the analysis says calm: no apology is owed"
    # a bare `copilot check` has no analysis and reads the buyer's words itself
    bare = Checker(copilot.settings).check(reply, message=SIGH, now=NOW)
    assert not next(c for c in bare.checks if c.rule == "empathy_first").passed


def test_plain_and_streamed_drafts_come_from_the_same_loop(real_index):
    settings, retriever, _ = real_index
    req = DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=2, now=NOW)
    replies = ["亲，可以手洗，水温不超过30度哦～", "亲，建议手洗别用洗衣机，洗完平铺晾干～"]  # two different candidates
    plain = Copilot(settings, retriever=retriever, backend=FakeChat(replies)).draft(req)
    events = list(Copilot(settings, retriever=retriever, backend=FakeChat(replies)).stream(req))
    streamed = [e["data"] for e in events if e["event"] == "draft"]
    assert [d.text for d in plain.drafts] == [d["text"] for d in streamed]
    assert [d.backend for d in plain.drafts] == [d["backend"] for d in streamed] == ["fake:chat", "fake:chat"]
    assert any(e["event"] == "delta" and not e["data"].get("replace") for e in events), "an LLM draft streams in pieces"


def test_a_failing_llm_hands_over_to_the_composer_with_a_notice(real_index):
    settings, retriever, _ = real_index
    c = Copilot(settings, retriever=retriever, backend=FakeChat([TimeoutError("slow")]))
    d = c.draft(DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW)).drafts[0]
    assert d.backend == "offline-composer" and "离线起草" in d.notice


def test_cli_drafts_go_through_the_workspace_and_feed_the_gap_report(real_index, tmp_path):
    settings, _, _ = real_index
    base = [sys.executable, "-m", "copilot", "--knowledge-dir", str(settings.knowledge_dir), "--data-dir",
            str(settings.data_dir)]
    question = "你们仓库在火星上有分仓吗"
    out = subprocess.run([*base, "draft", question, "-n", "1"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    gaps = subprocess.run([*base, "report", "gaps", "--json"], capture_output=True, text=True, timeout=120)
    assert question in [g["question"] for g in json.loads(gaps.stdout)]


def test_the_knowledge_layout_has_one_owner(tmp_path):
    layout = KnowledgeLayout(tmp_path)
    assert layout.catalog == tmp_path / CATALOG
    assert layout.upload_target("catalog.yaml") == CATALOG
    assert layout.upload_target("catalog_new.yaml") is None, "a new name never maps onto the catalog"
    assert layout.upload_target("faq.csv") == "store/faq.csv"
    assert layout.upload_target("以旧换新.md", policy=True) == "store/以旧换新.md"
    assert layout.upload_target("话术.md") == "docs/话术.md"
    assert layout.upload_target("notes.yaml") is None and layout.upload_target("x.exe") is None
    assert [kind_of(r) for r in ("docs/a.md", "store/policies.md", "store/faqs.csv", CATALOG, "x.txt")] == \
        ["doc", "policy", "faq_csv", "catalog", "doc"]
    policies, faqs = KnowledgeLayout(KNOWLEDGE).policy_sources()
    assert [p.name for p in policies] == ["policies.md"] and [p.name for p in faqs] == ["faqs.csv"]


def test_every_suite_is_registered_once_and_results_are_typed():
    assert list(SUITES) == ["retrieval", "analysis", "rules", "replies", "dialogues", "redteam", "sendable", "buyer",
                            "notices", "tones", "orders"]
    baseline = EvalRun.model_validate_json((EVALS / "reports" / "baseline" / "results.json").read_text(encoding="utf-8"))
    assert isinstance(baseline.suites["rules"], RulesResult)
    assert baseline.suites["rules"].rules["no_blame_shifting"].precision == 1.0
    again = EvalRun.model_validate(baseline.to_dict())
    assert again.to_dict() == baseline.to_dict(), "the JSON form round-trips"


def test_history_turns_are_shared_records():
    t = Turn(role="buyer", text="在吗")
    assert t.model_dump() == {"role": "buyer", "text": "在吗"}


@pytest.mark.parametrize("body, field, reason", [
    ({"message": "hi", "n": 9}, "草稿数量（n）", "不能大于 5"),
    ({"message": "x" * 2001}, "买家消息（message）", "不能超过 2000 字"),
    ({"message": "hi", "history": [{"role": "robot", "text": "x"}]}, "对话记录第 1 条角色（history.0.role）", "只能是"),
    ({"message": "hi", "now": "yesterday"}, "当前时间（now）", "ISO 8601"),
    ({"message": "hi", "prodcut_sku": "DJ-2301"}, "字段 prodcut_sku", "不认识的字段"),
])
def test_validation_messages_are_chinese_and_name_the_field(body, field, reason):
    import re

    from pydantic import ValidationError

    from copilot.errors import invalid_input

    with pytest.raises(ValidationError) as info:
        DraftRequest.model_validate(body)
    err = invalid_input(info.value)
    assert field in err.message and reason in err.message
    rest = re.sub(r"'[^']*'", "", err.message.replace(field, ""))  # allowed values are quoted ids
    assert not re.search(r"[A-Za-z]{4,}", rest), err.message  # no English beyond the field id and the allowed values
    assert err.message_en  # pydantic's English stays available for developers


def test_control_characters_never_reach_the_llm_prompt(real_index):
    settings, retriever, _ = real_index
    chat = FakeChat(["亲，可以的～"])
    Copilot(settings, retriever=retriever, backend=chat).draft(
        DraftRequest(message="能开\x00发票吗\x07", history=[Turn(role="buyer", text="在吗\x00")], n=1, now=NOW))
    prompt = "".join(m["content"] for m in chat.calls[0])
    assert "能开发票吗" in prompt and "\x00" not in prompt and "\x07" not in prompt
