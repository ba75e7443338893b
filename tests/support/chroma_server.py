"""A real Chroma server (`chroma run`) on 127.0.0.1 for the scale-out tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from .server import free_port


class ChromaServer:
    def __init__(self, path: Path) -> None:
        exe = Path(sys.executable).parent / "chroma"
        exe = str(exe) if exe.exists() else shutil.which("chroma")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(path).parent / f"chroma-{self.port}.log", "w")
        self.proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(open(self.log.name).read()[-2000:])
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("chroma server did not start within 30 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
