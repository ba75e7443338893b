"""Shared fixtures. Network is blocked by default (pytest-socket); tests that
start servers opt in with ``@pytest.mark.enable_socket`` and may only reach
loopback (see ``--allow-hosts`` in pyproject)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from copilot.knowledge.embedders import HashEmbedder
from copilot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
EVALS = ROOT / "evals"
NOW = datetime.fromisoformat("2026-11-23T12:00:00+08:00")  # the catalog's promotions are written around this time
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No developer config or COPILOT_/OPENAI_ variables leak into tests."""
    import os

    for key in list(os.environ):
        if key.startswith(("COPILOT_", "OPENAI_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def copy_knowledge(root: Path, **kw) -> Settings:
    """Settings over a writable copy of the repository's knowledge in ``root`` (data in ``root/data``)."""
    shutil.copytree(KNOWLEDGE, root / "knowledge")
    kw.setdefault("evals_dir", EVALS)
    return Settings(knowledge_dir=root / "knowledge", data_dir=root / "data", **kw)


def make_settings(root: Path, **kw) -> Settings:
    kw.setdefault("embedder", "hash:64")
    kw.setdefault("evals_dir", EVALS)
    return Settings(knowledge_dir=root / "knowledge", data_dir=root / "data", **kw)


@pytest.fixture
def kb(tmp_path):
    """A small writable knowledge dir (copy of the real store files) plus settings and a counting fake embedder."""
    kdir = tmp_path / "knowledge"
    (kdir / "store").mkdir(parents=True)
    (kdir / "docs").mkdir()
    for name in ("catalog.yaml", "policies.md", "faqs.csv"):
        shutil.copy(KNOWLEDGE / "store" / name, kdir / "store" / name)
    shutil.copy(next((KNOWLEDGE / "docs").glob("001_*.txt")), kdir / "docs")
    return make_settings(tmp_path), HashEmbedder(64)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """The repository's real knowledge base, ingested once with the default embedder."""
    from copilot.knowledge.doctor import diagnose
    from copilot.knowledge.ingest import ingest
    from copilot.retrieval.retriever import Retriever

    root = tmp_path_factory.mktemp("real")
    settings = Settings(knowledge_dir=KNOWLEDGE, data_dir=root / "data", evals_dir=EVALS)
    report = ingest(settings)
    retriever = Retriever(settings)
    diagnose(settings, retriever)  # calibrated like `copilot ingest` does, so no test depends on which ran first
    return settings, retriever, report


@pytest.fixture(scope="module")
def copilot(real_index):
    """The offline copilot over the real knowledge base, warmed up."""
    from copilot.drafting.pipeline import Copilot

    c = Copilot(real_index[0], retriever=real_index[1], backend=None)
    c.warm_up()
    return c
