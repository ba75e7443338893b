"""The tone rules on a store they were not written on: a small tea & snacks shop built here.

Its units are 罐/饼/盒/袋, its 生鲜 has no 七天无理由, opened food is not returnable, 常温 goods ship only
by 中通 and its 价保 window is 7 days (15天 appears only in its 质量问题 terms). Each miss the rules had on
such a store has a test, and so does the correct statement of each policy (no false alarm).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copilot.rules.checking import Checker
from copilot.rules.registry import check_reply
from copilot.settings import Settings

from .conftest import NOW

CATALOG = """\
shop:
  name: 山野茶食铺
  low_stock_threshold: 10
  timezone: Asia/Shanghai
products:
  - sku: TEA-01
    name: 明前龙井 250g罐装
    aliases: [龙井, 龙井茶]
    category: 茶叶
    price: 168
    stock: 3
    unit: 罐
    specs:
      配料: 绿茶
      冲泡建议: 85℃水，3g茶配150ml水
  - sku: PE-02
    name: 普洱熟茶 357g饼
    aliases: [普洱, 普洱饼]
    category: 茶叶
    price: 298
    stock: 5
    unit: 饼
    specs:
      冲泡建议: 沸水冲泡，洗茶一次
  - sku: YW-03
    name: 鲜炖燕窝 冰糖款 礼盒
    aliases: [燕窝, 鲜炖燕窝]
    category: 生鲜
    price: 398
    stock: 40
    unit: 盒
    specs:
      配料: 燕窝、饮用水、冰糖
      储存: 0-4℃冷藏
  - sku: NUT-04
    name: 每日坚果 混合装
    aliases: [每日坚果]
    category: 坚果
    price: 89
    stock: 120
    unit: 袋
    specs:
      配料: 腰果、巴旦木、蔓越莓干
"""

POLICIES = """\
# 山野茶食铺 售后与服务政策

## 退换货
签收后7天内，未拆封的茶叶、坚果支持七天无理由退货。生鲜、冷链商品不支持七天无理由退货。食品一经拆封不退不换（质量问题除外）。

## 发货
常温商品只发中通，不支持指定顺丰；生鲜顺丰冷运，每周一至周三发货。现货付款后48小时内发货。

## 价格保护
签收后7天内，同一商品页面降价可申请价保，核实后24小时内退差价。

## 质量问题
收到的商品霉变、破损，签收后15天内联系客服并提供照片，核实后退款或补发。
"""


@pytest.fixture(scope="module")
def tea(tmp_path_factory) -> Checker:
    root = tmp_path_factory.mktemp("tea")
    store = root / "knowledge" / "store"
    store.mkdir(parents=True)
    (store / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (store / "policies.md").write_text(POLICIES, encoding="utf-8")
    return Checker(Settings(knowledge_dir=root / "knowledge"))


def verdict(checker: Checker, reply: str, rule: str, **kw):
    kw.setdefault("now", NOW)
    return next(c for c in checker.check(reply, **kw).checks if c.rule == rule)


def fails(checker: Checker, reply: str, rule: str, **kw):
    result = verdict(checker, reply, rule, **kw)
    assert not result.passed, f"{reply!r} should break {rule}"
    assert result.span and result.span in reply and result.detail
    return result


def passes(checker: Checker, reply: str, rule: str, **kw):
    result = verdict(checker, reply, rule, **kw)
    assert result.passed, f"{reply!r}: {result.detail}"
    return result


# ---------------------------------------------------------------- 如实紧迫感: the store's units
def test_a_count_in_the_stores_unit_is_checked_against_the_stock(tea):
    bad = fails(tea, "这款龙井仅剩1罐了，喜欢的话早点拍。", "honest_urgency", sku="TEA-01")
    assert "3 罐" in bad.detail  # the stock is said in the product's own unit
    passes(tea, "这款龙井仅剩3罐了，喜欢的话早点拍。", "honest_urgency", sku="TEA-01")


def test_a_unit_only_the_catalog_uses_is_a_unit_too(tea):
    fails(tea, "普洱就剩最后2饼了。", "honest_urgency", sku="PE-02")
    passes(tea, "普洱库存只剩5饼了。", "honest_urgency", sku="PE-02")


@pytest.mark.parametrize("reply", ["只剩2袋了", "库存就剩1箱", "最后1包了", "只有3听了"])
def test_generic_measure_words_are_counts(tea, reply):
    fails(tea, reply, "honest_urgency", sku="NUT-04")


# ---------------------------------------------------------------- 不越权承诺: exclusions read from the policy
def test_no_reason_return_for_an_excluded_category_breaks_the_policy(tea):
    for kw in ({}, {"sku": "YW-03"}, {"sku": "TEA-01"}):  # the sentence names the product: its sku need not
        bad = fails(tea, "燕窝收到不喜欢可以七天无理由退换。", "no_unauthorized_promise", **kw)
        assert "生鲜、冷链商品不支持七天无理由退货" in bad.detail
    fails(tea, "生鲜也支持七天无理由退货哦。", "no_unauthorized_promise")


def test_stating_the_exclusion_is_not_a_promise(tea):
    passes(tea, "燕窝属于生鲜，不支持七天无理由哦。", "no_unauthorized_promise", sku="YW-03")
    passes(tea, "未拆封的龙井签收后7天内支持七天无理由退货。", "no_unauthorized_promise", sku="TEA-01")
    passes(tea, "燕窝收到有破损的话，拍照给我，核实后给您退款或补发。", "no_unauthorized_promise", sku="YW-03")


def test_opened_food_is_not_returnable(tea):
    bad = fails(tea, "这罐龙井泡了一次，不喜欢的话可以给您退。", "no_unauthorized_promise", sku="TEA-01")
    assert "食品一经拆封不退不换" in bad.detail
    fails(tea, "每日坚果开袋吃了也能退的。", "no_unauthorized_promise", sku="NUT-04")
    fails(tea, "燕窝开封了可以退。", "no_unauthorized_promise", sku="YW-03")


# ---------------------------------------------------------------- 不越权承诺: a negative sentence is no permission
def test_a_courier_the_policy_refuses_is_not_promised(tea):
    bad = fails(tea, "可以给您发顺丰的，放心。", "no_unauthorized_promise", sku="TEA-01")
    assert "不支持指定顺丰" in bad.detail
    fails(tea, "这单免费给您升级顺丰。", "no_unauthorized_promise", sku="NUT-04")


def test_a_courier_the_policy_allows_for_that_goods_is_fine(tea):
    passes(tea, "常温商品默认发中通。", "no_unauthorized_promise", sku="TEA-01")
    passes(tea, "燕窝是生鲜，给您发顺丰冷运。", "no_unauthorized_promise", sku="YW-03")
    passes(tea, "我们不支持指定顺丰，常温商品默认发中通哦。", "no_unauthorized_promise", sku="TEA-01")


# ---------------------------------------------------------------- 不越权承诺: figures come from their own section
def test_a_figure_from_an_unrelated_clause_does_not_back_a_promise(tea):
    assert "15天" in POLICIES  # it is in the policy, but in the 质量问题 terms
    bad = fails(tea, "签收后15天内都可以申请价保。", "no_unauthorized_promise", sku="TEA-01")
    assert "价保" in bad.detail
    fails(tea, "放心，这款支持15天价保。", "no_unauthorized_promise", sku="TEA-01")
    passes(tea, "签收后7天内可以申请价保，核实后24小时内退差价。", "no_unauthorized_promise", sku="TEA-01")
    passes(tea, "霉变的话签收后15天内联系我，核实后退款或补发。", "no_unauthorized_promise", sku="TEA-01")


def test_the_no_reason_window_is_read_from_the_policy(tea):
    fails(tea, "未拆封的茶叶支持15天无理由退货。", "no_unauthorized_promise", sku="TEA-01")
    ctx = tea.context(sku="TEA-01", now=NOW)
    ctx.policies = "## 退换货\n签收后15天内，未拆封的商品支持十五天无理由退货。"
    by_rule = {c.rule: c for c in check_reply("未拆封的茶叶支持15天无理由退货。", ctx).checks}
    assert by_rule["no_unauthorized_promise"].passed, by_rule["no_unauthorized_promise"].detail
    by_rule = {c.rule: c for c in check_reply("未拆封的茶叶支持7天无理由退货。", ctx).checks}
    assert not by_rule["no_unauthorized_promise"].passed


# ---------------------------------------------------------------- 广告法: efficacy and medical claims
@pytest.mark.parametrize("reply", [
    "燕窝能美白，对宝宝100%有好处。",
    "这款茶喝了能降血压。",
    "每天一包坚果，可以增强免疫力。",
    "普洱有减肥排毒的功效。",
    "纯天然，无任何副作用。",
])
def test_efficacy_claims_for_food_are_ad_law_violations(tea, reply):
    fails(tea, reply, "ad_law_words", sku="YW-03")


@pytest.mark.parametrize("reply", [
    "燕窝是普通食品，不能治疗疾病，孕妇食用前请咨询医生。",
    "您问的能治病吗？燕窝是普通食品，不能治病哦。",
    "减肥期间也可以适量吃，每天一小包就够了。",
    "我们不宣传任何降血压、降血糖的功效。",
])
def test_denying_or_asking_is_not_a_claim(tea, reply):
    passes(tea, reply, "ad_law_words", sku="YW-03")


# ---------------------------------------------------------------- nothing in the rules names one shop
def test_the_rules_name_no_product_and_no_fixed_return_window():
    rules = Path(__file__).resolve().parents[1] / "copilot" / "rules"
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(rules.glob("*.py")))
    assert not re.search(r"\(七天\|7天\)|七天无理由\)|7天无理由\)", source)
    for noun in ("羽绒服", "面膜", "耳机", "手表", "保温杯", "四件套", "燕窝", "龙井", "茶叶"):
        assert noun not in source, noun


def test_ordinal_first_is_not_an_extreme_word():
    from datetime import datetime

    from copilot.rules.ad_law_words import AdLawWords
    from copilot.rules.base import CheckContext

    ctx = CheckContext(now=datetime(2026, 12, 1, 12))
    assert AdLawWords().check("第一泡快速洗茶，之后逐泡延长。", ctx).passed
    assert not AdLawWords().check("这款是全网第一的好茶。", ctx).passed
