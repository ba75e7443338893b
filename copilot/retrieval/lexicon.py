"""Query understanding: colloquial expansions and product mentions.

Buyers write "买大了能换吗"; the shop's knowledge says "七天无理由退换货".
``Lexicon`` adds the shop's standard terms for colloquial phrases to the
lexical side of a query. ``ProductMatcher`` finds which catalog products a
message talks about (SKU, name or a 简称 such as 羽绒服), so retrieval can
prefer that product's FAQs and prefer shop-wide policies when no product is
named.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from ..errors import ConfigError
from ..schema import Chunk


class Lexicon:
    def __init__(self, expansions: dict[str, list[str]]) -> None:
        try:
            self.rules = [(re.compile(pattern, re.IGNORECASE), list(terms)) for pattern, terms in expansions.items()]
        except re.error as exc:
            raise ConfigError(f"同义词表中的正则表达式有误：{exc}", message_en=f"bad lexicon pattern: {exc}") from None

    @classmethod
    def load(cls, path: Path | None = None) -> "Lexicon":
        return _load(str(path) if path else "")

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for pattern, terms in self.rules:
            if pattern.search(text):
                out += [t for t in terms if t not in out]
        return out

    def expand(self, text: str) -> str:
        extra = self.terms(text)
        return f"{text} {' '.join(extra)}" if extra else text


@lru_cache(maxsize=8)
def _load(path: str) -> Lexicon:
    try:
        if path:
            raw = Path(path).read_text(encoding="utf-8")
        else:
            raw = resources.files(__package__).joinpath("lexicon.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(raw) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"无法读取同义词表 {path or '内置'}：{exc}", message_en=f"cannot read lexicon: {exc}") from None
    return Lexicon({str(k): [str(t) for t in v] for k, v in (data.get("expansions") or {}).items()})


_ALIASES = re.compile(r"^简称：(.+)$", re.MULTILINE)
_NAME_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


class ProductMatcher:
    """Finds product mentions using the product chunks of the index."""

    def __init__(self, products: list[Chunk]) -> None:
        self.names: list[tuple[str, str]] = []  # (lowercased surface form, sku)
        for c in products:
            if not c.sku:
                continue
            forms = {c.sku.lower()}
            m = _ALIASES.search(c.text)
            if m:
                forms.update(a.strip().lower() for a in m.group(1).split("、") if len(a.strip()) >= 2)
            if c.title:
                forms.add(c.title.lower())
            self.names += [(f, c.sku) for f in forms]
        # longest first, so "智能手表" wins over "手表"
        self.names.sort(key=lambda x: -len(x[0]))

    def mentions(self, text: str) -> set[str]:
        lowered = text.lower()
        found: set[str] = set()
        for form, sku in self.names:
            if form in lowered:
                found.add(sku)
        return found
