"""`copilot qa`: the agents' own replies from a chat export, checked with the same rules as the drafts."""

import json

import pytest
from typer.testing import CliRunner

from copilot.app.cli import app
from copilot.errors import InputError
from copilot.qa.exports import read_export
from copilot.qa.report import render_html
from copilot.qa.review import review
from copilot.rules.checking import Checker
from copilot.settings import Settings

from .conftest import CHROMIUM, CHROMIUM_FLAGS, KNOWLEDGE

CHAT = [
    {"id": "c1", "agent": "小王", "sku": "DJ-2301", "turns": [
        {"role": "buyer", "text": "在吗 羽绒服能便宜点吗", "at": "2026-11-23T10:00:00+08:00"},
        {"role": "agent", "text": "亲，加我微信给您便宜20", "at": "2026-11-23T10:01:00+08:00"},
        {"role": "buyer", "text": "算了", "at": "2026-11-23T10:02:00+08:00"},
        {"role": "agent", "text": "好的亲，有问题随时找我～", "at": "2026-11-23T10:02:30+08:00"}]},
    {"id": "c2", "agent": "小李", "turns": [
        {"role": "买家", "text": "收到的杯子是瘪的！！", "at": "2026-11-24T09:00:00+08:00"},
        {"role": "客服", "text": "非常抱歉亲，麻烦发下照片和订单号，我马上给您补发", "at": "2026-11-24T09:05:00+08:00"}]},
]
JSONL = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CHAT).encode()
CSV = ("conversation_id,time,role,text,agent\n"
       "c9,2026-11-23T10:01:00+08:00,客服,那是快递的问题，您找快递吧,小张\n"  # rows out of order: sorted by time
       "c9,2026-11-23T10:00:00+08:00,买家,快递三天没动了,\n").encode()


@pytest.fixture(scope="module")
def checker():
    return Checker(Settings(knowledge_dir=KNOWLEDGE))


def test_every_agent_turn_is_checked_and_figured_per_agent_rule_and_day(checker):
    report = review(read_export(JSONL, "chat.jsonl"), checker)
    assert (report.conversations, report.turns, report.flagged) == (2, 3, 1)
    assert set(report.rules) == {"no_unauthorized_promise", "platform_rules"}
    wang = next(a for a in report.agents if a.agent == "小王")
    assert wang.flagged == 1 and wang.first_response_s == 60.0 and wang.response_s == 45.0  # (60 + 30) / 2
    assert [d.day for d in report.days] == ["2026-11-23", "2026-11-24"] and report.days[0].flagged_rate == 0.5
    assert report.worst[0].reply.startswith("亲，加我微信") and report.worst[0].message == "在吗 羽绒服能便宜点吗"


def test_csv_exports_with_chinese_roles_are_read_in_time_order(checker):
    [conv] = read_export(CSV, "chat.csv")
    assert [t.role for t in conv.turns] == ["buyer", "agent"]
    report = review([conv], checker)
    assert report.rules == {"no_blame_shifting": 1} and report.agents[0].agent == "小张"


@pytest.mark.parametrize("data, name, says", [
    (b"", "a.jsonl", "空的"),
    ("conversation_id,role,text\nc1,买家,hi\n".encode(), "a.csv", "缺少列：time"),
    (b'{"id": "c1", "turns": [{"role": "robot", "text": "x", "at": "2026-11-23T10:00:00+08:00"}]}', "a.jsonl", "第 1 行"),
    (b'{"id": "c1", "turns": [{"role": "buyer", "text": "x", "at": "yesterday"}]}', "a.jsonl", "turns.0.at"),
    ("c,d\n".encode("utf-16"), "a.csv", "UTF-8"),
    (b"hello", "a.txt", "不认识的聊天记录格式"),
])
def test_a_bad_export_is_refused_with_the_reason(data, name, says):
    with pytest.raises(InputError, match=says):
        read_export(data, name)


def test_the_cli_writes_an_html_report_that_opens_in_chromium(tmp_path):
    export = tmp_path / "chat.jsonl"
    export.write_bytes(JSONL)
    out = tmp_path / "qa"
    result = CliRunner().invoke(app, ["--knowledge-dir", str(KNOWLEDGE), "qa", str(export), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "违规 1 条" in result.output and (out / "qa.json").exists()
    html = (out / "qa_report.html").read_text(encoding="utf-8")
    assert "小王" in html and "平台规则" in html
    if CHROMIUM is None:
        pytest.skip("Debian chromium is installed by `make test`")
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto((out / "qa_report.html").as_uri())
        assert page.title() == "客服回复质检报告"
        assert page.locator("#agents tr").count() == 3  # the header and two agents
        assert page.locator("#trend circle").count() == 2  # one point per day
        assert "加我微信" in page.locator("#worst").inner_text()
        browser.close()


def test_render_escapes_what_agents_wrote(checker):
    report = review(read_export(JSONL.replace("给您便宜20".encode(), "给您便宜20<script>x</script>".encode()), "a.jsonl"),
                    checker)
    assert "<script>" in report.worst[0].reply  # it is in the report, as text
    html = render_html(report)
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_long_turns_and_odd_fields_are_checked_not_crashed(checker):
    export = json.dumps({"id": "0", "turns": [
        {"role": "buyer", "text": "问" * 3000, "at": "2000-01-01T00:00:00Z", "agent": "", "sku": ""},
        {"role": "agent", "text": "0" * 4000, "at": "2000-01-01T00:01:00Z", "agent": "", "sku": ""}]}).encode()
    report = review(read_export(export, "a.jsonl"), checker)
    assert report.turns == 1 and report.agents[0].agent == "（未署名）"


def test_a_review_reads_the_stores_files_once(tmp_path):
    import shutil

    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    checker = Checker(Settings(knowledge_dir=knowledge))
    pinned = checker.pinned()
    before = pinned.catalog
    (knowledge / "store" / "catalog.yaml").write_text("shop: {name: 空}\nproducts: []\n", encoding="utf-8")
    assert pinned.catalog is before and len(before.products) > 0  # the batch keeps its one reading
    assert checker.catalog is not None and len(checker.catalog.products) == 0  # a plain checker reads the change
