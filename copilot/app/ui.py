"""The Gradio workspace for agents (Chinese UI), mounted at ``/ui``.

A thin edge over ``service.Workspace``: a conversation view, buyer message
box and product picker; the detected persona/stage/emotion with overrides;
draft cards with strategy, rule badges and expandable sources; adopt,
edit-then-adopt and reject-with-reason (all recorded as feedback); a
knowledge tab (search, upload, reindex with progress, the store self-check, knowledge gaps) and an
eval tab (run the offline eval, open its report).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import gradio as gr
from pydantic import ValidationError

from ..buyer.personas import PERSONA_IDS
from ..drafting.io import DraftRequest
from ..errors import CopilotError, invalid_input
from ..evaluation.run import summary_lines
from ..rules.llm_review import Disagreement, notice_of
from ..rules.registry import RULE_NAMES
from ..schema import EMOTION_LABELS, STAGE_LABELS, Turn
from .feedback import FeedbackIn
from .service import Workspace

MAX_CARDS = 5
CSS = """
.draft-card{border:1px solid #d9e2ec;border-radius:10px;padding:12px 14px;background:#fff}
.draft-head{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}
.strategy{font-weight:600;font-size:15px}.backend{color:#7b8794;font-size:12px}
.draft-text{font-size:15px;line-height:1.7;white-space:pre-wrap;margin:6px 0 8px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0;font-size:12px}
.badge.ok{background:#dcf5e3;color:#1b6e3a}.badge.bad{background:#fde2e2;color:#b42318;font-weight:600}
.reason{color:#52606d;font-size:13px}.notice{color:#b54708;font-size:13px}
.sources summary{cursor:pointer;color:#2f6feb;font-size:13px}.sources li{font-size:13px;margin:4px 0;color:#3e4c59}
.live-note{color:#7b8794;font-size:12px;margin-left:4px}
"""

# Live badges: while the agent edits a draft (the box under its card), the card's badges show the checks of the
# edited text. One request per pause in typing (debounced; nothing is sent while an input method is composing),
# answered by /ui/live-check against what the draft itself was checked against; a stale answer is dropped.
LIVE_DEBOUNCE_MS = 60
LIVE_JS = """
<script>
(() => {
  const DEBOUNCE_MS = {debounce};
  const timers = {}, seq = {}, typedAt = {};
  const endpoint = () => location.pathname.replace(/\\/+$/, "") + "/live-check";
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls;
                                   if (text) e.textContent = text; return e; };
  function render(card, data, ms) {
    const box = card.querySelector(".badges"), fails = card.querySelector(".fails");
    box.replaceChildren(); fails.replaceChildren();
    for (const c of data.checks) {
      const b = el("span", "badge " + (c.passed ? "ok" : "bad"), (c.passed ? "✓ " : "✗ ") + c.name);
      b.title = c.detail; box.append(b);
      if (!c.passed) fails.append(el("div", "notice", "✗ " + c.name + "：" + c.detail));
    }
    box.append(el("span", "live-note", "按修改后的文字检查"));
    card.dataset.livePassed = String(data.passed);
    card.dataset.liveMs = String(Math.round(ms));
    card.dispatchEvent(new CustomEvent("live-badges", {bubbles: true, detail: {passed: data.passed, ms}}));
  }
  async function run(i, text) {
    const card = document.querySelector("#card-html-" + i + " .draft-card[data-live]");
    if (!card || !text.trim()) return;
    const n = (seq[i] = (seq[i] || 0) + 1);
    try {
      const r = await fetch(endpoint(), {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: card.dataset.live, reply: text})});
      const data = await r.json();
      if (n !== seq[i]) return;  // the agent typed again: a newer answer is on its way
      if (!r.ok) {
        const f = card.querySelector(".fails"); f.replaceChildren(
          el("div", "notice", "实时检查不可用：" + ((data.error && data.error.message) || r.status) + "（采用时仍会检查）"));
        return;
      }
      render(card, data, performance.now() - typedAt[i]);
    } catch (e) { /* offline or server restarting: the badges keep their last state */ }
  }
  function changed(e) {
    const t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || e.isComposing) return;  // an input method is still composing
    const holder = t.closest("[id^='edit-']");
    if (!holder) return;
    const i = holder.id.slice(5);
    typedAt[i] = performance.now();
    clearTimeout(timers[i]);
    timers[i] = setTimeout(() => run(i, t.value), DEBOUNCE_MS);
  }
  document.addEventListener("input", changed, true);
  document.addEventListener("compositionend", changed, true);
})();
</script>
""".replace("{debounce}", str(LIVE_DEBOUNCE_MS))


def card_html(d: dict, sources: dict[str, dict], live: str | None = None) -> str:
    """One draft's card; ``live`` is the token the page's script re-checks edits of this draft with."""
    badges = "".join(
        f"<span class='badge {'ok' if c['passed'] else 'bad'}' title='{escape(c['detail'])}'>"
        f"{'✓' if c['passed'] else '✗'} {escape(RULE_NAMES.get(c['rule'], c['rule']))}</span>"
        for c in d["checks"]
    )
    failed = "".join(f"<div class='notice'>✗ {escape(RULE_NAMES.get(c['rule'], c['rule']))}：{escape(c['detail'])}</div>"
                     for c in d["checks"] if not c["passed"])
    repairs = "".join(f"<div class='notice'>已修正 · {escape(r)}</div>" for r in d.get("repairs") or [])
    notice = f"<div class='notice'>{escape(d['notice'])}</div>" if d.get("notice") else ""
    second = notice_of([Disagreement(**x) for x in d.get("review") or []])  # the LLM's second opinion, if asked
    notice += f"<div class='notice'>{escape(second)}</div>" if second else ""
    cited = [sources[s] for s in d["source_ids"] if s in sources]
    items = "".join(
        f"<li><b>{escape(s['title'])}</b>（{escape(s['source'])}，相关度 {s['score']:.2f}）<br>{escape(s['text'][:220])}</li>"
        for s in cited
    )
    src = (f"<details class='sources'><summary>引用来源（{len(cited)}）</summary><ul>{items}</ul></details>"
           if cited else "<div class='reason'>未引用知识库（例如寒暄或需核实的问题）</div>")
    attr = f" data-live='{escape(live)}'" if live else ""
    return (
        f"<div class='draft-card'{attr}><div class='draft-head'><span class='strategy'>【{escape(d['strategy_label'])}】</span>"
        f"<span class='backend'>{escape(d['backend'])}</span></div>"
        f"<div class='draft-text'>{escape(d['text'])}</div><div class='badges'>{badges}</div><div class='fails'>{failed}</div>"
        f"{repairs}{notice}"
        f"<div class='reason'>理由：{escape(d['reason'])}</div>{src}</div>"
    )


def preview_md(p: dict | None) -> str:
    """What replacing a knowledge file changes, as a short list (products for the catalog, sections otherwise)."""
    if not p:
        return ""
    part = p.get("products") or p
    rows = [(label, part.get(key) or []) for key, label in (("added", "新增"), ("removed", "删除"), ("changed", "修改"))]
    return "\n\n" + "\n".join(f"- {label} {len(items)}：{'、'.join(items[:10])}{' …' if len(items) > 10 else ''}"
                                 for label, items in rows if items)


def doctor_md(report) -> str:
    """The store self-check as Markdown: one line per topic (✓/✗ with what to add), notes, the threshold."""
    return report.markdown()


def analysis_md(a: dict) -> str:
    p = a["persona"]
    lines = [
        f"**买家类型**：{p['label']}（{p['id']}，置信 {p['confidence']:.2f}）" + ("  · 已手动指定" if p.get("overridden") else "")
        + ("  · 把握不大：草稿按适合任何类型的方式写，可手动指定" if p.get("unsure") else ""),
        f"**阶段**：{STAGE_LABELS[a['stage']]}　**情绪**：{EMOTION_LABELS[a['emotion']]}　**意图**：{a.get('intent_label') or a['intent']}",
    ]
    if p["signals"]:
        lines.append("依据：" + "；".join(p["signals"][:3]))
    if a.get("alternatives"):
        lines.append("也可能是：" + "、".join(f"{x['label']} {x['confidence']:.2f}" for x in a["alternatives"]))
    return "\n\n".join(lines)


def build_ui(ws: Workspace) -> gr.Blocks:
    catalog = ws.catalog
    products = [("不指定商品", "")] + [(f"{p.name}（{p.sku}）", p.sku) for p in catalog.products]
    personas = ws.personas
    persona_choices = [("自动识别", "")] + [(f"{personas[i].label}（{i}）", i) for i in PERSONA_IDS]
    stage_choices = [("自动识别", "")] + [(v, k) for k, v in STAGE_LABELS.items()]
    emotion_choices = [("自动识别", "")] + [(v, k) for k, v in EMOTION_LABELS.items()]

    with gr.Blocks(title="网店客服回复助手") as demo:
        gr.Markdown("## 网店客服回复助手 · 工作台")
        history = gr.State([])  # [{"role": "buyer"|"agent", "text": ...}]
        last = gr.State({})  # the last draft response, as a dict

        with gr.Tab("接待"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="对话", height=360, elem_id="chat")
                    message = gr.Textbox(label="买家消息", placeholder="粘贴或输入买家的最新一条消息，回车起草", lines=2,
                                         elem_id="buyer-message")
                    with gr.Row():
                        product = gr.Dropdown(products, value="", label="商品", scale=3, elem_id="product")
                        n = gr.Slider(1, MAX_CARDS, value=3, step=1, label="草稿数", scale=2)
                    with gr.Row():
                        send = gr.Button("起草回复", variant="primary", elem_id="draft-button")
                        buyer_only = gr.Button("只记录买家消息")
                        reset = gr.Button("新会话")
                with gr.Column(scale=2):
                    analysis_box = gr.Markdown("起草后这里显示买家分析。", elem_id="analysis")
                    persona = gr.Dropdown(persona_choices, value="", label="买家类型（可改）", elem_id="persona-override")
                    stage = gr.Dropdown(stage_choices, value="", label="阶段（可改）")
                    emotion = gr.Dropdown(emotion_choices, value="", label="情绪（可改）")
                    status = gr.Markdown("", elem_id="status")
            cards, htmls, edits, adopts, edit_adopts, reasons, rejects = [], [], [], [], [], [], []
            for i in range(MAX_CARDS):
                with gr.Group(visible=False, elem_id=f"card-{i}") as card:
                    htmls.append(gr.HTML(elem_id=f"card-html-{i}"))
                    edits.append(gr.Textbox(label="修改后发送（可编辑）", lines=2, elem_id=f"edit-{i}"))
                    with gr.Row():
                        adopts.append(gr.Button("采用", variant="primary", elem_id=f"adopt-{i}"))
                        edit_adopts.append(gr.Button("修改后采用", elem_id=f"edit-adopt-{i}"))
                        reasons.append(gr.Textbox(placeholder="拒绝原因（必填）", show_label=False, scale=2, elem_id=f"reason-{i}"))
                        rejects.append(gr.Button("拒绝", variant="stop", elem_id=f"reject-{i}"))
                cards.append(card)

        def messages(h: list[dict]) -> list[dict]:
            return [{"role": "user" if t["role"] == "buyer" else "assistant", "content": t["text"]} for t in h]

        def hidden_cards():
            return [gr.update(visible=False) for _ in cards] + [gr.update(value="") for _ in htmls] + \
                [gr.update(value="") for _ in edits]

        def do_draft(msg, h, sku, count, p_over, s_over, e_over):
            msg = (msg or "").strip()
            if not msg:
                yield (h, messages(h), {}, "请先输入买家消息。", gr.update(), gr.update(), *hidden_cards())
                return
            try:
                req = DraftRequest(message=msg, history=[Turn(**t) for t in h][-50:], product_sku=sku or None,
                                   persona=p_over or None, stage=s_over or None, emotion=e_over or None, n=int(count))
                events = ws.stream(req, live=True)
                live = next(events)["data"]["token"]
                analysis = next(events)["data"]
                sources = {s["id"]: s for s in next(events)["data"]}
            except ValidationError as exc:
                yield (h, messages(h), {}, f"**输入有误**：{invalid_input(exc).message}", gr.update(), gr.update(),
                       *hidden_cards())
                return
            except CopilotError as exc:
                yield (h, messages(h), {}, f"**错误**：{exc.message}", gr.update(), gr.update(), *hidden_cards())
                return
            except ValueError as exc:
                yield (h, messages(h), {}, f"**输入有误**：{exc}", gr.update(), gr.update(), *hidden_cards())
                return
            h2 = h + [{"role": "buyer", "text": msg}]
            drafts: list[dict] = []
            partial: dict[int, str] = {}
            notes: list[str] = []  # scam or manipulation warnings and LLM fallbacks, from the final event
            vis = [gr.update(visible=i < int(count)) for i in range(MAX_CARDS)]
            for ev in events:
                if ev["event"] == "delta":
                    i = ev["data"]["index"]
                    partial[i] = ev["data"]["text"] if ev["data"].get("replace") else partial.get(i, "") + ev["data"]["text"]
                elif ev["event"] == "draft":
                    drafts.append(ev["data"])
                elif ev["event"] == "done":
                    notes = list(ev["data"]["notices"])
                    if not ev["data"]["grounded"]:
                        notes.append("知识库中没有可靠答案（最高分低于阈值），发送前请核实草稿")
                else:
                    continue
                html_updates = []
                for i in range(MAX_CARDS):
                    if i < len(drafts):
                        html_updates.append(card_html(drafts[i], sources, live))
                    elif i in partial:
                        html_updates.append(f"<div class='draft-card'><div class='draft-text'>{escape(partial[i])}▌</div></div>")
                    else:
                        html_updates.append("")
                edit_updates = [drafts[i]["text"] if i < len(drafts) else "" for i in range(MAX_CARDS)]
                state = {"analysis": analysis, "drafts": drafts, "message": msg, "sku": sku or None}
                status_md = f"已生成 {len(drafts)}/{int(count)} 份草稿" + "".join(f"\n\n⚠️ {escape(x)}" for x in notes)
                yield (h2, messages(h2), state, status_md, analysis_md(analysis), "",
                       *vis, *html_updates, *edit_updates)

        draft_outputs = [history, chat, last, status, analysis_box, message, *cards, *htmls, *edits]
        draft_inputs = [message, history, product, n, persona, stage, emotion]
        send.click(do_draft, draft_inputs, draft_outputs, concurrency_limit=4)
        message.submit(do_draft, draft_inputs, draft_outputs, concurrency_limit=4)

        def record_buyer(msg, h):
            msg = (msg or "").strip()
            if not msg:
                return h, messages(h), ""
            h2 = h + [{"role": "buyer", "text": msg}]
            return h2, messages(h2), ""

        buyer_only.click(record_buyer, [message, history], [history, chat, message])

        def new_session():
            return ([], [], {}, "", "起草后这里显示买家分析。", "", "", "", *hidden_cards())

        reset.click(new_session, None, [history, chat, last, status, analysis_box, persona, stage, emotion, *cards, *htmls, *edits])

        def feedback_for(i: int, action: str):
            def handler(h, state, edited, reason, p_over):
                drafts = (state or {}).get("drafts") or []
                if i >= len(drafts):
                    return h, messages(h), "这张草稿已失效，请重新起草。", *[gr.update() for _ in cards]
                d = drafts[i]
                a = state["analysis"]
                try:
                    _, saved = ws.add_feedback(FeedbackIn(
                        action=action, message=state["message"], draft_text=d["text"],
                        final_text=(edited if action == "edit" else None), reason=(reason or None),
                        strategy=d["strategy"], sku=state.get("sku"), persona_detected=a["persona"]["id"],
                        persona_override=p_over or None, stage=a["stage"],
                    ))
                except ValidationError as exc:
                    return h, messages(h), f"**未保存**：{invalid_input(exc).message}", *[gr.update() for _ in cards]
                except CopilotError as exc:
                    return h, messages(h), f"**未保存**：{exc.message}", *[gr.update() for _ in cards]
                except ValueError as exc:
                    return h, messages(h), f"**未保存**：{exc}", *[gr.update() for _ in cards]
                warn = "" if saved else "（磁盘已满：反馈暂存内存，恢复后自动保存）"
                if action == "reject":
                    return h, messages(h), f"已记录：拒绝草稿 {i + 1}（{reason}）{warn}", *[
                        gr.update(visible=False) if j == i else gr.update() for j in range(MAX_CARDS)]
                text = edited if action == "edit" else d["text"]
                h2 = h + [{"role": "agent", "text": text}]
                done = "已采用并记录" if action == "adopt" else "已按修改后的文本采用并记录"
                return h2, messages(h2), f"{done}（草稿 {i + 1}）{warn}", *[gr.update(visible=False) for _ in cards]
            return handler

        for i in range(MAX_CARDS):
            outs = [history, chat, status, *cards]
            adopts[i].click(feedback_for(i, "adopt"), [history, last, edits[i], reasons[i], persona], outs)
            edit_adopts[i].click(feedback_for(i, "edit"), [history, last, edits[i], reasons[i], persona], outs)
            rejects[i].click(feedback_for(i, "reject"), [history, last, edits[i], reasons[i], persona], outs)

        with gr.Tab("知识库"):
            with gr.Row():
                query = gr.Textbox(label="检索知识库", placeholder="例如：衣服买大了能换吗", scale=4)
                search_btn = gr.Button("检索", scale=1)
            results = gr.HTML()

            def do_search(q):
                try:
                    r = ws.search(q, 5)
                except CopilotError as exc:
                    return f"<p>{escape(exc.message)}</p>"
                head = "" if r.grounded else "<p class='notice'>知识库中没有可靠答案（最高分低于阈值）</p>"
                return head + "".join(
                    f"<div class='draft-card'><b>[{h.kind}] {escape(h.title)}</b> <span class='backend'>{escape(h.source)} · "
                    f"{h.score:.3f}</span><div class='draft-text'>{escape(h.text[:300])}</div></div>" for h in r.hits)

            search_btn.click(do_search, query, results)
            query.submit(do_search, query, results)
            with gr.Row():
                upload = gr.File(label="上传知识文件（.txt/.md/.csv/catalog.yaml）", file_count="single")
                as_policy = gr.Checkbox(label=".md 作为店铺政策", value=False)
                replace = gr.Checkbox(label="替换同名的已有文件（先不勾选可预览变化）", value=False, elem_id="upload-replace")
            with gr.Row():
                upload_btn = gr.Button("校验并保存")
                reindex_btn = gr.Button("重建索引", variant="primary")
            knowledge_status = gr.Markdown()

            def do_upload(file, policy, replace_existing):
                if not file:
                    return "请先选择文件。"
                path = Path(file if isinstance(file, str) else file.name)
                try:
                    info = ws.upload(path.name, path.read_bytes(), policy=bool(policy), replace=bool(replace_existing))
                except CopilotError as exc:
                    return f"**未保存**：{exc.message}" + preview_md((exc.details or {}).get("preview"))
                return info["message"] + preview_md(info.get("preview"))

            def do_reindex(progress=gr.Progress()):
                def report(stage, done, total):
                    progress(done / max(total, 1), desc=stage)

                try:
                    r = ws.reindex(progress=report)
                except CopilotError as exc:
                    return f"**重建失败**：{exc.message}", gr.update()
                doctor = ws.last_doctor  # the reindex checked the store again and recalibrated the threshold
                summary = r.summary().replace("\n", "\n\n")
                if doctor is None:
                    return summary, gr.update()
                return summary + "\n\n" + doctor.summary_line(), doctor_md(doctor)

            def do_doctor():
                try:
                    return doctor_md(ws.doctor())
                except CopilotError as exc:
                    return f"**自检失败**：{exc.message}"

            gr.Markdown("### 店铺自检")
            with gr.Row():
                doctor_btn = gr.Button("运行店铺自检（检查缺失的知识并校准无答案阈值）", elem_id="doctor-button")
            doctor_box = gr.Markdown(doctor_md(ws.last_doctor) if ws.last_doctor else "点「运行店铺自检」查看知识库缺什么；每次重建索引后自动更新。",
                                     elem_id="doctor-report")
            upload_btn.click(do_upload, [upload, as_policy, replace], knowledge_status)
            reindex_btn.click(do_reindex, None, [knowledge_status, doctor_box], concurrency_limit=1)
            doctor_btn.click(do_doctor, None, doctor_box, concurrency_limit=1)
            gaps_btn = gr.Button("查看知识缺口（检索弱的买家问题）")
            gaps_box = gr.Dataframe(headers=["买家问题", "次数", "平均分", "无答案次数"], interactive=False)
            gaps_btn.click(lambda: [[g["question"], g["count"], g["avg_score"], g["ungrounded"]] for g in ws.gaps()],
                           None, gaps_box)

        with gr.Tab("评测"):
            gr.Markdown("离线评测：检索、买家分析、规则检查器与样例对话（约 10 秒）。")
            eval_btn = gr.Button("运行离线评测", variant="primary")
            eval_out = gr.Markdown()
            eval_file = gr.File(label="评测报告（HTML，可下载后用浏览器打开）")

            def do_eval(progress=gr.Progress()):
                progress(0.1, desc="评测中")
                run, (_, html) = ws.evaluate()
                return "\n\n".join(summary_lines(run)) + "\n\n报告地址：[/reports/latest](/reports/latest)", str(html)

            eval_btn.click(do_eval, None, [eval_out, eval_file], concurrency_limit=1)

    demo.queue(max_size=64, default_concurrency_limit=4)
    return demo
