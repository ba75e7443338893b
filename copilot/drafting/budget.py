"""How much LLM time a draft request may spend, and when to stop calling a failing LLM at all.

- ``Budget``: the LLM time one draft request may spend, all its candidates and retries together.
- ``CircuitBreaker``: one per backend instance, shared by all requests; after consecutive failures calls are
  skipped at once for a cooling period, then one trial call is let through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..errors import BackendError
from ..settings import Settings

log = logging.getLogger(__name__)
MIN_CALL_S = 0.1  # a try with less time than this left is not worth starting


class BudgetExhausted(BackendError):
    """The request's LLM time is spent: the composer writes the rest."""


class LLMUnavailable(BackendError):
    """The circuit breaker is open: the call was skipped without touching the network."""


class Budget:
    """The LLM time one draft request may spend, all its candidates and retries together. Not shared
    between requests; one request uses it from one thread."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.total_s = float(seconds)
        self._clock = clock
        self.deadline = clock() + self.total_s

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._clock())

    @property
    def exhausted(self) -> bool:
        return self.remaining() < MIN_CALL_S

    def error(self) -> BudgetExhausted:
        return BudgetExhausted(
            f"大模型响应超时（本次请求的大模型时间预算 {self.total_s:g} 秒已用完）",
            message_en=f"the request's LLM budget of {self.total_s:g} s is spent",
        )


def request_budget_s(settings: Settings) -> float:
    """``llm_budget_s``, kept within ``request_timeout_s`` (a budget past the deadline could never help)."""
    budget, deadline = settings.llm_budget_s, settings.request_timeout_s
    if budget >= deadline:
        log.warning(
            "llm_budget_s（%g 秒）不小于 request_timeout_s（%g 秒），已按 %g 秒计：大模型慢时请求会先超时（503），"
            "而不是改用离线起草。请把 llm_budget_s 设得比 request_timeout_s 小，例如 %g 秒。",
            budget, deadline, deadline, max(1.0, round(deadline * 0.5, 1)),
        )
        return deadline
    return budget


class CircuitBreaker:
    """Closed → open after ``failures`` consecutive failed calls → after ``cooldown_s`` half-open: one trial
    call goes through (the others are still skipped); its success closes the breaker, its failure opens it
    again. ``failures=0`` disables it. Thread-safe: one breaker serves all concurrent requests."""

    def __init__(self, failures: int = 3, cooldown_s: float = 30.0, *, trial_ttl_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.cooldown_s = cooldown_s
        self.trial_ttl_s = trial_ttl_s  # a trial that never reports back frees its slot after this long
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._opened_at: float | None = None
        self._trial_at: float | None = None

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self._clock() - self._opened_at < self.cooldown_s else "half_open"

    def allow(self) -> bool:
        """May a call go out now? In the half-open state this claims the one trial slot."""
        if self.failures <= 0:
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            now = self._clock()
            if now - self._opened_at < self.cooldown_s:
                return False
            if self._trial_at is not None and now - self._trial_at < self.trial_ttl_s:
                return False  # a trial call is in flight
            self._trial_at = now
            return True

    def success(self) -> None:
        with self._lock:
            self._count = 0
            self._opened_at = self._trial_at = None

    def failure(self) -> None:
        with self._lock:
            self._count += 1
            if self.failures > 0 and (self._opened_at is not None or self._count >= self.failures):
                self._opened_at = self._clock()  # opens, or a failed trial reopens for a new cooling period
                self._trial_at = None

    def neutral(self) -> None:
        """The call proved nothing either way (e.g. cut short by the request's budget): free the trial slot."""
        with self._lock:
            self._trial_at = None

    def error(self) -> LLMUnavailable:
        return LLMUnavailable(
            "大模型暂不可用（连续失败，冷却中）",
            message_en=f"LLM skipped: circuit breaker open after {self.failures} consecutive failures "
                       f"(cooling for {self.cooldown_s:g} s)",
        )
