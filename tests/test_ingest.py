"""Incremental, safe ingestion into a persistent Chroma store."""

import pytest

from copilot.errors import EmbedderMismatchError, IndexBusyError, IndexMissingError
from copilot.knowledge.embedders import HashEmbedder
from copilot.knowledge.ingest import ingest
from copilot.knowledge.store import VectorStore
from copilot.retrieval.retriever import Retriever


def test_first_ingest_indexes_everything_and_warm_reingest_embeds_nothing(kb):
    settings, emb = kb
    first = ingest(settings, embedder=emb)
    assert first.swapped and first.chunks > 100 and first.embeddings_computed == first.chunks
    calls = emb.calls

    again = ingest(settings, embedder=emb)
    assert emb.calls == calls, "a warm re-ingest with no changes makes zero embedding calls"
    assert again.embeddings_computed == 0 and not again.swapped
    assert again.generation == first.generation


def test_index_persists_across_processes(kb):
    settings, emb = kb
    ingest(settings, embedder=emb)
    fresh = Retriever(settings, store=VectorStore(settings), embedder=HashEmbedder(64))
    assert fresh.search("发票", 3).hits


def test_changed_file_reembeds_only_its_new_chunks(kb):
    settings, emb = kb
    ingest(settings, embedder=emb)
    policies = settings.knowledge_dir / "store" / "policies.md"
    policies.write_text(policies.read_text(encoding="utf-8") + "\n## 以旧换新\n旧衣服可抵扣10元。\n", encoding="utf-8")
    before = emb.calls
    report = ingest(settings, embedder=emb)
    assert report.files_changed == ["store/policies.md"]
    assert report.chunks_added == 1 and report.chunks_removed == 0
    assert emb.calls - before == 1
    hits = Retriever(settings, embedder=emb).search("以旧换新", 1, kind="policy").hits
    assert hits[0].ref == "policy/以旧换新"


def test_removed_file_deletes_exactly_its_chunks(kb):
    settings, emb = kb
    first = ingest(settings, embedder=emb)
    (settings.knowledge_dir / "store" / "faqs.csv").unlink()
    report = ingest(settings, embedder=emb)
    assert report.files_removed == ["store/faqs.csv"]
    assert report.embeddings_computed == 0
    assert report.chunks == first.chunks - report.chunks_removed
    gen = VectorStore(settings).require_active()
    sources = {m["source"] for _, _, metas, _ in gen.iter_records() for m in metas}
    assert "store/faqs.csv" not in sources and "store/policies.md" in sources


def test_bad_file_is_reported_while_the_rest_ingests(kb):
    settings, emb = kb
    (settings.knowledge_dir / "store" / "extra.csv").write_text("标题,内容\na,b\n", encoding="utf-8")
    (settings.knowledge_dir / "docs" / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    report = ingest(settings, embedder=emb)
    assert report.swapped and report.chunks > 100
    problems = {p.path: p.reason for p in report.problems}
    assert set(problems) == {"store/extra.csv", "docs/blob.txt"}
    assert "问题" in problems["store/extra.csv"]


def test_a_file_that_breaks_later_keeps_its_last_good_version(kb):
    settings, emb = kb
    ingest(settings, embedder=emb)
    catalog = settings.knowledge_dir / "store" / "catalog.yaml"
    catalog.write_text("products: [ {sku: ", encoding="utf-8")
    report = ingest(settings, embedder=emb)
    assert [p.path for p in report.problems] == ["store/catalog.yaml"]
    assert report.problems[0].kept_previous
    hits = Retriever(settings, embedder=emb).search("羽绒服充绒量", 3, sku="DJ-2301").hits
    assert hits and all(h.sku == "DJ-2301" for h in hits)


def test_failed_ingest_leaves_the_previous_index_active(kb):
    settings, emb = kb
    first = ingest(settings, embedder=emb)

    class Exploding(HashEmbedder):
        def embed_batch(self, texts):
            raise KeyboardInterrupt("killed mid-ingest")

    (settings.knowledge_dir / "docs" / "new.md").write_text("# 新文章\n退货要在七天内申请。", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        ingest(settings, embedder=Exploding(64))
    store = VectorStore(settings)
    assert store.active_name() == first.generation
    assert Retriever(settings, embedder=emb).search("七天无理由", 2).hits


def test_embedder_mismatch_is_a_clear_error(kb):
    settings, emb = kb
    ingest(settings, embedder=emb)
    with pytest.raises(EmbedderMismatchError) as err:
        Retriever(settings, embedder=HashEmbedder(32)).search("发票", 1)
    assert "ingest --rebuild" in err.value.hint


def test_searching_without_an_index_says_how_to_build_one(kb):
    settings, emb = kb
    with pytest.raises(IndexMissingError) as err:
        Retriever(settings, embedder=emb).search("发票", 1)
    assert "copilot ingest" in err.value.hint


def test_only_one_writer_at_a_time(kb):
    settings, emb = kb
    store = VectorStore(settings)
    with store.write_lock():
        with pytest.raises(IndexBusyError):
            ingest(settings, embedder=emb, store=VectorStore(settings))
