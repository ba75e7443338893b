"""Writers: the interchangeable parts that put a draft into words.

``LLMWriter`` asks the configured chat backend once per request for every
candidate (streamed or not); ``ComposerWriter`` is the offline composer, which
never fails. The pipeline tries its writers in order for each strategy: the
first text that passes the guard is the draft, and the last writer's text is
taken as it is.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import BackendError
from ..rules.base import CheckContext
from ..rules.checking import build_context
from ..rules.guard import guard
from .budget import Budget
from .composer import Composer
from .context import DraftContext
from .grounding import unplanned_facts
from .llm import ChatBackend
from .prompting import PlanPrompt, StrategySpec, drafts_schema, plan_prompt

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

    def prepare(self, ctx: DraftContext, strategies: list[StrategySpec]) -> None:
        """Called once per request with all the strategies to be written, before the first ``write``: a writer
        that produces all candidates in one go (one LLM call for n drafts) does its work here."""

    @abstractmethod
    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        """Yield the draft's text in pieces and append the ids of the knowledge it drew on to ``sources``.

        ``variant`` > 0 asks for another wording of a strategy already used in this request.
        Raises ``BackendError`` when the writer cannot write."""


FORMAT = "大模型返回的格式不对"
MISSING = "大模型没有给出这份草稿"
INVENTED = "大模型草稿含有资料中没有的数字：{figures}"


class DraftCandidate(BaseModel):
    """One candidate of the model's ``{"drafts": [...]}`` reply."""

    model_config = ConfigDict(extra="ignore")
    strategy: str | None = None
    text: str


@dataclass
class _Frame:
    kind: str  # "{" or "["
    start: int
    expect_key: bool = True
    key: str | None = None
    candidate: bool = False  # an object with a "text" or "strategy" key (not inside another candidate)
    strategy: str | None = None
    slot: int | None = None


class CandidateScanner:
    """Finds the draft candidates in a model's reply while it arrives, one piece at a time.

    A candidate is any JSON object with a ``"text"`` (or ``"strategy"``) key, wherever it sits: inside
    ``{"drafts": [...]}`` as asked, in a bare list, alone, after prose or inside a code fence. Each is
    matched to a wanted candidate when its text begins (by the strategy named before it, else the next one
    in order), validated as a ``DraftCandidate`` when it closes, and its text so far is in ``partial``
    (decoded) for streaming. What never closes, or does not validate, is a format error for that candidate."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.buf = ""
        self.stack: list[_Frame] = []
        self.results: dict[int, str | BackendError] = {}
        self.partial: dict[int, str] = {}
        self.done = False
        self.seen_json = False
        self._taken: set[int] = set()
        self._string: list[str] | None = None  # decoded characters of the string being read
        self._is_key = False
        self._escape: str | None = None  # "" right after a backslash, then the hex digits of \uXXXX
        self._high: int | None = None  # a UTF-16 high surrogate waiting for its pair
        self._live: int | None = None  # the slot whose text is being read

    def feed(self, piece: str) -> None:
        start = len(self.buf)
        self.buf += piece
        for i in range(start, len(self.buf)):
            self._char(self.buf[i], i)

    def close(self) -> None:
        """The reply is over: a candidate cut off before it closed is malformed."""
        for f in self.stack:
            if f.slot is not None and f.slot not in self.results:
                self.results[f.slot] = BackendError(FORMAT, message_en="a draft candidate was cut off")
        self.stack, self._string, self.done = [], None, True

    def result(self, slot: int) -> str | BackendError:
        if slot in self.results:
            return self.results[slot]
        return BackendError(MISSING if self.seen_json else FORMAT,
                            message_en="no such candidate in the reply" if self.seen_json else "the reply is not JSON")

    def _slot_for(self, strategy: str | None) -> int | None:
        if strategy in self.keys and self.keys.index(strategy) not in self._taken:
            slot = self.keys.index(strategy)
        else:
            slot = next((i for i in range(len(self.keys)) if i not in self._taken), None)
        if slot is not None:
            self._taken.add(slot)
        return slot

    def _char(self, ch: str, i: int) -> None:
        if self._string is not None:
            self._in_string(ch)
            return
        top = self.stack[-1] if self.stack else None
        if top is None and ch != "{":
            return  # prose, a code fence, the brackets of a bare list
        if ch in "{[":
            self.stack.append(_Frame(ch, i, expect_key=ch == "{"))
            self.seen_json = True
        elif ch in "}]" and top is not None:
            self.stack.pop()
            if top.kind == "{" and top.candidate:
                self._close(top, self.buf[top.start : i + 1])
        elif ch == '"' and top is not None:
            self._string, self._is_key = [], top.kind == "{" and top.expect_key
            if top.candidate and not self._is_key and top.key == "text":
                if top.slot is None:
                    top.slot = self._slot_for(top.strategy)
                self._live = top.slot
        elif ch == "," and top is not None and top.kind == "{":
            top.expect_key, top.key = True, None

    def _in_string(self, ch: str) -> None:
        if self._escape is not None:
            if self._escape == "" and ch != "u":
                self._emit({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(ch, ch))
                self._escape = None
            elif self._escape == "":
                self._escape = "u"
            else:
                self._escape += ch
                if len(self._escape) == 5:
                    code, self._escape = int(self._escape[1:], 16) if _HEX.fullmatch(self._escape[1:]) else 0xFFFD, None
                    if 0xD800 <= code < 0xDC00:
                        self._high = code
                    elif 0xDC00 <= code < 0xE000 and self._high is not None:
                        self._emit(chr(0x10000 + ((self._high - 0xD800) << 10) + (code - 0xDC00)))
                        self._high = None
                    else:
                        self._emit(chr(code))
            return
        if ch == "\\":
            self._escape = ""
        elif ch == '"':
            value, self._string, self._live = "".join(self._string), None, None
            self._ended(value)
        else:
            self._emit(ch)

    def _emit(self, ch: str) -> None:
        self._string.append(ch)
        if self._live is not None:
            self.partial[self._live] = self.partial.get(self._live, "") + ch

    def _ended(self, value: str) -> None:
        top = self.stack[-1]
        if self._is_key:
            top.key, top.expect_key = value, False
            if value in ("text", "strategy") and not any(f.candidate for f in self.stack[:-1]):
                top.candidate = True
        elif top.candidate and top.key == "strategy":
            top.strategy = value

    def _close(self, frame: _Frame, raw: str) -> None:
        if frame.slot is None:
            frame.slot = self._slot_for(frame.strategy)
        if frame.slot is None:
            return  # more candidates than wanted
        try:
            text = DraftCandidate.model_validate(json.loads(raw)).text.strip()
        except (ValueError, ValidationError) as exc:
            self.results[frame.slot] = BackendError(FORMAT, message_en=f"malformed candidate: {exc}"[:300])
            return
        self.results[frame.slot] = text or BackendError(MISSING, message_en="empty candidate")


_HEX = re.compile(r"[0-9a-fA-F]{4}")
_SENTENCE = re.compile(r"(?<=[。！？!?；\n])")


class LLMWriter(Writer):
    """All candidates of a request from one chat call, prompted with the answer plan as data.

    ``prepare`` renders the plan prompt for the request's strategies and makes the call (streamed: opens
    it, and ``write`` reads it as the candidates arrive); ``write`` gives one candidate's text. A call that
    fails is remembered and raised by every ``write``; a candidate that is missing, malformed or states a
    figure the data does not hold raises for that candidate only, so the composer writes it. The
    ``budget`` (one per draft request) bounds the call; once it is spent no call is made. One writer
    serves one request: ``prepare`` starts afresh."""

    def __init__(self, backend: ChatBackend, prompts_dir: Path, *, stream: bool = False,
                 budget: Budget | None = None) -> None:
        self.backend = backend
        self.prompts_dir = prompts_dir
        self.name = backend.name
        self.streams = stream
        self.budget = budget
        self.calls = 0
        self._reset()

    def _reset(self) -> None:
        self.prompt: PlanPrompt | None = None
        self._error: BackendError | None = None
        self._scanner: CandidateScanner | None = None
        self._pieces: Iterator[str] | None = None
        self._check: CheckContext | None = None

    def prepare(self, ctx: DraftContext, strategies: list[StrategySpec]) -> None:
        self._reset()
        if not strategies:
            return
        self.prompt = plan_prompt(self.prompts_dir, ctx, strategies)  # a broken prompt file is a config error
        self._scanner = CandidateScanner(self.prompt.keys)
        self._check = build_context(
            catalog=ctx.catalog, policies="", sku=ctx.product.sku if ctx.product else None, now=ctx.now,
            message=ctx.message, history=ctx.history, analysis=ctx.analysis,
            knowledge="\n".join([*(h.text for h in ctx.hits), ctx.product.statements() if ctx.product else ""]),
        )
        if self.budget is not None and self.budget.exhausted:
            self._error = self.budget.error()
            return
        kw = {"max_tokens": min(1200, 200 + 250 * len(strategies)), "budget": self.budget}
        if self.backend.structured_output:
            kw["json_schema"] = drafts_schema(self.prompt.keys)
        self.calls += 1
        if self.streams:
            self._pieces = iter(self.backend.stream(self.prompt.messages, **kw))
            return
        try:
            reply = self.backend.complete(self.prompt.messages, **kw)
        except BackendError as exc:
            self._error = exc
            return
        self._scanner.feed(reply)
        self._scanner.close()

    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        if self.prompt is None and self._error is None:
            self.prepare(ctx, [strategy] * (variant + 1))  # a caller that did not prepare: this candidate only
        if self._error is not None and self._scanner is None:
            raise self._error
        key = strategy.id if not variant else f"{strategy.id}#{variant + 1}"
        if self.prompt is None or self._scanner is None or key not in self.prompt.keys:
            raise BackendError(MISSING, message_en=f"candidate {key} was not asked for")
        slot, scanner = self.prompt.keys.index(key), self._scanner
        sent = ""
        while True:
            partial = scanner.partial.get(slot, "")
            if self.streams and len(partial) > len(sent):
                yield partial[len(sent):]
                sent = partial
            if slot in scanner.results or scanner.done:
                break
            self._pull()
        self._finish_if_done()
        result = scanner.result(slot)
        if isinstance(result, BackendError):
            raise self._error if self._error is not None and slot not in scanner.results else result
        if sent and sent.strip() != result:
            raise BackendError(FORMAT, message_en="streamed text differs from the parsed candidate")
        if not degenerate(result):  # degenerate text goes on: the pipeline says why it cannot be a draft
            invented = self.unplanned_facts(result)
            if invented:
                raise BackendError(INVENTED.format(figures="、".join(invented[:3])),
                                   message_en=f"figures not in the prompt's data: {invented}")
        sources += self.prompt.sources
        if not sent:
            yield result

    def _pull(self) -> None:
        """One more piece of the streamed reply into the scanner (the end or a failure closes it)."""
        try:
            if self._pieces is None:
                raise StopIteration
            piece = next(self._pieces)
        except StopIteration:
            self._scanner.close()
        except BackendError as exc:
            self._error = exc
            self._scanner.close()
        else:
            self._scanner.feed(piece)

    def _finish_if_done(self) -> None:
        """Every candidate is in: let go of the stream (closing its connection)."""
        scanner = self._scanner
        if self._pieces is not None and (scanner.done or len(scanner.results) == len(scanner.keys)):
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
            self._pieces = None

    def unplanned_facts(self, text: str) -> list[str]:
        """Figures in ``text`` that the prompt's data does not hold. The tone rules judge first: a sentence
        they cut or fail (「只剩最后2件」「便宜50」) is left to them, their notice says more."""
        if self.prompt is None:
            return []
        basis = text
        if self._check is not None:
            guarded, report, _ = guard(text, self._check)
            spans = [c.span for c in report.failed if c.span]
            basis = "".join(x for x in _SENTENCE.split(guarded) if not any(sp in x for sp in spans))
        return unplanned_facts(basis, self.prompt.data_text)


class ComposerWriter(Writer):
    """The offline composer: grounded, deterministic, always available."""

    def __init__(self, composer: Composer) -> None:
        self.composer = composer
        self.name = composer.name

    def write(self, ctx: DraftContext, strategy: StrategySpec, variant: int, sources: list[str]) -> Iterator[str]:
        text, used = self.composer.compose(ctx, strategy, variant)
        sources += used
        yield text
