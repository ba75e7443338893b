"""The HTTP drafting API (FastAPI): a thin edge over ``service.Workspace``.

Errors are always JSON ``{"error": {"code", "message", "message_en", "hint"?}}``
in Chinese and English, with 400 (malformed), 401 (auth), 404 (unknown sku),
409 (reindex running), 413 (too large), 422 (invalid), 429 (rate limit),
and 503 when a request runs past ``request_timeout_s`` (with Retry-After).
Bad input never produces a 5xx or a traceback.

Who may call what (keys, login sessions, rate limits) is in ``auth``; byte caps on every body in ``limits``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from dataclasses import asdict

import uvicorn
from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from .. import __version__
from ..drafting.io import DraftRequest, DraftResponse
from ..errors import CopilotError, invalid_input
from ..qa.review import QaReport
from ..schema import SearchResult
from ..settings import Settings, load_settings
from .adoption import AdoptionReport
from .api_models import ChecksIn, ChecksOut, ErrorOut, LiveCheckIn, LiveChecksOut, QaIn, ReindexIn, SearchIn
from .auth import (
    DOCS_PATHS,
    LOGIN_ATTEMPTS_PER_MINUTE,
    OPEN_PATHS,
    SESSION_COOKIE,
    SESSION_TTL_S,
    UI_STATIC,
    RateLimiter,
    Sessions,
    WebSocketGuard,
    is_ui,
    login_page,
    safe_next,
)
from .feedback import FeedbackIn
from .limits import BodyLimit, Gate
from .service import Workspace

ERRORS = {k: {"model": ErrorOut} for k in (400, 401, 404, 409, 413, 422, 429, 503)}


class DeadlineExceeded(Exception):
    """A request ran past ``request_timeout_s``."""


def error(status: int, code: str, message: str, message_en: str = "", hint: str = "") -> JSONResponse:
    return copilot_response(CopilotError(message, message_en=message_en, hint=hint, code=code, status=status))


def copilot_response(exc: CopilotError) -> JSONResponse:
    status = exc.status if 400 <= exc.status < 600 else 400
    return JSONResponse({"error": exc.to_dict()}, status_code=status)


LIVE_CHECK_PATH = "/ui/live-check"
LIVE_CHECKS_PER_REQUEST = 10  # live checks allowed per counted request of the rate limit


def create_app(settings: Settings, workspace: Workspace | None = None, *, ui: bool = True) -> FastAPI:
    ws = workspace or Workspace(settings)
    app = FastAPI(
        title="reply-copilot 网店客服回复助手 API",
        version=__version__,
        description="起草回复、检查语气规则、检索知识、管理知识与反馈。错误统一为 {error: {code, message, message_en}}。",
    )
    app.state.workspace = ws
    limiter = RateLimiter(settings.rate_limit_per_minute)
    # the workspace's live badges ask once per pause in typing: their own, larger budget per key
    live_limiter = RateLimiter(settings.rate_limit_per_minute * LIVE_CHECKS_PER_REQUEST)
    login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE)
    keys = [k for k in settings.api_keys if k]
    sessions = Sessions()

    def match_key(candidate: str) -> str | None:
        """The configured key equal to ``candidate`` (compared in constant time), else None."""
        found = None
        for k in keys:
            if candidate and hmac.compare_digest(candidate.encode(), k.encode()):
                found = k
        return found

    def caller_key(conn: HTTPConnection, *, cookie: bool) -> str | None:
        """The key a request is made with: the Bearer header, or (where allowed) the login session's key."""
        auth = conn.headers.get("authorization", "")
        key = match_key(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if key is None and cookie:
            token = conn.cookies.get(SESSION_COOKIE, "")
            key = sessions.key(token) if token else None
        return key

    def is_open(path: str) -> bool:
        return path in OPEN_PATHS or (settings.docs_public and path in DOCS_PATHS)

    def wants_html(request: Request) -> bool:
        return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")

    def unauthorized(request: Request) -> JSONResponse | HTMLResponse:
        path = request.url.path
        if wants_html(request) and not path.startswith("/v1/"):  # a browser: the login page, still a 401
            target = path + (f"?{request.url.query}" if request.url.query else "")
            return login_html(safe_next(target), status=401)
        hint = "请求头加上 Authorization: Bearer <key>"
        if not path.startswith("/v1/"):
            hint += "，或在浏览器打开 /login 登录"
        resp = error(401, "unauthorized", "缺少或无效的 API Key", "missing or invalid API key", hint)
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    def login_html(target: str, notice: str = "", status: int = 200) -> HTMLResponse:
        return HTMLResponse(login_page(target, notice), status_code=status,
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    def rate_limited(retry: float) -> JSONResponse:
        resp = error(429, "rate_limited", "请求太频繁，请稍后再试", "rate limit exceeded",
                     f"每分钟最多 {settings.rate_limit_per_minute} 次")
        resp.headers["Retry-After"] = str(int(retry) + 1)
        return resp

    def body_limit_for(path: str) -> int | None:
        if path == LIVE_CHECK_PATH:
            return settings.max_body_kb * 1024
        if path == "/v1/knowledge" or is_ui(path):  # file uploads (the workspace uploads through Gradio)
            return settings.max_upload_mb * 1024 * 1024
        return settings.max_body_kb * 1024

    # the first middleware added runs innermost: after the auth check, so a caller without a key is refused unread
    app.add_middleware(BodyLimit, limit_for=body_limit_for, respond=copilot_response)

    def refuse(request: Request) -> Response | None:
        """The key and rate checks every request passes first: a response when it is refused, else None."""
        path = request.url.path
        who = None
        if keys and not is_open(path):
            # everything else needs the key: the API by header only, the workspace and docs also by session cookie
            who = caller_key(request, cookie=not path.startswith("/v1/"))
            if who is None:
                return unauthorized(request)
        counted = path.startswith("/v1/") or (
            keys and is_ui(path) and not (request.method in ("GET", "HEAD") and UI_STATIC.match(path)))
        if counted:
            ok, retry = (live_limiter if path == LIVE_CHECK_PATH else limiter).allow(who or (request.client.host if request.client else "local"))
            if not ok:
                return rate_limited(retry)
        return None

    app.add_middleware(Gate, check=refuse, headers={"X-Copilot-Worker": str(os.getpid())})


    if keys:
        app.add_middleware(WebSocketGuard, allow=lambda conn: is_open(conn.url.path) or
                           caller_key(conn, cookie=not conn.url.path.startswith("/v1/")) is not None)

    @app.exception_handler(CopilotError)
    async def copilot_error(_: Request, exc: CopilotError):
        return copilot_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        errs = exc.errors()
        if errs and errs[0].get("type") == "json_invalid":
            return error(400, "malformed_json", "请求体不是合法的 JSON", "request body is not valid JSON")
        return copilot_response(invalid_input(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        zh = {404: "接口不存在", 405: "不支持该请求方法"}.get(exc.status_code, "请求错误")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return error(exc.status_code, code, zh, str(exc.detail))

    @app.exception_handler(DeadlineExceeded)
    async def deadline(_: Request, exc: DeadlineExceeded):
        resp = error(503, "timeout", f"处理超时（上限 {settings.request_timeout_s:g} 秒），请稍后重试",
                     f"request exceeded {settings.request_timeout_s:g} s", "大模型服务慢时可调小 llm_budget_s（每个请求的大模型时间预算）或调大 request_timeout_s")
        resp.headers["Retry-After"] = "5"
        return resp

    async def bounded(fn, *args, **kwargs):
        """Run blocking core work in the thread pool under the request deadline.

        The worker thread cannot be killed; it finishes in the background (LLM calls have their own
        timeouts), but the caller gets a clear 503 instead of waiting forever."""
        try:
            return await asyncio.wait_for(run_in_threadpool(fn, *args, **kwargs), settings.request_timeout_s)
        except TimeoutError:
            raise DeadlineExceeded from None

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):  # a bug, not the caller's fault: no traceback leaks
        return error(500, "internal_error", "服务内部错误，已记录", f"internal error: {type(exc).__name__}")

    # ------------------------------------------------------------ routes ---

    @app.get("/healthz", tags=["运维"])
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["运维"], responses={503: {"model": dict}})
    def readyz():
        state = ws.ready()
        return state if state["ready"] else JSONResponse(state, status_code=503)

    @app.post("/v1/drafts", response_model=DraftResponse, tags=["起草"], responses=ERRORS)
    async def drafts(req: DraftRequest) -> DraftResponse:
        return await bounded(ws.draft, req)

    @app.post("/v1/drafts/stream", tags=["起草"], responses=ERRORS)
    async def drafts_stream(req: DraftRequest):
        events = ws.stream(req)
        first = await bounded(next, events)  # validation and analysis errors surface as JSON errors, before streaming starts

        def sse():
            for ev in (first, *events):
                yield f"event: {ev['event']}\ndata: {json.dumps(ev['data'], ensure_ascii=False, default=str)}\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/v1/checks", response_model=ChecksOut, tags=["语气规则"], responses=ERRORS)
    async def checks(req: ChecksIn) -> ChecksOut:
        report = await bounded(ws.check, req.reply, message=req.message or "", history=req.history, sku=req.product_sku,
                               facts=req.facts, order=req.order)  # the checked time is facts.now when given
        return ChecksOut.model_validate(report.public())

    @app.post("/v1/qa", response_model=QaReport, tags=["语气规则"], responses=ERRORS)
    async def qa(req: QaIn) -> QaReport:
        """质检一批会话（每段会话同 copilot qa 的 JSON Lines 格式）：按客服、规则、天统计，附最差例子。"""
        return await bounded(ws.qa, req.conversations)

    @app.post("/v1/search", response_model=SearchResult, tags=["知识库"], responses=ERRORS)
    async def search(req: SearchIn) -> SearchResult:
        return await bounded(ws.search, req.query, req.k, kind=req.kind, sku=req.sku)

    @app.post("/v1/knowledge", tags=["知识库"], responses=ERRORS)
    async def upload(file: UploadFile = File(..., description="文档 .txt/.md、FAQ .csv 或商品目录 catalog.yaml"),
                     policy: bool = Form(False, description=".md 作为店铺政策（否则作为文章）"),
                     replace: bool = Form(False, description="替换同名的已有文件（否则返回 409 和变更预览）")) -> dict:
        data = await file.read(settings.max_upload_mb * 1024 * 1024 + 1)
        return ws.upload(file.filename or "", data, policy=policy, replace=replace)

    @app.post("/v1/knowledge/reindex", tags=["知识库"], responses=ERRORS)
    def reindex(req: ReindexIn | None = None) -> dict:
        report = ws.reindex(rebuild=bool(req and req.rebuild))
        out = asdict(report)
        if ws.last_doctor is not None:  # the reindex re-checks the store and recalibrates its no-answer threshold
            out["doctor"] = {"summary": ws.last_doctor.summary_line(), "gaps": [c.id for c in ws.last_doctor.gaps],
                             "threshold": ws.last_doctor.threshold}
        return out

    @app.get("/v1/doctor", tags=["知识库"], responses=ERRORS)
    def doctor() -> dict:
        """店铺自检：知识缺什么、补到哪个文件，以及按本店问题校准的无答案阈值（与 `copilot doctor` 相同）。"""
        report = ws.doctor()
        return {"summary": report.summary_line(), **report.model_dump(mode="json")}

    @app.post("/v1/feedback", tags=["反馈"], responses=ERRORS)
    def feedback(req: FeedbackIn):
        fid, saved = ws.add_feedback(req)
        if saved:
            return {"id": fid, "saved": True}
        return JSONResponse(status_code=202, content={
            "id": None, "saved": False, "queued": True,
            "message": "磁盘空间不足，反馈已暂存在内存，空间恢复后随下一次写入保存", "message_en": "disk full: feedback queued in memory",
        })

    @app.get("/v1/gaps", tags=["反馈"], responses=ERRORS)
    def gaps(limit: int = 20) -> dict:
        return {"gaps": ws.gaps(max(1, min(limit, 200)))}

    @app.get("/v1/reports/adoption", response_model=AdoptionReport, tags=["反馈"], responses=ERRORS)
    def adoption() -> AdoptionReport:
        """草稿采用报告：直接采用 / 修改后采用 / 拒绝 / 未理会，按策略、类型、阶段、后端、客服、日期。"""
        return ws.adoption()

    @app.get("/reports/adoption", tags=["反馈"], include_in_schema=False)
    def adoption_page():
        return HTMLResponse(ws.adoption_html())

    if keys:
        @app.get("/login", include_in_schema=False)
        def login_form(target: str = Query("/ui/", alias="next", max_length=2000)):
            return login_html(safe_next(target))

        @app.post("/login", include_in_schema=False)
        async def login(request: Request):
            ok, retry = login_limiter.allow(request.client.host if request.client else "local")
            if not ok:
                resp = error(429, "rate_limited", "登录尝试太频繁，请稍后再试", "too many login attempts",
                             f"每个地址每分钟最多 {LOGIN_ATTEMPTS_PER_MINUTE} 次")
                resp.headers["Retry-After"] = str(int(retry) + 1)
                return resp
            form = await request.form()
            target = safe_next(str(form.get("next") or "/ui/"))
            key = match_key(str(form.get("key") or "").strip())
            if key is None:
                return login_html(target, "API Key 无效，请重新输入", status=401)
            resp = RedirectResponse(target, status_code=303)
            resp.set_cookie(SESSION_COOKIE, sessions.create(key), max_age=SESSION_TTL_S, path="/", httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
            resp.headers["Cache-Control"] = "no-store"
            return resp

        @app.post("/logout", include_in_schema=False)
        def logout(request: Request):
            sessions.drop(request.cookies.get(SESSION_COOKIE, ""))
            resp = RedirectResponse("/login", status_code=303)
            resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
            return resp

    @app.get("/reports/latest", tags=["评测"], include_in_schema=False)
    def latest_report():
        path = settings.latest_report_dir / "report.html"
        if not path.exists():
            return error(404, "not_found", "还没有评测报告：在工作台的「评测」页运行一次", "no eval report yet")
        return FileResponse(path, media_type="text/html")

    if ui:
        import gradio as gr  # seconds to import: API-only workers (--workers, --no-ui) never load it

        from .ui import CSS, LIVE_JS, build_ui

        @app.post(LIVE_CHECK_PATH, response_model=LiveChecksOut, include_in_schema=False, responses=ERRORS)
        async def live_check(req: LiveCheckIn) -> LiveChecksOut:
            """The workspace's badges while an agent edits a draft (the page's script calls this, debounced)."""
            report = await bounded(ws.live_check, req.token, req.reply)
            return LiveChecksOut.model_validate(report.model_dump())

        # registered before the mount, so this route answers before Gradio's own /ui routes
        app = gr.mount_gradio_app(app, build_ui(ws), path="/ui", css=CSS, head=LIVE_JS, footer_links=[])
    return app


def _workspace(settings: Settings) -> Workspace:
    ws = Workspace(settings)
    ws.warm_up()
    return ws


def worker_settings() -> Settings:
    """A worker's settings: what ``serve`` handed over, as explicit values (else the usual file/env lookup)."""
    handed = os.environ.get("COPILOT_SERVE_SETTINGS")
    return load_settings(**json.loads(handed)) if handed else load_settings()


def app_factory() -> FastAPI:
    """For ``uvicorn --factory`` with several workers (API only unless COPILOT_UI=1)."""
    settings = worker_settings()
    return create_app(settings, _workspace(settings), ui=os.environ.get("COPILOT_UI", "1") == "1")


def serve(settings: Settings, host: str | None = None, port: int | None = None, *, workers: int = 1,
          ui: bool = True) -> None:
    host = host or settings.host
    port = port or settings.port
    if not settings.api_keys and host not in ("127.0.0.1", "localhost", "::1"):
        raise CopilotError(
            f"没有配置 API Key 时只允许监听本机（收到 --host {host}）",
            message_en="without API keys the server only binds to loopback",
            hint="设置 COPILOT_API_KEYS 后再对外开放，或使用 --host 127.0.0.1",
        )
    if workers > 1:
        if not settings.chroma_url:
            raise CopilotError(
                "多个工作进程需要共享 Chroma 服务：本地索引目录只能由一个进程打开",
                message_en="several workers need a shared Chroma server (chroma_url)",
                hint="先启动 chroma run --path <目录> --port 8001，再设置 COPILOT_CHROMA_URL=http://127.0.0.1:8001",
            )
        # workers rebuild settings from this hand-off as explicit values: they outrank copilot.toml and the
        # environment exactly as the CLI flags did here
        os.environ["COPILOT_SERVE_SETTINGS"] = settings.model_dump_json()
        os.environ["COPILOT_UI"] = "0"  # Gradio sessions live in one process: run the workspace separately
        print(f"reply-copilot {__version__} · http://{host}:{port} · {workers} 个工作进程（仅 API；工作台请单独用 copilot serve 启动）",
              flush=True)
        uvicorn.run("copilot.app.api:app_factory", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", timeout_keep_alive=5)
        return
    ws = _workspace(settings)
    app = create_app(settings, ws, ui=ui)
    print(f"reply-copilot {__version__} · http://{host}:{port}  API 文档 /docs  工作台 /ui  "
          f"（{'未配置 API Key：仅限本机访问' if not settings.api_keys else f'已启用 {len(settings.api_keys)} 个 API Key，浏览器在 /login 登录'}；"
          f"大模型：{ws.llm_name if ws.llm_name != 'offline' else 'offline（离线起草）'}）", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=5)
