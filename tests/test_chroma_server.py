"""The scale-out path: the index lives in a Chroma server (``chroma run``) on 127.0.0.1."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot.embedders import HashEmbedder
from copilot.ingest import ingest
from copilot.retrieval import Retriever

from .conftest import make_settings

pytestmark = pytest.mark.enable_socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        exe = shutil.which("chroma")
    port = _free_port()
    log = open(tmp_path / "chroma.log", "w")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start within 30 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
