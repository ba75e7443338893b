"""With API keys set, the Gradio workspace at /ui and the docs need the key too.

A real server on 127.0.0.1 (keys set, docs behind the key by default) is probed with raw HTTP (httpx), with
``gradio_client`` and, where Debian's chromium exists, with a real browser going through the login page.
``docs_public`` is checked in-process (no server needed for it).
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from copilot.knowledge.ingest import ingest

from .conftest import CHROMIUM, CHROMIUM_FLAGS, copy_knowledge, make_settings
from .support.server import Server

KEYS = ("key-one", "key-two")
RATE = 100  # per key per minute; key-two is spent by the rate-limit test, every other test uses key-one
OK = {"Authorization": "Bearer key-one"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

# every kind of route under /ui: the page, its config and assets, and the whole Gradio API
UI_ROUTES = [
    ("get", "/ui"),
    ("get", "/ui/"),
    ("get", "/ui/config"),
    ("get", "/ui/gradio_api/info"),
    ("get", "/ui/gradio_api/openapi.json"),
    ("get", "/ui/theme.css"),
    ("get", "/ui/favicon.ico"),
    ("get", "/ui/manifest.json"),
    ("get", "/ui/assets/index.js"),
    ("get", "/ui/static/img/logo.svg"),
    ("get", "/ui/gradio_api/startup-events"),
    ("get", "/ui/gradio_api/heartbeat/anon-session"),
    ("get", "/ui/gradio_api/queue/data?session_hash=anon-session"),
    ("get", "/ui/gradio_api/upload_progress?upload_id=x"),
    ("get", "/ui/gradio_api/file=/etc/hostname"),
    ("get", "/ui/gradio_api/file/etc/hostname"),
    ("get", "/ui/gradio_api/call/do_draft/some-event"),
    ("get", "/ui/monitoring"),
    ("post", "/ui/gradio_api/queue/join"),
    ("post", "/ui/gradio_api/upload"),
    ("post", "/ui/gradio_api/call/do_draft"),
    ("post", "/ui/gradio_api/run/do_draft"),
    ("post", "/ui/gradio_api/api/do_draft"),
    ("post", "/ui/gradio_api/cancel"),
    ("post", "/ui/gradio_api/reset"),
    ("post", "/ui/gradio_api/stream/some-event"),
    ("post", "/ui/gradio_api/process_recording"),
    ("post", "/ui/live-check"),
]
DOCS_ROUTES = ["/docs", "/openapi.json", "/redoc", "/readyz"]
JOIN = {"data": ["羽绒服能机洗吗", [], "", 1, "", "", ""], "fn_index": 0, "session_hash": "anon-session",
        "event_data": None, "trigger_id": None}


def send(url: str, method: str, path: str, headers: dict | None = None, cookies: dict | None = None) -> httpx.Response:
    kw: dict = {"headers": headers or {}, "timeout": 30, "follow_redirects": False}
    if cookies:
        kw["cookies"] = cookies
    if method == "get":
        return httpx.get(url + path, **kw)
    if path.endswith("/upload"):
        return httpx.post(url + path, files={"files": ("偷传.md", "# 偷传\n全场一折".encode(), "text/markdown")}, **kw)
    return httpx.post(url + path, json=JOIN, **kw)


def assert_unauthorized(r: httpx.Response) -> None:
    assert r.status_code == 401, (r.request.method, str(r.request.url), r.status_code, r.text[:200])
    err = r.json()["error"]
    assert err["code"] == "unauthorized" and err["message"] and err["message_en"] and err["hint"]


def login(url: str, key: str) -> httpx.Response:
    return httpx.post(url + "/login", data={"key": key, "next": "/ui/"}, headers=BROWSER, timeout=30,
                      follow_redirects=False)


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    settings = copy_knowledge(tmp_path_factory.mktemp("ui-auth"), embedder="hash:64")
    ingest(settings)
    server = Server(settings.knowledge_dir, settings.data_dir,
                    {"COPILOT_API_KEYS": ",".join(KEYS), "COPILOT_RATE_LIMIT_PER_MINUTE": str(RATE),
                     "COPILOT_EMBEDDER": "hash:64"})
    yield server.url, settings.knowledge_dir
    server.stop()


# ------------------------------------------------------------------ raw HTTP ---

@pytest.mark.enable_socket
@pytest.mark.slow
def test_every_ui_and_gradio_route_needs_the_key(locked):
    url, _ = locked
    for method, path in UI_ROUTES:
        assert_unauthorized(send(url, method, path))
        assert_unauthorized(send(url, method, path, {"Authorization": "Bearer wrong"}))
        assert_unauthorized(send(url, method, path, {"Authorization": "Basic a2V5LW9uZTo="}))
        assert_unauthorized(send(url, method, path, cookies={"copilot_session": "forged"}))
        assert_unauthorized(send(url, method, path, cookies={"copilot_session": "key-one"}))  # the key is no session
    # the same routes answer with the key: the 401s above come from the guard, not from broken routes
    for path in ("/ui/", "/ui/config", "/ui/gradio_api/info", "/ui/theme.css"):
        assert send(url, "get", path, OK).status_code == 200, path
    assert "gradio_config" in httpx.get(url + "/ui/", headers=OK, timeout=30).text
    assert httpx.get(url + "/healthz", timeout=30).status_code == 200  # health stays open


@pytest.mark.enable_socket
@pytest.mark.slow
def test_a_browser_without_a_session_gets_the_login_page_as_a_401(locked):
    url, _ = locked
    for path in ("/ui", "/ui/", "/docs"):
        r = httpx.get(url + path, headers=BROWSER, timeout=30, follow_redirects=False)
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
        assert 'action="/login"' in r.text and 'name="key"' in r.text and "登录" in r.text
        assert "gradio_config" not in r.text
    page = httpx.get(url + "/login", timeout=30)
    assert page.status_code == 200 and 'type="password"' in page.text and "API Key" in page.text


@pytest.mark.enable_socket
@pytest.mark.slow
def test_login_sets_an_httponly_strict_session_cookie_that_is_not_the_key(locked):
    url, _ = locked
    bad = login(url, "wrong")
    assert bad.status_code == 401 and "set-cookie" not in bad.headers and "无效" in bad.text
    r = login(url, "key-one")
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    raw = r.headers["set-cookie"]
    attrs = {a.strip().split("=")[0].lower() for a in raw.split(";")}
    assert {"httponly", "path"} <= attrs and "samesite=strict" in raw.lower() and "path=/;" in raw.lower() + ";"
    token = r.cookies["copilot_session"]
    assert "key-one" not in raw and len(token) >= 32
    jar = {"copilot_session": token}
    for path in ("/ui/", "/ui/config", "/ui/gradio_api/info", "/docs", "/openapi.json", "/readyz"):
        assert send(url, "get", path, cookies=jar).status_code == 200, path
    # the HTTP API keeps asking for the header
    assert httpx.post(url + "/v1/search", json={"query": "发票"}, cookies=jar, timeout=30).status_code == 401
    # an open redirect is refused: next goes back to the workspace
    r2 = httpx.post(url + "/login", data={"key": "key-one", "next": "//evil.example/"}, timeout=30)
    assert r2.status_code == 303 and r2.headers["location"] == "/ui/"
    # logging out forgets the session on the server, so the old cookie is dead
    out = httpx.post(url + "/logout", cookies=jar, timeout=30, follow_redirects=False)
    assert out.status_code == 303 and "copilot_session=" in out.headers["set-cookie"]
    assert_unauthorized(send(url, "get", "/ui/config", cookies=jar))


@pytest.mark.enable_socket
@pytest.mark.slow
def test_docs_openapi_and_readyz_are_behind_the_key_by_default(locked):
    url, _ = locked
    for path in DOCS_ROUTES:
        assert_unauthorized(httpx.get(url + path, timeout=30))
        assert httpx.get(url + path, headers=OK, timeout=30).status_code == 200, path
    assert "/v1/drafts" in httpx.get(url + "/openapi.json", headers=OK, timeout=30).json()["paths"]
    assert_unauthorized(httpx.get(url + "/reports/latest", timeout=30))


@pytest.mark.enable_socket
@pytest.mark.slow
def test_ui_requests_count_against_the_keys_rate_limit(locked):
    url, _ = locked
    two = {"Authorization": "Bearer key-two"}
    codes = []
    for _ in range(RATE + 5):  # bounded: the limit is RATE per minute
        codes.append(httpx.get(url + "/ui/gradio_api/info", headers=two, timeout=30).status_code)
        if codes[-1] != 200:
            break
    assert codes[-1] == 429 and len(codes) <= RATE + 1
    limited = httpx.get(url + "/ui/config", headers=two, timeout=30)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    # a session made with the same key shares its bucket
    token = login(url, "key-two").cookies["copilot_session"]
    assert httpx.get(url + "/ui/config", cookies={"copilot_session": token}, timeout=30).status_code == 429
    assert httpx.get(url + "/ui/config", headers=OK, timeout=30).status_code == 200  # other keys are not affected


# ------------------------------------------------------------- gradio_client ---

@pytest.mark.enable_socket
@pytest.mark.slow
def test_gradio_client_needs_the_key(locked, monkeypatch, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AuthenticationError

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    url, kdir = locked
    with pytest.raises(AuthenticationError):
        Client(url + "/ui/", verbose=False, analytics_enabled=False, download_files=False)
    with pytest.raises(AuthenticationError):
        Client(url + "/ui/", verbose=False, analytics_enabled=False, download_files=False,
               headers={"Authorization": "Bearer wrong"})

    client = Client(url + "/ui/", verbose=False, analytics_enabled=False, download_files=False, headers=OK)
    try:
        out = client.predict("羽绒服能机洗吗", "DJ-2301", 1, "", "", "", "", "", api_name="/do_draft")
        chat, texts = out[0], [o for o in out if isinstance(o, str)]
        assert chat[-1]["content"][0]["text"] == "羽绒服能机洗吗", "the buyer's turn is in the conversation"
        assert any("不可机洗" in t for t in texts), "a draft card holds the answer from the catalog"
        doc = tmp_path / "以旧换新.md"
        doc.write_text("# 以旧换新\n旧羽绒服寄回可抵扣30元。", encoding="utf-8")
        msg = client.predict(handle_file(str(doc)), True, api_name="/do_upload")
        assert "以旧换新" in msg and (kdir / "store" / "以旧换新.md").exists()
    finally:
        client.close()


# ------------------------------------------------------------------- browser ---

@pytest.mark.enable_socket
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by `make test`")
def test_browser_logs_in_and_uses_the_workspace(locked):
    pw = pytest.importorskip("playwright.sync_api")
    url, _ = locked
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        first = page.goto(url + "/ui/", wait_until="domcontentloaded")
        assert first.status == 401
        page.locator("input[name=key]").fill("key-one")
        page.locator("button[type=submit]").click()
        page.locator("#buyer-message textarea").wait_for(timeout=60_000)
        assert page.url.rstrip("/").endswith("/ui")
        assert "copilot_session" not in page.evaluate("document.cookie")  # HttpOnly: scripts cannot read it
        page.locator("#buyer-message textarea").fill("收到的羽绒服袖子开线了！！")
        page.locator("#draft-button").click()
        page.locator("#card-checks-0 .checks .badge").first.wait_for(timeout=60_000)
        browser.close()


# ------------------------------------------------------------ docs_public ---

def _app(tmp_path, **kw):
    """The API in-process over the small ``kb`` knowledge copy in ``tmp_path`` (no Gradio, no sockets)."""
    from copilot.app.api import create_app

    settings = make_settings(tmp_path, **kw)
    ingest(settings)
    return TestClient(create_app(settings, ui=False))


def test_docs_public_opens_docs_and_readyz_but_nothing_else(kb, tmp_path):
    client = _app(tmp_path, api_keys=["k1"], docs_public=True)
    for path in DOCS_ROUTES:
        assert client.get(path).status_code == 200, path
    assert client.get("/healthz").status_code == 200
    assert_unauthorized(client.post("/v1/search", json={"query": "发票"}))
    assert_unauthorized(client.get("/ui/config"))
    assert_unauthorized(client.get("/reports/latest"))


def test_docs_are_behind_the_key_unless_public(kb, tmp_path):
    client = _app(tmp_path, api_keys=["k1"])
    for path in DOCS_ROUTES:
        assert_unauthorized(client.get(path))
        assert client.get(path, headers={"Authorization": "Bearer k1"}).status_code == 200, path
    assert client.get("/healthz").status_code == 200


def test_without_keys_nothing_is_locked(kb, tmp_path):
    client = _app(tmp_path)
    for path in (*DOCS_ROUTES, "/healthz"):
        assert client.get(path).status_code == 200, path
    assert client.post("/v1/search", json={"query": "发票"}).status_code == 200
    assert client.get("/login").status_code == 404  # no keys, no login page


def test_websockets_need_the_key_too(kb, tmp_path):
    """Gradio 6 speaks SSE, but a WebSocket route under /ui (a future Gradio, a custom component) is guarded too."""

    client = _app(tmp_path, api_keys=["k1"])

    @client.app.websocket("/ui/ws-probe")
    async def probe(ws: WebSocket):
        await ws.accept()
        await ws.send_text("hello")
        await ws.close()

    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ui/ws-probe"):
        pass
    assert closed.value.code == 1008
    with client.websocket_connect("/ui/ws-probe", headers={"Authorization": "Bearer k1"}) as ws:
        assert ws.receive_text() == "hello"
