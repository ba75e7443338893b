"""The workspace's own logic, without a browser: the chat sides, which turn a redraft reuses, the search banner's
bands, the collapsed rule badge, what feedback records, and the eval progress the workspace's bar shows.

The same behaviour in a real Chromium is in ``test_ui.py``."""

from __future__ import annotations

from copilot.app.feedback import FeedbackIn, FeedbackStore
from copilot.app.ui import checks_html, last_buyer_turn, messages, search_banner
from copilot.evaluation.run import run_suites
from copilot.rules.registry import RULE_IDS


def test_the_agent_is_on_the_right_and_the_buyer_on_the_left():
    h = [{"role": "buyer", "text": "在吗"}, {"role": "agent", "text": "在的亲～"}]
    # Gradio draws "user" on the right: that is the agent, as in 千牛, Chatwoot and Zendesk
    assert [m["role"] for m in messages(h)] == ["assistant", "user"]


def test_a_redraft_reuses_the_last_buyer_turn():
    h = [{"role": "buyer", "text": "a"}, {"role": "agent", "text": "b"}, {"role": "buyer", "text": "c"}]
    assert last_buyer_turn(h) == 2
    assert last_buyer_turn(h[:2]) == 0
    assert last_buyer_turn([]) is None


def test_the_search_banner_shows_the_calibrated_confidence():
    assert "有可靠答案" in search_banner(True, 0.30, 0.243)
    # the README's own example: the right policy first, just under the threshold: amber, not red
    near = search_banner(False, 0.229, 0.243)
    assert "接近阈值" in near and "没有可靠答案" not in near and "0.229" in near
    assert "没有可靠答案" in search_banner(False, 0.149, 0.243)
    assert "没有找到" in search_banner(False, None, 0.243)


def test_badges_collapse_to_one_unless_a_rule_fails():
    checks = [{"rule": r, "passed": True, "detail": ""} for r in RULE_IDS]
    html = checks_html(checks)
    assert f"✓ 规则 {len(RULE_IDS)}/{len(RULE_IDS)}" in html and html.count("class='badge ") == 1
    checks[0] = {"rule": RULE_IDS[0], "passed": False, "detail": "原因在这里"}
    html = checks_html(checks, repairs=["删掉了一句"])
    assert "✗" in html and "原因在这里" in html and "已修正 · 删掉了一句" in html and "规则 " not in html


def test_an_unchanged_edit_is_stored_as_an_adoption(tmp_path):
    fb = FeedbackIn(action="edit", message="在吗", draft_text="在的亲～ 有什么可以帮您？",
                    final_text="在的亲～  有什么可以帮您？")
    assert fb.action == "adopt" and fb.final_text is None
    store = FeedbackStore(tmp_path / "f.sqlite")
    store.add_or_spool(fb)
    store.add_or_spool(FeedbackIn(action="edit", message="在吗", draft_text="在的亲～", final_text="在的，您好～",
                                  persona_detected="silent", persona_override="friendly"))
    exported = store.export_cases()
    assert len(exported) == 1 and exported[0]["agent_reply"] == "在的，您好～"  # only the real edit is a case
    rows = store.rows()
    assert {(r["action"], r["persona_detected"], r["persona_override"]) for r in rows} == {
        ("adopt", None, None), ("edit", "silent", "friendly")}  # detected and override stored apart


def test_the_eval_reports_progress_suite_by_suite(real_index):
    heard = []
    run_suites(real_index[0], ("retrieval", "rules"), progress=lambda name, done, total: heard.append((name, done, total)))
    assert heard == [("retrieval", 0, 2), ("rules", 1, 2), ("", 2, 2)]
