"""Personal data is masked before any LLM call, in drafts and in the feedback store; look-alikes are left alone."""

import sqlite3
from datetime import datetime

import pytest

from copilot.app.feedback import FeedbackIn, FeedbackStore
from copilot.drafting.llm import FakeChat
from copilot.text.privacy import find_pii, id_checksum_ok, luhn_ok, mask


def make_id(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


ID = make_id("33010619900307231")
CARD = "6222021234567890128"  # passes Luhn


def test_checksums():
    assert id_checksum_ok(ID) and not id_checksum_ok(ID[:-1] + ("0" if ID[-1] != "0" else "1"))
    assert luhn_ok(CARD) and not luhn_ok("6222021234567890127")


@pytest.mark.parametrize("text,kind,hidden", [
    ("我电话13812345678，快点发货", "mobile", "13812345678"),
    ("手机 +86 138-1234-5678", "mobile", "1234-5678"),
    (f"身份证号{ID}，帮我实名", "id_card", ID),
    (f"退款退到卡号 {CARD}", "bank_card", CARD),
    ("卡是 6222 0212 3456 7890 128 那张", "bank_card", "3456 7890"),
    ("邮箱 zhang.san@example.com 发票发这", "email", "zhang.san"),
    ("改地址：浙江省杭州市西湖区文三路100号5栋2单元301室", "address", "100号5栋"),
])
def test_personal_data_is_masked(text, kind, hidden):
    found = find_pii(text)
    assert [f.kind for f in found] == [kind]
    out = mask(text)
    assert hidden not in out and "*" in out


@pytest.mark.parametrize("text", [
    "订单号3928475610293847，今天不发我就投诉",          # order numbers stay usable
    "订单5820193746501928，赶紧查",
    "单号：2026112312345678901 帮我看看到哪了",
    "快递单号 SF1234567890123",
    "到手449元，12月1日起涨到549元",                    # prices and dates
    "我175cm 140斤，平时穿XL，脚长245mm",               # sizes
    "满300减30，2件9折，合计124.2元",
    "我去过南京路，人很多",                              # a street without a house number is not an address
    f"身份证号码格式像这样：{ID[:-1]}{'0' if ID[-1] != '0' else '1'}",  # bad checksum: not an ID
    "订单 6222021234567890128",                          # Luhn-valid, but introduced as an order number
])
def test_look_alikes_are_not_masked(text):
    assert mask(text) == text


def test_masking_happens_before_the_llm_and_in_drafts(real_index):
    from copilot.drafting.io import DraftRequest
    from copilot.drafting.pipeline import Copilot

    settings, retriever, _ = real_index
    fake = FakeChat(["亲，已记录您的电话 13812345678，马上为您修改地址。"])
    c = Copilot(settings, retriever=retriever, backend=fake)
    r = c.draft(DraftRequest(message="改地址：浙江省杭州市西湖区文三路100号5栋301室，电话13812345678",
                             history=[{"role": "buyer", "text": f"我身份证{ID}"}], n=1,
                             now=datetime.fromisoformat("2026-11-23T12:00:00+08:00")))
    sent = "".join(m["content"] for m in fake.calls[0])
    assert "13812345678" not in sent and "100号5栋" not in sent and ID not in sent
    assert "138****5678" in sent
    assert "13812345678" not in r.drafts[0].text


def test_feedback_store_never_writes_personal_data(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    store.add(FeedbackIn(action="edit", message="我电话13812345678", draft_text="亲，收到", final_text=f"亲，已核对身份证{ID}"))
    store.log_query("我的邮箱 a.b@qq.com 能开票吗", 0.1, False, None)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"13812345678" not in raw and ID.encode() not in raw and b"a.b@qq.com" not in raw
    rows = sqlite3.connect(tmp_path / "fb.sqlite").execute("SELECT message FROM feedback").fetchall()
    assert rows == [("我电话138****5678",)]


def test_what_is_masked_is_configurable():
    assert mask("13812345678 a@b.cn", ["email"]) == "13812345678 a***@b.cn"
    from copilot.errors import ConfigError
    from copilot.settings import load_settings

    assert load_settings(pii_mask=["mobile"]).pii_mask == ["mobile"]
    with pytest.raises(ConfigError):
        load_settings(pii_mask=["dna"])
