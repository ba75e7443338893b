"""The offline eval harness: dialogues, thresholds, baseline diffs and the HTML report."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from copilot.evaluation.run import (
    check_thresholds,
    diff_baseline,
    run_suites,
    write_report,
)
from copilot.settings import PACKAGED_PROMPTS

from .conftest import CHROMIUM, CHROMIUM_FLAGS


@pytest.fixture(scope="module")
def offline_run(real_index):
    settings, _, _ = real_index
    return settings, run_suites(settings, ("dialogues",))


def test_every_offline_draft_passes_every_rule(offline_run):
    _, result = offline_run
    d = result.suites["dialogues"]
    # up to three drafts each; one that repeats an earlier draft's body is dropped, so at least one per request
    assert d.dialogues >= 60 and d.drafts >= d.dialogues
    assert d.draft_rule_pass_rate == 1.0
    assert set(d.per_stage) == {"pre_sale", "in_sale", "after_sale"} and len(d.per_persona) == 14
    assert result.meta.seconds < 60


def test_thresholds_fail_loudly(offline_run, tmp_path):
    _, result = offline_run
    spec = tmp_path / "t.yaml"
    spec.write_text(yaml.safe_dump({"minimums": {"dialogues.draft_rule_pass_rate": 1.0,
                                                 "dialogues.per_rule.*": 1.0,
                                                 "dialogues.expectation_pass_rate": 1.01}}), encoding="utf-8")
    checks = check_thresholds(result.to_dict(), spec)
    assert any(c.metric == "dialogues.per_rule.honest_urgency" and c.passed for c in checks)
    assert [c.metric for c in checks if not c.passed] == ["dialogues.expectation_pass_rate"]


def test_rates_that_must_stay_low_have_maximums(offline_run, tmp_path):
    _, result = offline_run
    spec = tmp_path / "t.yaml"
    spec.write_text(yaml.safe_dump({"maximums": {"dialogues.draft_rule_pass_rate": 0.5,
                                                 "dialogues.repaired_drafts": 100}}), encoding="utf-8")
    checks = {c.metric: c for c in check_thresholds(result.to_dict(), spec)}
    assert not checks["dialogues.draft_rule_pass_rate"].passed and checks["dialogues.draft_rule_pass_rate"].bound == "≤ 0.5"
    assert checks["dialogues.repaired_drafts"].passed


def _broken_prompts(tmp_path: Path) -> Path:
    """A template change that stops asking for the order number and photos."""
    prompts = tmp_path / "prompts"
    shutil.copytree(PACKAGED_PROMPTS, prompts)
    composer = prompts / "composer.yaml"
    data = yaml.safe_load(composer.read_text(encoding="utf-8"))
    data["clarify"] = {k: ["您先说说具体情况吧。"] for k in data["clarify"]}
    composer.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return prompts


@pytest.fixture(scope="module")
def broken_run(offline_run, tmp_path_factory):
    """The offline run written as a baseline, and a run after the template change (with its diff)."""
    settings, result = offline_run
    root = tmp_path_factory.mktemp("broken")
    base_dir = root / "baseline"
    write_report(result, base_dir)
    broken = run_suites(settings.model_copy(update={"prompts_dir": _broken_prompts(root)}), ("dialogues",))
    broken.baseline_diff = diff_baseline(broken, base_dir)
    return broken


def test_baseline_shows_cases_a_template_change_breaks(broken_run):
    diff = broken_run.baseline_diff
    assert diff.newly_failing, "the broken template must show up as newly failing cases"
    assert all(k.startswith("dialogues:") for k in diff.newly_failing)
    assert any(f["name"] == "ask_for" for det in diff.details for f in det["failures"])


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by `make test`")
def test_html_report_opens_in_headless_chromium_and_shows_failures(offline_run, broken_run, tmp_path):
    settings, _ = offline_run
    broken = broken_run
    _, html = write_report(broken, tmp_path / "report")
    failing = next(c.id for c in broken.suites["dialogues"].cases if not c.passed)
    flags = ["--headless", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chrome'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=90)
    assert "全部失败" in dom.stdout and "与基线对比" in dom.stdout and failing in dom.stdout
    shot = Path(settings.data_dir).parent / "eval-report.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,2200", html.as_uri()],
                   capture_output=True, timeout=90)
    assert shot.exists() and shot.stat().st_size > 20_000
