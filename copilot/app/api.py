"""The HTTP drafting API (FastAPI): a thin edge over ``service.Workspace``.

Errors are always JSON ``{"error": {"code", "message", "message_en", "hint"?}}``
in Chinese and English, with 400 (malformed), 401 (auth), 404 (unknown sku),
409 (reindex running), 413 (too large), 422 (invalid), 429 (rate limit),
and 503 when a request runs past ``request_timeout_s`` (with Retry-After).
Bad input never produces a 5xx or a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict
from typing import Literal

import uvicorn
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..drafting.io import DraftRequest, DraftResponse
from ..errors import CopilotError, invalid_input
from ..rules.checking import InlineFacts
from ..schema import SearchResult, Turn
from ..settings import Settings, load_settings
from .feedback import FeedbackIn
from .service import Workspace


class ChecksIn(BaseModel):
    reply: str = Field(min_length=1, max_length=4000)
    message: str | None = Field(default=None, max_length=2000)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    product_sku: str | None = Field(default=None, max_length=40)
    facts: InlineFacts | None = None


class CheckOut(BaseModel):
    rule: str
    passed: bool
    detail: str
    span: str | None = None


class ChecksOut(BaseModel):
    passed: bool
    checks: list[CheckOut]


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    kind: list[Literal["doc", "faq", "product", "policy"]] | None = None
    sku: str | None = Field(default=None, max_length=40)


class ReindexIn(BaseModel):
    rebuild: bool = False


class ErrorBody(BaseModel):
    code: str
    message: str
    message_en: str = ""
    hint: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS = {k: {"model": ErrorOut} for k in (400, 401, 404, 409, 413, 422, 429, 503)}


class DeadlineExceeded(Exception):
    """A request ran past ``request_timeout_s``."""


def error(status: int, code: str, message: str, message_en: str = "", hint: str = "") -> JSONResponse:
    return copilot_response(CopilotError(message, message_en=message_en, hint=hint, code=code, status=status))


def copilot_response(exc: CopilotError) -> JSONResponse:
    status = exc.status if 400 <= exc.status < 600 else 400
    return JSONResponse({"error": exc.to_dict()}, status_code=status)


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


def create_app(settings: Settings, workspace: Workspace | None = None, *, ui: bool = True) -> FastAPI:
    ws = workspace or Workspace(settings)
    app = FastAPI(
        title="reply-copilot 网店客服回复助手 API",
        version=__version__,
        description="起草回复、检查语气规则、检索知识、管理知识与反馈。错误统一为 {error: {code, message, message_en}}。",
    )
    app.state.workspace = ws
    limiter = RateLimiter(settings.rate_limit_per_minute)
    keys = set(settings.api_keys)

    worker = str(os.getpid())

    @app.middleware("http")
    async def worker_header(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Copilot-Worker"] = worker
        return response

    @app.middleware("http")
    async def guard_requests(request: Request, call_next):
        path = request.url.path
        if path.startswith("/v1/"):
            if keys:
                auth = request.headers.get("authorization", "")
                token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
                if token not in keys:
                    return error(401, "unauthorized", "缺少或无效的 API Key", "missing or invalid API key",
                                 "请求头加上 Authorization: Bearer <key>")
                who = token
            else:
                who = request.client.host if request.client else "local"
            ok, retry = limiter.allow(who)
            if not ok:
                resp = error(429, "rate_limited", "请求太频繁，请稍后再试", "rate limit exceeded",
                             f"每分钟最多 {settings.rate_limit_per_minute} 次")
                resp.headers["Retry-After"] = str(int(retry) + 1)
                return resp
            length = request.headers.get("content-length")
            limit = settings.max_upload_mb * 1024 * 1024 if path == "/v1/knowledge" else settings.max_body_kb * 1024
            if length is not None:
                try:
                    too_big = int(length) > limit
                except ValueError:
                    return error(400, "bad_request", "Content-Length 不合法", "invalid Content-Length")
                if too_big:
                    return error(413, "payload_too_large", f"请求体过大，上限 {limit // 1024} KB",
                                 f"request body too large (max {limit // 1024} KB)")
        return await call_next(request)

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
                     f"request exceeded {settings.request_timeout_s:g} s", "大模型服务慢时可调小 llm_timeout_s 或调大 request_timeout_s")
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
                               facts=req.facts)  # the checked time is facts.now when given
        return ChecksOut.model_validate(report.public())

    @app.post("/v1/search", response_model=SearchResult, tags=["知识库"], responses=ERRORS)
    async def search(req: SearchIn) -> SearchResult:
        return await bounded(ws.search, req.query, req.k, kind=req.kind, sku=req.sku)

    @app.post("/v1/knowledge", tags=["知识库"], responses=ERRORS)
    async def upload(file: UploadFile = File(..., description="文档 .txt/.md、FAQ .csv 或商品目录 catalog*.yaml"),
                     policy: bool = Form(False, description=".md 作为店铺政策（否则作为文章）")) -> dict:
        data = await file.read(settings.max_upload_mb * 1024 * 1024 + 1)
        return ws.upload(file.filename or "", data, policy=policy)

    @app.post("/v1/knowledge/reindex", tags=["知识库"], responses=ERRORS)
    def reindex(req: ReindexIn | None = None) -> dict:
        report = ws.reindex(rebuild=bool(req and req.rebuild))
        return asdict(report)

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

    @app.get("/reports/latest", tags=["评测"], include_in_schema=False)
    def latest_report():
        path = settings.latest_report_dir / "report.html"
        if not path.exists():
            return error(404, "not_found", "还没有评测报告：在工作台的「评测」页运行一次", "no eval report yet")
        return FileResponse(path, media_type="text/html")

    if ui:
        import gradio as gr  # seconds to import: API-only workers (--workers, --no-ui) never load it

        from .ui import CSS, build_ui

        app = gr.mount_gradio_app(app, build_ui(ws), path="/ui", css=CSS, footer_links=[])
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
          f"（{'未配置 API Key：仅限本机访问' if not settings.api_keys else f'已启用 {len(settings.api_keys)} 个 API Key'}；"
          f"大模型：{ws.llm_name if ws.llm_name != 'offline' else 'offline（离线起草）'}）", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=5)
