"""The knowledge folder's conventions, in one place.

```
knowledge/
  docs/            articles: 话术, buyer psychology (kind doc); any .txt is an article too
  store/
    catalog.yaml   the product catalog (kind product + faq)
    catalog_*.yaml more catalog files: any other .yaml/.yml under store/, merged with catalog.yaml
    lexicon.yaml   the store's own buyer vocabulary (kind lexicon: not chunked; ``expansions`` and ``units``)
    *.md           store policies, one chunk per ``##`` section (kind policy)
    *.csv          快捷短语 / FAQ exports (kind faq)
```

Ingestion, the checker's policy text, the catalog cache and uploads all ask
this module where a file belongs and what kind of knowledge it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

DOCS = "docs"
STORE = "store"
CATALOG = f"{STORE}/catalog.yaml"
LEXICON = f"{STORE}/lexicon.yaml"
SUFFIXES = frozenset({".txt", ".md", ".markdown", ".yaml", ".yml", ".csv"})
_YAML = (".yaml", ".yml")

FileKind = Literal["catalog", "lexicon", "faq_csv", "doc", "policy"]


def is_store_lexicon(rel: str) -> bool:
    """Is ``rel`` the store lexicon (``store/lexicon.yaml`` or ``.yml``)?"""
    return rel in (LEXICON, f"{STORE}/lexicon.yml")


def is_store_catalog(rel: str) -> bool:
    """Is ``rel`` one of the store's catalog files (any .yaml/.yml under store/ but the lexicon)?"""
    return rel.startswith(f"{STORE}/") and Path(rel).suffix.lower() in _YAML and not is_store_lexicon(rel)


def catalog_order(rels: list[str]) -> list[str]:
    """Catalog files in the order they are merged: catalog.yaml (or .yml) first, then by path."""
    return sorted(rels, key=lambda r: (r not in (CATALOG, f"{STORE}/catalog.yml"), r))


def kind_of(rel: str) -> FileKind:
    """What a file at ``rel`` (relative to the knowledge folder) holds."""
    suffix = Path(rel).suffix.lower()
    if suffix in _YAML:
        return "lexicon" if is_store_lexicon(rel) else "catalog"
    if suffix == ".csv":
        return "faq_csv"
    if rel.startswith(f"{DOCS}/") or suffix == ".txt":
        return "doc"
    return "policy"


class KnowledgeLayout:
    """Paths inside one store's knowledge folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def catalog(self) -> Path:
        return self.root / CATALOG

    @property
    def store(self) -> Path:
        return self.root / STORE

    @property
    def lexicon(self) -> Path:
        """The store lexicon (``store/lexicon.yaml``, or ``.yml`` when only that exists)."""
        yml = self.root / STORE / "lexicon.yml"
        return yml if yml.is_file() and not (self.root / LEXICON).is_file() else self.root / LEXICON

    def catalog_files(self) -> list[Path]:
        """The store's catalog files, in merge order (hidden files and READMEs skipped, as ingestion does)."""
        if not self.store.is_dir():
            return []
        rels = []
        for path in self.store.rglob("*"):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and is_store_catalog(rel) and not any(
                    part.startswith(".") or part.startswith("README") for part in rel.split("/")):
                rels.append(rel)
        return [self.root / rel for rel in catalog_order(rels)]

    def policy_sources(self) -> tuple[list[Path], list[Path]]:
        """The files whose text the promise rules check against: (policy .md files, FAQ .csv files)."""
        if not self.store.exists():
            return [], []
        return sorted(self.store.glob("*.md")), sorted(self.store.glob("*.csv"))

    def upload_target(self, name: str, *, policy: bool = False) -> str | None:
        """Where an uploaded file named ``name`` goes (relative path), or None when its type is not knowledge.

        A catalog (``catalog.yaml``) replaces the store's catalog and ``lexicon.yaml`` the store lexicon; a CSV
        and a policy ``.md`` go to ``store/``; any other text is an article under ``docs/``."""
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            return None
        if suffix in (".yaml", ".yml"):
            # only the catalog's own name replaces it: "catalog_new.yaml" must not silently become the catalog
            if name in ("lexicon.yaml", "lexicon.yml"):
                return f"{STORE}/{name}"
            return CATALOG if name in ("catalog.yaml", "catalog.yml") else None
        if suffix == ".csv" or policy:
            return f"{STORE}/{name}"
        return f"{DOCS}/{name}"
