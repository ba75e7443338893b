"""A misbehaving OpenAI-compatible server on 127.0.0.1 for fault tests.

The first path segment picks the failure: /500/v1 answers 500, /garbage/v1 answers
200 with a non-JSON body, /blank/v1 answers an empty message, /emptystream/v1
streams no content, /slow/v1 sleeps past the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        mode = self.path.strip("/").split("/")[0]
        if mode == "500":
            self._send(500, b'{"error": {"message": "boom"}}')
        elif mode == "garbage":
            self._send(200, b"<html>not json</html>", "text/html")
        elif mode == "blank":
            payload = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "stop"}]}
            self._send(200, json.dumps(payload).encode())
        elif mode == "emptystream" and body.get("stream"):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"data: [DONE]\n\n")
        elif mode == "slow":
            time.sleep(3)
            self._send(500, b"{}")
        else:
            self._send(404, b"{}")

    def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeLLMServer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
