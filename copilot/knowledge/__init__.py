"""The store's knowledge: folder layout, loaders, catalog, embedders, the Chroma store, ingestion and uploads."""

# The catalog models come first: ``catalog`` re-exports the parsing helpers of ``catalog_io``, which builds on
# those models, so importing any module of this package (``ingest``, ``catalog_io`` …) loads them in that order.
from . import catalog as _catalog  # noqa: E402,F401
