"""Cleaning scraped seed pages: pinyin, Traditional characters, boilerplate, punctuation."""

import re

import pytest

from copilot.knowledge.loaders import doc_chunks
from copilot.text.chunking import ChunkerConfig
from copilot.text.cleaning import (
    clean_text,
    normalize_punctuation,
    simplify_buyer_text,
    strip_boilerplate,
    strip_pinyin,
    to_simplified,
)

from .conftest import KNOWLEDGE

SEEDS = sorted((KNOWLEDGE / "docs").glob("*.txt"))
PINYIN_ANNOTATION = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}[)）]")

# Lines of site furniture found in the seeds; none may survive cleaning.
BOILERPLATE = [
    "版权说明", "版權說明", "温馨提示", "溫馨提示", "最新文档", "最新文檔", "相关文档", "文档评论", "提交评论",
    "本文标题", "链接地址", "免责声明", "本站", "原创力文档", "VIP", "IP属地", "统一社会信用代码", "认证主体",
    "点击这里", "欢迎访问", "www.", "http", "侵权", "咨询方案", "延展阅读", "文章导航", "0/150", "举报电话",
    "如图2-5所示", "汇报人", "CATALOGUE", "查看更多",
]


def test_pinyin_annotations_are_removed_but_real_parentheses_stay():
    assert strip_pinyin("當(dāng)今競(jìng)爭(zhēng)") == "當今競爭"
    assert strip_pinyin("的(de)話") == "的話"
    assert strip_pinyin("问题?jiǎn)解决") == "问题解决"  # mangled remnant "?jiǎn)"
    assert strip_pinyin("支持(API)接口") == "支持(API)接口"
    assert strip_pinyin("见(www.x.com)") == "见(www.x.com)"


def test_traditional_is_converted_and_simplified_is_left_alone():
    assert to_simplified("網店客服話術與用戶心理分析") == "网店客服话术与用户心理分析"
    text = "七天无理由退换货，签收后七天内可申请"
    assert to_simplified(text) == text


def test_punctuation_is_normalised_for_chinese_text():
    assert normalize_punctuation("你好,请问?") == "你好，请问？"
    assert normalize_punctuation("ＳＫＵ：ＤＪ－２３０１") == "SKU：DJ-2301"
    assert normalize_punctuation("价格1.5元,M码") == "价格1.5元，M码"
    assert normalize_punctuation("① 安全") == "① 安全"


def test_boilerplate_blocks_are_dropped():
    page = "正文第一段。\n温馨提示\n- 1. 本站所有资源如无特殊说明\n- 2. 下载文件中如有侵权\n最新文档\n- 某某考试题库附答案\n评论\n0/150\n提交评论"
    assert strip_boilerplate(page) == "正文第一段。"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_seed_chunks_are_clean(seed):
    chunks = doc_chunks(seed.read_text(encoding="utf-8"), f"docs/{seed.name}", ChunkerConfig())
    assert chunks, "every seed yields content"
    for c in chunks:
        for marker in BOILERPLATE:
            assert marker not in c.text, f"{marker!r} left in {c.ref}: {c.text[:80]}"
        assert not PINYIN_ANNOTATION.search(c.text), c.text


def test_traditional_seed_with_pinyin_becomes_simplified():
    seed = next(p for p in SEEDS if p.name.startswith("002"))
    raw = seed.read_text(encoding="utf-8")
    assert "當(dāng)" in raw and "話術" in raw  # the input really is Traditional with pinyin
    text = clean_text(raw)
    assert "话术" in text and "話術" not in text
    assert "当今竞争激烈" in text
    for traditional in "當話術與戶這們說應對問題實際體驗":
        assert traditional not in text
    assert not PINYIN_ANNOTATION.search(text)
    assert "（一）咨询阶段：信息获取与信任建立" in text.split("\n")  # flattened headings restored


def test_slide_deck_repeated_titles_are_kept_once():
    seed = next(p for p in SEEDS if p.name.startswith("004"))
    text = clean_text(seed.read_text(encoding="utf-8"))
    assert text.count("网店客服的基本概况") == 1
    assert "暴躁型特点：急性子、遇到不满就会发脾气" in text


@pytest.mark.parametrize("text, simplified", [
    ("件羽絨收到喇😍", "件羽绒收到了😍"),  # one stray Traditional character is read in Simplified too
    ("訂咗四日都未寄", "订了四日都还没寄"),
    ("我哋已經落咗單", "我们已经下了单"),
    ("喇叭坏了", "喇叭坏了"),  # a Mandarin word with 喇 stays as it is
])
def test_mixed_script_and_more_cantonese_are_read_in_mandarin(text, simplified):
    assert simplify_buyer_text(text) == simplified
