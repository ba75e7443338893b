"""The tracing evaluator: every figure, carrier, guarantee and unit in a draft must come from the store's files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from copilot.evaluation.tracing import StoreEvidence, cn_number
from copilot.knowledge.catalog import parse_catalog

CATALOG = """
shop: {name: 山间茶铺, timezone: Asia/Shanghai}
products:
  - sku: TEA-01
    name: 明前龙井 250g
    aliases: [龙井]
    category: 茶叶
    price: 128
    stock: 3
    unit: 罐
    specs: {产地: 杭州}
    promotions:
      - {title: 双12预热, discount: 立减20元, starts_at: "2026-11-28T00:00:00+08:00", ends_at: "2026-12-12T00:00:00+08:00"}
"""
POLICY = """# 售后政策
## 退换货
茶叶等食品一经拆封不退不换；未拆封的签收后3天内可申请退货，寄回运费由买家承担。
## 发货
常温商品只发中通快递，付款后72小时内发出，不支持指定其他快递。
"""
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture()
def store(tmp_path: Path) -> StoreEvidence:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "store" / "policies.md").write_text(POLICY, encoding="utf-8")
    return StoreEvidence(tmp_path, catalog=parse_catalog(CATALOG))


def kinds(found) -> set[tuple[str, str]]:
    return {(u.kind, u.text) for u in found}


def test_a_clothing_store_guarantee_on_a_tea_store_is_untraced(store):
    found = store.trace("收到不合适还有签收后7天内符合条件可以无理由退换，买得放心", now=NOW)
    assert ("duration", "7天") in kinds(found)
    assert ("guarantee", "无理由") in kinds(found)


def test_a_carrier_the_store_does_not_use_is_untraced(store):
    assert ("carrier", "顺丰") in kinds(store.trace("亲，默认给您发顺丰哦", now=NOW))
    assert store.trace("亲，常温商品默认发中通快递，付款后72小时内发出", now=NOW) == []


def test_units_come_from_the_catalog(store):
    assert ("unit", "3件") in kinds(store.trace("这款目前库存只有3件了", now=NOW))
    assert store.trace("这款目前库存只有3罐了", now=NOW) == []


def test_figures_the_catalog_computes_and_the_buyer_said_are_traced(store):
    assert store.trace("现在双12预热立减20元，到手108元，活动到12月11日24点结束", now=NOW) == []
    assert store.trace("您说的两罐一共256元", conversation="买家：我要两罐", now=NOW) == []
    assert ("money", "99元") in kinds(store.trace("今天下单只要99元", now=NOW))


def test_a_duration_from_another_policy_is_untraced(store):
    assert ("duration", "15天") in kinds(store.trace("签收后15天内都可以申请价保", now=NOW))


def test_chinese_number_words():
    assert [cn_number(x) for x in ("七", "十五", "两", "三百", "21")] == [7, 15, 2, 300, 21]


def test_the_dialogue_eval_fails_a_draft_with_a_fact_from_another_store(store):
    """The tracer runs on every draft of the dialogue eval: an untraced fact is a failure and counts in the rate."""
    from types import SimpleNamespace

    from copilot.evaluation.dialogues import Dialogue, run_dialogue_eval

    texts = iter(["亲，常温商品默认发中通快递。", "亲，支持7天无理由退换，默认发顺丰。"])

    class Scripted:  # stands in for the copilot: one draft per request, no rule failures
        backend = None

        def draft(self, req):
            d = SimpleNamespace(text=next(texts), checks=[], strategy_label="专业直答", backend="offline", repairs=[])
            return SimpleNamespace(drafts=[d], analysis=SimpleNamespace(persona=SimpleNamespace(id="decisive"), stage="pre_sale"))

    dialogues = [Dialogue(id=f"t{i}", persona="decisive", stage="pre_sale", now=NOW,
                          turns=[{"role": "buyer", "text": "发什么快递"}]) for i in (1, 2)]
    result = run_dialogue_eval(Scripted(), dialogues, evidence=store)
    assert result["untraced_draft_rate"] == 0.5
    first, second = result["cases"]
    assert first["passed"] and not second["passed"]
    assert {f["name"] for f in second["failures"]} >= {"carrier", "guarantee", "duration"}
