"""The scale-out path: the index lives in a Chroma server (``chroma run``) on 127.0.0.1."""

import pytest

from copilot.knowledge.embedders import HashEmbedder
from copilot.knowledge.ingest import ingest
from copilot.retrieval.retriever import Retriever

from .support.server import ChromaServer

pytestmark = pytest.mark.enable_socket


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server")
    yield server.url
    server.stop()


def test_ingest_and_search_through_a_chroma_server(kb, chroma_server, tmp_path):
    settings, emb = kb
    settings = settings.model_copy(update={"chroma_url": chroma_server})
    report = ingest(settings, embedder=emb)
    assert report.swapped and report.chunks > 100

    # a second "worker" with its own client sees the same active generation
    worker = Retriever(settings.model_copy(update={"data_dir": tmp_path / "other"}), embedder=HashEmbedder(64))
    hits = worker.search("能开发票吗", 3).hits
    assert hits and any("发票" in h.text for h in hits)

    again = ingest(settings, embedder=emb)
    assert again.embeddings_computed == 0 and again.generation == report.generation
    assert not (settings.data_dir / "chroma").exists(), "nothing is written to the local data dir"
