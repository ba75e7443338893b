"""Chinese-aware chunking: structure first, sentence ends second, never mid-sentence."""

from copilot.text.chunking import (
    ChunkerConfig,
    chunk_text,
    heading_level,
    split_long,
    split_sentences,
)


def test_heading_levels():
    assert heading_level("一、电商消费者有什么类型") == 1
    assert heading_level("（二）线上客户类型分析") == 2
    assert heading_level("1.专业热情接待") == 3
    assert heading_level("2、逛街式类型") == 3
    assert heading_level("★友善型客户") == 4
    assert heading_level("## 运费险") == 2
    assert heading_level("价格1.5元的商品") == 0
    assert heading_level("这类消费者目标明确。") == 0


def test_sections_carry_their_heading_path():
    text = "一、沟通技巧\n（一）售前\n1.热情接待\n客服应以专业、热情的态度迎接每一位咨询者。" + "迅速响应买家。" * 20
    chunks = chunk_text(text, ChunkerConfig(target=120, overlap=20))
    paths = {p for p, _ in chunks}
    assert ("一、沟通技巧", "（一）售前", "1.热情接待") in paths


def test_long_sections_split_at_sentence_ends_with_overlap():
    sentences = [f"这是第{i}句话，讲的是售后处理的第{i}个要点。" for i in range(30)]
    pieces = split_long("".join(sentences), ChunkerConfig(target=100, overlap=40))
    assert len(pieces) > 3
    for piece in pieces:
        assert piece.endswith("。"), "never cut mid-sentence"
        assert len(piece) <= 100 + 40
    # each piece after the first starts with the tail of the previous one
    for prev, nxt in zip(pieces, pieces[1:]):
        assert nxt.split("。")[0] + "。" in prev


def test_tiny_sibling_sections_are_packed_and_big_ones_kept_apart():
    text = "三、沟通技巧\n1.热情接待\n迅速响应。\n2.引导想象\n描述使用场景。\n4.制造紧迫感\n" + "利用真实的限时优惠。" * 20
    chunks = chunk_text(text, ChunkerConfig(target=120, overlap=0, min_size=40))
    assert any("热情接待" in t and "引导想象" in t for _, t in chunks)
    assert not any("热情接待" in t and "制造紧迫感" in t for _, t in chunks)


def test_policy_sections_are_never_packed():
    text = "# 政策\n## 发票\n支持电子发票。\n## 运费险\n服饰赠送运费险。"
    chunks = chunk_text(text, ChunkerConfig(), pack=False)
    bodies = [t for _, t in chunks]
    assert "发票\n支持电子发票。" in bodies and "运费险\n服饰赠送运费险。" in bodies


def test_sentence_splitter_keeps_closing_quotes():
    assert split_sentences("他说：“好的。”然后走了。") == ["他说：“好的。”", "然后走了。"]
