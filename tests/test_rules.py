"""Tone rules: each rule returns passed, a Chinese reason and the offending span."""

import json
import subprocess
import sys

import pytest

from copilot.evaluation.rules import run_rules_eval
from copilot.rules.checking import Checker
from copilot.rules.guard import guard
from copilot.rules.registry import RULE_IDS
from copilot.settings import Settings

from .conftest import EVALS, KNOWLEDGE, NOW


@pytest.fixture(scope="module")
def checker():
    return Checker(Settings(knowledge_dir=KNOWLEDGE))


def verdict(checker, reply, rule, **kw):
    kw.setdefault("now", NOW)
    report = checker.check(reply, **kw)
    return next(c for c in report.checks if c.rule == rule)


@pytest.mark.parametrize("rule,reply,kw,ok", [
    # 不推卸责任: mentioning the courier is fine when we own the follow-up
    ("no_blame_shifting", "物流慢是快递的问题，跟我们没关系，您直接找快递吧。", {}, False),
    ("no_blame_shifting", "快递延误了，但这是我们应该跟进的，我马上帮您催。", {}, True),
    ("no_blame_shifting", "下单时尺码是您自己选的，这个不怪我们。", {}, False),
    # 如实紧迫感: claims are checked against stock and promotions at `now`
    ("honest_urgency", "这款只剩最后3件了，手慢无哦。", {"sku": "XZ-3302"}, False),
    ("honest_urgency", "这款库存只剩8件了，立减50元今晚24点结束。", {"sku": "DJ-2301"}, True),
    ("honest_urgency", "9折活动今晚就结束了。", {"sku": "WY-2208"}, False),
    ("honest_urgency", "下个月就要涨价了，现在买划算。", {"sku": "EJ-5602"}, False),
    ("honest_urgency", "12月1日起这款调到149元。", {"sku": "BW-7101"}, True),
    ("honest_urgency", "支持7天无理由，48小时内发货，满300减30要12月10日才开始。", {"sku": "JH-1205"}, True),
    ("honest_urgency", "仅剩2件啦！", {"facts": {"stock": 2, "low_stock_threshold": 10}}, True),
    # 先共情: only when the buyer is upset or complaining
    ("empathy_first", "请提供订单号和照片。", {"message": "收到的羽绒服开线了，什么质量啊！"}, False),
    ("empathy_first", "非常抱歉给您添麻烦了！麻烦提供订单号和照片。", {"message": "收到的羽绒服开线了，什么质量啊！"}, True),
    ("empathy_first", "可以的，防水等级5ATM。", {"message": "手表能戴着游泳吗？"}, True),
    # 不越权承诺
    ("no_unauthorized_promise", "看您诚心要，给您改价到399。", {"sku": "DJ-2301"}, False),
    ("no_unauthorized_promise", "现在有双12预热直降立减50元，到手449元。", {"sku": "DJ-2301"}, True),
    ("no_unauthorized_promise", "放心，保证明天一定给您送到。", {}, False),
    ("no_unauthorized_promise", "运费险一般赔付8-25元，按距离核定。", {"sku": "XZ-3302"}, True),
    ("no_unauthorized_promise", "我帮您申请一下补偿，能不能通过要看审核结果。", {}, True),
    # durations are compared as numbers: 十五天 is the policy's 15天, 二十天 is in no policy
    ("no_unauthorized_promise", "手表十五天内可以换新。", {}, True),
    ("no_unauthorized_promise", "手表二十天内可以换新。", {}, False),
    # 不索要敏感信息
    ("no_sensitive_request", "麻烦把收到的验证码发我一下。", {}, False),
    ("no_sensitive_request", "我们绝不会索要验证码和密码，请不要告诉任何人。", {}, True),
    ("no_sensitive_request", "您告诉我付款卡号后4位，我帮您核对。", {}, True),
    # the 对公账户 exemption holds at the very start of a reply too (the look-back window is clipped, not wrapped)
    ("no_sensitive_request", "开专票要对公账户，请提供卡号。", {}, True),
    ("no_sensitive_request", "为了核对身份，开专票前请提供卡号。", {}, False),
    # 文明用语
    ("polite_language", "爱买不买，价格就这样。", {}, False),
    ("polite_language", "不好意思，客服没有改价权限，价格以页面为准。", {}, True),
    # 广告法
    ("ad_law_words", "这是全网最低价，效果最好。", {}, False),
    ("ad_law_words", "敏感肌第一次用最好先在耳后试用，面料是100%棉。", {}, True),
    # 平台规则
    ("platform_rules", "晒图好评返现10元哦～", {}, False),
    ("platform_rules", "我们不做好评返现，也不会让您加微信。", {}, True),
])
def test_rule_examples(checker, rule, reply, kw, ok):
    result = verdict(checker, reply, rule, **kw)
    assert result.passed is ok, result.detail
    if not ok:
        assert result.span and result.span in reply and result.detail


def test_every_rule_is_listed_in_a_report(checker):
    report = checker.check("亲，您好～", now=NOW)
    assert [c.rule for c in report.checks] == list(RULE_IDS) and report.passed


def test_precision_and_recall_on_the_labelled_sets(checker):
    result = run_rules_eval(checker, EVALS / "rules")
    for rule, r in result["rules"].items():
        assert r["cases"] >= 25, rule
        assert r["precision"] >= 0.90 and r["recall"] >= 0.90, (rule, r["errors"])


def test_guard_removes_the_offending_sentence_and_says_so(checker):
    ctx = checker.context(sku="XZ-3302", now=NOW, message="这鞋好穿吗")
    text, report, notes = guard("亲，这款跑鞋缓震不错，日常慢跑很合适。现在只剩最后3双了，手慢无哦。有问题随时找我～", ctx)
    assert report.passed and "只剩" not in text and "缓震" in text
    assert notes and "如实紧迫感" in notes[0]


def test_guard_puts_the_apology_first(checker):
    ctx = checker.context(now=NOW, message="等了五天还没发货，你们到底发不发？")
    text, report, notes = guard("亲，麻烦发一下订单号，我查一下。", ctx)
    assert report.passed and text.startswith("亲，非常抱歉")


def test_check_cli_json(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "copilot", "--knowledge-dir", str(KNOWLEDGE), "check", "这款只剩最后3件了",
         "--facts", json.dumps({"stock": 40, "low_stock_threshold": 10, "now": "2026-11-23T12:00:00+08:00"}), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["passed"] is False and [c["rule"] for c in data["checks"]] == list(RULE_IDS)
    bad = next(c for c in data["checks"] if c["rule"] == "honest_urgency")
    assert not bad["passed"] and bad["span"] and "40" in bad["detail"]
    out = subprocess.run([sys.executable, "-m", "copilot", "check", "亲", "--facts", "{oops"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "JSON" in out.stderr and "Traceback" not in out.stderr


def test_bad_inline_facts_are_rejected(checker):
    from copilot.errors import InputError

    with pytest.raises(InputError):
        checker.check("亲", facts={"stock": -1})
    with pytest.raises(InputError):
        checker.check("   ")


def test_quoting_the_shops_own_review_policy_is_not_a_reward_for_reviews(checker):
    policy = "本店不以好评返现、返券或赠品等任何形式诱导评价，也不会要求您修改或删除评价来换取退款或补偿。"
    assert next(c for c in checker.check(policy, now=NOW).checks if c.rule == "platform_rules").passed
    offer = "亲，五星好评带图，返现5元哦"
    assert not next(c for c in checker.check(offer, now=NOW).checks if c.rule == "platform_rules").passed


def test_a_repair_never_deletes_what_the_store_itself_says():
    from copilot.rules.base import CheckContext
    from copilot.rules.registry import check_reply

    store_says = "这款保温杯是我们店里销量第一的款式。"  # an extreme word, but the store's own FAQ says it
    reply = "亲，这款是316不锈钢内胆，保温12小时。" + store_says + "有问题随时找我～"
    plain = CheckContext(now=NOW)
    assert not check_reply(reply, plain).passed, "the ad-law rule fires on this sentence"
    text, report, notes = guard(reply, plain)
    assert store_says not in text, "without the store's knowledge the guard repairs as before"
    ctx = CheckContext(now=NOW, knowledge="问：卖得好吗？答：" + store_says + "回购率很高。")
    text, report, notes = guard(reply, ctx)
    assert store_says in text and not report.passed, "kept, and the flag stays visible to the agent"
    assert any("出自店铺知识" in n for n in notes)


def test_spec_durations_and_exclusions_are_not_promises(checker):
    reply = "亲，这款手表持续GPS运动22小时，质保期内非人为损坏包换新。"
    checks = {c.rule: c for c in checker.check(reply, sku="SW-5501", now=NOW).checks}
    assert checks["no_unauthorized_promise"].passed, checks["no_unauthorized_promise"].detail
    cup = "磕碰导致真空层损坏的不在质保范围，其他质量问题一年内免费换新。"
    assert next(c for c in checker.check(cup, sku="BW-7101", now=NOW).checks if c.rule == "no_unauthorized_promise").passed
    assert not next(c for c in checker.check("磕碰了也在质保范围，给您免费修", sku="BW-7101", now=NOW).checks
                    if c.rule == "no_unauthorized_promise").passed


def test_the_stores_own_return_terms_back_the_same_promise(checker):
    reply = "亲，签收后7天内，商品未使用、未洗涤、包装和吊牌齐全，拆开外包装查看也支持七天无理由退货。"
    bedding = next(c for c in checker.check(reply, sku="JJ-6101", now=NOW).checks if c.rule == "no_unauthorized_promise")
    assert bedding.passed, bedding.detail  # the 四件套's own FAQ says so
    mask = next(c for c in checker.check("面膜拆开了也支持七天无理由退", sku="MM-1102", now=NOW).checks
                if c.rule == "no_unauthorized_promise")
    assert not mask.passed  # the mask's FAQ says the opposite


def test_the_checkout_computing_the_best_price_is_not_an_extreme_claim(checker):
    ok = "您可以先领取店铺优惠券，和页面上的单品直降、满减活动一起使用，下单页面会自动计算最优价格。"
    assert next(c for c in checker.check(ok, now=NOW).checks if c.rule == "ad_law_words").passed
    assert not next(c for c in checker.check("这款是同价位里最优的选择", now=NOW).checks if c.rule == "ad_law_words").passed


@pytest.mark.parametrize("now, reply, ok", [
    ("2026-11-23T10:00:00+08:00", "这款从2026年12月1日0点起页面售价由129元调整为149元", True),   # announced, true
    ("2026-12-02T10:00:00+08:00", "这款从2026年12月1日0点起页面售价由129元调整为149元", True),   # in effect: a fact
    ("2026-12-02T10:00:00+08:00", "亲，马上要涨价了，赶紧下单", False),                           # no rise ahead
    ("2026-11-23T10:00:00+08:00", "12月1日起售价调整为169元", False),                              # wrong price
])
def test_a_price_change_is_true_before_and_after_it_takes_effect(checker, now, reply, ok):
    from datetime import datetime

    check = next(c for c in checker.check(reply, sku="BW-7101", now=datetime.fromisoformat(now)).checks
                 if c.rule == "honest_urgency")
    assert check.passed is ok, check.detail
