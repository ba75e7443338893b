"""The fresh-reply eval (``evals/replies``): each case is checked against its own store's catalog and policies."""

import json

import pytest

from copilot.errors import InputError
from copilot.evaluation.replies import run_replies_eval
from copilot.settings import Settings

from .conftest import KNOWLEDGE


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "stores.yaml").write_text(f"sample: {KNOWLEDGE}\n", encoding="utf-8")
    now = "2026-11-23T12:00:00+08:00"
    _write(tmp_path / "rules_dev.jsonl", [
        {"id": "r1", "rule": "platform_rules", "store": "sample", "reply": "好评返现5元，加我微信发您", "now": now,
         "label": "violation", "kind": "plain"},
        {"id": "r2", "rule": "platform_rules", "store": "sample", "reply": "收到后欢迎如实评价哦", "now": now,
         "label": "clean", "kind": "hard_negative"},
        {"id": "r3", "rule": "a_rule_not_built", "store": "sample", "reply": "……", "now": now, "label": "clean"},
    ])
    _write(tmp_path / "hostile_dev.jsonl", [
        {"id": "h1", "rule": "platform_rules", "store": "sample", "reply": "加我微信 私下转账给您打8折", "now": now,
         "label": "violation", "kind": "hostile"},
    ])
    _write(tmp_path / "agent_replies_dev.jsonl", [
        {"id": "g1", "store": "sample", "message": "在吗", "reply": "在的亲，请问想了解哪款呢？", "now": now, "violations": []},
    ])
    return tmp_path


def test_rules_hostile_replies_and_agent_replies_are_scored_per_split(folder):
    r = run_replies_eval(folder, Settings(knowledge_dir=KNOWLEDGE), "dev")
    assert r["rules"]["platform_rules"]["tp"] == 1 and r["rules"]["platform_rules"]["tn"] == 1
    assert r["unknown_rules"] == {"a_rule_not_built": 1}  # counted, never scored as passing
    assert r["hostile"] == {"cases": 1, "flagged_rate": 1.0, "missed": []}
    assert r["agent_replies"]["false_alarm_rate"] == 0.0
    empty = run_replies_eval(folder, Settings(knowledge_dir=KNOWLEDGE), "test")  # no files for this split
    assert empty["rules"] == {} and empty["hostile"]["cases"] == 0


def test_a_case_for_a_store_without_knowledge_is_refused(folder):
    (folder / "stores.yaml").write_text(f"other: {KNOWLEDGE}\n", encoding="utf-8")
    with pytest.raises(InputError, match="stores.yaml"):
        run_replies_eval(folder, Settings(knowledge_dir=KNOWLEDGE), "dev")
