"""The store's knowledge: folder layout, loaders, catalog, embedders, the Chroma store, ingestion and uploads."""
