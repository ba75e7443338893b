"""Hybrid retrieval over the real knowledge base with the default offline embedder."""

import pytest

from copilot.errors import InputError
from copilot.retrieval.lc_retriever import as_langchain


def test_return_question_puts_the_return_policy_first(real_index):
    _, retriever, _ = real_index
    result = retriever.search("衣服买大了能换吗", 5)
    top = result.hits[0]
    assert top.ref == "policy/七天无理由退换货"
    assert top.source == "store/policies.md" and top.kind == "policy"


def test_hits_carry_score_source_and_section(real_index):
    _, retriever, _ = real_index
    hit = retriever.search("手表能戴着游泳吗", 3).hits[0]
    assert hit.sku == "SW-5501" and hit.source.startswith("store/")
    assert 0 < hit.score <= 1 and hit.dense > 0 and hit.lexical > 0


def test_sku_and_kind_filters(real_index):
    _, retriever, _ = real_index
    hits = retriever.search("能机洗吗", 5, sku="DJ-2301").hits
    assert hits and all(h.sku == "DJ-2301" for h in hits)
    hits = retriever.search("退货运费谁出", 5, kind=["policy"]).hits
    assert hits and all(h.kind == "policy" for h in hits)
    assert retriever.search("发票", 3, kind="doc", sku="NO-SUCH").hits == []


def test_out_of_knowledge_questions_are_marked_ungrounded(real_index):
    _, retriever, _ = real_index
    assert not retriever.search("明天北京会下雨吗", 3).grounded


def test_recent_turns_can_steer_the_query(real_index):
    _, retriever, _ = real_index
    plain = retriever.search("那这个多少钱", 5)
    steered = retriever.search("那这个多少钱", 5, context=["我想问问那款智能手表"])
    assert any(h.sku == "SW-5501" for h in steered.hits)
    assert steered.hits != plain.hits


@pytest.mark.parametrize("bad", ["", "   ", "字" * 2001, None, 42])
def test_bad_queries_are_rejected_clearly(real_index, bad):
    _, retriever, _ = real_index
    with pytest.raises(InputError) as err:
        retriever.search(bad, 3)
    assert err.value.status == 422 and err.value.message


def test_unknown_kind_is_rejected(real_index):
    _, retriever, _ = real_index
    with pytest.raises(InputError):
        retriever.search("发票", 3, kind="blog")


def test_langchain_retriever(real_index):
    _, retriever, _ = real_index
    docs = as_langchain(retriever, k=2).invoke("支持开发票吗")
    assert len(docs) == 2
    assert {"score", "source", "section", "kind", "ref"} <= set(docs[0].metadata)
    assert "发票" in docs[0].page_content
