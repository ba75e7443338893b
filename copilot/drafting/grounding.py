"""Figures in an LLM draft that the data it was given does not contain.

A model that was shown the answer plan, the product facts, the conversation and the buyer's message has no
source for any other number: a price, a duration, a percentage or a count it writes beyond those is invented
(or at best a lucky guess), so the draft is not sent as it is. ``unplanned_facts(text, data)`` lists them.

Figures are compared by value, so 「十二天」 is backed by 「12天」 and 「159元」 by 「159.0」. Digits glued to Latin
letters are identifiers or size labels (「2XL」, 「AB-1001」), not claims, and are left alone; so are digits
next to a masked part of personal data (「138****5678」).
"""

from __future__ import annotations

import re
import unicodedata

# a figure: digits, or a Chinese numeral that a unit makes a quantity (「一下」「一起」 are not figures)
_DIGITS = re.compile(r"(?<![A-Za-z\d.*])(?<![A-Za-z]-)(\d+(?:\.\d+)?)(?![\d.]*[A-Z*])")
_UNITS = r"(?:个)?(?:小时|分钟|天|周|个月|月|年|元|块|折|件|倍|斤|公斤|克|度|号|日|点|次|台|条|双|瓶|盒|%)"
_CN_FIGURE = re.compile(rf"([零〇一二两三四五六七八九十百千万]+|半)(?={_UNITS})")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_SHOWN_UNIT = re.compile(r"\s?(%|％|元|块|折|天|小时|分钟|周|个月|月|年|件|斤|公斤|kg|g|cm|ml|度|℃|号|日|点|倍)?")
# 「一」 before a measure word is an article, not a claim: 「一件」「一下」「一次」
_ARTICLE = re.compile(r"一(?=个|件|下|次|条|双|瓶|盒|台|点)")


def chinese_number(token: str) -> float | None:
    """「十五」→15, 「两」→2, 「二十五」→25, 「一百二」→120, 「半」→0.5; None when it is not a numeral."""
    if token == "半":
        return 0.5
    total, section, digit, last_unit = 0, 0, None, 1
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
            last_unit = unit
        else:
            return None
    if digit is not None:
        # 「一百二」 means 120: a trailing digit after a unit counts one place below it
        section += digit * (last_unit // 10 if last_unit >= 100 and len(token) > 1 and token[-2] in _CN_UNITS else 1)
    return float(total + section)


def figures(text: str) -> list[tuple[float, str]]:
    """Every figure in ``text`` as (value, how it was written, with its unit when it has one)."""
    text = unicodedata.normalize("NFKC", text)
    out: list[tuple[float, str]] = []
    for m in _DIGITS.finditer(text):
        unit = _SHOWN_UNIT.match(text, m.end())
        out.append((float(m.group(1)), m.group(1) + (unit.group(1) or "" if unit else "")))
    masked = _ARTICLE.sub("", text)
    for m in _CN_FIGURE.finditer(masked):
        value = chinese_number(m.group(1))
        if value is not None:
            unit = _SHOWN_UNIT.match(masked, m.end())
            out.append((value, m.group(1) + (unit.group(1) or "" if unit else "")))
    return out


def unplanned_facts(text: str, data: str) -> list[str]:
    """The figures of ``text`` whose values appear nowhere in ``data`` (what the model was shown), as written."""
    known = {value for value, _ in figures(data)}
    return list(dict.fromkeys(shown for value, shown in figures(text) if value not in known))
