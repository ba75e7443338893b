"""Trace every fact a draft states to the store's own files.

A reply may only state what this store says: a number (a price, a duration, a count, a spec), a carrier, a
guarantee (七天无理由, 运费险, 价保, 假一赔N …) or a counting unit is *traced* when the store's knowledge files
(``knowledge/store/``: catalog, policies, FAQs) say it, when the conversation said it (the buyer's own 170cm),
or when it is a figure computed from the catalog (a price after a discount, two items at 第二件半价, a
promotion's end day). Anything else came from somewhere else — a template, another shop, a model's memory —
and is reported as ``Untraced``. The agent-facing articles in ``docs/`` are not store facts: a 话术 article's
「N天无理由」 does not make it this store's rule.

The tracer knows Chinese and e-commerce in general (number words, carrier names, guarantee phrases), never one
shop: the shop's facts are read from its folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import product as pairs
from pathlib import Path

from pydantic import BaseModel

from ..knowledge import catalog as catalogs
from ..knowledge.catalog import Catalog
from ..knowledge.layout import KnowledgeLayout
from ..schema import URGENCY_HOURS
from ..text.vocabulary import CARRIERS

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUM = r"[零〇一二两三四五六七八九十百]+"
# couriers and delivery services buyers and shops name (generic Chinese e-commerce knowledge, not one shop's)
# guarantees a shop may or may not offer: each one stated in a reply must be the store's own
GUARANTEES = ("无理由", "运费险", "退货险", "假一赔", "假一罚", "正品保障", "价保", "价格保护", "保价", "包邮", "免邮",
              "质保", "保修", "上门取件", "极速退款", "先行赔付", "包赔", "包退", "包换", "终身", "晚发必赔", "延误必赔",
              "破损补发", "坏果", "以旧换新", "只换不修", "免费换新")
UNITS = "件个只双套盒瓶支罐袋包箱条台片份听桶颗粒枚张把副对块斤"
# a figure with what it measures; the unit decides what kind of fact it is
FIGURE = re.compile(
    rf"(?<![A-Za-z0-9*.])(\d+(?:\.\d+)?|{CN_NUM})(?:\s?[-~～到至]\s?(\d+(?:\.\d+)?|{CN_NUM}))?\s?"
    r"(元|块钱|块|个工作日|工作日|天|小时|分钟|周|个月|月|年|%|折|(?:mAh|W|GB|TB|ml|mL|g|kg|cm|mm|m|℃|米|厘米|毫升|克|斤|度)"
    rf"|[{UNITS}])?(?![A-Za-z0-9*])"
)
DATE = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})|(\d{1,2})点")
KINDS = {"元": "money", "块钱": "money", "块": "money", "折": "money", "%": "percent"}
DURATIONS = {"个工作日", "工作日", "天", "小时", "分钟", "周", "个月", "月", "年"}


class Untraced(BaseModel):
    kind: str  # number | duration | money | count | carrier | guarantee | date
    text: str
    reason: str


def cn_number(s: str) -> float | None:
    """「十五」→15, 「两」→2, 「三百」→300; digits as they are; None when not a number."""
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if not re.fullmatch(CN_NUM, s):
        return None
    total, current = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return float(total + current)


def _kind(unit: str) -> str:
    if unit in KINDS:
        return KINDS[unit]
    if unit in DURATIONS:
        return "duration"
    if unit and unit in UNITS:
        return "count"
    return "number"


@dataclass
class Figure:
    value: float
    high: float | None
    unit: str
    text: str

    @property
    def kind(self) -> str:
        return _kind(self.unit)


def figures(text: str) -> list[Figure]:
    out = []
    for m in FIGURE.finditer(text):
        v = cn_number(m.group(1))
        if v is None:
            continue
        if re.fullmatch(CN_NUM, m.group(1)) and not m.group(3):
            continue  # 「一下」「一起」: a number word is a figure only with what it counts
        high = cn_number(m.group(2)) if m.group(2) else None
        out.append(Figure(v, high, m.group(3) or "", m.group(0).strip()))
    return out


class StoreEvidence:
    """What one store's files state, read once: their text, figures, units, dates and the catalog."""

    def __init__(self, knowledge_dir: Path, catalog: Catalog | None = None) -> None:
        layout = KnowledgeLayout(knowledge_dir)
        texts = [p.read_text(encoding="utf-8", errors="replace")
                 for p in sorted(layout.store.glob("*")) if p.suffix.lower() in {".md", ".csv", ".yaml", ".yml", ".txt"}
                 and p.name != "lexicon.yaml"] if layout.store.is_dir() else []
        self.catalog = catalog or catalogs.load_store_catalog(Path(knowledge_dir))
        texts += [p.describe() for p in self.catalog.products]
        self.text = _norm("\n".join(texts))
        self.values: set[float] = set()
        self.by_kind: dict[str, set[float]] = {}
        for f in figures(self.text):
            for v in (f.value, f.high):
                if v is not None:
                    self.values.add(v)
                    self.by_kind.setdefault(f.kind, set()).add(v)
        money = set(self.by_kind.get("money", set()))
        for p in self.catalog.products:
            money |= {p.price, *([p.original_price] if p.original_price else []),
                      *([p.next_price.price] if p.next_price else []),
                      *(v.price for v in getattr(p, "variants", []) if getattr(v, "price", None))}
        self.money = money
        self.computed = _closure(money)
        self.units = {u for u in UNITS if re.search(rf"(\d|{CN_NUM}){u}", self.text)} | {p.unit for p in self.catalog.products}
        self.dates: set[tuple[int, int]] = {(int(a), int(b)) for a, b in DATE.findall(self.text)}
        for t in self._times():
            local = t.astimezone(self.catalog.tz)
            self.dates |= {(local.month, local.day), ((local - timedelta(minutes=1)).month, (local - timedelta(minutes=1)).day)}

    def _times(self) -> list[datetime]:
        out = []
        shop = self.catalog.shop
        promos = [*getattr(shop, "promotions", []), *getattr(shop, "coupons", [])]
        for p in self.catalog.products:
            promos += p.promotions
            if p.next_price:
                out.append(p.next_price.effective_at)
        for pr in promos:
            out += [pr.starts_at, pr.ends_at]
        return out

    # ------------------------------------------------------------------ trace ---

    def trace(self, draft: str, conversation: str = "", now: datetime | None = None) -> list[Untraced]:
        """The facts in ``draft`` that neither this store's files nor ``conversation`` state (nor the catalog computes)."""
        text, said = _norm(draft), _norm(conversation)
        said_values = {v for f in figures(said) for v in (f.value, f.high) if v is not None}
        said_values |= {round(v * k, 2) for v in said_values for k in (0.5, 2, 0.01, 100)}  # 130斤 = 65kg, 1.7m = 170cm
        out: list[Untraced] = []
        masked = _masked_spans(text)
        for m in FIGURE.finditer(text):
            if any(a <= m.start() < b for a, b in masked):
                continue
            f = next(iter(figures(m.group(0))), None)
            if f is None or self._traced(f, said_values, now):
                continue
            out.append(Untraced(kind=f.kind, text=f.text, reason=f"「{f.text}」在本店的商品、政策和问答里都找不到"))
        for m in DATE.finditer(text):
            md = (int(m.group(1)), int(m.group(2)))
            if md not in self.dates and m.group(0) not in said and not _near_now(md, now):
                out.append(Untraced(kind="date", text=m.group(0), reason=f"日期「{m.group(0)}」不是本店活动或政策里的日期"))
        for c in CARRIERS:
            if c in text and c not in self.text:
                out.append(Untraced(kind="carrier", text=c, reason=f"本店知识里没有「{c}」这家快递"))
        for g in GUARANTEES:
            if g in text and g not in self.text and not _said_back(g, text, said):
                out.append(Untraced(kind="guarantee", text=g, reason=f"本店知识里没有「{g}」这项保障"))
        for m in re.finditer(rf"(\d+|{CN_NUM})\s?([{UNITS}])", text):
            unit = m.group(2)
            if unit not in self.units and m.group(0) not in said and not _ordinal(text, m.start()):
                out.append(Untraced(kind="unit", text=m.group(0), reason=f"本店商品不用「{unit}」作单位"))
        return _dedupe(out)

    def _traced(self, f: Figure, said: set[float], now: datetime | None) -> bool:
        values = [v for v in (f.value, f.high) if v is not None]
        if all(v in said for v in values):
            return True
        if f.kind == "count" or (f.kind == "number" and not f.unit):
            # a bare count or small number (「2件」「第1次」「1个」) and figures that are only parts of a date or time
            return all(v <= 10 or v in self.values for v in values)
        if f.kind == "money":
            return all(v in self.money or v in self.computed for v in values)
        if f.kind == "percent":
            return all(v in self.values for v in values)
        if f.kind == "duration":
            if f.unit == "小时" and values == [float(URGENCY_HOURS)]:
                return True  # 「N小时内结束」 is how a reply names a promotion's last hours (computed from its end)
            return all(v in self.by_kind.get("duration", set()) or v in self.values for v in values)
        return all(v in self.values for v in values)


def _closure(values: set[float]) -> set[float]:
    """Figures the catalog computes from the store's money: differences, sums, multiples, fractions, 折."""
    base = sorted(v for v in values if 0 < v <= 100_000)[:400]
    out: set[float] = set()
    for a, b in pairs(base, base):
        out |= {round(a - b, 2), round(a + b, 2)}
    for a in base:
        for k in range(2, 11):
            out |= {round(a * k, 2), round(a / k, 2), round(a * k / 10, 2), round(a * 1.5, 2)}
        for k in range(1, 100):
            out.add(round(a * k / 100, 2))  # 「85折」 → 0.85 × price; a percentage of a price
    return {v for v in out if v > 0}


def _norm(text: str) -> str:
    return text.replace("７", "7").replace("：", ":")


def _masked_spans(text: str) -> list[tuple[int, int]]:
    """Personal data already masked (138****5678) and identifiers (order numbers, SKUs) are not facts."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"[\w-]*\*{2,}[\w-]*", text)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"\d{9,}|[A-Za-z]+-?\d+[A-Za-z0-9-]*|\d+[A-Za-z]{1,3}\b", text)]
    spans += [(m.start(), m.end()) for m in DATE.finditer(text)]
    spans += [(m.start(), m.end()) for m in CLOCK.finditer(text)]
    return spans


def _near_now(md: tuple[int, int], now: datetime | None) -> bool:
    if now is None:
        return False
    return any(((now + timedelta(days=d)).month, (now + timedelta(days=d)).day) == md for d in (-1, 0, 1))


def _said_back(phrase: str, draft: str, said: str) -> bool:
    """A guarantee the buyer named that the reply only answers about (「您问的运费险…」) is not a claim of it."""
    return phrase in said and bool(re.search(rf"(您|亲)?(问的|说的|提到的)[^。！？]{{0,6}}{phrase}", draft))


def _ordinal(text: str, start: int) -> bool:
    """「第2件」「每1袋」 count positions, not stock."""
    return text[max(0, start - 1):start] in ("第", "每")


def _dedupe(items: list[Untraced]) -> list[Untraced]:
    seen, out = set(), []
    for u in items:
        if (u.kind, u.text) not in seen:
            seen.add((u.kind, u.text))
            out.append(u)
    return out


__all__ = ["StoreEvidence", "Untraced", "figures", "cn_number", "CARRIERS", "GUARANTEES"]
