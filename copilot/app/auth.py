"""Who may use the server: API keys, login sessions for the workspace, per-key rate limits.

With ``api_keys`` set every route needs a key except ``/healthz`` and the login
page (and ``/docs``, ``/redoc``, ``/openapi.json``, ``/readyz`` when
``docs_public``). ``/v1/*`` takes ``Authorization: Bearer <key>``; the
workspace at ``/ui`` (page, assets and the whole Gradio API) and the docs take
the header or a session cookie from ``/login``. The cookie holds a random
token that this process maps to the key; the key itself is never sent back.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import defaultdict, deque
from html import escape

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send


class RateLimiter:
    """Sliding one-minute window per key."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        now = time.monotonic()
        with self.lock:
            q = self.hits[key]
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False, 60 - (now - q[0])
            q.append(now)
            return True, 0.0


SESSION_COOKIE = "copilot_session"
SESSION_TTL_S = 12 * 3600
MAX_SESSIONS = 10_000
LOGIN_ATTEMPTS_PER_MINUTE = 20  # per client address: slows down guessing keys
OPEN_PATHS = frozenset({"/healthz", "/login", "/logout"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/readyz"})
# files of the Gradio package itself: authenticated like the rest of /ui, but not counted against the rate limit
# (one page load fetches dozens of them)
UI_STATIC = re.compile(r"^/ui/(?:(?:assets|static|svelte)/|(?:gradio_api/)?theme\.css$|favicon\.ico$|manifest\.json$"
                       r"|robots\.txt$|pwa_icon)")


def is_ui(path: str) -> bool:
    return path == "/ui" or path.startswith("/ui/")


class Sessions:
    """Login sessions: a random token (the cookie's value) → the key it was made with, kept in this process."""

    def __init__(self, ttl_s: float = SESSION_TTL_S, limit: int = MAX_SESSIONS) -> None:
        self.ttl_s = ttl_s
        self.limit = limit
        self.by_token: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def create(self, key: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self.lock:
            if len(self.by_token) >= self.limit:
                self.by_token = {t: v for t, v in self.by_token.items() if v[1] > now}
                while len(self.by_token) >= self.limit:  # still full: the oldest session goes
                    self.by_token.pop(next(iter(self.by_token)))
            self.by_token[token] = (key, now + self.ttl_s)
        return token

    def key(self, token: str) -> str | None:
        with self.lock:
            found = self.by_token.get(token)
            if found and found[1] <= time.monotonic():
                del self.by_token[token]
                found = None
        return found[0] if found else None

    def drop(self, token: str) -> None:
        with self.lock:
            self.by_token.pop(token, None)


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this server only (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return "/ui/"


def login_page(target: str, notice: str = "") -> str:
    note = f"<p class='bad'>{escape(notice)}</p>" if notice else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>登录 · 网店客服回复助手</title>
<style>body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f7fa;margin:0}}
main{{max-width:360px;margin:12vh auto;background:#fff;border:1px solid #d9e2ec;border-radius:10px;padding:24px 28px}}
h1{{font-size:20px;margin:0 0 8px}}p{{color:#52606d;font-size:14px}}.bad{{color:#b42318}}
input[type=password]{{width:100%;box-sizing:border-box;padding:8px;font-size:15px;margin:6px 0 14px}}
button{{width:100%;padding:9px;font-size:15px;background:#2f6feb;color:#fff;border:0;border-radius:6px;cursor:pointer}}</style>
</head><body><main><h1>网店客服回复助手 · 登录</h1>
<p>本服务已启用 API Key：输入任一有效的 Key 后进入工作台。</p>{note}
<form method="post" action="/login"><label for="key">API Key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{escape(target)}"><button type="submit">登录</button></form>
</main></body></html>"""


class WebSocketGuard:
    """Starlette's HTTP middleware never sees WebSockets: refuse unauthenticated ones here."""

    def __init__(self, app: ASGIApp, allow) -> None:
        self.app = app
        self.allow = allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self.allow(HTTPConnection(scope)):
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)
