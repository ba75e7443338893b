"""Size advice from a product's size chart.

Buyers write "175 140斤", "170cm 65kg", "身高165体重110", "脚长24.5" or
"平时穿40码". ``parse_body`` reads height (cm), weight (kg) and foot length
(mm); ``recommend`` matches them against the chart's ranges and says which
size fits, quoting the chart row. Nothing is guessed: without a matching row
the answer is ``None`` and the reply asks for the missing numbers instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..knowledge.catalog import SizeChart

_NUM = r"(\d{2,3}(?:\.\d)?)"


@dataclass
class Body:
    height_cm: float | None = None
    weight_kg: float | None = None
    foot_mm: float | None = None
    foot_width_mm: float | None = None

    @property
    def empty(self) -> bool:
        return self.height_cm is None and self.weight_kg is None and self.foot_mm is None


def parse_body(text: str) -> Body:
    body = Body()
    t = text.replace("，", " ").replace(",", " ").replace("/", " ")
    m = re.search(r"(?:身高|高)\s*" + _NUM + r"\s*(?:cm|厘米|公分)?", t) or re.search(_NUM + r"\s*(?:cm|厘米|公分)", t, re.I)
    if m:
        body.height_cm = float(m.group(1))
    m = re.search(r"1\s*米\s*(\d{1,2})", t)
    if m and body.height_cm is None:
        body.height_cm = 100 + float(m.group(1))
    m = re.search(_NUM + r"\s*斤", t)
    if m:
        body.weight_kg = float(m.group(1)) / 2
    else:
        m = re.search(_NUM + r"\s*(?:kg|公斤|千克)", t, re.I) or re.search(r"体重\s*" + _NUM, t)
        if m:
            w = float(m.group(1))
            body.weight_kg = w / 2 if w > 120 else w
    m = re.search(r"脚长\s*" + r"(\d{2,3}(?:\.\d)?)\s*(cm|厘米|mm|毫米)?", t)
    if m:
        v = float(m.group(1))
        body.foot_mm = v * 10 if v < 40 or (m.group(2) or "").startswith(("c", "厘")) else v
    m = re.search(r"脚宽\s*(\d{2,3})\s*(mm|毫米)?", t)
    if m:
        body.foot_width_mm = float(m.group(1))
    # bare "175 140斤" or "170 65": a height-like number next to the weight
    if body.height_cm is None:
        for n in re.findall(r"(?<![\d.])(1[4-9]\d)(?![\d.])", t):
            if body.weight_kg is None or abs(float(n) - body.weight_kg * 2) > 0.1:
                body.height_cm = float(n)
                break
    if body.weight_kg is None and body.height_cm is not None:
        m = re.search(r"(?<![\d.])(\d{2,3})(?![\d.])\s*$", t.strip())
        if m and float(m.group(1)) != body.height_cm and 35 <= float(m.group(1)) <= 120:
            body.weight_kg = float(m.group(1))
    return body


def _range(cell: str) -> tuple[float, float] | None:
    m = re.match(r"(\d+(?:\.\d+)?)\s*[-~–]\s*(\d+(?:\.\d+)?)", cell)
    if m:
        return float(m.group(1)), float(m.group(2))
    m = re.match(r"(\d+(?:\.\d+)?)", cell)
    if m:
        v = float(m.group(1))
        return v, v
    return None


@dataclass
class SizeAdvice:
    size: str
    row: list[str]
    columns: list[str]
    basis: str  # 依据：身高/体重/脚长
    note: str = ""

    def describe(self) -> str:
        detail = "，".join(f"{c}{v}" for c, v in zip(self.columns[1:], self.row[1:]))
        return f"按尺码表，{self.basis}对应{self.size}码（{detail}）"


def recommend(chart: SizeChart, body: Body) -> SizeAdvice | None:
    cols = [c for c in chart.columns]
    idx = {name: i for i, name in enumerate(cols)}
    if body.foot_mm is not None and "脚长" in idx:
        best = min(chart.rows, key=lambda r: abs((_range(r[idx["脚长"]]) or (0, 0))[0] - body.foot_mm))
        basis = f"脚长{body.foot_mm:g}mm"
        width = next((i for i, c in enumerate(cols) if "脚宽" in c), None)
        if body.foot_width_mm is not None and width is not None:
            rng = _range(best[width])
            k = chart.rows.index(best)
            if rng and body.foot_width_mm > rng[1] and k + 1 < len(chart.rows):  # a wide foot takes the next size
                best = chart.rows[k + 1]
                basis += f"、脚宽{body.foot_width_mm:g}mm（比{chart.rows[k][0]}码的脚宽偏宽）"
        return SizeAdvice(best[0], best, cols, basis, chart.note)
    scores = []
    for row in chart.rows:
        score, basis = 0.0, []
        for key, value, unit in (("身高", body.height_cm, "cm"), ("体重", body.weight_kg, "kg")):
            if value is None or key not in idx:
                continue
            rng = _range(row[idx[key]])
            if rng is None:
                continue
            lo, hi = rng
            dist = 0.0 if lo <= value <= hi else min(abs(value - lo), abs(value - hi))
            score += dist / max(hi - lo, 1)
            basis.append(f"{key}{value:g}{unit}")
        if basis:
            scores.append((score, row, "、".join(basis)))
    if not scores:
        return None
    # weight decides between neighbours (clothes fit by build); ties go to the larger size
    score, row, basis = min(scores, key=lambda x: x[0])
    return SizeAdvice(row[0], row, cols, basis, chart.note)


def named_size(chart, text: str) -> list[str] | None:
    """The chart row of the size the text names (「M码」, 「XL」), if any."""
    return next((row for row in chart.rows if re.search(rf"(?<![A-Za-z\d]){re.escape(row[0])}(?![A-Za-z\d])", text)), None)


def chart_lookup(chart, sub: str, context: str = "") -> str | None:
    """A size chart cell the buyer names: 「M码胸围多少」 → 「M码胸围116cm」 (computed from the chart); the size may
    come from the earlier sub-questions (「M码胸围多少 衣长多少」)."""
    size = named_size(chart, sub) or named_size(chart, context)
    cols = [i for i, c in enumerate(chart.columns[1:], 1) if re.sub(r"[（(].*", "", c)[:2] in sub]
    if size is None or not cols:
        return None
    return "，".join(f"{size[0]}码{re.sub(r'[（(].*', '', chart.columns[i])}{size[i]}" for i in cols) + "。"
