"""A read-only data dir and knowledge dir (security review, finding 8): the server starts, queries and drafts
work from the existing index, every write answers 503 with a clear Chinese message, nothing is lost.

Uses a real read-only bind mount in a private mount namespace (root + unshare), with a real `copilot serve`.
"""

import os
import shlex
import shutil
import subprocess
import sys

import httpx
import pytest

from copilot.knowledge.ingest import ingest

from .conftest import copy_knowledge
from .support.server import Process, free_port


def _can_mount_read_only() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True).returncode == 0


pytestmark = [pytest.mark.enable_socket, pytest.mark.slow,
              pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and mount namespaces")]


class ReadOnlyServer(Process):
    """`copilot serve` inside a mount namespace where the given directories are read-only bind mounts."""

    name = "copilot-ro"

    def __init__(self, settings, log_dir, read_only: list) -> None:
        port = free_port()
        mounts = " && ".join(f"mount --bind {shlex.quote(str(d))} {shlex.quote(str(d))} && "
                             f"mount -o remount,bind,ro {shlex.quote(str(d))}" for d in read_only)
        serve = " ".join(shlex.quote(x) for x in [
            sys.executable, "-m", "copilot", "--knowledge-dir", str(settings.knowledge_dir), "--data-dir",
            str(settings.data_dir), "--embedder", settings.embedder, "serve", "--host", "127.0.0.1", "--port", str(port)])
        super().__init__(["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{mounts} && exec {serve}"],
                         port, log_dir, timeout=90)

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


def _digest(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_read_only_dirs_serve_queries_and_refuse_writes_with_503(tmp_path):
    s = copy_knowledge(tmp_path, embedder="hash:64")
    ingest(s)
    from copilot.app.feedback import FeedbackIn, FeedbackStore

    store = FeedbackStore(s.feedback_path)  # a server that ran before: the feedback store exists
    store.add(FeedbackIn(action="adopt", message="在吗", draft_text="亲，在的"))
    store.close()
    knowledge, data = _digest(s.knowledge_dir), _digest(s.data_dir)
    server = ReadOnlyServer(s, tmp_path / "logs", [s.data_dir, s.knowledge_dir])
    try:
        url = server.url
        assert httpx.get(url + "/readyz", timeout=10).status_code == 200
        r = httpx.post(url + "/v1/search", json={"query": "能开发票吗", "k": 2}, timeout=30)
        assert r.status_code == 200 and r.json()["hits"]
        r = httpx.post(url + "/v1/drafts", json={"message": "能开发票吗", "n": 1}, timeout=60)
        assert r.status_code == 200 and r.json()["drafts"][0]["text"]
        writes = [
            httpx.post(url + "/v1/knowledge/reindex", json={}, timeout=60),
            httpx.post(url + "/v1/knowledge", files={"file": ("新规.md", "## 新规\n以旧换新抵扣10元。".encode())},
                       data={"policy": "true"}, timeout=60),
            httpx.post(url + "/v1/feedback", json={"action": "adopt", "message": "能开发票吗", "draft_text": "亲，可以"},
                       timeout=30),
        ]
        for w in writes:
            assert w.status_code == 503, w.text
            body = w.json()["error"]
            assert body["code"] == "read_only" and "不可写" in body["message"]
    finally:
        server.stop()
    log = (tmp_path / "logs").rglob("*.log")
    assert not any("Traceback" in p.read_text() for p in log)
    assert _digest(s.knowledge_dir) == knowledge and _digest(s.data_dir) == data, "nothing stored is changed or lost"
