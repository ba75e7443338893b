"""The QA report as one self-contained Chinese HTML page: totals, per agent, per rule, the daily trend, the worst
examples."""

from __future__ import annotations

from html import escape

from .review import QaReport

_STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #e2e2e2;padding:5px 7px;text-align:left;
vertical-align:top}th{background:#f6f6f6}.num{text-align:right;white-space:nowrap}
.bar{display:inline-block;height:10px;background:#d9534f;border-radius:2px;vertical-align:middle}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #e2e2e2;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}.muted{color:#777}.rule{display:inline-block;background:#fbe9e7;color:#b71c1c;
border-radius:3px;padding:0 5px;margin:1px;font-size:12px}
"""


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} 秒" if seconds < 120 else f"{seconds / 60:.1f} 分钟"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _trend(report: QaReport) -> str:
    """An inline SVG line of the daily share of flagged replies."""
    days = report.days
    if not days:
        return "<p class='muted'>没有数据</p>"
    w, h, pad = 760, 160, 30
    top = max(max(d.flagged_rate for d in days), 0.01)
    step = (w - 2 * pad) / max(len(days) - 1, 1)
    pts = [(pad + i * step, h - pad - (d.flagged_rate / top) * (h - 2 * pad)) for i, d in enumerate(days)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    dots = "".join(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='#d9534f'><title>{escape(d.day)}：{_pct(d.flagged_rate)}"
                   f"（{d.flagged}/{d.turns}）</title></circle>" for (x, y), d in zip(pts, days))
    labels = "".join(f"<text x='{x:.1f}' y='{h - 8}' font-size='10' text-anchor='middle'>{escape(d.day[5:])}</text>"
                     for (x, _), d in list(zip(pts, days))[:: max(1, len(days) // 10)])
    return (f"<svg id='trend' width='{w}' height='{h}' role='img' aria-label='每天违规回复占比'>"
            f"<polyline fill='none' stroke='#d9534f' stroke-width='2' points='{line}'/>{dots}{labels}"
            f"<text x='4' y='14' font-size='10'>{_pct(top)}</text></svg>")


def render_html(report: QaReport, title: str = "客服回复质检报告") -> str:
    names = report.rule_names
    top = max(report.rules.values(), default=1)
    cards = [("会话", f"{report.conversations}"), ("检查的客服回复", f"{report.turns}"),
             ("违规回复", f"{report.flagged}（{_pct(report.flagged_rate)}）"),
             ("首次响应（平均）", _s(report.first_response_s)), ("响应（平均 / P90）",
                                                           f"{_s(report.response_s)} / {_s(report.response_p90_s)}")]
    out = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>",
           "<div class='cards'>" + "".join(f"<div class='card'><span class='muted'>{k}</span><b>{escape(v)}</b></div>"
                                           for k, v in cards) + "</div>"]
    if report.skipped:
        out.append(f"<p class='muted'>{report.skipped} 条空回复没有检查。</p>")
    out.append("<h2>按客服</h2><table id='agents'><tr><th>客服</th><th class='num'>会话</th><th class='num'>回复</th>"
               "<th class='num'>违规</th><th class='num'>违规率</th><th>触发的规则</th><th class='num'>首次响应</th>"
               "<th class='num'>平均响应</th></tr>")
    for a in report.agents:
        rules = " ".join(f"<span class='rule'>{escape(names.get(r, r))} {n}</span>" for r, n in a.rules.items())
        out.append(f"<tr><td>{escape(a.agent)}</td><td class='num'>{a.conversations}</td><td class='num'>{a.turns}</td>"
                   f"<td class='num'>{a.flagged}</td><td class='num'>{_pct(a.flagged_rate)}</td><td>{rules or '—'}</td>"
                   f"<td class='num'>{_s(a.first_response_s)}</td><td class='num'>{_s(a.response_s)}</td></tr>")
    out.append("</table><h2>按规则</h2><table id='rules'><tr><th>规则</th><th class='num'>次数</th><th></th></tr>")
    for r, n in sorted(report.rules.items(), key=lambda kv: -kv[1]):
        out.append(f"<tr><td>{escape(names.get(r, r))}（{escape(r)}）</td><td class='num'>{n}</td>"
                   f"<td><span class='bar' style='width:{int(300 * n / top)}px'></span></td></tr>")
    if not report.rules:
        out.append("<tr><td colspan='3'>没有违规</td></tr>")
    out.append("</table><h2>每天的违规占比</h2>" + _trend(report))
    out.append("<table id='days'><tr><th>日期</th><th class='num'>回复</th><th class='num'>违规</th><th class='num'>违规率</th></tr>"
               + "".join(f"<tr><td>{escape(d.day)}</td><td class='num'>{d.turns}</td><td class='num'>{d.flagged}</td>"
                         f"<td class='num'>{_pct(d.flagged_rate)}</td></tr>" for d in report.days) + "</table>")
    out.append(f"<h2>最需要复盘的 {len(report.worst)} 条</h2><table id='worst'><tr><th>会话 / 客服 / 时间</th>"
               "<th>买家说</th><th>客服回复</th><th>规则与原因</th></tr>")
    for f in report.worst:
        why = "<br>".join(f"<span class='rule'>{escape(names.get(r, r))}</span> {escape(d)}" for r, d in zip(f.rules, f.details))
        out.append(f"<tr><td>{escape(f.conversation)}<br>{escape(f.agent)}<br><span class='muted'>{escape(f.at[:16])}</span>"
                   f"</td><td>{escape(f.message)}</td><td>{escape(f.reply)}</td><td>{why}</td></tr>")
    out.append("</table></body></html>")
    return "".join(out)
