"""The knowledge folder's conventions, in one place.

```
knowledge/
  docs/            articles: 话术, buyer psychology (kind doc); any .txt is an article too
  store/
    catalog.yaml   the product catalog (kind product + faq)
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
SUFFIXES = frozenset({".txt", ".md", ".markdown", ".yaml", ".yml", ".csv"})

FileKind = Literal["catalog", "faq_csv", "doc", "policy"]


def kind_of(rel: str) -> FileKind:
    """What a file at ``rel`` (relative to the knowledge folder) holds."""
    suffix = Path(rel).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "catalog"
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

    def policy_sources(self) -> tuple[list[Path], list[Path]]:
        """The files whose text the promise rules check against: (policy .md files, FAQ .csv files)."""
        if not self.store.exists():
            return [], []
        return sorted(self.store.glob("*.md")), sorted(self.store.glob("*.csv"))

    def upload_target(self, name: str, *, policy: bool = False) -> str | None:
        """Where an uploaded file named ``name`` goes (relative path), or None when its type is not knowledge.

        A catalog (``catalog.yaml``) replaces the store's catalog; a CSV and a policy ``.md`` go to ``store/``;
        any other text is an article under ``docs/``."""
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES:
            return None
        if suffix in (".yaml", ".yml"):
            # only the catalog's own name replaces it: "catalog_new.yaml" must not silently become the catalog
            return CATALOG if name in ("catalog.yaml", "catalog.yml") else None
        if suffix == ".csv" or policy:
            return f"{STORE}/{name}"
        return f"{DOCS}/{name}"
