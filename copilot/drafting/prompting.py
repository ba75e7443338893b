"""Prompts as data: typed schemas for ``prompts/*.yaml`` and strict rendering.

- ``strategies.yaml``: the reply strategies a draft can follow;
- ``draft.yaml`` + ``system.md``: the LLM prompt (a langchain-core
  ``ChatPromptTemplate``; a missing variable raises);
- ``composer.yaml``: phrases for the offline composer;
- ``draft_messages``: the values one LLM draft is rendered with.

Buyer text and retrieved text only ever enter as variable *values* inside
tagged data blocks, so braces or tags in them cannot change the template.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, first_error
from ..schema import EMOTION_LABELS, STAGE_LABELS, format_history
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


class PricePhrases(_Data):
    no_authority: list[str]
    active_promo: str
    no_promo: str
    future_promo: str
    value: str


class ComposerPhrases(_Data):
    openers: dict[str, list[str]]
    clarify: dict[str, list[str]]
    followup: list[str]
    questions: dict[str, list[str]]
    price: PricePhrases
    urgency: dict[str, str]
    stock: dict[str, str]
    trust: list[str]
    privacy: str
    unknown: list[str]
    recommend: str
    closings: dict[str, list[str]]


class DraftTemplate(_Data):
    variables: list[str]
    system: str  # file name of the system prompt, next to draft.yaml
    user: str


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
def load_phrases(prompts_dir: str) -> ComposerPhrases:
    return load_data(Path(prompts_dir) / "composer.yaml", ComposerPhrases)


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


_TAGS = re.compile(r"</?\s*(商品事实|店铺政策|参考资料|对话记录|买家消息|system|assistant|user)\s*>", re.IGNORECASE)


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


def draft_messages(prompts_dir: Path, ctx: DraftContext, s: StrategySpec) -> list[dict[str, str]]:
    """The chat messages for one LLM draft: persona, strategy, facts, knowledge and the conversation as data."""
    p = ctx.persona
    facts = "（未指定商品）"
    if ctx.product:
        pr = ctx.product
        lines = [pr.describe(), f"库存：{pr.stock} 件（库存紧张阈值 {ctx.catalog.shop.low_stock_threshold} 件）"]
        active = ctx.facts.active_promotions if ctx.facts else []
        lines.append("进行中的活动：" + ("；".join(f"{x.title}（{x.discount}），截止 {x.ends_at:%Y-%m-%d %H:%M}" for x in active) or "无"))
        lines.append(f"当前售价：{pr.price_at(ctx.now):g} 元")
        pending = pr.pending_price(ctx.now)
        if pending:
            lines.append(f"已确定的调价：{pending.effective_at:%Y-%m-%d} 起 {pending.price:g} 元")
        lines.append(f"当前时间：{ctx.now:%Y-%m-%d %H:%M}")
        facts = "\n".join(lines)
    policies = "\n".join(f"[{h.id}] {h.title}：{h.text}" for h in ctx.hits if h.kind == "policy")[:1500] or "（无）"
    sources = "\n".join(f"[{h.id}] ({h.kind}) {h.title}：{h.text}" for h in ctx.hits if h.kind != "policy")[:2500]
    history = format_history(ctx.history[-10:])
    values = {
        "shop_name": ctx.catalog.shop.name,
        "persona_label": p.label,
        "persona_strategy": p.strategy.summary,
        "persona_dos": "；".join(p.dos[:4]),
        "persona_donts": "；".join(p.donts[:4]),
        "strategy_label": s.label,
        "strategy_instructions": s.instructions,
        "stage_label": STAGE_LABELS[ctx.analysis.stage],
        "emotion_label": EMOTION_LABELS[ctx.analysis.emotion],
        "intent_label": ctx.analysis.intent_label,
        "sources": as_data(sources or "（知识库中没有相关资料）"),
        "facts": as_data(facts),
        "policies": as_data(policies),
        "history": as_data(history or "（无）"),
        "message": as_data(ctx.message),
    }
    msgs = build_chat_prompt(prompts_dir, values)
    role = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": role.get(m.type, "user"), "content": m.content} for m in msgs]
