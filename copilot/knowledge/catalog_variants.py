"""Which variants a buyer's words name: 「M码黑色有货吗」 names 尺码 M and the 颜色 whose distinctive part is 黑.

A variant's option value is read as tokens (ASCII runs such as ``65W`` / ``XL`` / ``17``, and Chinese runs);
a token is named when it, or its distinctive part, is in the text: a basic colour character (黑 of a
「…黑」 colour), the token without 色/码/款/装/版, an amount's short unit (500G of 500GB), the token itself.
ASCII tokens match only as whole tokens (``L`` is not named by ``XL``, ``17`` is by ``17pro``). For each
option the values with the most named tokens win, a longer model dropped when a shorter one fits; all named
options must agree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+]*|[\u4e00-\u9fff]+")
_COLOURS = set("黑白红蓝绿灰黄紫粉橙棕褐咖金银青")
_SUFFIX = re.compile(r"(色|码|款|装|版)$")
_AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)([A-Za-z]+)$")
_METRES = [(re.compile(r"(\d)\s*厘米"), r"\1cm"), (re.compile(r"(\d)\s*米(?![\u4e00-\u9fff]?[0-9])"), r"\1m")]


class HasOptions(Protocol):
    options: dict[str, str]


def _forms(token: str) -> list[str]:
    """The ways a buyer may name one token of a value (500GB: also 500G; 曜石黑: also 黑; 燕麦色: also 燕麦)."""
    if token.isascii():
        m = _AMOUNT.match(token)
        return [token, m[1] + m[2][0]] if m and len(m[2]) > 1 else [token]
    forms = [token]
    stem = _SUFFIX.sub("", token)
    if stem != token and len(stem) >= 2:
        forms.append(stem)
    forms += [c for c in token if c in _COLOURS]
    return forms


def _named(form: str, text: str) -> bool:
    """Is ``form`` in ``text``, an ASCII form as a whole token (no letter before a letter, no digit before a
    digit: ``xl`` names XL but ``xxl`` does not; ``17pro`` names both 17 and Pro)?"""
    if not form.isascii():
        return form in text
    left = "A-Za-z" if form[0].isalpha() else "0-9."
    right = "A-Za-z" if form[-1].isalpha() else "0-9"
    return re.search(rf"(?<![{left}]){re.escape(form.lower())}(?![{right}])", text) is not None


def _reading(value: str, text: str) -> tuple[int, bool]:
    """(tokens of ``value`` named in ``text``, does an unnamed ASCII token follow the last named ASCII one?);
    ``text`` lowercased. The second says the value is a longer model than the one named (17 Pro Max for
    「17pro」)."""
    tokens = _TOKEN.findall(value) or [value]
    named = [any(_named(f, text) for f in _forms(t)) for t in tokens]
    last = max((i for i, (t, n) in enumerate(zip(tokens, named)) if n and t.isascii()), default=None)
    longer = last is not None and last + 1 < len(tokens) and tokens[last + 1].isascii() and not named[last + 1]
    return sum(named), longer


def named_values(values: Sequence[str], text: str) -> set[str]:
    """The values of one option that ``text`` names (empty when it names none): those with the most named
    tokens, a longer model dropped when a shorter one fits (「17pro」 is 17 Pro, not 17 Pro Max)."""
    read = {v: _reading(v, text) for v in dict.fromkeys(values)}
    best = max((n for n, _ in read.values()), default=0)
    if best == 0:
        return set()
    hits = {v for v, (n, _) in read.items() if n == best}
    if any(not read[v][1] for v in hits):
        hits = {v for v in hits if not read[v][1]}
    # a value inside another named one (黑 inside 曜石黑) is the same word read twice: the longer wins
    return {v for v in hits if not any(v != w and v in w for w in hits)}


def variants_named(variants: Sequence[HasOptions], text: str) -> list:
    """The variants whose option values ``text`` names; [] when it names none."""
    lowered = text.lower()
    for pattern, repl in _METRES:  # 「2米长的」 names 2m
        lowered = pattern.sub(repl, lowered)
    keys = list(dict.fromkeys(k for v in variants for k in v.options))
    wanted: dict[str, set[str]] = {}
    for key in keys:
        hits = named_values([v.options[key] for v in variants if key in v.options], lowered)
        if hits:
            wanted[key] = hits
    if not wanted:
        return []
    return [v for v in variants if all(v.options.get(k) in vals for k, vals in wanted.items())]
