"""A hung LLM is not an outage: one time budget per draft request, and a circuit breaker.

The hung server is a plain TCP listener on 127.0.0.1 that accepts connections and
never answers (not the fake LLM server, which always answers eventually). A real
``OpenAIChat`` built from settings talks to it.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from copilot.drafting.io import DraftRequest
from copilot.drafting.llm import OpenAIChat
from copilot.drafting.pipeline import Copilot

from .conftest import NOW
from .support.fake_llm import FakeLLMServer

BUDGET_S = 3.0
COOLDOWN_S = 1.0
BUDGET_NOTICE = f"大模型响应超时（本次请求的大模型时间预算 {BUDGET_S:g} 秒已用完），已改用离线起草"
BREAKER_NOTICE = "大模型暂不可用（连续失败，冷却中），已改用离线起草"


class HungServer:
    """Accepts TCP connections and holds them open without reading or answering."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)

    @property
    def accepted(self) -> int:
        time.sleep(0.15)  # let the accept loop catch up with the kernel's backlog
        return len(self.conns)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.stop()


@pytest.fixture
def times(tmp_path):
    """Measured durations, kept in the test's tmp dir for the record."""
    got: dict[str, float] = {}
    yield got
    (tmp_path / "times.json").write_text(json.dumps(got, indent=1), encoding="utf-8")


def timed(fn, limit: float):
    """Run ``fn`` in a thread; fail (without waiting for it) if it is still running well past ``limit``."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the test thread
            box["error"] = exc

    t0 = time.monotonic()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(limit + 2)
    elapsed = time.monotonic() - t0
    assert not th.is_alive(), f"still running after {elapsed:.1f} s (limit {limit:g} s)"
    if "error" in box:
        raise box["error"]
    return box["value"], elapsed


def hung_copilot(real_index, url: str, **kw) -> Copilot:
    settings, retriever, _ = real_index
    settings = settings.model_copy(update={
        "llm": "openai:x", "openai_base_url": f"{url}/v1", "openai_api_key": "k",
        "llm_budget_s": BUDGET_S, "llm_breaker_failures": 2, "llm_breaker_cooldown_s": COOLDOWN_S, **kw,
    })
    c = Copilot(settings, retriever=retriever)
    assert isinstance(c.backend, OpenAIChat)
    c.warm_up()  # time the LLM, not the first analyzer load
    return c


def request(n: int) -> DraftRequest:
    return DraftRequest(message="羽绒服能机洗吗", product_sku="DJ-2301", n=n, now=NOW)


def composer_drafts(drafts, notice: str) -> None:
    assert drafts
    for d in drafts:
        assert d.backend == "offline-composer" and d.text and d.passed, d
        assert d.notice == notice, d.notice


@pytest.mark.enable_socket
def test_a_hung_llm_costs_one_budget_then_the_breaker_skips_it_until_a_trial(real_index, hung, times):
    c = hung_copilot(real_index, hung.url)

    # 1) three candidates share one budget: composer drafts with a notice well before the request deadline
    r, times["n3_hung_s"] = timed(lambda: c.draft(request(3)), 5.0)
    assert times["n3_hung_s"] <= 5.0
    assert 1 <= len(r.drafts) <= 3  # fewer rather than padded with near-duplicates
    composer_drafts(r.drafts, BUDGET_NOTICE)
    assert BUDGET_NOTICE in r.notices
    assert hung.accepted >= 1, "the LLM was really called"

    # 2) a second failing request: two consecutive failures open the breaker
    r, times["second_hung_s"] = timed(lambda: c.draft(request(1)), 5.0)
    assert times["second_hung_s"] <= 5.0
    composer_drafts(r.drafts, BUDGET_NOTICE)

    # 3) open: no call is made, the composer answers at once and says why
    before = hung.accepted
    r, times["breaker_open_s"] = timed(lambda: c.draft(request(3)), 0.1)
    assert times["breaker_open_s"] <= 0.1
    assert 1 <= len(r.drafts) <= 3
    composer_drafts(r.drafts, BREAKER_NOTICE)
    assert hung.accepted == before, "an open breaker makes no call"

    # 4) after the cooling period one trial call goes through; it fails, so the breaker opens again
    time.sleep(COOLDOWN_S + 0.1)
    r, times["trial_s"] = timed(lambda: c.draft(request(2)), 5.0)
    assert hung.accepted == before + 1, "exactly one trial call"
    assert times["trial_s"] <= 5.0
    composer_drafts(r.drafts, BUDGET_NOTICE)
    r, times["reopened_s"] = timed(lambda: c.draft(request(1)), 0.1)
    assert times["reopened_s"] <= 0.1
    composer_drafts(r.drafts, BREAKER_NOTICE)
    assert hung.accepted == before + 1


@pytest.mark.enable_socket
def test_a_streamed_draft_under_a_hung_llm_finishes_within_the_budget(real_index, hung, times):
    c = hung_copilot(real_index, hung.url)
    events, times["stream_n2_hung_s"] = timed(lambda: list(c.stream(request(2))), BUDGET_S + 1)
    assert times["stream_n2_hung_s"] <= BUDGET_S + 1
    drafts = [e["data"] for e in events if e["event"] == "draft"]
    assert len(drafts) == 2
    for d in drafts:
        assert d["backend"] == "offline-composer" and d["text"] and d["notice"] == BUDGET_NOTICE
    assert events[-1]["event"] == "done" and BUDGET_NOTICE in events[-1]["data"]["notices"]


@pytest.mark.enable_socket
def test_server_errors_count_towards_the_breaker_and_retries_stay_bounded(real_index, times):
    """A fast 500 is retried (budget permitting); three consecutive 500s open the breaker."""
    server = FakeLLMServer()
    error = "大模型服务返回错误 500，已改用离线起草"
    try:
        c = hung_copilot(real_index, f"{server.url}/500", llm_breaker_failures=3, llm_max_retries=1,
                         llm_breaker_cooldown_s=30.0)
        r, times["n3_500_s"] = timed(lambda: c.draft(request(3)), 5.0)
        # one call writes all three candidates: its try and its retry fail, and every candidate says so
        assert r.notices == [error] and r.drafts[0].notice == error
        assert c.backend.breaker.state == "closed"
        # the next request's try is the third consecutive failure: the breaker opens, no retry is made
        assert [d.notice for d in c.draft(request(1)).drafts] == [error]
        assert c.backend.breaker.state == "open"
        assert [d.notice for d in c.draft(request(1)).drafts] == [BREAKER_NOTICE]
    finally:
        server.stop()


def test_half_open_lets_exactly_one_trial_through_under_concurrency():
    from copilot.drafting.budget import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failures=2, cooldown_s=30.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow() and breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 30.5
    allowed = []
    barrier = threading.Barrier(16)

    def probe():
        barrier.wait(5)
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=probe) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert allowed.count(True) == 1 and len(allowed) == 16
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure()
    assert breaker.state == "closed", "success resets the count of consecutive failures"


def test_a_budget_not_below_the_request_deadline_is_clamped_with_a_clear_message(real_index, caplog):
    settings, retriever, _ = real_index
    s = settings.model_copy(update={"llm_budget_s": 90.0, "request_timeout_s": 60.0})
    with caplog.at_level("WARNING"):
        c = Copilot(s, retriever=retriever, backend=None)
    assert c.llm_budget_s == 60.0
    assert any("llm_budget_s" in m and "request_timeout_s" in m for m in caplog.messages)
