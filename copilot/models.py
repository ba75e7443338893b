"""Typed records shared by ingestion, retrieval and the edges."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["doc", "faq", "product", "policy"]
KINDS: tuple[str, ...] = ("doc", "faq", "product", "policy")


class Chunk(BaseModel):
    """One retrievable piece of store knowledge."""

    id: str
    text: str
    title: str = ""
    kind: Kind
    source: str  # path relative to the knowledge dir, e.g. "store/policies.md"
    section: str = ""  # heading path, "一、… > （二）…"
    ref: str  # stable human-readable reference: "policy/七天无理由退换货", "faq/DJ-2301/能机洗吗"
    sku: str = ""
    flags: list[str] = Field(default_factory=list, exclude=True, description="instruction-like text removed at load")

    def embed_text(self) -> str:
        """The text the embedder and the lexical ranker see."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def metadata(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "source": self.source,
            "section": self.section,
            "ref": self.ref,
            "sku": self.sku,
            "title": self.title,
        }

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict) -> "Chunk":
        return cls(id=id, text=text, **{k: meta.get(k, "") for k in ("title", "kind", "source", "section", "ref", "sku")})


def chunk_id(source: str, ref: str, text: str, ordinal: int = 0) -> str:
    """Content-addressed id: the same text at the same place keeps its id (and its embedding)."""
    h = hashlib.sha1(f"{source}\x1f{ref}\x1f{ordinal}\x1f{text}".encode()).hexdigest()
    return h[:24]


class Hit(BaseModel):
    """A retrieved chunk with its scores."""

    id: str
    text: str
    title: str
    kind: Kind
    source: str
    section: str
    ref: str
    sku: str = ""
    score: float
    dense: float = 0.0
    lexical: float = 0.0


class SearchResult(BaseModel):
    query: str
    hits: list[Hit]
    grounded: bool = Field(description="False when the best match is below the no-answer threshold")
    threshold: float
    timings_ms: dict[str, float] = Field(default_factory=dict)
