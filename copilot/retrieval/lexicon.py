"""Query understanding: colloquial expansions and product mentions.

Buyers write "买大了能换吗"; the shop's knowledge says "七天无理由退换货".
``Lexicon`` adds the shop's standard terms for colloquial phrases to the
lexical side of a query: the built-in table (``lexicon.yaml``, shop-agnostic;
or the file of the setting ``lexicon_path``) merged with the store's own
buyer vocabulary, ``knowledge/store/lexicon.yaml`` (``expansions`` and
``units``, see ``knowledge.catalog_io.parse_store_lexicon``).

The store's file takes effect at the reindex, like the catalog: ingestion
keeps its text with the index generation (``Generation.lexicon_text``), and
``Lexicon.for_generation(gen, path)`` is the lexicon for the generation being
served; ``Lexicon.for_store(knowledge_dir, path)`` reads the file on disk
where there is no index. ``ProductMatcher`` finds which catalog products a
message talks about (SKU, name or a 简称), so retrieval can prefer that
product's FAQs and prefer shop-wide policies when no product is named.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from ..errors import ConfigError, KnowledgeFileError
from ..knowledge.catalog_io import parse_store_lexicon
from ..knowledge.layout import KnowledgeLayout
from ..schema import Chunk

log = logging.getLogger(__name__)


class Lexicon:
    def __init__(self, expansions: dict[str, list[str]]) -> None:
        self.expansions = {str(k): list(v) for k, v in expansions.items()}
        try:
            self.rules = [(re.compile(pattern, re.IGNORECASE), list(terms)) for pattern, terms in expansions.items()]
        except re.error as exc:
            raise ConfigError(f"同义词表中的正则表达式有误：{exc}", message_en=f"bad lexicon pattern: {exc}") from None

    @classmethod
    def load(cls, path: Path | None = None, store: str | Path | None = None) -> "Lexicon":
        """The built-in table (or the one at ``path``) merged with the store's own lexicon: ``store`` is the
        text of ``store/lexicon.yaml`` or its path. A pattern both have gets the terms of both (the table's
        first); the store's other patterns follow the table's."""
        base = _load(str(path) if path else "")
        if store is None or store == "":
            return base
        if isinstance(store, Path):
            if not store.is_file():
                return base
            store = store.read_text(encoding="utf-8-sig")
        return _merged(str(path) if path else "", store)

    @classmethod
    def for_generation(cls, generation, path: Path | None = None) -> "Lexicon":
        """The lexicon for a served index generation: the table merged with the store lexicon kept with it
        (from the reindex on). A store lexicon that no longer reads is skipped (ingestion reported it)."""
        try:
            return cls.load(path, getattr(generation, "lexicon_text", "") or None)
        except (KnowledgeFileError, ConfigError) as exc:
            log.warning("store lexicon of %s skipped: %s", getattr(generation, "name", "?"), exc)
            return cls.load(path)

    @classmethod
    def for_store(cls, knowledge_dir: Path, path: Path | None = None) -> "Lexicon":
        """The table merged with the store lexicon on disk (where no index is served)."""
        return cls.load(path, KnowledgeLayout(knowledge_dir).lexicon)

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


@lru_cache(maxsize=16)
def _merged(path: str, store_text: str) -> Lexicon:
    table = dict(_load(path).expansions)
    for pattern, terms in parse_store_lexicon(store_text).expansions.items():
        table[pattern] = list(dict.fromkeys([*table.get(pattern, []), *terms]))
    return Lexicon(table)


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
        # longest first, so a longer name (「真丝长裙」) wins over a shorter one inside it (「长裙」)
        self.names.sort(key=lambda x: -len(x[0]))

    def mentions(self, text: str) -> set[str]:
        lowered = text.lower()
        found: set[str] = set()
        for form, sku in self.names:
            if form in lowered:
                found.add(sku)
        return found
