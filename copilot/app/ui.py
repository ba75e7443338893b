"""The Gradio workspace for agents (Chinese UI), mounted at ``/ui``.

A thin edge over ``service.Workspace``, laid out for a day of many conversations at 1280×720:

- left, the open conversations (each keeps its own history, product, overrides and drafts);
- middle, the conversation (the buyer on the left, the agent on the right, as in 千牛) and the message box
  (Enter drafts, Shift+Enter is a new line), the product, 起草回复 / 重新起草 / 只记录买家消息 / 新会话;
- right, the buyer analysis as one line of chips (overrides folded below it) and the draft cards: one editable
  text per card, the rule checks collapsed to 「✓ 规则 9/9」 unless one fails (then the rule, its reason and the
  repair), tone buttons (更亲切 / 更简短 / 更正式 / 更详细), 采用 (copies too) and 拒绝 with a reason, and the card's own
  status line for what went wrong there;
- a knowledge tab (search with the calibrated confidence, upload, reindex with progress, the store self-check,
  knowledge gaps) and an eval tab (every offline suite with a real progress bar, its report).

The page script (``workspace.js``) adds the keyboard (Alt+1…5 adopt, Alt+B edit, Alt+J reject, Alt+R redraft, Esc
back to the message box), the copy buttons and the live badges while an agent edits a draft.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

import gradio as gr
from pydantic import ValidationError

from ..buyer.personas import PERSONA_IDS
from ..drafting.io import DraftRequest
from ..drafting.tone import TONES
from ..errors import CopilotError, InputError, invalid_input
from ..evaluation.run import summary_lines
from ..evaluation.suites import SUITES
from ..orders.model import AFTER_SALE_LABELS, AFTER_SALE_STATUS_LABELS, STATUS_LABELS, Order, order_from_json
from ..rules.llm_review import Disagreement, notice_of
from ..rules.registry import RULE_NAMES
from ..schema import EMOTION_LABELS, STAGE_LABELS, AnswerPlan, Turn
from .feedback import FeedbackIn
from .service import Workspace

MAX_CARDS = 5
MAX_CONVERSATIONS = 30  # open at once in one browser tab; the oldest untouched one closes first
LIVE_DEBOUNCE_MS = 60  # live badges: one re-check per pause in typing this long
NEAR_THRESHOLD = 0.85  # search banner: a top score within 85 % of the threshold is "close, check the first hit"
CSS = files("copilot.app").joinpath("workspace.css").read_text(encoding="utf-8")
LIVE_JS = "<script>\n" + files("copilot.app").joinpath("workspace.js").read_text(encoding="utf-8").replace(
    "{debounce}", str(LIVE_DEBOUNCE_MS)) + "\n</script>"
HELP = ("快捷键：回车 起草 · Shift+回车 换行 · Alt+1…5 采用第 N 份（并复制） · Alt+B 编辑 · Alt+J 拒绝 · "
        "Ctrl+回车 采用正在编辑的草稿 · Alt+R 重新起草 · Esc 回到消息框")
EMPTY_ANALYSIS = "<div class='chips'><span class='chip-why'>起草后这里显示买家分析</span></div>"


def checks_html(checks: list[dict], *, live: str | None = None, repairs: list[str] | None = None,
                notes: list[str] | None = None, sources: list[dict] | None = None, edited: bool = False) -> str:
    """A card's rule checks: one 「✓ 规则 N/N」 badge when all pass, else each failing rule with its reason; then what
    the guard repaired, the card's notices and its sources (folded)."""
    name = lambda c: c.get("name") or RULE_NAMES.get(c["rule"], c["rule"])  # noqa: E731
    failed = [c for c in checks if not c["passed"]]
    if failed:
        badges = "".join(f"<span class='badge bad' title='{escape(c['detail'])}'>✗ {escape(name(c))}</span>"
                         for c in failed)
    else:
        tip = escape("\n".join("✓ " + name(c) for c in checks))
        badges = f"<span class='badge ok' title='{tip}'>✓ 规则 {len(checks)}/{len(checks)}</span>"
    if edited:
        badges += "<span class='live-note'>按修改后的文字检查</span>"
    fails = "".join(f"<div class='notice'>✗ {escape(name(c))}：{escape(c['detail'])}</div>" for c in failed)
    extra = "".join(f"<div class='notice'>已修正 · {escape(r)}</div>" for r in repairs or [])
    extra += "".join(f"<div class='notice'>{escape(n)}</div>" for n in notes or [] if n)
    cited = sources or []
    items = "".join(
        f"<li><b>{escape(s['title'])}</b>（{escape(s['source'])}，相关度 {s['score']:.2f}）<br>{escape(s['text'][:220])}</li>"
        for s in cited)
    src = (f"<details class='sources'><summary>引用来源（{len(cited)}）</summary><ul>{items}</ul></details>"
           if cited else "<span class='reason'>未引用知识库</span>")
    attr = f" data-live='{escape(live)}'" if live else ""
    return (f"<div class='checks'{attr}><span class='badges'>{badges}</span> {src}"
            f"<div class='fails'>{fails}</div>{extra}</div>")


def card_head(d: dict | None, i: int) -> str:
    """The card's one header line: strategy, backend, its shortcut and the copy button."""
    if d is None:
        return f"<div class='card-head'><span class='strategy'>草稿 {i + 1} · 起草中…</span></div>"
    why = escape(d.get("reason") or "")
    return (f"<div class='card-head'><span class='strategy' title='{why}'>{i + 1}.【{escape(d['strategy_label'])}】</span>"
            f"<span><span class='backend'>{escape(d['backend'])}</span> <span class='key'>Alt+{i + 1}</span> "
            f"<button class='copy-btn' data-card='{i}' type='button'>复制</button></span></div>")


def card_checks(d: dict, sources: dict[str, dict], live: str | None) -> str:
    second = notice_of([Disagreement(**x) for x in d.get("review") or []])  # the LLM's second opinion, if asked
    return checks_html(d["checks"], live=live, repairs=d.get("repairs"), notes=[d.get("notice") or "", second],
                       sources=[sources[s] for s in d["source_ids"] if s in sources])


def analysis_chips(a: dict | None, notes: list[str] | None = None) -> str:
    """The buyer analysis as one line of chips (what it read from in the tooltips), then the request's warnings."""
    if not a:
        return EMPTY_ANALYSIS
    p = a["persona"]
    why = escape("依据：" + "；".join(p["signals"][:4])) if p["signals"] else ""
    tag = " · 手动指定" if p.get("overridden") else (" · 把握不大" if p.get("unsure") else "")
    alts = "、".join(f"{x['label']} {x['confidence']:.2f}" for x in a.get("alternatives") or [])
    chips = [
        f"<span class='chip' title='{why}'><b>{escape(p['label'])}</b> {p['confidence']:.2f}{tag}</span>",
        f"<span class='chip'>{STAGE_LABELS[a['stage']]}</span>",
        f"<span class='chip'>{EMOTION_LABELS[a['emotion']]}</span>",
        f"<span class='chip'>{escape(a.get('intent_label') or a['intent'])}</span>",
    ]
    if alts:
        chips.append(f"<span class='chip-why'>也可能：{escape(alts)}</span>")
    chips += [f"<span class='chip warn'>⚠️ {escape(n)}</span>" for n in notes or []]
    return "<div class='chips'>" + "".join(chips) + "</div>"


def search_banner(grounded: bool, top: float | None, threshold: float) -> str:
    """How sure the search is, against the threshold calibrated for this store."""
    if top is None:
        return "<div class='search-band none'>知识库里没有找到相关内容</div>"
    if grounded:
        return (f"<div class='search-band ok'>有可靠答案：最高分 {top:.3f} ≥ 本店阈值 {threshold:.3f}</div>")
    if top >= threshold * NEAR_THRESHOLD:
        return (f"<div class='search-band low'>接近阈值：最高分 {top:.3f}，本店阈值 {threshold:.3f}，"
                "请核对第一条是否答到了问题</div>")
    return (f"<div class='search-band none'>知识库中没有可靠答案：最高分 {top:.3f}，远低于本店阈值 {threshold:.3f}"
            "（可在「知识缺口」里看到，补充资料后重建索引）</div>")


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


def _new_conversation(n: int) -> dict:
    return {"id": str(n), "n": n, "history": [], "sku": "", "persona": "", "stage": "", "emotion": "", "order": "",
            "last": {}}


def parse_order(text: str | None) -> Order | None:
    """The order box's JSON as an ``Order`` (None when empty); a ValueError says in Chinese what is wrong."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return order_from_json(text)
    except InputError as exc:
        raise ValueError(exc.message) from None


def order_summary(order: Order | None) -> str:
    """The conversation's order as one compact line: status, courier and number, the latest event, the after-sale."""
    if order is None:
        return ""
    chips = [f"<b>{escape(STATUS_LABELS[order.status])}</b>" if order.status else "<b>订单</b>"]
    if order.order_id:
        chips.append(escape(order.order_id))
    if order.carrier or order.tracking_no:
        chips.append(escape(" ".join(x for x in (order.carrier, order.tracking_no) if x)))
    latest = order.latest()
    if latest is not None:
        chips.append(escape(f"{latest.time.month}月{latest.time.day}日 {latest.time:%H:%M} {latest.text[:24]}"))
    a = order.after_sale
    if a is not None:
        chips.append(escape(f"{AFTER_SALE_LABELS[a.type]}：{AFTER_SALE_STATUS_LABELS[a.status]}"
                            + (f" {a.amount:g}元" if a.amount is not None else "")))
    return "<div class='chips order-line'>" + "".join(f"<span class='chip'>{c}</span>" for c in chips) + "</div>"


def conversation_label(c: dict) -> str:
    first = next((t["text"] for t in c["history"] if t["role"] == "buyer"), "")
    first = first.replace("\n", " ")
    return f"会话 {c['n']}" + (f" · {first[:10]}{'…' if len(first) > 10 else ''}" if first else " · 新")


def messages(h: list[dict]) -> list[dict]:
    """The conversation for the chat view: the agent on the right (Gradio's "user" side), the buyer on the left."""
    return [{"role": "assistant" if t["role"] == "buyer" else "user", "content": t["text"]} for t in h]


def last_buyer_turn(h: list[dict]) -> int | None:
    return next((j for j in range(len(h) - 1, -1, -1) if h[j]["role"] == "buyer"), None)


def build_ui(ws: Workspace) -> gr.Blocks:
    catalog = ws.catalog
    products = [("不指定商品", "")] + [(f"{p.name}（{p.sku}）", p.sku) for p in catalog.products]
    personas = ws.personas
    persona_choices = [("自动识别", "")] + [(f"{personas[i].label}（{i}）", i) for i in PERSONA_IDS]
    stage_choices = [("自动识别", "")] + [(v, k) for k, v in STAGE_LABELS.items()]
    emotion_choices = [("自动识别", "")] + [(v, k) for k, v in EMOTION_LABELS.items()]
    focus_message = "() => { window.copilotFocusMessage && window.copilotFocusMessage(); }"

    with gr.Blocks(title="网店客服回复助手") as demo:
        # every open conversation: {"current": id, "next": n, "convs": {id: conversation}}
        convs = gr.State({"current": "1", "next": 2, "convs": {"1": _new_conversation(1)}})

        with gr.Tab("接待"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=150):
                    conv_list = gr.Radio([(conversation_label(_new_conversation(1)), "1")], value="1",
                                         label="会话", elem_id="conversations", elem_classes="convs")
                    new_conv = gr.Button("新会话", size="sm", elem_id="new-conversation")
                    close_conv = gr.Button("关闭当前会话", size="sm", elem_id="close-conversation")
                with gr.Column(scale=7, min_width=360):
                    chat = gr.Chatbot(label="对话（买家在左，客服在右）", height=330, elem_id="chat",
                                      feedback_options=None, buttons=None, placeholder="还没有消息")
                    message = gr.Textbox(show_label=False, lines=1, max_lines=6, elem_id="buyer-message",
                                         placeholder="粘贴或输入买家的最新一条消息，回车起草（Shift+回车换行）")
                    status = gr.HTML("", elem_id="status", elem_classes="box-status", container=False, padding=False,
                                     min_height=0)
                    with gr.Row(elem_classes="box-actions"):
                        send = gr.Button("起草回复", variant="primary", size="sm", min_width=0, elem_id="draft-button")
                        redraft = gr.Button("重新起草", size="sm", min_width=0, elem_id="redraft-button")
                        buyer_only = gr.Button("只记录买家消息", size="sm", min_width=0, elem_id="buyer-only")
                    gr.Markdown(HELP, elem_classes="help")
                    with gr.Row():
                        product = gr.Dropdown(products, value="", label="商品", scale=3, elem_id="product")
                        n = gr.Slider(1, MAX_CARDS, value=3, step=1, label="草稿数", scale=1, elem_id="draft-count")
                        agent = gr.Textbox(label="客服", placeholder="你的名字（计入采用报告）", max_lines=1, scale=1,
                                           min_width=90, elem_id="agent-name")
                    order_line = gr.HTML("", elem_id="order-summary", container=False, padding=False, min_height=0)
                    with gr.Accordion("订单（粘贴订单 JSON，或按订单号查询）", open=False, elem_id="order-panel"):
                        with gr.Row():
                            order_id = gr.Textbox(show_label=False, placeholder="订单号", lines=1, max_lines=1, scale=3,
                                                  container=False, elem_id="order-id")
                            order_fetch = gr.Button("查订单", size="sm", scale=1, min_width=0, elem_id="order-fetch")
                        order_box = gr.Textbox(show_label=False, lines=3, max_lines=10, elem_id="order-json",
                                               placeholder='{"status": "shipped", "carrier": "…", "tracking_no": "…", '
                                                           '"tracking": [{"time": "…", "text": "…"}]}')
                with gr.Column(scale=9, min_width=420):
                    analysis_box = gr.HTML(EMPTY_ANALYSIS, elem_id="analysis", container=False, padding=False, min_height=0)
                    with gr.Accordion("调整识别（买家类型 / 阶段 / 情绪），改后点「重新起草」", open=False,
                                      elem_id="overrides"):
                        with gr.Row():
                            persona = gr.Dropdown(persona_choices, value="", label="买家类型", elem_id="persona-override")
                            stage = gr.Dropdown(stage_choices, value="", label="阶段", elem_id="stage-override")
                            emotion = gr.Dropdown(emotion_choices, value="", label="情绪", elem_id="emotion-override")
                    groups, heads, edits, checks, reasons, cstatus = [], [], [], [], [], []
                    tone_buttons: list[list[gr.Button]] = []
                    adopts, rejects = [], []
                    for i in range(MAX_CARDS):
                        with gr.Group(visible=False, elem_id=f"card-{i}", elem_classes="draft-group") as g:
                            heads.append(gr.HTML(elem_id=f"card-head-{i}", container=False, padding=False, min_height=0))
                            edits.append(gr.Textbox(show_label=False, lines=2, max_lines=8, elem_id=f"edit-{i}"))
                            checks.append(gr.HTML(elem_id=f"card-checks-{i}", container=False, padding=False, min_height=0))
                            with gr.Row(elem_classes="card-actions"):
                                adopts.append(gr.Button("采用", variant="primary", size="sm", scale=0, min_width=64,
                                                        elem_id=f"adopt-{i}"))
                                tone_buttons.append([gr.Button(label, size="sm", scale=0, min_width=58,
                                                               elem_id=f"tone-{key}-{i}", elem_classes="tone-btn")
                                                     for key, label in TONES.items()])
                                reasons.append(gr.Textbox(placeholder="拒绝原因，回车提交", show_label=False, lines=1,
                                                          max_lines=1, container=False, scale=1, min_width=110,
                                                          elem_id=f"reason-{i}"))
                                rejects.append(gr.Button("拒绝", variant="stop", size="sm", scale=0, min_width=56,
                                                         elem_id=f"reject-{i}"))
                            cstatus.append(gr.HTML("", elem_id=f"card-status-{i}", elem_classes="card-status", container=False,
                                                   padding=False, min_height=0))
                        groups.append(g)
        card_outs = [*groups, *heads, *edits, *checks, *reasons, *cstatus]

        # ------------------------------------------------------------ rendering

        def keep_cards() -> list:
            return [gr.update() for _ in card_outs]

        def render_cards(last: dict, *, partial: dict[int, str] | None = None, count: int | None = None,
                         clear_reasons: bool = True) -> list:
            """Every card from a conversation's last drafts (and the pieces still streaming in)."""
            drafts, sources, token = last.get("drafts") or [], last.get("sources") or {}, last.get("token")
            done = set(last.get("handled") or [])
            partial = partial or {}
            shown = count if count is not None else len(drafts)
            vis, hd, ed, ck = [], [], [], []
            for i in range(MAX_CARDS):
                d = drafts[i] if i < len(drafts) else None
                visible = i < shown and i not in done and (d is not None or i in partial)
                vis.append(gr.update(visible=visible))
                hd.append(card_head(d, i) if visible else "")
                ed.append(d["text"] if d else (partial.get(i, "") + "▌" if i in partial else ""))
                ck.append(card_checks(d, sources, token) if d else "")
            reasons_up = [gr.update(value="") if clear_reasons else gr.update() for _ in range(MAX_CARDS)]
            return [*vis, *hd, *ed, *ck, *reasons_up, *["" for _ in range(MAX_CARDS)]]

        def conv_radio(state: dict):
            cs = state["convs"]
            return gr.update(choices=[(conversation_label(c), c["id"]) for c in cs.values()], value=state["current"])

        def box(text: str, kind: str = "error") -> str:
            return f"<div class='{kind}'>{escape(text)}</div>" if text else ""

        # ------------------------------------------------------------ drafting

        def run_draft(msg: str, state: dict, sku, count, p_over, s_over, e_over, order_text, agent_name, *, redo: bool):
            c = state["convs"][state["current"]]
            h = list(c["history"])
            if redo:
                j = last_buyer_turn(h)
                if j is None:
                    yield state, gr.update(), gr.update(), box("还没有买家消息，无法重新起草"), gr.update(), \
                        *keep_cards(), gr.update()
                    return
                msg, context, h2 = h[j]["text"], h[:j], h  # the buyer turn stays where it is: never twice
            else:
                msg = (msg or "").strip()
                if not msg:  # the drafts on screen stay as they are
                    yield state, gr.update(), gr.update(), box("请先输入买家消息（或点「重新起草」重写上一条）"), \
                        gr.update(), *keep_cards(), gr.update()
                    return
                context, h2 = h, h + [{"role": "buyer", "text": msg}]
            try:
                req = DraftRequest(message=msg, history=[Turn(**t) for t in context][-50:], product_sku=sku or None,
                                   persona=p_over or None, stage=s_over or None, emotion=e_over or None, n=int(count),
                                   order=parse_order(order_text), agent=(agent_name or "").strip()[:40] or None,
                                   conversation_id=f"ui-{c['id']}")
                events = ws.stream(req, live=True)
                token = next(events)["data"]["token"]
                analysis = next(events)["data"]
                sources = {x["id"]: x for x in next(events)["data"]}
            except ValidationError as exc:
                error = f"输入有误：{invalid_input(exc).message}"
            except CopilotError as exc:
                error = f"出错了：{exc.message}"
            except ValueError as exc:
                error = f"输入有误：{exc}"
            else:
                error = ""
            if error:  # the message stays in the box to fix; the drafts on screen stay as they are
                yield state, gr.update(), gr.update(), box(error), gr.update(), *keep_cards(), gr.update()
                return
            c.update(history=h2, sku=sku or "", persona=p_over or "", stage=s_over or "", emotion=e_over or "",
                     order=order_text or "")
            last = {"token": token, "analysis": analysis, "sources": sources, "drafts": [], "message": msg,
                    "sku": sku or None, "plan": None, "notes": [], "handled": []}
            c["last"] = last
            partial: dict[int, str] = {}
            for ev in events:
                if ev["event"] == "delta":
                    i = ev["data"]["index"]
                    partial[i] = ev["data"]["text"] if ev["data"].get("replace") else partial.get(i, "") + ev["data"]["text"]
                elif ev["event"] == "draft":
                    last["drafts"].append(ev["data"])
                elif ev["event"] == "done":
                    last["notes"] = list(ev["data"]["notices"])
                    if not ev["data"]["grounded"] and analysis["intent"] != "greeting":  # 在吗 needs no knowledge
                        last["notes"].append("知识库中没有可靠答案，发送前请核实草稿")
                    last["plan"] = ev["data"].get("plan")
                else:
                    continue
                yield (state, messages(h2), "" if not redo else gr.update(), "", analysis_chips(analysis, last["notes"]),
                       *render_cards(last, partial=partial, count=int(count)), conv_radio(state))

        draft_inputs = [message, convs, product, n, persona, stage, emotion, order_box, agent]
        draft_outputs = [convs, chat, message, status, analysis_box, *card_outs, conv_list]

        def do_draft(msg, state, sku, count, p_over, s_over, e_over, order_text, agent_name):
            yield from run_draft(msg, state, sku, count, p_over, s_over, e_over, order_text, agent_name, redo=False)

        def do_redraft(msg, state, sku, count, p_over, s_over, e_over, order_text, agent_name):
            yield from run_draft(msg, state, sku, count, p_over, s_over, e_over, order_text, agent_name, redo=True)

        # ------------------------------------------------------------ the order

        def summarize(order_text):
            try:
                return order_summary(parse_order(order_text))
            except ValueError as exc:
                return box(str(exc))

        def fetch_order(oid, state):
            oid = (oid or "").strip()
            if not oid:
                return gr.update(), box("请先填订单号")
            try:
                order = ws.order(oid)
            except CopilotError as exc:
                return gr.update(), box(exc.message)
            text = order.model_dump_json(exclude_none=True, exclude_defaults=True, indent=1)
            state["convs"][state["current"]]["order"] = text
            return text, order_summary(order)

        order_box.change(summarize, [order_box], [order_line])
        order_fetch.click(fetch_order, [order_id, convs], [order_box, order_line])
        order_id.submit(fetch_order, [order_id, convs], [order_box, order_line])

        send.click(do_draft, draft_inputs, draft_outputs, concurrency_limit=4).then(None, js=focus_message)
        message.submit(do_draft, draft_inputs, draft_outputs, concurrency_limit=4)
        redraft.click(do_redraft, draft_inputs, draft_outputs, concurrency_limit=4).then(None, js=focus_message)

        def record_buyer(msg, state):
            msg = (msg or "").strip()
            c = state["convs"][state["current"]]
            if not msg:
                return state, gr.update(), gr.update(), box("请先输入买家消息"), gr.update()
            c["history"] = c["history"] + [{"role": "buyer", "text": msg}]
            return state, messages(c["history"]), "", "", conv_radio(state)

        buyer_only.click(record_buyer, [message, convs], [convs, chat, message, status, conv_list]) \
            .then(None, js=focus_message)

        # ------------------------------------------------------------ conversations

        def show(state: dict):
            """Everything the screen shows of the current conversation."""
            c = state["convs"][state["current"]]
            last = c["last"]
            return (state, conv_radio(state), messages(c["history"]), "", "",
                    analysis_chips(last.get("analysis"), last.get("notes")), c["sku"], c["persona"], c["stage"],
                    c["emotion"], c.get("order", ""), summarize(c.get("order", "")), *render_cards(last))

        switch_outputs = [convs, conv_list, chat, message, status, analysis_box, product, persona, stage, emotion,
                          order_box, order_line, *card_outs]

        def save_current(state: dict, sku, p_over, s_over, e_over, order_text) -> None:
            state["convs"][state["current"]].update(sku=sku or "", persona=p_over or "", stage=s_over or "",
                                                    emotion=e_over or "", order=order_text or "")

        def switch(target, state, sku, p_over, s_over, e_over, order_text):
            if target not in state["convs"]:
                return show(state)
            save_current(state, sku, p_over, s_over, e_over, order_text)
            state["current"] = target
            return show(state)

        def open_new(state, sku, p_over, s_over, e_over, order_text):
            save_current(state, sku, p_over, s_over, e_over, order_text)
            while len(state["convs"]) >= MAX_CONVERSATIONS:  # the oldest goes (dicts keep opening order)
                state["convs"].pop(next(iter(state["convs"])))
            c = _new_conversation(state["next"])  # a new buyer: no product, no overrides, no drafts
            state["next"] += 1
            state["convs"][c["id"]] = c
            state["current"] = c["id"]
            return show(state)

        def close_current(state, sku, p_over, s_over, e_over, order_text):
            state["convs"].pop(state["current"], None)
            if not state["convs"]:
                c = _new_conversation(state["next"])
                state["next"] += 1
                state["convs"][c["id"]] = c
            state["current"] = list(state["convs"])[-1]
            return show(state)

        keep_inputs = [convs, product, persona, stage, emotion, order_box]
        conv_list.input(switch, [conv_list, *keep_inputs], switch_outputs).then(None, js=focus_message)
        new_conv.click(open_new, keep_inputs, switch_outputs).then(None, js=focus_message)
        close_conv.click(close_current, keep_inputs, switch_outputs).then(None, js=focus_message)

        # ------------------------------------------------------------ feedback

        def feedback_for(i: int, action: str):
            def handler(state, edited, reason, p_over, agent_name):
                c = state["convs"][state["current"]]
                last = c["last"]
                drafts = last.get("drafts") or []
                if i >= len(drafts) or i in (last.get("handled") or []):
                    return state, gr.update(), gr.update(), *_card_status(i, "这份草稿已失效，请重新起草")
                d = drafts[i]
                reason = (reason or "").strip()
                if action == "reject" and not reason:
                    return state, gr.update(), gr.update(), *_card_status(i, "请先填写拒绝原因（回车提交）")
                edited = (edited or "").strip()
                kind = action
                if action == "adopt" and edited and " ".join(edited.split()) != " ".join(d["text"].split()):
                    kind = "edit"  # the agent changed the text (by hand or with a tone button) before adopting
                a = last["analysis"]
                try:
                    _, saved = ws.add_feedback(FeedbackIn(
                        action=kind, message=last["message"], draft_text=d["text"],
                        final_text=edited if kind == "edit" else None, reason=reason or None,
                        strategy=d["strategy"], sku=last.get("sku"),
                        persona_detected=a["persona"].get("detected") or a["persona"]["id"],
                        persona_override=p_over or None, stage=a["stage"], backend=d.get("backend"),
                        request_id=last.get("token"), conversation_id=f"ui-{c['id']}",
                        agent=(agent_name or "").strip()[:40] or None,
                    ))
                except ValidationError as exc:
                    return state, gr.update(), gr.update(), *_card_status(i, f"未保存：{invalid_input(exc).message}")
                except (CopilotError, ValueError) as exc:
                    return state, gr.update(), gr.update(), *_card_status(
                        i, f"未保存：{getattr(exc, 'message', None) or exc}")
                warn = "" if saved else "（磁盘已满：反馈暂存内存，恢复后自动保存）"
                if action == "reject":
                    last["handled"] = [*(last.get("handled") or []), i]
                    return (state, gr.update(), box(f"已记录：拒绝草稿 {i + 1}（{reason}）{warn}", "ok"),
                            *render_cards(last, clear_reasons=False))
                text = edited if kind == "edit" else d["text"]
                c["history"] = c["history"] + [{"role": "agent", "text": text}]
                last["handled"] = list(range(len(drafts)))  # one reply per turn: the other drafts are done
                done = "已采用并复制" if kind == "adopt" else "已按修改后的文字采用并复制"
                return (state, messages(c["history"]), box(f"{done}（草稿 {i + 1}），可以粘贴到千牛发送{warn}", "ok"),
                        *render_cards(last))
            return handler

        def _card_status(i: int, text: str) -> list:
            out = [gr.update() for _ in card_outs]
            out[5 * MAX_CARDS + i] = box(text)
            return out

        for i in range(MAX_CARDS):
            outs = [convs, chat, status, *card_outs]
            ins = [convs, edits[i], reasons[i], persona, agent]
            adopts[i].click(feedback_for(i, "adopt"), ins, outs).then(None, js=focus_message)
            rejects[i].click(feedback_for(i, "reject"), ins, outs).then(None, js=focus_message)
            reasons[i].submit(feedback_for(i, "reject"), ins, outs).then(None, js=focus_message)

        # ------------------------------------------------------------ tone tools

        def tone_for(i: int, tone: str):
            def handler(state, text):
                last = state["convs"][state["current"]]["last"]
                drafts = last.get("drafts") or []
                if i >= len(drafts) or not last.get("token"):
                    return gr.update(), gr.update(), box("这份草稿已失效，请重新起草")
                text = (text or "").strip() or drafts[i]["text"]
                plan = AnswerPlan.model_validate(last["plan"]) if last.get("plan") else None
                try:
                    out = ws.retone(last["token"], text, tone, plan)
                except CopilotError as exc:
                    return gr.update(), gr.update(), box(exc.message)
                d = drafts[i]
                html = checks_html([c.model_dump() for c in out.report.checks], live=last["token"],
                                   sources=[last["sources"][s] for s in d["source_ids"] if s in last["sources"]],
                                   edited=out.changed or text != d["text"])
                if not out.changed:
                    return gr.update(), html, box(out.note, "notice")
                return out.text, html, box(f"已改为「{TONES[tone]}」：事实句未改，规则已重新检查", "ok")
            return handler

        for i in range(MAX_CARDS):
            for (key, _label), button in zip(TONES.items(), tone_buttons[i]):
                button.click(tone_for(i, key), [convs, edits[i]], [edits[i], checks[i], cstatus[i]])


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
                head = search_banner(r.grounded, r.hits[0].score if r.hits else None, r.threshold)
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
            gaps_box = gr.Dataframe(headers=["买家问题", "次数", "平均分", "无答案次数"], interactive=False, wrap=True,
                                    column_widths=["58%", "12%", "15%", "15%"], elem_classes="gaps",
                                    elem_id="gaps")
            gaps_btn.click(lambda: [[g["question"], g["count"], g["avg_score"], g["ungrounded"]] for g in ws.gaps()],
                           None, gaps_box)

        with gr.Tab("数据"):
            gr.Markdown("客服怎么用草稿：直接采用、修改后采用、拒绝和未理会的比例，修改幅度，拒绝原因，"
                        "按策略、买家类型、阶段、后端、客服和日期（完整报告：[/reports/adoption](/reports/adoption)）。")
            adoption_btn = gr.Button("刷新采用数据", elem_id="adoption-refresh")
            adoption_out = gr.Markdown(elem_id="adoption-summary")

            def do_adoption():
                r = ws.adoption()
                pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731
                lines = [f"**起草请求 {r.drafted} 个，操作 {r.actions} 次**：直接采用 {pct(r.adopted_rate)} · 修改后采用 "
                         f"{pct(r.edited_rate)} · 拒绝 {pct(r.rejected_rate)} · 未理会的请求 {pct(r.ignored_rate)} · "
                         f"辅助率 {pct(r.assistance_rate)}"]
                lines += [f"- 按策略「{g.key}」：{g.actions} 次，直接采用 {pct(g.adopted_rate)}" for g in r.by["strategy"][:5]]
                lines += [f"- 拒绝原因「{k}」：{n} 次" for k, n in r.reasons[:5]]
                return "\n".join(lines)

            adoption_btn.click(do_adoption, None, adoption_out)

        with gr.Tab("评测"):
            gr.Markdown("离线评测：" + "、".join(s.label for s in SUITES.values() if s.label) +
                        "（全部跑完要一两分钟，进度条按套件走）。")
            eval_btn = gr.Button("运行离线评测", variant="primary")
            eval_out = gr.Markdown()
            eval_file = gr.File(label="评测报告（HTML，可下载后用浏览器打开）")

            def do_eval(progress=gr.Progress()):
                def report(name: str, done: int, total: int) -> None:
                    label = SUITES[name].label if name in SUITES else "汇总"
                    progress(done / max(total, 1), desc=f"评测中：{label}（{done}/{total}）")

                progress(0, desc="评测中")
                run, (_, html) = ws.evaluate(progress=report)
                return "\n\n".join(summary_lines(run)) + "\n\n报告地址：[/reports/latest](/reports/latest)", str(html)

            eval_btn.click(do_eval, None, [eval_out, eval_file], concurrency_limit=1)

    demo.queue(max_size=64, default_concurrency_limit=4)
    return demo
