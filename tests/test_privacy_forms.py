"""Personal data in every form a buyer types it never reaches the disk, the gap report, the export or the LLM.

The corpus (tests/data/pii_corpus.yaml, written separately from the masker) holds personal data as buyers
really type it — full-width digits, spaced 身份证 groups, e-mails glued to Chinese text, full-width e-mails,
WeChat IDs, QQ numbers, landlines, … — and look-alikes (order and tracking numbers, prices, dates, sizes,
SKUs, quantities) that must come through untouched.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest
import yaml

from copilot.app.feedback import FeedbackIn, FeedbackStore
from copilot.text.privacy import KINDS, find_pii, mask

from .conftest import NOW, copy_knowledge

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "pii_corpus.yaml").read_text(encoding="utf-8"))
PERSONAL: list[dict] = CORPUS["personal"]
LOOKALIKES: list[dict] = CORPUS["lookalikes"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what must never be stored (\n and \t may)


def leak_forms(secret: str) -> set[str]:
    """The forms a secret can leak in: as typed, NFKC-normalised (full-width → ASCII), without separators."""
    nfkc = unicodedata.normalize("NFKC", secret)
    return {secret, nfkc, re.sub(r"[\s\-()]", "", nfkc)}


def leaks(haystack: str) -> list[str]:
    return [form for e in PERSONAL for form in leak_forms(e["secret"]) if form in haystack]


def test_the_corpus_is_broad_enough():
    assert len(PERSONAL) >= 30 and len({e["kind"] for e in PERSONAL}) >= 10
    assert len(LOOKALIKES) >= 15
    assert {e["kind"] for e in PERSONAL} <= set(KINDS), "every kind in the corpus can be switched on and off"


@pytest.mark.parametrize("entry", PERSONAL, ids=lambda e: f"{e['kind']}:{e['secret']}")
def test_every_form_is_masked(entry):
    text, secret = entry["text"], entry["secret"]
    out = mask(text)
    assert not [f for f in leak_forms(secret) if f in out], out
    assert "*" in out
    assert entry["kind"] in {f.kind for f in find_pii(text)}
    assert secret not in mask(text, [entry["kind"]]), "each kind masks on its own"
    assert mask(out) == out, "masking is idempotent: stored text masked again on read is unchanged"


@pytest.mark.parametrize("entry", LOOKALIKES, ids=lambda e: f"{e['kind']}:{e['keep']}")
def test_look_alikes_are_untouched(entry):
    assert mask(entry["text"]) == entry["text"]


@pytest.mark.parametrize("text,expected", [
    ("手机１３９１２３４５６７８，送货前打", "手机139****5678，送货前打"),                 # full-width digits
    ("身份证：330106 19900307 1236，帮我登记", "身份证：330***********1236，帮我登记"),  # spaced 6-8-4 groups
    ("清关用440304-19921215-3311", "清关用440***********3311"),
    ("发票发到zhang.san@example.com谢谢", "发票发到z***@example.com谢谢"),             # glued to Chinese text
    ("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ，收到吗", "邮箱z***@example.com，收到吗"),  # full-width e-mail
    ("加我微信号wxid_ab12cd34ef吧", "加我微信号wxid_****吧"),
    ("我VX是Tianxia88，旺旺掉线", "我VX是Ti****，旺旺掉线"),
    ("我QQ 2837461950，晚上在", "我QQ 28****50，晚上在"),
    ("座机0571-88123456，前台签收", "座机0571-****3456，前台签收"),
    ("打我家座机(010)12345678", "打我家座机010-****5678"),
    ("电话138\x0012345678", "电话138****5678"),                                         # a NUL does not hide it
])
def test_masked_forms_keep_a_hint(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("138\u200b1234\u200b5678", "138****5678"),                      # zero-width spaces inside a number
    ("座机：0571—88123456", "座机：0571-****3456"),                  # an em dash
    ("VX13812345678", "VX138****5678"),                              # a phone number used as the WeChat id
    ("文三路100号13812345678", "文三路***138****5678"),              # a phone glued to the address
])
def test_more_forms(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "签收后48小时内会原路退回，我这边帮您盯着",  # a road keyword in ordinary words is no address
    "我回乡下30号发货",                         # "30号" is a day here
    "北京市朝阳区30号能到吗",
    "韵达 4312345678903 到哪了",                 # a Luhn-valid parcel number after a courier name
    "用微信iPhone版付款",                        # a bare word after 微信 is not an id
    "型号VX-2301还有吗",
    "密码锁行李箱 24寸，验证码是多少？",
    "订单号：0571888812345678",
    "2026年11月23日 08:00-12:00，12.12 0点开抢",
])
def test_more_look_alikes(text):
    assert mask(text) == text


def test_new_kinds_are_configurable_from_one_list():
    from copilot.errors import ConfigError
    from copilot.settings import Settings, load_settings

    assert Settings.model_fields["pii_mask"].default_factory() == list(KINDS)
    assert load_settings(pii_mask=["wechat", "qq", "landline"]).pii_mask == ["wechat", "qq", "landline"]
    assert load_settings(pii_mask="qq,landline").pii_mask == ["qq", "landline"]
    with pytest.raises(ConfigError):
        load_settings(pii_mask=["wechat", "dna"])
    text = "QQ 2837461950，座机0571-88123456，微信lin_xiao2023"
    assert mask(text, ["qq"]) == "QQ 28****50，座机0571-88123456，微信lin_xiao2023"
    assert mask(text, ["mobile", "email"]) == text


def _stored_text(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        out = []
        for table in ("feedback", "queries"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                out += [v for v in row if isinstance(v, str)]
        return out
    finally:
        conn.close()


def test_control_characters_are_never_stored(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    dirty = "亲\x00，我\x1b[31m电话\r138\x0712345678\x7f，\u0085收到\t没\n"
    store.add(FeedbackIn(action="edit", message=dirty, draft_text=dirty, final_text=dirty + "好", reason=dirty,
                         strategy="s\x00", sku="DJ-2301\x00", persona_detected="p\x01", stage="in\x02"))
    store.log_query(dirty, 0.1, False, "ref\x00")
    values = _stored_text(tmp_path / "fb.sqlite")
    assert values and not [v for v in values if CONTROL.search(v)]
    assert not [v for v in values if "12345678" in v]
    assert any("\t没\n" in v for v in values), "tabs and newlines are kept"
    store.close()


def test_rows_written_by_an_older_version_are_masked_when_shown(tmp_path):
    db = tmp_path / "fb.sqlite"
    store = FeedbackStore(db)
    store.log_query("建库", 0.9, True, None)  # creates the schema
    conn = sqlite3.connect(db)  # rows as an older, non-masking version wrote them
    for e in PERSONAL:
        raw = e["text"] + "\x00"
        conn.execute("INSERT INTO feedback (ts, action, message, draft_text, final_text, reason)"
                     " VALUES (0, 'edit', ?, ?, ?, ?)", (raw, raw, raw, raw))
        conn.execute("INSERT INTO queries (ts, message, normalized, top_score, grounded) VALUES (0, ?, ?, 0.1, 0)",
                     (raw, e["text"]))
    conn.commit()
    conn.close()
    shown = repr(store.gaps(threshold=0.5, limit=500)) + repr(store.export_cases())
    assert len(store.gaps(threshold=0.5, limit=500)) == len(PERSONAL)
    assert leaks(shown) == []
    assert "\\x00" not in shown
    store.close()


def test_no_personal_data_reaches_the_store_the_reports_or_the_llm(tmp_path):
    """A real workspace: drafts (message and history, plain and streamed), then feedback; scan everything."""
    from copilot.app.service import Workspace
    from copilot.drafting.io import DraftRequest
    from copilot.drafting.llm import FakeChat
    from copilot.drafting.pipeline import Copilot
    from copilot.knowledge.ingest import ingest
    from copilot.retrieval.retriever import Retriever

    settings = copy_knowledge(tmp_path, embedder="hash:64", no_answer_threshold=0.99)  # every query is a "gap"
    ingest(settings)
    fake = FakeChat(["亲，收到您的信息啦，已为您备注，马上处理～"])
    ws = Workspace(settings, Copilot(settings, retriever=Retriever(settings), backend=fake))
    texts = [e["text"] for e in PERSONAL]
    drafts: list[str] = []
    for i, text in enumerate(texts + [e["text"] for e in LOOKALIKES]):
        history = [{"role": "buyer", "text": texts[(i + 1) % len(texts)]}, {"role": "agent", "text": "亲，请讲"}]
        req = DraftRequest(message=text, history=history, n=1, now=NOW)
        if i % 4 == 3:
            events = list(ws.stream(req))
            drafts += [e["data"]["text"] for e in events if e["event"] in ("draft", "delta")]
        else:
            drafts += [d.text for d in ws.draft(req).drafts]
        ws.add_feedback(FeedbackIn(action="edit" if i % 2 else "reject", message=text, draft_text=drafts[-1],
                                   final_text=f"亲，已核对：{text}", reason=f"买家原话\x00{text}",
                                   sku="DJ-2301"))

    prompts = ["\n".join(m["content"] for m in call) for call in fake.calls]
    assert len(prompts) >= len(texts), "the LLM writer was really used"
    db = settings.feedback_path
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    stored = _stored_text(db)
    gaps, export = ws.gaps(limit=200), ws.export_feedback()
    assert len(gaps) >= len(texts) and len(export) >= len(texts)

    places = {"prompts": "\n".join(prompts), "drafts": "\n".join(drafts), "stored rows": "\n".join(stored),
              "gaps": repr(gaps), "export": repr(export)}
    found = {where: leaks(text) for where, text in places.items()}
    found["feedback.sqlite bytes"] = [f for e in PERSONAL for f in leak_forms(e["secret"]) if f.encode() in raw]
    assert {k: v for k, v in found.items() if v} == {}
    assert not [v for v in stored if CONTROL.search(v)]

    kept = [e["keep"] for e in LOOKALIKES]
    assert len(kept) >= 15
    for where in ("prompts", "stored rows", "gaps", "export"):
        missing = [k for k in kept if k not in places[where]]
        assert missing == [], f"look-alikes changed in {where}"
    stored_messages = {r["message"] for r in export}
    assert {e["text"] for e in LOOKALIKES} <= stored_messages, "look-alike messages are stored exactly as sent"
