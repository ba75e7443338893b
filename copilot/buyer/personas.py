"""Buyer personas: data in ``prompts/personas/<id>.yaml`` under a typed schema.

The seeds' overlapping taxonomies (性格, 购买行为, the ten classic types,
明确目的/逛街式, 初次/勉强/便宜货/手术/狂热/动力) are merged into the 14
canonical ids below; every persona cites where the seeds describe it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, InputError, first_error

PERSONA_IDS: tuple[str, ...] = (
    "angry",
    "bargainer",
    "silent",
    "chatty",
    "indecisive",
    "proud",
    "picky",
    "perfectionist",
    "analytical",
    "skeptical",
    "budget",
    "decisive",
    "friendly",
    "browser",
)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Data):
    source: str  # path under knowledge/, e.g. docs/004_….txt
    section: str
    quote: str = Field(min_length=4)


class Strategy(_Data):
    summary: str
    steps: list[str] = Field(min_length=1)
    citations: list[Citation] = Field(min_length=1)


class Signals(_Data):
    keywords: list[str] = Field(default_factory=list)
    behaviours: list[str] = Field(default_factory=list)


class Example(_Data):
    situation: str
    reply: str


class Persona(_Data):
    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    summary: str
    signals: Signals
    strategy: Strategy
    dos: list[str] = Field(default_factory=list)
    donts: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
    exemplars: list[str] = Field(default_factory=list)


def load_persona(path: Path) -> Persona:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        persona = Persona.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"无法读取买家类型文件 {path}：{exc}", message_en=f"cannot read persona {path}") from None
    except ValidationError as exc:
        loc, msg = first_error(exc)
        raise ConfigError(
            f"买家类型文件 {path} 的字段 {loc} 不合法：{msg}",
            message_en=f"invalid persona file {path}: {loc}: {msg}",
        ) from None
    if persona.id != path.stem:
        raise ConfigError(f"买家类型文件 {path} 的 id（{persona.id}）与文件名不一致", message_en="persona id != file name")
    return persona


@lru_cache(maxsize=4)
def _load_all(directory: str) -> dict[str, Persona]:
    d = Path(directory)
    personas = {}
    for pid in PERSONA_IDS:
        path = d / f"{pid}.yaml"
        if not path.exists():
            raise ConfigError(
                f"缺少买家类型文件：{path}",
                message_en=f"missing persona file {path}",
                hint="prompts/personas/ 下需要 14 个类型文件：" + "、".join(PERSONA_IDS),
            )
        personas[pid] = load_persona(path)
    return personas


def load_personas(prompts_dir: Path) -> dict[str, Persona]:
    """All 14 personas, keyed by id, in canonical order."""
    return _load_all(str(Path(prompts_dir) / "personas"))


def check_persona_id(pid: str) -> str:
    if pid not in PERSONA_IDS:
        raise InputError(
            f"未知的买家类型：{pid}",
            message_en=f"unknown persona id {pid!r}",
            hint="可用：" + "、".join(PERSONA_IDS),
        )
    return pid
