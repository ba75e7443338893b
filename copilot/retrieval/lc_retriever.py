"""langchain-core adapter: the hybrid retriever as a ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from .retriever import Retriever


class CopilotRetriever(BaseRetriever):
    """Wraps :class:`copilot.retrieval.Retriever`; metadata carries score, source and section.

    >>> docs = CopilotRetriever(retriever=Retriever(settings), k=3).invoke("衣服买大了能换吗")
    """

    retriever: Any
    k: int = 5
    kind: list[str] | None = None
    sku: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.retriever.search(query, self.k, kind=self.kind, sku=self.sku)
        return [
            Document(
                page_content=h.text,
                id=h.id,
                metadata={
                    "score": h.score,
                    "source": h.source,
                    "section": h.section,
                    "kind": h.kind,
                    "sku": h.sku,
                    "ref": h.ref,
                    "title": h.title,
                    "grounded": result.grounded,
                },
            )
            for h in result.hits
        ]


def as_langchain(retriever: Retriever, **kwargs: Any) -> CopilotRetriever:
    return CopilotRetriever(retriever=retriever, **kwargs)
