"""Real server processes on 127.0.0.1 for tests and benchmarks: `copilot serve`, `chroma run`, llama.cpp.

Each is started with its output in a log file and waited for with a deadline; a process that exits
early raises with the end of its log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with a log file; ``ready()`` says when it can be used."""

    name = "server"

    def __init__(self, cmd: list[str], port: int, log_dir, *, env: dict | None = None, cwd=None,
                 timeout: float = 90) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        self.log = open(Path(log_dir) / f"{self.name}-{self.port}.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd,
                                     env={**os.environ, **(env or {})})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(f"{self.name} exited:\n" + Path(self.log.name).read_text()[-3000:])
            if self.ready():
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout:g} s")

    def ready(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Server(Process):
    """`copilot serve`; without directories it serves the repository's own knowledge and data."""

    name = "copilot"

    def __init__(self, knowledge_dir=None, data_dir=None, env: dict | None = None, *, args: tuple[str, ...] = (),
                 ready_path: str = "/healthz", timeout: float = 90, cwd=None) -> None:
        self.ready_path = ready_path
        port = free_port()
        dirs = ["--knowledge-dir", str(knowledge_dir), "--data-dir", str(data_dir)] if knowledge_dir else []
        super().__init__([sys.executable, "-m", "copilot", *dirs, "serve", "--host", "127.0.0.1",
                          "--port", str(port), *args], port, data_dir or tempfile.mkdtemp(prefix="copilot-serve-"),
                         env=env, cwd=cwd, timeout=timeout)

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + self.ready_path, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class ChromaServer(Process):
    name = "chroma"

    def __init__(self, path: Path) -> None:
        exe = Path(sys.executable).parent / "chroma"
        exe = str(exe) if exe.exists() else shutil.which("chroma")
        port = free_port()
        super().__init__([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)], port,
                         Path(path).parent, timeout=30)

    def ready(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False


class LLMServer(Process):
    """llama.cpp serving the tiny SmolLM2 GGUF (see llm_server.py); ``api`` is its OpenAI base URL."""

    name = "llm"

    def __init__(self, log_dir, seconds: float = 900) -> None:
        port = free_port()
        script = Path(__file__).with_name("llm_server.py")
        super().__init__([sys.executable, str(script), str(port), str(seconds)], port, log_dir, timeout=60)
        self.api = self.url + "/v1"

    def ready(self) -> bool:
        return "READY" in Path(self.log.name).read_text(errors="replace")
