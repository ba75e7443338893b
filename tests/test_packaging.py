"""A built wheel is the whole product: prompts, personas and the lexicon ship inside the package.

The wheel is built from this checkout, unpacked ahead of the editable install
on PYTHONPATH, and run from a folder outside the repository on a copied
knowledge folder: ingest, then a draft, with the packaged prompts.
"""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import KNOWLEDGE, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT), "-w", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(out.glob("reply_copilot-*.whl"))
    site = out / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def run(site, cwd, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COPILOT_", "OPENAI_"))}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_wheel_carries_the_prompts_and_the_lexicon(unpacked):
    names = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    assert {"copilot/prompts/system.md", "copilot/prompts/draft.yaml", "copilot/prompts/strategies.yaml",
            "copilot/prompts/composer.yaml", "copilot/retrieval/lexicon.yaml", "copilot/buyer/reader.npz", "copilot/buyer/harm_probe.npz",
            "copilot/rules/reply_reader.npz"} <= names
    assert sum(n.startswith("copilot/prompts/personas/") for n in names) == 14
    assert not any(n.startswith(("tests/", "evals/", "knowledge/")) for n in names)


def test_an_installed_copilot_ingests_and_drafts_outside_the_repository(unpacked, tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(KNOWLEDGE, shop / "knowledge")
    where = run(unpacked, shop, "-c", "import copilot, copilot.settings as s; print(copilot.__file__); print(s.PACKAGED_PROMPTS)")
    assert where.returncode == 0, where.stderr
    module, prompts = where.stdout.split()
    assert module.startswith(str(unpacked)) and prompts.startswith(str(unpacked)), "must run the unpacked wheel"

    ingest = run(unpacked, shop, "-m", "copilot", "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert (shop / ".copilot" / "chroma").is_dir()

    draft = run(unpacked, shop, "-m", "copilot", "draft", "在吗", "-n", "1")
    assert draft.returncode == 0, draft.stderr
    assert "草稿 1" in draft.stdout and "offline-composer" in draft.stdout
    assert "买家：" in draft.stdout  # the persona data loaded from the package
