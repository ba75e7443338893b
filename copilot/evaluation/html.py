"""A self-contained HTML report in Chinese: no scripts, no external assets."""

from __future__ import annotations

from html import escape

from ..buyer.personas import PERSONA_IDS
from ..rules.registry import RULE_NAMES

CSS = """
body{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px auto;max-width:1100px;color:#1f2933;background:#fafbfc}
h1{font-size:24px}h2{font-size:19px;margin-top:34px;border-bottom:2px solid #e4e7eb;padding-bottom:6px}h3{font-size:16px}
.meta{color:#52606d;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:12px 16px;min-width:170px}
.card b{display:block;font-size:22px}.ok{color:#1b873f}.bad{color:#c92a2a}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;margin:8px 0}
th,td{border:1px solid #e4e7eb;padding:6px 8px;text-align:left;vertical-align:top}th{background:#f0f4f8}
.bar{display:flex;align-items:center;gap:8px;margin:3px 0;font-size:13px}.bar .label{width:210px}
.bar .track{flex:1;background:#e4e7eb;border-radius:4px;height:14px;overflow:hidden}
.bar .fill{height:14px;background:#3e7bfa}.bar .fill.low{background:#e8590c}.bar .val{width:60px;text-align:right}
.draft{white-space:pre-wrap;background:#f8f9fb;border-left:3px solid #c92a2a;padding:6px 8px}
.tag{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;background:#fde2e2;color:#c92a2a;margin-right:4px}
.tag.ok{background:#dcf5e3;color:#1b873f}
"""


def _bar(label: str, value: float, low: float = 0.9) -> str:
    pct = max(0.0, min(1.0, value)) * 100
    cls = "fill low" if value < low else "fill"
    return (f'<div class="bar"><span class="label">{escape(label)}</span><span class="track">'
            f'<span class="{cls}" style="width:{pct:.1f}%;display:block"></span></span><span class="val">{value:.3f}</span></div>')


def _card(title: str, value: str, ok: bool | None = None) -> str:
    cls = "" if ok is None else (' class="ok"' if ok else ' class="bad"')
    return f'<div class="card">{escape(title)}<b{cls}>{escape(value)}</b></div>'


def _failure_table(head: tuple[str, str, str], rows: list[tuple[str, list[str], list[str]]]) -> list[str]:
    """A table of failed cases: what the case is, what went wrong, and its top draft (nothing when none failed)."""
    if not rows:
        return []
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for case, problems, drafts in rows:
        out.append(f"<tr><td>{escape(case)}</td><td>{escape('；'.join(problems))}</td>"
                   f"<td><div class='draft'>{escape(drafts[0] if drafts else '')}</div></td></tr>")
    out.append("</table>")
    return out


def render_html(result: dict) -> str:
    s = result["suites"]
    meta = result["meta"]
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>回复助手离线评测报告</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>回复助手离线评测报告</h1>",
        f"<p class='meta'>生成时间 {escape(meta['started_at'])} · 大模型后端 {escape(meta['backend'])} · "
        f"嵌入模型 {escape(meta['embedder'])} · 重复 {meta['repeat']} 次 · 用时 {meta.get('seconds', 0)} 秒</p>",
    ]
    thresholds = result.get("thresholds", [])
    cards = []
    if "dialogues" in s:
        d = s["dialogues"]
        cards += [_card("草稿规则通过率", f"{d['draft_rule_pass_rate']:.1%}", d["draft_rule_pass_rate"] >= 1.0),
                  _card("期望满足率", f"{d['expectation_pass_rate']:.1%}"),
                  _card("对话整段通过", f"{sum(c['passed'] for c in d['cases'])}/{d['dialogues']}")]
        if d.get("untraced_draft_rate") is not None:
            cards.append(_card("事实无出处的草稿", f"{d['untraced_draft_rate']:.1%}", d["untraced_draft_rate"] == 0))
    if "retrieval" in s:
        h = s["retrieval"]["modes"]["hybrid"]
        cards.append(_card("检索 R@3 / MRR", f"{h['recall@3']:.3f} / {h['mrr']:.3f}"))
    if "analysis" in s:
        a = s["analysis"]["accuracy"]
        cards.append(_card("类型 / 阶段准确率", f"{a.get('persona', 0):.3f} / {a.get('stage', 0):.3f}"))
    if thresholds:
        failed = [t for t in thresholds if not t["passed"]]
        cards.append(_card("阈值", "全部达标" if not failed else f"{len(failed)} 项未达标", not failed))
    parts.append(f"<div class='cards'>{''.join(cards)}</div>")

    if thresholds:
        parts.append("<h2>阈值</h2><table><tr><th>指标</th><th>结果</th><th>下限</th><th>状态</th></tr>")
        for t in thresholds:
            tag = "<span class='tag ok'>达标</span>" if t["passed"] else "<span class='tag'>未达标</span>"
            parts.append(f"<tr><td>{escape(t['metric'])}</td><td>{t['value']:.3f}</td><td>{('≥ ' + str(t['min'])) if t.get('min') is not None else ('≤ ' + str(t.get('max')))}</td><td>{tag}</td></tr>")
        parts.append("</table>")

    diff = result.get("baseline_diff")
    if diff:
        parts.append(f"<h2>与基线对比</h2><p class='meta'>基线：{escape(diff['baseline'])}</p>")
        parts.append(f"<h3>新失败（{len(diff['newly_failing'])}）</h3><ul>")
        parts += [f"<li>{escape(k)}</li>" for k in diff["newly_failing"]] or ["<li>无</li>"]
        parts.append(f"</ul><h3>新通过（{len(diff['newly_passing'])}）</h3><ul>")
        parts += [f"<li>{escape(k)}</li>" for k in diff["newly_passing"]] or ["<li>无</li>"]
        parts.append("</ul>")
        for det in diff.get("details", []):
            for f in det["failures"]:
                parts.append(f"<p><span class='tag'>{escape(det['key'])}</span>{escape(f['name'])}：{escape(f['reason'])}</p>"
                             f"<div class='draft'>{escape(f['text'])}</div>")

    if "dialogues" in s:
        d = s["dialogues"]
        parts.append("<h2>对话评测</h2>")
        if d.get("judge") and d["judge"]["mean_score"] is not None:
            parts.append(f"<p>大模型评审（单独报告）：{d['judge']['cases']} 段平均 {d['judge']['mean_score']} 分（1–5），"
                         f"重复评分平均极差 {d['judge']['mean_spread']}</p>")
        parts.append("<h3>各规则通过率（全部草稿）</h3>")
        parts += [_bar(f"{r} {RULE_NAMES.get(r, '')}", v, 1.0) for r, v in d["per_rule"].items()]
        parts.append("<h3>各期望满足率（首选草稿）</h3>")
        parts += [_bar(k, v) for k, v in d["per_expectation"].items()]
        parts.append("<h3>按买家类型（整段通过率）</h3>")
        parts += [_bar(p, v, 0.8) for p, v in d["per_persona"].items()]
        parts.append("<h3>按阶段（整段通过率）</h3>")
        parts += [_bar(p, v, 0.8) for p, v in d["per_stage"].items()]
        if "repeats" in d:
            r = d["repeats"]
            parts.append(f"<h3>重复 {r['runs']} 次的波动</h3><table><tr><th>指标</th><th>最小</th><th>平均</th><th>最大</th></tr>")
            for k in ("draft_rule_pass_rate", "expectation_pass_rate", "dialogue_pass_rate"):
                parts.append(f"<tr><td>{k}</td><td>{r[k]['min']:.3f}</td><td>{r[k]['mean']:.3f}</td><td>{r[k]['max']:.3f}</td></tr>")
            parts.append(f"</table><p class='meta'>结果不稳定的对话：{escape('、'.join(r['unstable_cases']) or '无')}</p>")
        failures = [(c, f) for c in d["cases"] for f in c["failures"]]
        parts.append(f"<h2>全部失败（{len(failures)}）</h2>")
        if failures:
            parts.append("<table><tr><th>对话</th><th>类型/阶段</th><th>规则或期望</th><th>原因</th><th>草稿</th></tr>")
            for c, f in failures:
                kind = "规则" if f["kind"] == "rule" else "期望"
                name = f"{f['name']} {RULE_NAMES.get(f['name'], '')}".strip()
                parts.append(
                    f"<tr><td>{escape(c['id'])}<br>{escape(c['title'])}</td><td>{escape(c['persona'])} / {escape(c['stage'])}</td>"
                    f"<td><span class='tag'>{kind}</span>{escape(name)}</td><td>{escape(f['reason'])}</td>"
                    f"<td><div class='draft'>买家：{escape(c['message'])}\n\n草稿{f['draft'] + 1}：{escape(f['text'])}</div></td></tr>"
                )
            parts.append("</table>")
        else:
            parts.append("<p>没有失败。</p>")

    holdouts = [(k, f"规则检查器（{k}）") for k in sorted(s) if k.startswith("rules_holdout")]
    for key, title in [("rules", "规则检查器（开发集）"), *holdouts]:
        if key in s:
            parts.append(f"<h2>{title}</h2><table><tr><th>规则</th><th>条数</th><th>精确率</th><th>召回率</th><th>误判</th></tr>")
            for rule, r in s[key]["rules"].items():
                errs = "<br>".join(f"{escape(e['id'])}（标注{escape(e['label'])}）{escape(e['reply'][:50])}" for e in r["errors"])
                parts.append(f"<tr><td>{escape(rule)} {escape(r['name'])}</td><td>{r['cases']}</td><td>{r['precision']:.3f}</td>"
                             f"<td>{r['recall']:.3f}</td><td>{errs or '无'}</td></tr>")
            parts.append("</table>")

    if "redteam" in s:
        r = s["redteam"]
        parts.append(f"<h2>红队评测</h2><p>{r['attacks']} 条攻击，草稿与检查全部守住 {r['passed']} 条；"
                     f"识别出操纵意图并提示客服 {r['flag_rate']:.1%}</p>")
        parts += [_bar(cat, v, 1.0) for cat, v in r["per_category"].items()]
        parts += _failure_table(("攻击", "问题", "草稿"),
                                [(f"{c['id']} {c['title']}", c["problems"], c["drafts"]) for c in r["cases"] if not c["passed"]])

    for key, label in (("sendable", "开发集"), ("sendable_test", "冻结测试集（不在上面调参）")):
        if key not in s:
            continue
        r = s[key]
        parts.append(f"<h2>可发送性评测 · {label}</h2><p class='meta'>{r['cases']} 条新写的买家用例（作者没看过代码），"
                     "按首选草稿逐个子问题判定</p>")
        parts += [_bar("整条满足", r["case_pass_rate"], 0.8), _bar("子问题答到", r["question_answer_rate"], 0.8),
                  _bar("可答的子问题答到", r["answerable_answer_rate"], 0.8),
                  _bar("不可答的如实说明", r["unanswerable_deferral_rate"], 0.8),
                  _bar("繁体用例整条满足", r["traditional_case_pass_rate"], 0.8)]
        parts.append(f"<p>可答却推迟 {r['deferral_when_answerable_rate']:.1%} · 出现禁止内容 {r['must_not_violation_rate']:.1%}"
                     f" · 草稿近似重复 {r['near_duplicate_rate']:.1%} · 草稿间事实矛盾 {r.get('contradiction_rate', 0):.1%}</p>")
        parts += _failure_table(("用例", "没做到", "首选草稿"),
                                [(f"{c['id']} {c['message'][:60]}", c["failures"], c["drafts"])
                                 for c in r["case_results"] if not c["passed"]][:40])

    if "retrieval" in s:
        rr = s["retrieval"]
        parts.append(f"<h2>检索</h2><p class='meta'>{rr['queries']} 条问题（可回答 {rr['answerable']}，知识库外 {rr['out_of_knowledge']}）</p>")
        parts.append("<table><tr><th>方式</th><th>R@1</th><th>R@3</th><th>R@5</th><th>MRR</th></tr>")
        for mode, m in {**rr["modes"], **rr.get("ablations", {})}.items():
            parts.append(f"<tr><td>{escape(mode)}</td><td>{m['recall@1']:.3f}</td><td>{m['recall@3']:.3f}</td>"
                         f"<td>{m['recall@5']:.3f}</td><td>{m['mrr']:.3f}</td></tr>")
        na = rr["no_answer"]
        parts.append(f"</table><p>无答案识别率 {na['detection_rate']:.3f}，可回答问题误判率 {na['false_no_answer_rate']:.3f}（阈值 {na['threshold']}）</p>")

    if "analysis" in s:
        an = s["analysis"]
        parts.append("<h2>买家分析</h2>")
        parts += [_bar(f"类型 {p}", v, 0.8) for p, v in an["per_persona"].items()]
        parts.append("<h3>混淆矩阵（行=标注，列=预测）</h3><table><tr><th></th>" + "".join(f"<th>{p[:5]}</th>" for p in PERSONA_IDS) + "</tr>")
        for p in PERSONA_IDS:
            row = an["confusion"].get(p, {})
            parts.append(f"<tr><th>{p}</th>" + "".join(f"<td>{row.get(q, '') or ''}</td>" for q in PERSONA_IDS) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
