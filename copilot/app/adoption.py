"""The adoption report: what agents did with the drafts, from the feedback store.

Per action (one row of ``feedback``): adopted as-is, edited then sent, rejected. Per drafting request (``drafted``,
logged by the workspace and the API): requests nobody acted on are *ignored*, and the assistance rate is the share
of requests whose draft went out (as-is or edited). Broken down by strategy, persona, stage, backend, agent and
day; how much agents edit (character edit distance of the sent text against the draft), the top reject reasons,
the time from drafting to action and drafting latency. ``render_html`` writes it as one self-contained Chinese page
with inline SVG charts.
"""

from __future__ import annotations

import difflib
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timezone, tzinfo
from html import escape

from pydantic import BaseModel, Field

EDIT_BUCKETS = ("≤10%", "10–30%", "30–60%", ">60%")
DIMENSIONS = {"strategy": "策略", "persona": "买家类型", "stage": "阶段", "backend": "后端", "agent": "客服", "day": "日期"}


class Group(BaseModel):
    key: str
    actions: int
    adopted: int
    edited: int
    rejected: int
    adopted_rate: float
    edited_rate: float
    rejected_rate: float


class Spread(BaseModel):
    n: int
    p50: float | None = None
    p90: float | None = None


class AdoptionReport(BaseModel):
    generated_at: str
    drafted: int = Field(description="drafting requests logged (workspace and API)")
    actions: int
    adopted: int
    edited: int
    rejected: int
    ignored: int = Field(description="logged requests no action refers to")
    adopted_rate: float | None = Field(description="share of actions: sent as drafted")
    edited_rate: float | None
    rejected_rate: float | None
    ignored_rate: float | None = Field(description="share of logged requests nobody acted on")
    assistance_rate: float | None = Field(description="share of logged requests whose draft was sent (as-is or edited)")
    edit_distance: dict[str, int] = Field(description="edited replies by how much of the draft changed")
    by: dict[str, list[Group]]
    reasons: list[tuple[str, int]]
    time_to_action_s: Spread
    latency_ms: Spread


def _rate(x: int, n: int) -> float | None:
    return round(x / n, 4) if n else None


def edit_share(draft: str, final: str) -> float:
    """How much of the draft the agent changed: 1 − the similarity of the two texts (0 = sent as drafted)."""
    return 1.0 - difflib.SequenceMatcher(None, draft, final, autojunk=False).ratio()


def _bucket(x: float) -> str:
    return EDIT_BUCKETS[0] if x <= 0.1 else EDIT_BUCKETS[1] if x <= 0.3 else EDIT_BUCKETS[2] if x <= 0.6 else EDIT_BUCKETS[3]


def _spread(values: list[float]) -> Spread:
    if not values:
        return Spread(n=0)
    values = sorted(values)
    return Spread(n=len(values), p50=round(statistics.median(values), 2),
                  p90=round(values[min(len(values) - 1, int(0.9 * len(values)))], 2))


def _reason(text: str) -> str:
    return re.sub(r"[\s，。！？!?,.～~]+$", "", text.strip())[:40]


# what the report shows of a feedback row (masked again on read); the draft and sent texts are only compared
SHOWN = ("reason", "strategy", "persona_detected", "persona_override", "stage", "agent", "backend")


def adoption_of(settings, store=None) -> tuple[AdoptionReport, str]:
    """(report, shop name) straight from the feedback store and the catalog file: no index or model is loaded."""
    from ..knowledge.catalog_io import CatalogFile
    from ..knowledge.layout import KnowledgeLayout
    from .feedback import FeedbackStore

    catalog = CatalogFile(KnowledgeLayout(settings.knowledge_dir).catalog).get()
    store = store or FeedbackStore(settings.feedback_path, settings.pii_mask)
    tz = catalog.tz if catalog else timezone.utc
    return build_report(store.rows(shown=SHOWN), store.drafted_rows(), tz), catalog.shop.name if catalog else ""


def build_report(rows: list[dict], drafted: list[dict], tz: tzinfo = timezone.utc) -> AdoptionReport:
    """The report from the feedback rows (``FeedbackStore.rows``) and the logged requests (``drafted_rows``)."""
    groups: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in DIMENSIONS}
    counts: Counter = Counter()
    edits: Counter = Counter({b: 0 for b in EDIT_BUCKETS})
    reasons: Counter = Counter()
    acted_s, sent_requests, acted_requests = [], set(), set()
    for r in rows:
        action = {"adopt": "adopted", "edit": "edited", "reject": "rejected"}[r["action"]]
        counts[action] += 1
        day = datetime.fromtimestamp(r["ts"], tz).strftime("%Y-%m-%d")
        keys = {"strategy": r.get("strategy"), "persona": r.get("persona_override") or r.get("persona_detected"),
                "stage": r.get("stage"), "backend": r.get("backend"), "agent": r.get("agent"), "day": day}
        for dim, key in keys.items():
            g = groups[dim][key or "（未记录）"]
            g[action] += 1
        if action == "edited" and r.get("final_text"):
            edits[_bucket(edit_share(r["draft_text"], r["final_text"]))] += 1
        if action == "rejected" and r.get("reason"):
            reasons[_reason(r["reason"])] += 1
        if r.get("acted_s") is not None:
            acted_s.append(float(r["acted_s"]))
        if r.get("request_id"):
            acted_requests.add(r["request_id"])
            if action != "rejected":
                sent_requests.add(r["request_id"])
    logged = {d["request_id"] for d in drafted}
    ignored = len(logged - acted_requests)
    actions = sum(counts.values())

    def group(key: str, c: Counter) -> Group:
        n = sum(c.values())
        return Group(key=key, actions=n, adopted=c["adopted"], edited=c["edited"], rejected=c["rejected"],
                     adopted_rate=_rate(c["adopted"], n) or 0.0, edited_rate=_rate(c["edited"], n) or 0.0,
                     rejected_rate=_rate(c["rejected"], n) or 0.0)

    by = {dim: sorted((group(k, c) for k, c in g.items()), key=lambda x: (x.key if dim == "day" else -x.actions, x.key))
          for dim, g in groups.items()}
    return AdoptionReport(
        generated_at=datetime.now(tz).isoformat(timespec="seconds"), drafted=len(logged), actions=actions,
        adopted=counts["adopted"], edited=counts["edited"], rejected=counts["rejected"], ignored=ignored,
        adopted_rate=_rate(counts["adopted"], actions), edited_rate=_rate(counts["edited"], actions),
        rejected_rate=_rate(counts["rejected"], actions), ignored_rate=_rate(ignored, len(logged)),
        assistance_rate=_rate(len(sent_requests & logged), len(logged)), edit_distance=dict(edits), by=by,
        reasons=reasons.most_common(10), time_to_action_s=_spread(acted_s),
        latency_ms=_spread([float(d["latency_ms"]) for d in drafted if d.get("latency_ms") is not None]),
    )


# ---------------------------------------------------------------------- HTML ---

_STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #e2e2e2;padding:5px 7px;text-align:left}
th{background:#f6f6f6}.num{text-align:right;white-space:nowrap}.muted{color:#777}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #e2e2e2;border-radius:6px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:20px}.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""
_COLORS = {"adopted": "#2e7d32", "edited": "#f9a825", "rejected": "#c62828"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _stacked(groups: list[Group], limit: int = 15) -> str:
    """One horizontal stacked bar per group: adopted / edited / rejected shares of its actions."""
    shown = groups[:limit]
    if not shown:
        return "<p class='muted'>没有数据</p>"
    w, row, label = 760, 22, 170
    h = row * len(shown) + 6
    parts = [f"<svg class='chart' width='{w}' height='{h}' role='img' xmlns='http://www.w3.org/2000/svg'>"]
    for i, g in enumerate(shown):
        y = i * row + 3
        parts.append(f"<text x='0' y='{y + 14}' font-size='12'>{escape(g.key[:14])}（{g.actions}）</text>")
        x = float(label)
        for kind in ("adopted", "edited", "rejected"):
            width = (w - label - 10) * getattr(g, f"{kind}_rate")
            if width > 0:
                parts.append(f"<rect x='{x:.1f}' y='{y}' width='{width:.1f}' height='{row - 6}' fill='{_COLORS[kind]}'>"
                             f"<title>{escape(g.key)}：{_pct(getattr(g, f'{kind}_rate'))}</title></rect>")
            x += width
    parts.append("</svg>")
    return "".join(parts)


def _bars(values: dict[str, int]) -> str:
    top = max(values.values(), default=0) or 1
    w, row, label = 520, 22, 80
    parts = [f"<svg class='chart' width='{w}' height='{row * len(values) + 6}' xmlns='http://www.w3.org/2000/svg'>"]
    for i, (k, v) in enumerate(values.items()):
        y = i * row + 3
        width = (w - label - 60) * v / top
        parts.append(f"<text x='0' y='{y + 14}' font-size='12'>{escape(k)}</text>"
                     f"<rect x='{label}' y='{y}' width='{width:.1f}' height='{row - 6}' fill='#1565c0'></rect>"
                     f"<text x='{label + width + 6:.1f}' y='{y + 14}' font-size='12'>{v}</text>")
    parts.append("</svg>")
    return "".join(parts)


def render_html(r: AdoptionReport, store: str = "") -> str:
    def card(title: str, value: str, note: str = "") -> str:
        return f"<div class='card'>{escape(title)}<b>{value}</b><span class='muted'>{escape(note)}</span></div>"

    legend = "<p class='legend'>" + "".join(
        f"<span><i style='background:{c}'></i>{label}</span>"
        for c, label in zip(_COLORS.values(), ("直接采用", "修改后采用", "拒绝"))) + "</p>"
    sections = []
    for dim, name in DIMENSIONS.items():
        rows = "".join(f"<tr><td>{escape(g.key)}</td><td class='num'>{g.actions}</td><td class='num'>{_pct(g.adopted_rate)}"
                       f"</td><td class='num'>{_pct(g.edited_rate)}</td><td class='num'>{_pct(g.rejected_rate)}</td></tr>"
                       for g in r.by[dim])
        sections.append(f"<h2>按{name}</h2>{legend}{_stacked(r.by[dim])}<table><tr><th>{name}</th><th>操作数</th>"
                        f"<th>直接采用</th><th>修改后采用</th><th>拒绝</th></tr>{rows}</table>")
    reasons = "".join(f"<tr><td>{escape(k)}</td><td class='num'>{n}</td></tr>" for k, n in r.reasons) or \
        "<tr><td colspan='2' class='muted'>没有拒绝</td></tr>"
    t, lat = r.time_to_action_s, r.latency_ms
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>草稿采用报告</title>
<style>{_STYLE}</style></head><body>
<h1>草稿采用报告{('：' + escape(store)) if store else ''}</h1>
<p class="muted">生成于 {escape(r.generated_at)}。「操作」是客服对一份草稿做的事；「请求」是一次起草（工作台和 API 记下的），没有任何操作的请求算作未理会。</p>
<div class="cards">{card('起草请求', str(r.drafted))}{card('辅助率', _pct(r.assistance_rate), '草稿被发出的请求')}
{card('直接采用', _pct(r.adopted_rate), f'{r.adopted} 次')}{card('修改后采用', _pct(r.edited_rate), f'{r.edited} 次')}
{card('拒绝', _pct(r.rejected_rate), f'{r.rejected} 次')}{card('未理会', _pct(r.ignored_rate), f'{r.ignored} 个请求')}
{card('起草到操作（中位）', '—' if t.p50 is None else f'{t.p50:.0f} 秒', f'90% 在 {t.p90:.0f} 秒内' if t.p90 is not None else '')}
{card('起草耗时（中位）', '—' if lat.p50 is None else f'{lat.p50:.0f} ms')}</div>
<h2>修改幅度（修改后采用的回复改了草稿的多少）</h2>{_bars(r.edit_distance)}
<h2>拒绝原因（前 10）</h2><table><tr><th>原因</th><th>次数</th></tr>{reasons}</table>
{''.join(sections)}
</body></html>"""
