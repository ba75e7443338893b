"""Faults: a broken LLM, a broken index, a killed ingest, concurrent ingests, a full disk.

None of them ends in a 5xx or in lost knowledge.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from copilot.app.feedback import FeedbackIn, FeedbackStore
from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import OpenAIChat
from copilot.drafting.pipeline import Copilot
from copilot.errors import IndexMissingError, IndexUnavailableError
from copilot.knowledge.ingest import ingest
from copilot.knowledge.store import VectorStore
from copilot.retrieval.retriever import Retriever
from copilot.settings import Settings

from .conftest import NOW, copy_knowledge
from .support.fake_llm import FakeLLMServer


@pytest.fixture(scope="module")
def fake_llm():
    server = FakeLLMServer()
    yield server.url
    server.stop()


def chat(url: str, mode: str, timeout: float = 5.0) -> OpenAIChat:
    return OpenAIChat("m", base_url=f"{url}/{mode}/v1", api_key="k", timeout=timeout, max_retries=0, provider="vllm")


@pytest.mark.enable_socket
@pytest.mark.parametrize("mode", ["500", "garbage", "blank", "slow"])
def test_llm_failures_give_a_degraded_composer_draft(real_index, fake_llm, mode):
    settings, retriever, _ = real_index
    c = Copilot(settings, retriever=retriever, backend=chat(fake_llm, mode, timeout=1.0))
    r = c.draft(DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW))
    d = r.drafts[0]
    assert d.backend == "offline-composer" and d.text and d.passed
    assert d.notice and "离线" in d.notice


@pytest.mark.enable_socket
def test_an_empty_llm_stream_falls_back_too(real_index, fake_llm):
    settings, retriever, _ = real_index
    c = Copilot(settings, retriever=retriever, backend=chat(fake_llm, "emptystream"))
    events = list(c.stream(DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=1, now=NOW)))
    draft = next(e["data"] for e in events if e["event"] == "draft")
    assert draft["backend"] == "offline-composer" and "离线" in draft["notice"] and draft["text"]


def _fresh(tmp_path: Path) -> Settings:
    return copy_knowledge(tmp_path, embedder="hash:64")


def _tree_digest(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def cli(s: Settings, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copilot", "--knowledge-dir", str(s.knowledge_dir), "--data-dir",
                           str(s.data_dir), "--embedder", s.embedder, *args], capture_output=True, text=True, timeout=120, **kw)


def test_missing_index_dir_is_a_clear_error(tmp_path):
    s = _fresh(tmp_path)
    ingest(s)
    shutil.rmtree(s.chroma_dir)
    out = cli(s, "search", "发票")  # a new process, as after a restart
    assert out.returncode == 2 and "copilot ingest" in out.stderr and "Traceback" not in out.stderr
    assert IndexMissingError  # the error type the API maps to 409


def test_corrupt_index_is_a_clear_error_and_rebuild_recovers(tmp_path):
    s = _fresh(tmp_path)
    ingest(s)
    before = _tree_digest(s.knowledge_dir)
    (s.chroma_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexUnavailableError) as err:
        Retriever(s).search("发票", 1)
    assert "--rebuild" in err.value.hint and err.value.status < 500
    report = ingest(s, rebuild=True)
    assert report.swapped and any("无法打开" in n for n in report.notes)
    assert list(s.data_dir.glob("chroma.broken-*")), "the broken index is kept aside, not deleted"
    assert Retriever(s).search("发票", 1).hits
    assert _tree_digest(s.knowledge_dir) == before, "source knowledge is never touched"


def _can_mount_read_only() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and mount namespaces for a real read-only mount")
def test_read_only_data_dir_refuses_writes_clearly_and_keeps_knowledge(tmp_path):
    s = _fresh(tmp_path)
    ingest(s)
    before = _tree_digest(s.knowledge_dir)
    base = " ".join([sys.executable, "-m", "copilot", "--knowledge-dir", str(s.knowledge_dir), "--data-dir",
                     str(s.data_dir), "--embedder", s.embedder])
    (s.knowledge_dir / "docs" / "new.md").write_text("# 新文章\n以旧换新抵扣10元。", encoding="utf-8")
    script = (f"mount --bind {s.data_dir} {s.data_dir} && mount -o remount,bind,ro {s.data_dir} && "
              f"{base} ingest; echo INGEST_RC=$?; {base} search 发票 --json >/dev/null; echo SEARCH_RC=$?")
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=180)
    assert "INGEST_RC=2" in out.stdout, out.stdout + out.stderr
    assert "不可写" in out.stderr or "无法打开" in out.stderr
    assert "Traceback" not in out.stderr
    assert "SEARCH_RC=0" in out.stdout or "SEARCH_RC=2" in out.stdout
    (s.knowledge_dir / "docs" / "new.md").unlink()
    assert _tree_digest(s.knowledge_dir) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions; the mount variant above covers root")
def test_unwritable_data_dir_refuses_writes_clearly_and_keeps_knowledge(tmp_path):
    s = _fresh(tmp_path)
    ingest(s)
    before = _tree_digest(s.knowledge_dir)
    (s.knowledge_dir / "docs" / "new.md").write_text("# 新文章\n以旧换新抵扣10元。", encoding="utf-8")
    modes = {p: p.stat().st_mode for p in [s.data_dir, *s.data_dir.rglob("*")]}
    for p in modes:
        p.chmod(modes[p] & ~0o222)
    try:
        out = cli(s, "ingest")
        assert out.returncode == 2, out.stdout + out.stderr
        assert ("不可写" in out.stderr or "无法打开" in out.stderr) and "Traceback" not in out.stderr
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    (s.knowledge_dir / "docs" / "new.md").unlink()
    assert _tree_digest(s.knowledge_dir) == before
    assert Retriever(s).search("发票", 1).hits, "the index still works once the directory is writable again"


def test_killed_ingest_leaves_the_previous_index_intact(tmp_path):
    s = _fresh(tmp_path)
    first = ingest(s)
    # enough new text that the rebuild takes a few seconds of embedding
    bulk = s.knowledge_dir / "docs" / "bulk"
    bulk.mkdir()
    for i in range(60):
        (bulk / f"note{i:02d}.md").write_text(
            f"# 售后笔记{i}\n" + "".join(f"第{i}-{j}条：买家问到退换与发票时，先共情再说明政策。" for j in range(120)),
            encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot", "--knowledge-dir", str(s.knowledge_dir), "--data-dir", str(s.data_dir),
         "ingest", "--rebuild"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    time.sleep(4)
    assert proc.poll() is None, "ingest finished before it could be killed; make the bulk bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # read what is on disk, as a restarted process would
    store = VectorStore(s)
    assert store.active_name() == first.generation
    assert Retriever(s, store=store).search("发票", 1).hits
    # the next ingest cleans up the half-built generation and completes
    shutil.rmtree(bulk)
    again = ingest(s, rebuild=True)
    assert again.swapped
    names = [getattr(c, "name", c) for c in VectorStore(s).client.list_collections()]
    assert len([n for n in names if n.startswith("kb-")]) <= 2


def test_ingest_runs_concurrently_with_queries(tmp_path):
    from copilot.knowledge.embedders import HashEmbedder

    s = _fresh(tmp_path)
    emb = HashEmbedder(64)
    ingest(s, embedder=emb)
    retriever = Retriever(s, embedder=emb)
    errors, seen = [], set()
    stop = time.time() + 8

    def query_loop():
        while time.time() < stop:
            try:
                r = retriever.search("以旧换新抵扣", 3)
                seen.update(h.ref for h in r.hits)
            except Exception as exc:  # any failure counts
                errors.append(repr(exc))

    threads = [threading.Thread(target=query_loop) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(3):
        (s.knowledge_dir / "store" / f"extra{i}.md").write_text(f"# 政策\n## 以旧换新{i}\n旧衣服寄回抵扣{i + 10}元。", encoding="utf-8")
        ingest(s, embedder=emb)
        retriever.reload()
        time.sleep(0.5)
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert "policy/以旧换新2" in seen


def test_full_disk_during_feedback_write_loses_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    first, saved = store.add_or_spool(FeedbackIn(action="adopt", message="能开发票吗", draft_text="亲，可以的"))
    assert saved
    conn = store._db()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now full
    big = "很长的修改" * 790
    fid, saved = store.add_or_spool(FeedbackIn(action="edit", message="能便宜点吗", draft_text="亲，不行", final_text=big))
    assert fid is None and not saved and len(store.spool) == 1
    assert [r["id"] for r in store.rows()] == [first], "existing feedback is intact"
    conn.execute("PRAGMA max_page_count = 1073741823")  # space again
    store.add_or_spool(FeedbackIn(action="adopt", message="谢谢", draft_text="亲，不客气"))
    assert [r["action"] for r in store.rows()] == ["adopt", "edit", "adopt"] and not store.spool
    assert sqlite3.connect(tmp_path / "fb.sqlite").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.enable_socket
@pytest.mark.slow
def test_a_request_past_its_deadline_is_a_clear_503_and_the_server_keeps_serving(tmp_path, fake_llm):
    import httpx

    from .support.server import Server

    s = _fresh(tmp_path)
    ingest(s)
    env = {"COPILOT_EMBEDDER": s.embedder, "COPILOT_LLM": "vllm:m", "COPILOT_OPENAI_BASE_URL": f"{fake_llm}/slow/v1",
           "COPILOT_OPENAI_API_KEY": "k", "COPILOT_LLM_TIMEOUT_S": "10", "COPILOT_LLM_MAX_RETRIES": "0",
           "COPILOT_REQUEST_TIMEOUT_S": "1"}
    server = Server(s.knowledge_dir, s.data_dir, env)
    try:
        started = time.monotonic()
        r = httpx.post(server.url + "/v1/drafts", json={"message": "羽绒服能机洗吗", "n": 1}, timeout=30)
        assert time.monotonic() - started < 2.5, "the deadline, not the slow LLM, decides"
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        err = r.json()["error"]
        assert err["code"] == "timeout" and "超时" in err["message"] and "request_timeout_s" in err["hint"]
        ok = httpx.post(server.url + "/v1/checks", json={"reply": "亲，给您添麻烦了，我马上帮您查。"}, timeout=30)
        assert ok.status_code == 200 and ok.json()["passed"]
    finally:
        server.stop()
