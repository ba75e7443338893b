"""Adoption telemetry: what agents did with the drafts, as figures and a report, and their edits as proposed FAQ rows.
The figures are checked on a small hand-made feedback store whose answers can be counted by hand."""

import csv
import sqlite3

import httpx
import pytest

from copilot.app.adoption import build_report, render_html
from copilot.app.feedback import FeedbackIn, FeedbackStore
from copilot.app.proposals import accept, propose, write_review
from copilot.errors import InputError

from .conftest import CHROMIUM, CHROMIUM_FLAGS, copy_knowledge
from .support.server import Server


def fb(action, req, **kw):
    base = {"message": "这个能机洗吗", "draft_text": "亲～不可机洗，建议手洗哦。", "strategy": "direct", "stage": "pre_sale",
            "persona_detected": "silent", "request_id": req}
    return FeedbackIn(action=action, **{**base, **kw})


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(tmp_path / "feedback.sqlite")
    for i, agent in enumerate(["小王", "小王", "小李", "小李"], 1):
        s.log_drafted(f"r{i}", n=3, backend="offline", latency_ms=40.0 + i, persona="silent", stage="pre_sale",
                      agent=agent, conversation_id=f"c{i}")
    s.add(fb("adopt", "r1"))
    s.add(fb("edit", "r2", final_text="亲～不可机洗，建议30度以下温水手洗哦。", strategy="question"))
    s.add(fb("reject", "r3", reason="语气太生硬。", strategy="question"))
    s.add(fb("reject", "r2", reason="语气太生硬", strategy="direct"))  # another draft of r2, before the edit went out
    yield s  # r4 was drafted and nobody acted on it
    s.close()


def test_the_figures_of_a_small_hand_made_store(store):
    r = build_report(store.rows(), store.drafted_rows())
    assert (r.drafted, r.actions, r.adopted, r.edited, r.rejected, r.ignored) == (4, 4, 1, 1, 2, 1)
    assert r.adopted_rate == 0.25 and r.rejected_rate == 0.5 and r.ignored_rate == 0.25
    assert r.assistance_rate == 0.5, "r1 went out as drafted, r2 edited; r3 was rejected, r4 ignored"
    assert r.reasons == [("语气太生硬", 2)], "reasons are counted without their trailing punctuation"
    assert sum(r.edit_distance.values()) == 1 and r.edit_distance["10–30%"] == 1
    agents = {g.key: g for g in r.by["agent"]}
    assert agents["小王"].actions == 3 and agents["小李"].rejected == 1, "the agent comes from the drafting request"
    strategies = {g.key: g for g in r.by["strategy"]}
    assert strategies["question"].edited == 1 and strategies["question"].rejected == 1
    assert r.time_to_action_s.n == 4 and r.latency_ms.p50 == 42.5


def test_an_older_store_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "feedback.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, action TEXT NOT NULL,"
                " message TEXT NOT NULL, draft_text TEXT NOT NULL, final_text TEXT, diff TEXT, reason TEXT, strategy TEXT,"
                " sku TEXT, persona_detected TEXT, persona_override TEXT, stage TEXT)")
    con.execute("INSERT INTO feedback (ts, action, message, draft_text) VALUES (1, 'adopt', '在吗', '在的亲')")
    con.commit()
    con.close()
    s = FeedbackStore(path)
    s.add(fb("adopt", None, agent="小王"))
    rows = s.rows()
    assert [r["message"] for r in rows] == ["在吗", "这个能机洗吗"] and rows[1]["agent"] == "小王" and rows[0]["agent"] is None
    assert build_report(rows, []).actions == 2


@pytest.mark.enable_socket
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by `make test`")
def test_the_html_report_opens_in_a_browser_with_its_charts(store, tmp_path):
    pw = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "adoption.html"
    page_file.write_text(render_html(build_report(store.rows(), store.drafted_rows()), "样例店"), encoding="utf-8")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = b.new_page()
        page.goto(page_file.as_uri())
        assert page.title() == "草稿采用报告"
        assert page.locator("svg.chart").count() >= 7  # edit distance + one per dimension
        assert "辅助率" in page.inner_text("body") and "50.0%" in page.inner_text("body")
        b.close()


FACT = "这款支持30天价保，降价可以申请退差价。"


def edits(n_same: int) -> list[dict]:
    rows = []
    wordings = [FACT, "这款支持30天价保，降价了可以申请退差价哦。", "这款支持30天价保，降价可以申请退差价～"]
    for i in range(n_same):
        rows.append({"action": "edit", "message": "买了会不会降价啊" if i % 2 else "现在买会降价吗", "sku": "DJ-2301",
                     "draft_text": "亲，价格以页面为准哦。", "final_text": "亲，价格以页面为准哦。" + wordings[i % 3]})
    rows.append({"action": "edit", "message": "能便宜点吗", "sku": "", "draft_text": "亲，价格以页面为准哦。",
                 "final_text": "亲，价格以页面为准哦。今天下单我帮您备注优先发货。"})  # added once: no proposal
    rows.append({"action": "adopt", "message": "在吗", "draft_text": "在的", "final_text": None})
    return rows


def test_a_fact_agents_added_five_times_is_proposed_and_accepting_adds_exactly_that_row(tmp_path):
    assert propose(edits(4), min_count=5) == [], "four times is not yet five"
    found = propose(edits(5), min_count=5)
    assert len(found) == 1 and found[0].count == 5 and "30天价保" in found[0].answer and found[0].sku == "DJ-2301"
    assert propose(edits(5), knowledge=FACT, min_count=5) == [], "a fact the store already states is not proposed"
    review, faqs = tmp_path / "proposals.yaml", tmp_path / "faqs.csv"
    faqs.write_text("问题,回答,分类,sku\n包邮吗？,全国包邮,物流,\n", encoding="utf-8")
    write_review(review, found)
    before = faqs.read_text(encoding="utf-8")
    accept(found[0].id, review, faqs)
    rows = list(csv.reader(faqs.open(encoding="utf-8")))
    assert faqs.read_text(encoding="utf-8").startswith(before) and len(rows) == 3
    assert rows[-1] == [found[0].question, found[0].answer, "客服补充", "DJ-2301"]
    with pytest.raises(InputError, match="已经有这一条"):
        accept(found[0].id, review, faqs)


@pytest.mark.enable_socket
@pytest.mark.slow
def test_the_api_joins_feedback_to_its_drafting_request(tmp_path):
    from copilot.knowledge.ingest import ingest

    settings = copy_knowledge(tmp_path)
    ingest(settings)
    server = Server(settings.knowledge_dir, settings.data_dir, {"COPILOT_RATE_LIMIT_PER_MINUTE": "10000"})
    try:
        r = httpx.post(server.url + "/v1/drafts", json={"message": "羽绒服能机洗吗", "n": 1, "agent": "小王",
                                                         "conversation_id": "c-1"}, timeout=60).json()
        rid, d = r["request_id"], r["drafts"][0]
        httpx.post(server.url + "/v1/drafts", json={"message": "在吗", "n": 1}, timeout=60)  # nobody acts on it
        ok = httpx.post(server.url + "/v1/feedback", json={"action": "adopt", "message": "羽绒服能机洗吗",
                                                           "draft_text": d["text"], "request_id": rid}, timeout=30)
        assert ok.status_code in (200, 201), ok.text
        rep = httpx.get(server.url + "/v1/reports/adoption", timeout=30).json()
        assert rep["drafted"] == 2 and rep["adopted"] == 1 and rep["ignored"] == 1 and rep["assistance_rate"] == 0.5
        assert [g["key"] for g in rep["by"]["agent"]] == ["小王"] and rep["time_to_action_s"]["n"] == 1
        page = httpx.get(server.url + "/reports/adoption", timeout=30)
        assert page.status_code == 200 and "草稿采用报告" in page.text
    finally:
        server.stop()
