"""Live badges while the agent edits a draft: the edit is checked against what the draft itself was checked
against (the same analysis, product facts and knowledge), by a token the drafting stream hands out.

The browser side (debounce, badges in the card, the time printed) is in ``test_ui.py``."""

from __future__ import annotations

import pytest

from copilot.app.service import LiveContexts, Workspace
from copilot.drafting.io import DraftRequest
from copilot.errors import InputError, NotFoundError


@pytest.fixture(scope="module")
def ws(real_index, copilot):
    return Workspace(real_index[0], copilot=copilot)


def drafted(ws: Workspace, message: str) -> str:
    events = ws.stream(DraftRequest(message=message, n=1), live=True)
    first = next(events)
    assert first["event"] == "live"
    for _ in events:  # the drafts are written (and the context kept) as the stream runs
        pass
    return first["data"]["token"]


def test_an_edit_is_checked_against_the_drafts_own_context(ws):
    token = drafted(ws, "收到的羽绒服袖子开线了！！什么破质量")
    # the buyer is upset (the pipeline's analysis, kept with the token): procedure first fails empathy
    report = ws.live_check(token, "请提供订单号和照片。")
    assert "empathy_first" in {c.rule for c in report.failed}
    assert ws.live_check(token, "非常抱歉给您添麻烦了，请发一下订单号和照片，我马上处理。").passed


def test_a_rude_edit_turns_its_badge_red(ws):
    token = drafted(ws, "这件羽绒服还有货吗")
    assert "polite_language" in {c.rule for c in ws.live_check(token, "爱买不买").failed}


def test_unknown_tokens_and_empty_edits_are_refused_in_chinese(ws):
    with pytest.raises(NotFoundError) as exc:
        ws.live_check("no-such-token", "好的亲")
    assert exc.value.status == 404 and "重新起草" in exc.value.message
    token = drafted(ws, "在吗")
    with pytest.raises(InputError):
        ws.live_check(token, "   ")


def test_the_kept_contexts_are_bounded():
    live = LiveContexts(limit=2)
    for t in ("a", "b", "c"):
        live.put(t, object())  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        live.get("a")  # the oldest went first
    assert live.get("c") is not None
