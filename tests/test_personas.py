"""Personas are data: 14 canonical ids, typed, each citing where the seeds describe it."""

from pathlib import Path

import pytest

from copilot.buyer.personas import (
    PERSONA_IDS,
    check_persona_id,
    load_persona,
    load_personas,
)
from copilot.errors import ConfigError, InputError
from copilot.settings import PACKAGED_PROMPTS
from copilot.text.cleaning import clean_text

from .conftest import KNOWLEDGE

PERSONAS = load_personas(PACKAGED_PROMPTS)


def test_the_fourteen_canonical_ids():
    assert tuple(PERSONAS) == PERSONA_IDS
    assert len(PERSONA_IDS) == 14
    assert PERSONAS["angry"].label == "暴躁型" and PERSONAS["bargainer"].label == "杀价型"


@pytest.mark.parametrize("pid,alias", [("bargainer", "讲价型"), ("chatty", "交际型"), ("proud", "独断型"),
                                       ("picky", "自我型"), ("skeptical", "勉强购物者"), ("friendly", "礼貌型")])
def test_merged_seed_types_are_aliases(pid, alias):
    assert alias in PERSONAS[pid].aliases


@pytest.mark.parametrize("pid", PERSONA_IDS)
def test_every_citation_quotes_its_seed_verbatim(pid):
    p = PERSONAS[pid]
    assert p.strategy.citations and p.signals.keywords and p.dos and p.donts and p.examples
    assert len(p.exemplars) >= 10
    for c in p.strategy.citations:
        source = KNOWLEDGE / c.source
        assert source.exists(), c.source
        assert c.quote in clean_text(source.read_text(encoding="utf-8")), f"{pid}: {c.quote}"


def test_unknown_persona_ids_are_rejected():
    with pytest.raises(InputError):
        check_persona_id("grumpy")


def test_persona_files_are_validated(tmp_path: Path):
    bad = tmp_path / "angry.yaml"
    bad.write_text("id: angry\nlabel: 暴躁型\nsummary: x\nsignals: {}\nstrategy: {summary: s, steps: [a], citations: []}\nmood: 1\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError):
        load_persona(bad)
