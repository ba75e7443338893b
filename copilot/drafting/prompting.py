"""Prompts as data: typed schemas for ``prompts/*.yaml`` and strict rendering.

- ``strategies.yaml``: the reply strategies a draft can follow;
- ``draft.yaml`` + ``system.md``: the LLM prompt (a langchain-core
  ``ChatPromptTemplate``; a missing variable raises), rendered once per
  request for all candidates by ``plan_prompt``;
- ``composer.yaml``: phrases for the offline composer.

Buyer text and retrieved text only ever enter as variable *values* inside
tagged data blocks, so braces or tags in them cannot change the template.
"""

from __future__ import annotations

import re
import string
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, first_error
from ..orders.model import AFTER_SALE_LABELS, AFTER_SALE_STATUS_LABELS, STATUS_LABELS
from ..schema import (
    COMPLAINT_INTENTS,
    EMOTION_LABELS,
    STAGE_LABELS,
    URGENCY_HOURS,
    AnswerPlan,
    Hit,
)
from .context import DraftContext


class PromptError(ConfigError):
    code = "prompt_error"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Data):
    personas: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    emotions: list[str] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)


class StrategySpec(_Data):
    id: str
    label: str
    when: When = Field(default_factory=When)
    instructions: str
    reason: str
    requires: str | None = None  # "urgency": only when the catalog backs it


class Strategies(_Data):
    strategies: list[StrategySpec]


class DraftTemplate(_Data):
    variables: list[str]
    system: str  # file name of the system prompt, next to draft.yaml
    user: str
    notes: dict[str, str] = Field(default_factory=dict)  # reminders added when they apply to the request
    asks: dict[str, str] = Field(default_factory=dict)  # what a plan item's ``ask`` slot asks the buyer for


def load_data(path: Path, model: type[BaseModel]) -> Any:
    """A prompt data file validated against its schema; every problem is a PromptError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data)
    except FileNotFoundError:
        raise PromptError(f"缺少提示词文件：{path}", message_en=f"missing prompt file {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PromptError(f"提示词文件 {path} 无法解析：{exc}", message_en=str(exc)) from None
    except ValidationError as exc:
        loc, msg = first_error(exc)
        raise PromptError(f"提示词文件 {path} 的 {loc} 不合法：{msg}", message_en=str(exc)) from None


@lru_cache(maxsize=4)
def load_strategies(prompts_dir: str) -> Strategies:
    return load_data(Path(prompts_dir) / "strategies.yaml", Strategies)


@lru_cache(maxsize=4)
def load_draft_template(prompts_dir: str) -> tuple[DraftTemplate, str]:
    tpl = load_data(Path(prompts_dir) / "draft.yaml", DraftTemplate)
    try:
        system = (Path(prompts_dir) / tpl.system).read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"缺少系统提示词 {tpl.system}：{exc}", message_en=str(exc)) from None
    return tpl, system


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, **values: Any) -> str:
    """``str.format`` that names every missing variable instead of guessing."""
    missing = fields_of(template) - set(values)
    if missing:
        raise PromptError(
            f"模板缺少变量：{'、'.join(sorted(missing))}",
            message_en=f"template variables missing: {sorted(missing)}",
        )
    return template.format(**values)


_TAGS = re.compile(r"</?\s*(商品事实|订单信息|店铺政策|参考资料|答案要点|待核实|对话记录|买家消息|客服草稿|规则|system|assistant|user)\s*>",
                   re.IGNORECASE)


def as_data(text: str) -> str:
    """Neutralise text that will sit inside a data block: no closing our tags early."""
    return _TAGS.sub(lambda m: m.group(0).replace("<", "＜").replace(">", "＞"), text)


@lru_cache(maxsize=4)
def load_chat_prompt(prompts_dir: str):
    """The draft prompt as a langchain-core ChatPromptTemplate and its declared variables (checked once)."""
    from langchain_core.prompts import ChatPromptTemplate

    tpl, system = load_draft_template(prompts_dir)
    declared = frozenset(tpl.variables)
    used = fields_of(system) | fields_of(tpl.user)
    if used - declared:
        raise PromptError(f"draft.yaml 使用了未声明的变量：{sorted(used - declared)}", message_en="undeclared variables")
    return ChatPromptTemplate.from_messages([("system", system), ("human", tpl.user)]), declared


def build_chat_prompt(prompts_dir: Path, values: dict[str, str]):
    """The LLM messages for one draft, via langchain-core, strictly rendered."""
    prompt, declared = load_chat_prompt(str(prompts_dir))
    missing = declared - set(values)
    if missing:
        raise PromptError(
            f"起草提示词缺少变量：{'、'.join(sorted(missing))}", message_en=f"draft prompt missing {sorted(missing)}"
        )
    return prompt.invoke({k: values[k] for k in declared}).to_messages()


# ----------------------------------------------------------------- the plan prompt ---

HISTORY_TURNS = 4
TURN_CHARS = 120
ITEM_CHARS = 320  # answer sentences per sub-question (whole sentences; the first one always)
FALLBACK_HITS = 3
HIT_CHARS = 160
DATA_BLOCKS = ("facts", "plan", "deferred", "history", "message")


class PlanPrompt(BaseModel):
    """The one LLM call of a request: its messages, the candidates it asks for and the data it shows."""

    messages: list[dict[str, str]]
    keys: list[str] = Field(description="candidate ids in the order wanted (a strategy's id, 「id#2」 for a variant)")
    data: dict[str, str] = Field(description="the content of each data block, as sent")
    sources: list[str] = Field(default_factory=list, description="ids of the knowledge the data quotes")

    @property
    def data_text(self) -> str:
        return "\n".join(self.data[k] for k in DATA_BLOCKS)


def candidate_keys(strategies: list[StrategySpec]) -> list[str]:
    """One id per candidate: the strategy's id, and 「id#2」… when a strategy is written again."""
    return [s.id if not strategies[:i].count(s) else f"{s.id}#{strategies[:i].count(s) + 1}"
            for i, s in enumerate(strategies)]


def drafts_schema(keys: list[str]) -> dict:
    """The JSON the call asks for: ``{"drafts": [{"strategy": key, "text": …}, …]}``, one per candidate."""
    item = {"type": "object", "properties": {"strategy": {"type": "string", "enum": list(dict.fromkeys(keys))},
                                             "text": {"type": "string"}},
            "required": ["strategy", "text"], "additionalProperties": False}
    return {"type": "object", "properties": {"drafts": {"type": "array", "items": item, "minItems": len(keys),
                                                        "maxItems": len(keys)}},
            "required": ["drafts"], "additionalProperties": False}


def _clock(dt: datetime, now: datetime) -> str:
    dt = dt.astimezone(now.tzinfo) if now.tzinfo else dt
    if dt.hour == 0 and dt.minute == 0:  # midnight is the end of the day before: 「11月25日24点」
        day = dt - timedelta(days=1)
        return ("今晚" if day.date() == now.date() else f"{day.month}月{day.day}日") + "24点"
    day = "今天" if dt.date() == now.date() else ("明天" if dt.date() == now.date() + timedelta(days=1)
                                                 else f"{dt.month}月{dt.day}日")
    return f"{day}{dt.hour}:{dt.minute:02d}"


def facts_block(ctx: DraftContext) -> str:
    """The product's facts at ``now``: name, price, active promotions with their end, a decided price change,
    stock as a state (the count only when it is low), and the time."""
    p = ctx.product
    if p is None:
        return f"（未指定商品）\n现在：{ctx.now:%m月%d日 %H:%M}"
    price = f"{p.price_at(ctx.now):g} 元"
    if p.original_price and p.original_price > p.price_at(ctx.now):
        price += f"（划线价 {p.original_price:g} 元）"
    lines = [f"商品：{p.name}", f"当前售价：{price}"]
    active = ctx.facts.active_promotions if ctx.facts else p.active_promotions(ctx.now)
    promos = [f"「{x.title}」{x.discount}，{_clock(x.ends_at, ctx.now)}结束"
              + (f"（{URGENCY_HOURS}小时内结束）" if x.ends_within(ctx.now, timedelta(hours=URGENCY_HOURS)) else "") for x in active[:2]]
    lines.append("进行中的活动：" + ("；".join(promos) or "无"))
    pending = p.pending_price(ctx.now)
    if pending:
        lines.append(f"已确定的调价：{pending.effective_at.month}月{pending.effective_at.day}日起 {pending.price:g} 元")
    threshold = ctx.catalog.shop.low_stock_threshold
    lines.append("库存：" + ("无货" if p.stock <= 0 else f"紧张，仅剩 {p.stock} {p.unit}" if p.stock <= threshold else "有货"))
    lines.append(f"现在：{ctx.now:%m月%d日 %H:%M}")
    return "\n".join(lines)


def order_block(ctx: DraftContext) -> str:
    """The buyer's order as data lines (its free text already cleaned by ``orders.prepared``)."""
    o = ctx.order
    if o is None:
        return "（无）"
    lines = []
    if o.status:
        lines.append(f"状态：{STATUS_LABELS[o.status]}")
    for label, at in (("付款", o.paid_at), ("发货", o.shipped_at), ("签收", o.delivered_at)):
        if at is not None:
            lines.append(f"{label}时间：{_clock(at, ctx.now)}")
    if o.carrier or o.tracking_no:
        lines.append(f"快递：{o.carrier or '—'}，运单号 {o.tracking_no or '—'}")
    for e in o.events()[-3:]:
        lines.append(f"物流 {_clock(e.time, ctx.now)}：{e.text[:80]}")
    for i in o.items[:5]:
        lines.append(f"商品：{i.sku or '—'} {i.variant or ''} ×{i.qty}" + (f"，{i.price:g}元" if i.price is not None else ""))
    if o.amount is not None:
        lines.append(f"实付：{o.amount:g}元")
    if o.after_sale is not None:
        a = o.after_sale
        lines.append(f"售后：{AFTER_SALE_LABELS[a.type]}，{AFTER_SALE_STATUS_LABELS[a.status]}"
                     + (f"，{a.amount:g}元" if a.amount is not None else "")
                     + (f"，更新于 {_clock(a.updated_at, ctx.now)}" if a.updated_at else ""))
    return "\n".join(lines) or "（无）"


def _sentences(text: str, limit: int) -> str:
    """Whole sentences of ``text`` up to ``limit`` characters (the first one, cut, if it alone is longer)."""
    parts = [x.strip() for x in re.split(r"(?<=[。！？；\n])", text) if x.strip()]
    out = ""
    for part in parts:
        if out and len(out) + len(part) > limit:
            break
        out += part
    return out[:limit]


class _Labels:
    """Short source labels (S1, S2…) for the knowledge ids a prompt quotes: a 24-hex id costs a dozen tokens."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, ids: list[str]) -> str:
        for i in ids:
            if i not in self.ids:
                self.ids.append(i)
        return "[" + "/".join(f"S{self.ids.index(i) + 1}" for i in ids) + "] " if ids else "- "


def plan_block(plan: AnswerPlan, asks: dict[str, str], labels: _Labels) -> tuple[str, str]:
    """(answer points, questions to defer) of a plan: each sub-question with its sentences and source labels."""
    lines: list[str] = []
    numbers: dict[int, int] = {}  # plan index -> its number in the prompt
    for i, item in enumerate(plan.items):
        if not item.answered and not item.ask:
            continue
        numbers[i] = n = len(numbers) + 1
        earlier = "（之前问过）" if i < plan.carried else ""
        same = f"（答案同问{numbers[item.same_as]}）" if item.same_as in numbers and not item.sentences else ""
        lines.append(f"问{n}{earlier}：{item.question}{same}")
        used = 0
        for sentence in item.sentences:
            if used and used + len(sentence) > ITEM_CHARS:
                break
            lines.append(labels(item.source_ids) + sentence[:ITEM_CHARS])
            used += len(sentence)
        if item.ask:
            lines.append(f"需先问买家：{asks.get(item.ask, '相关信息')}")
    deferred = [f"- {item.question}" for item in plan.unanswered]
    return "\n".join(lines) or "（无）", "\n".join(deferred) or "（无）"


def hits_block(ctx: DraftContext, labels: _Labels) -> str:
    """Without a plan: the top hits as one answer point, a few sentences each (kept small)."""
    hits: list[Hit] = ctx.hits[:FALLBACK_HITS] if ctx.grounded else []
    lines = [labels([h.id]) + _sentences(h.text, HIT_CHARS) for h in hits]
    return "\n".join([f"问1：{_sentences(ctx.message, 60)}", *lines]) if lines else "（无）"


def plan_prompt(prompts_dir: Path, ctx: DraftContext, strategies: list[StrategySpec]) -> PlanPrompt:
    """The messages of the one call that writes every candidate of a request, from the plan only."""
    tpl, _ = load_draft_template(str(prompts_dir))
    labels = _Labels()
    if ctx.plan is not None and ctx.plan.items:
        plan, deferred = plan_block(ctx.plan, tpl.asks, labels)
        sources = list(dict.fromkeys([*labels.ids, *ctx.plan.source_ids]))
    else:
        plan, deferred = hits_block(ctx, labels), "（无）"
        sources = list(labels.ids)
    history = "\n".join(
        f"{'买家' if t.role == 'buyer' else '客服'}：{t.text[:TURN_CHARS]}{'…' if len(t.text) > TURN_CHARS else ''}"
        for t in ctx.history[-HISTORY_TURNS:]
    )
    data = {"facts": facts_block(ctx), "order": order_block(ctx), "plan": plan, "deferred": deferred, "history": history or "（无）",
            "message": ctx.message}
    data = {k: as_data(v) for k, v in data.items()}
    keys = candidate_keys(strategies)
    p, a = ctx.persona, ctx.analysis
    brief = "；".join(x for x in ["宜：" + "；".join(p.dos[:3]) if p.dos else "",
                                   "忌：" + "；".join(p.donts[:3]) if p.donts else ""] if x)
    wanted = [f"- {k}：{s.label}{'（' + tpl.notes.get('variant', '') + '）' if '#' in k else ''}——{s.instructions}"
              for k, s in zip(keys, strategies)]
    values = {
        "persona": f"{p.label}：{p.strategy.summary}" + (f"。{brief}" if brief else ""),
        "situation": f"{STAGE_LABELS[a.stage]}，情绪{EMOTION_LABELS[a.emotion]}，意图：{a.intent_label or a.intent}",
        "wanted": "\n".join(wanted),
        "notes": " ".join(tpl.notes.get(k, "") for k in _notes(ctx, deferred != "（无）", plan == "（无）")) or "无",
        **data,
    }
    msgs = build_chat_prompt(prompts_dir, values)
    role = {"system": "system", "human": "user", "ai": "assistant"}
    return PlanPrompt(messages=[{"role": role.get(m.type, "user"), "content": m.content} for m in msgs],
                      keys=keys, data=data, sources=sources)


def _notes(ctx: DraftContext, deferred: bool, no_plan: bool) -> list[str]:
    """Which of draft.yaml's reminders apply to this request."""
    a = ctx.analysis
    out = ["mid_conversation"] if ctx.history else []
    if a.stage == "after_sale" or a.negative or a.intent in COMPLAINT_INTENTS or a.emotion == "angry":
        out.append("apology")
    p, day = ctx.product, timedelta(hours=URGENCY_HOURS)
    ending = bool(ctx.facts and any(x.ends_within(ctx.now, day) for x in ctx.facts.active_promotions))
    low = bool(p and 0 < p.stock <= ctx.catalog.shop.low_stock_threshold)
    out.append("urgency" if (ending or low) and a.stage == "pre_sale" else "no_urgency")
    if a.scam:
        out.append("scam")
    if a.safety in ("reaction", "injury"):  # the same steps the composer writes: stop using, a doctor, the way on
        out.append(a.safety)
    out += ["deferred"] if deferred else []
    out += ["no_plan"] if no_plan else []
    return out
