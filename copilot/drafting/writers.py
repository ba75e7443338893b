"""Writers: the interchangeable parts that put a draft into words.

``LLMWriter`` asks the configured chat backend (streamed or not);
``ComposerWriter`` is the offline composer, which never fails. The pipeline
tries its writers in order for each strategy: the first text that passes the
guard is the draft, and the last writer's text is taken as it is.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from .budget import Budget
from .composer import Composer
from .context import DraftContext
from .llm import ChatBackend
from .prompting import StrategySpec, draft_messages

MAX_DRAFT_CHARS = 600
_REPEATS = re.compile(r"(.{2,10}?)(?:[、，,。；\s]*\1){4,}")  # 「照片、照片、照片、照片、照片」
_FINAL = "。！？!?～~…）)」』\"”"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def degenerate(text: str) -> str | None:
    """Why a model's text cannot be a draft at all (before any tone rule): None when it can.

    Repetition loops, text cut off mid-sentence at the token limit, the wrong language, empty or over-long text.
    The composer's draft replaces such text, with a notice."""
    body = text.strip()
    if len(_CJK.findall(body)) < 4:
        return "内容为空或不是中文" if len(_LATIN.findall(body)) < 8 else "不是中文"
    if len(body) > MAX_DRAFT_CHARS:
        return f"过长（{len(body)} 字）"
    if _REPEATS.search(body):
        return "出现重复循环"
    if len(_LATIN.findall(body)) > len(_CJK.findall(body)):
        return "不是中文"
    if body[-1] not in _FINAL and len(body) > 60:
        return "在句中被截断"
    return None


class Writer(ABC):
    name: str = "writer"
    streams: bool = False  # yields the text in several pieces as it is produced

    @abstractmethod
    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        """Yield the draft's text in pieces and append the ids of the knowledge it drew on to ``sources``.

        ``variant`` > 0 asks for another wording of a strategy already used in this request.
        Raises ``BackendError`` when the writer cannot write."""


class LLMWriter(Writer):
    """A draft from a chat backend, prompted with the persona, strategy, facts and knowledge as data.

    With a ``budget`` (one per draft request, shared by its candidates) every call is bounded by what is
    left of it, and once it is spent the writer gives up at once without calling."""

    def __init__(self, backend: ChatBackend, prompts_dir: Path, *, stream: bool = False,
                 budget: Budget | None = None) -> None:
        self.backend = backend
        self.prompts_dir = prompts_dir
        self.name = backend.name
        self.streams = stream
        self.budget = budget

    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        if self.budget is not None and self.budget.exhausted:
            raise self.budget.error()
        messages = draft_messages(self.prompts_dir, ctx, strategy)
        sources += [h.id for h in ctx.hits[:5]]
        if self.streams:
            yield from self.backend.stream(messages, budget=self.budget)
        else:
            yield self.backend.complete(messages, budget=self.budget)


class ComposerWriter(Writer):
    """The offline composer: grounded, deterministic, always available."""

    def __init__(self, composer: Composer) -> None:
        self.composer = composer
        self.name = composer.name

    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        text, used = self.composer.compose(ctx, strategy, variant)
        sources += used
        yield text
