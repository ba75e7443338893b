"""Offline evaluations: data plus small evaluators."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InputError

M = TypeVar("M", bound=BaseModel)


def load_jsonl(path: Path, model: type[M]) -> list[M]:
    """One validated ``model`` per non-empty line; a bad line is an error naming its line number."""
    if not path.exists():
        raise InputError(f"评测集不存在：{path}", message_en=f"eval set {path} not found")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(model.model_validate_json(line))
            except ValidationError as exc:
                raise InputError(f"{path} 第 {n} 行格式错误：{exc.errors()[0]['msg']}", message_en=str(exc)) from None
    return out


def states(reply: str, phrase: str) -> bool:
    """Does the reply state ``phrase`` (a claim an eval forbids), not only deny it? 「不能刷公交卡」 contains
    「能刷公交」 but says the opposite; a phrase that is itself a negation is matched as written."""
    start = reply.find(phrase)
    while start != -1:
        if phrase[:1] in "不没无未非别" or not any(c in "不没无未非别" for c in reply[max(0, start - 2):start]):
            return True
        start = reply.find(phrase, start + 1)
    return False
