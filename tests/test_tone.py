"""Tone tools on a draft card (更亲切 / 更简短 / 更正式 / 更详细): only the composer's own wordings change, every fact
stays word for word, and the result is re-checked by the rules before the agent sees it.

The eval suite ``tones`` runs every tone on every dialogue eval draft; the browser side is in ``test_ui.py``."""

from __future__ import annotations

import pytest

from copilot.app.service import Workspace
from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import FakeChat
from copilot.drafting.tone import TONES, ToneRewriter, lost_facts
from copilot.errors import InputError
from copilot.schema import AnswerPlan

COMPLAINT = "收到的羽绒服袖子开线了！！什么破质量"
SHIPPING = "新疆乌鲁木齐 包邮吗 发啥快递 几天能到"


@pytest.fixture(scope="module")
def ws(real_index, copilot):
    return Workspace(real_index[0], copilot=copilot)


def drafted(ws: Workspace, message: str) -> tuple[str, str, AnswerPlan | None]:
    """(live token, top draft, plan) for ``message``, as the workspace drafts it."""
    events = list(ws.stream(DraftRequest(message=message, n=1), live=True))
    token = events[0]["data"]["token"]
    draft = next(e["data"]["text"] for e in events if e["event"] == "draft")
    plan = next(e["data"]["plan"] for e in events if e["event"] == "done")
    return token, draft, AnswerPlan.model_validate(plan) if plan else None


def test_a_draft_reads_back_into_wordings_and_content(ws):
    pieces = ws.tones.pieces("您好亲～全国包邮哦～新疆地区需要补运费15元/单。有其他问题随时问我哦～")
    assert [p.role for p in pieces] == ["opener", "content", "closing"]
    assert pieces[0].text == "您好亲～"  # the longest wording wins: not 「您好」 and a stray 「亲～」


def test_shorter_drops_greetings_and_closings_but_keeps_every_fact(ws):
    token, draft, plan = drafted(ws, SHIPPING)
    out = ws.retone(token, draft, "shorter", plan)
    assert out.changed and len(out.text) < len(draft)
    assert not lost_facts(draft, out.text) and out.report.passed
    assert "15元" in out.text and "随时问我" not in out.text


def test_an_upset_buyer_still_hears_an_apology_first_when_shorter(ws):
    token, draft, plan = drafted(ws, COMPLAINT)
    out = ws.retone(token, draft, "shorter", plan)
    assert out.changed and out.text.startswith("非常抱歉") and out.report.passed
    assert "30天" in out.text  # the policy sentence, word for word


def test_formal_says_nin_without_chatty_particles(ws):
    token, draft, plan = drafted(ws, SHIPPING)
    out = ws.retone(token, draft, "formal", plan)
    assert out.changed and "亲" not in out.text and "～" not in out.text and "哦" not in out.text
    assert out.text.startswith("您好") and out.report.passed


def test_warmer_never_jokes_to_an_upset_buyer(ws):
    token, draft, plan = drafted(ws, COMPLAINT)
    out = ws.retone(token, draft, "warmer", plan)
    assert out.report.passed and "抱歉" in out.text and "哈" not in out.text


def test_fuller_adds_only_the_plans_sentences(ws):
    token, draft, plan = drafted(ws, SHIPPING)
    short = ws.retone(token, draft, "shorter", plan).text
    cut = short.split("。")[0] + "。"  # the agent cut the answer down to its first sentence
    out = ws.retone(token, cut, "fuller", plan)
    assert out.changed and len(out.text) > len(cut) and out.report.passed
    said = {s for item in plan.items for s in item.sentences}
    assert any(s.rstrip("。") in out.text for s in said)


def test_traditional_drafts_stay_traditional(ws):
    token, draft, plan = drafted(ws, "會不會起球")
    out = ws.retone(token, draft, "shorter", plan)
    assert out.changed and "這" in out.text and "这" not in out.text


def test_a_rewrite_that_would_lose_a_fact_is_refused(monkeypatch):
    from copilot.drafting.phrases import load_phrases
    from copilot.settings import Settings

    assert lost_facts("运费15元，2-4天到", "运费15元") == ["2", "4"]
    assert lost_facts("这款羽绒服有货", "这款有货", ["羽绒服"]) == ["羽绒服"]
    rw = ToneRewriter(load_phrases(str(Settings().prompts_dir)))
    # a rewrite step that drops content (no tone does; this is the guard behind all of them)
    monkeypatch.setattr(ToneRewriter, "_shorter", lambda self, pieces, **kw: pieces[:1])
    text = "亲～全国包邮，新疆需要补运费15元/单。"
    out = rw.rewrite(text, "shorter")
    assert not out.changed and out.text == text and "15" in out.note


def test_unknown_tones_and_tokens_are_refused_in_chinese(ws):
    token, draft, _ = drafted(ws, "在吗")
    with pytest.raises(InputError) as exc:
        ws.retone(token, draft, "louder")
    assert "未知的语气" in exc.value.message
    assert set(TONES.values()) == {"更亲切", "更简短", "更正式", "更详细"}


def test_with_an_llm_the_model_rewrites_and_a_rewrite_that_drops_a_fact_falls_back(real_index, copilot):
    from copilot.drafting.pipeline import Copilot

    settings = real_index[0]
    token_ws = Workspace(settings, copilot=copilot)
    token, draft, plan = drafted(token_ws, SHIPPING)
    kept = "您好，全国包邮；新疆、西藏地区需要补运费15元/单，港澳台及海外暂时不发货。一般江浙沪1-2天送达，其他地区2-4天，新疆、西藏约5-8天。"
    llm = Copilot(settings, retriever=real_index[1], backend=FakeChat([kept, "您好，全国包邮，新疆要补点运费。"]))
    ws2 = Workspace(settings, copilot=llm)
    ws2.live = token_ws.live  # the same kept contexts
    out = ws2.retone(token, draft, "formal", plan)
    assert out.changed and out.text == kept and out.backend == "fake:chat" and out.report.passed
    out = ws2.retone(token, draft, "formal", plan)  # the model dropped 15, 1-2, 2-4, 5-8: offline rewrite instead
    assert out.changed and out.backend == "offline-tone" and "15元" in out.text and "离线改写" in out.note
