"""Chinese-aware chunking: structure first, then sentence ends.

A cleaned document (one structural unit per line) is split into sections at
headings (``一、`` ``（一）`` ``1.`` ``1.1`` ``★`` ``①`` Markdown ``#``, slide
titles such as ``01电子商务客服概述``). Tiny neighbouring sections under the
same parent are packed together; long sections are split at sentence ends
(。！？；) with a small overlap. A sentence is never cut unless it alone is
longer than the hard limit (then it is cut at commas).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cleaning import CJK

_CN_NUM = "一二三四五六七八九十"
_HEADINGS: list[tuple[int, re.Pattern]] = [
    (1, re.compile(r"^(#)\s+\S")),
    (1, re.compile(rf"^[{_CN_NUM}]{{1,3}}、")),
    (1, re.compile(rf"^第[{_CN_NUM}\d]{{1,3}}[章节部分篇]")),
    (1, re.compile(rf"^0\d[{CJK}]{{2,20}}$")),  # slide section titles: 01电子商务客服概述
    (2, re.compile(r"^(##)\s+\S")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]{{1,3}}[）)]")),
    (2, re.compile(rf"^\d{{1,2}}\.\d{{1,2}}(?=[{CJK}])")),
    (3, re.compile(r"^(###)\s+\S")),
    (3, re.compile(rf"^\d{{1,2}}[.、](?=\s*[{CJK}“])")),
    (4, re.compile(r"^(####+)\s+\S")),
    (4, re.compile(r"^[★☆●◆■]")),
    (4, re.compile(r"^[①②③④⑤⑥⑦⑧⑨⑩]")),
    (4, re.compile(rf"^案例[{_CN_NUM}\d]{{1,3}}[:：]?$")),
    (4, re.compile(rf"^([{CJK}]{{2}}型|艺术家)特点[:：]")),
]
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])(?![”」』\"])|(?<=[。！？][”」』])")
_SOFT_BREAK = re.compile(r"(?<=[，、：,])")
_TITLE_MAX = 24


def heading_level(line: str) -> int:
    """0 for body text, else 1 (top) .. 4."""
    for level, pattern in _HEADINGS:
        if pattern.match(line):
            return level
    return 0


def heading_title(line: str) -> str:
    """The short title of a heading line (a slide heading may run into its body)."""
    title = re.sub(r"^#+\s*", "", line).strip()
    title = re.split(r"[。！？；]", title, maxsplit=1)[0]
    return title if len(title) <= _TITLE_MAX else title[:_TITLE_MAX] + "…"


def split_sentences(text: str) -> list[str]:
    parts: list[str] = []
    for line in text.split("\n"):
        parts += [s for s in _SENTENCE_END.split(line) if s.strip()]
    return parts


@dataclass
class Section:
    path: tuple[str, ...]
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def sections_of(text: str) -> list[Section]:
    """Group lines under their heading path."""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        level = heading_level(line)
        if level:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading_title(line)))
            shown = re.sub(r"^#+\s*", "", line)
            sections.append(Section(tuple(t for _, t in stack), [shown]))
        else:
            if not sections:
                sections.append(Section(()))
            sections[-1].lines.append(line)
    return sections


@dataclass
class ChunkerConfig:
    target: int = 300  # characters per chunk, aimed for
    overlap: int = 60  # characters of trailing sentences repeated in the next chunk
    min_size: int = 80  # sections smaller than this are packed with neighbours

    @property
    def hard_max(self) -> int:
        return max(self.target * 2, 120)

    def fingerprint(self) -> str:
        return f"t{self.target}-o{self.overlap}-m{self.min_size}"


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for x, y in zip(a, b):
        if x != y:
            break
        out.append(x)
    return tuple(out)


def _cut_long_sentence(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    pieces, cur = [], ""
    for part in _SOFT_BREAK.split(sentence):
        while len(part) > limit:  # no commas at all: last resort, fixed width
            pieces.append(cur + part[: limit - len(cur)])
            part, cur = part[limit - len(cur):], ""
        if len(cur) + len(part) > limit and cur:
            pieces.append(cur)
            cur = ""
        cur += part
    if cur:
        pieces.append(cur)
    return pieces


def split_long(text: str, cfg: ChunkerConfig) -> list[str]:
    """Pack sentences into pieces of about ``cfg.target`` chars with overlap."""
    sentences: list[str] = []
    for s in split_sentences(text):
        sentences += _cut_long_sentence(s, cfg.hard_max)
    pieces: list[str] = []
    cur: list[str] = []
    size = 0
    fresh = False  # does ``cur`` hold anything beyond the overlap tail?
    for s in sentences:
        if fresh and size + len(s) > cfg.target:
            pieces.append("".join(cur))
            tail: list[str] = []
            tail_size = 0
            for prev in reversed(cur):
                if tail_size + len(prev) > cfg.overlap:
                    break
                tail.insert(0, prev)
                tail_size += len(prev)
            cur, size = tail, tail_size
        cur.append(s)
        size += len(s)
        fresh = True
    if fresh:
        pieces.append("".join(cur))
    return pieces


def chunk_text(text: str, cfg: ChunkerConfig | None = None, *, pack: bool = True) -> list[tuple[tuple[str, ...], str]]:
    """Split cleaned text into ``(section_path, chunk_text)`` pairs.

    With ``pack=False`` every section stays its own chunk (policies: each
    policy section is one unit, split only if it is very long).
    """
    cfg = cfg or ChunkerConfig()
    out: list[tuple[tuple[str, ...], str]] = []
    cur: Section | None = None

    def flush() -> None:
        nonlocal cur
        if cur and cur.lines:
            out.append((cur.path, cur.text))
        cur = None

    for sec in sections_of(text):
        body = sec.text
        if len(body) > (cfg.hard_max if not pack else cfg.target):
            flush()
            out += [(sec.path, piece) for piece in split_long(body, cfg)]
            continue
        if not pack:
            out.append((sec.path, body))
            continue
        if (
            cur is not None
            and _common(cur.path, sec.path)
            and len(cur.text) + len(body) <= cfg.target
            and (len(cur.text) < cfg.min_size or len(body) < cfg.min_size)
        ):
            cur.lines += sec.lines
            cur.path = _common(cur.path, sec.path)
        else:
            flush()
            cur = Section(sec.path, list(sec.lines))
    flush()
    return out
