"""Byte caps counted on the stream (security review, finding 6): a chunked body gets the same 413 as a declared
one, and the server stops reading it; unknown JSON fields are named (finding 9)."""

import time

import httpx
import pytest

from copilot.knowledge.ingest import ingest

from .conftest import copy_knowledge
from .support.server import Server

pytestmark = [pytest.mark.enable_socket, pytest.mark.slow]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    settings = copy_knowledge(tmp_path_factory.mktemp("limits"), embedder="hash:64")
    ingest(settings)
    server = Server(settings.knowledge_dir, settings.data_dir,
                    {"COPILOT_EMBEDDER": "hash:64", "COPILOT_RATE_LIMIT_PER_MINUTE": "10000"})
    yield server.url
    server.stop()


def chunked(total: int, piece: int = 64 * 1024):
    """A JSON body of about ``total`` bytes sent without Content-Length (Transfer-Encoding: chunked)."""
    yield b'{"query": "'
    sent = 0
    while sent < total:
        yield b"a" * piece
        sent += piece
    yield b'"}'


@pytest.mark.parametrize("path", ["/v1/drafts", "/v1/search", "/v1/checks", "/v1/feedback"])
def test_a_chunked_body_over_the_cap_is_refused_with_413(url, path):
    t = time.perf_counter()
    r = httpx.post(url + path, content=chunked(30 * 1024 * 1024), headers={"content-type": "application/json"},
                   timeout=60)
    assert r.status_code == 413, r.text
    body = r.json()["error"]
    assert body["code"] == "payload_too_large" and "256 KB" in body["message"]
    assert time.perf_counter() - t < 30  # stopped at the cap, not after parsing 30 MB
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200


def test_a_declared_body_over_the_cap_is_refused_before_it_is_read(url):
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 10485760\r\n\r\n{}")
        head = sock.recv(4096).decode("utf-8", "replace")
    assert head.startswith("HTTP/1.1 413"), head


def test_a_chunked_body_under_the_cap_works(url):
    def small():
        yield b'{"query": "'
        yield "能开发票吗".encode()
        yield b'", "k": 1}'
    r = httpx.post(url + "/v1/search", content=small(), headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.json()["hits"]


@pytest.mark.parametrize("path, body, field", [
    ("/v1/drafts", {"message": "在吗", "prodcut_sku": "DJ-2301"}, "prodcut_sku"),
    ("/v1/search", {"query": "发票", "top_k": 3}, "top_k"),
    ("/v1/checks", {"reply": "亲，好的", "sku": "DJ-2301"}, "sku"),
    ("/v1/feedback", {"action": "adopt", "message": "在吗", "draft_text": "亲", "rating": 5}, "rating"),
])
def test_unknown_fields_are_named_in_a_chinese_422(url, path, body, field):
    r = httpx.post(url + path, json=body, timeout=30)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert field in err["message"] and "不认识的字段" in err["message"]
