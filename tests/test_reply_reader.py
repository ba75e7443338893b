"""The reply reader: a learned second opinion for the wording rules, trained on the dev replies only.

It only adds failures to what the patterns pass, says it is the model's reading (``by="model"``) with the words that
weighed most, and gives way where the reply itself shows the rule is kept (owning the problem, a refused WeChat).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from copilot.rules.checking import Checker
from copilot.rules.registry import check_reply, get_rule
from copilot.rules.reply_reader import (
    DEFAULT_PATH,
    MODEL_RULES,
    ReplyExample,
    ReplyReader,
    builtin_reply_reader,
    dev_files,
    file_digest,
    train,
)
from copilot.settings import PACKAGED_PROMPTS, Settings

EVALS = Path(__file__).resolve().parents[1] / "evals"


def checker() -> Checker:
    return Checker(Settings())


def test_the_shipped_reply_reader_is_trained_on_the_current_dev_replies_and_never_on_a_test_split():
    reader = ReplyReader.load(DEFAULT_PATH)
    trained = reader.meta["trained_on"]
    assert trained == file_digest([f.relative_to(EVALS) for f in dev_files(EVALS)], EVALS), (
        "a dev reply set changed: run `copilot rules train`")
    assert not any("test" in name for name in trained)
    assert reader.meta["phrases"] == file_digest([Path("composer.yaml")], PACKAGED_PROMPTS), (
        "the composer's phrases changed: run `copilot rules train`")
    assert reader.rules == list(MODEL_RULES)


def test_blame_in_words_no_pattern_has_is_failed_by_the_model_and_says_so():
    reply = "那批货是分拣中心的人摔坏的，您要追究的话得找他们那边"
    ctx = checker().context(message="收到的杯子碎了")
    alone = check_reply(reply, ctx, reader=None)
    assert next(c for c in alone.checks if c.rule == "no_blame_shifting").passed  # no pattern has this wording
    report = check_reply(reply, ctx)
    blame = next(c for c in report.checks if c.rule == "no_blame_shifting")
    assert not blame.passed and blame.by == "model"
    assert "模型把握" in blame.detail and "请核对" in blame.detail


def test_owning_the_problem_overrules_the_models_doubt():
    report = check_reply("快递延误了，但这是我们应该跟进的，我马上帮您催。", checker().context(message="怎么还没到"))
    blame = next(c for c in report.checks if c.rule == "no_blame_shifting")
    assert blame.passed, blame.detail


def test_rules_that_depend_on_stock_dates_or_the_buyer_are_never_read_by_the_model():
    assert not {"honest_urgency", "empathy_first"} & set(MODEL_RULES)
    reader = builtin_reply_reader()
    assert reader is not None
    assert reader.flags("仅剩最后3件，今晚12点结束", ["honest_urgency"]) == {}


def test_money_promised_in_new_words_is_failed_by_the_model_but_a_policy_sentence_is_not_read():
    ck = checker()
    ctx = ck.context(message="收到的东西坏了")
    reply = "放心，我私人给您发个二十块的红包压压惊"  # no pattern has this wording
    assert next(c for c in check_reply(reply, ctx, reader=None).checks if c.rule == "no_unauthorized_promise").passed
    report = check_reply(reply, ctx)
    promise = next(c for c in report.checks if c.rule == "no_unauthorized_promise")
    assert not promise.passed and promise.by == "model", promise.detail
    # a sentence the store's policy says (nearly word for word) is left out of what the model reads
    own = replace(ctx, policies="仓库签收退货后48小时内退款，运费由本店承担。")
    rule = get_rule("no_unauthorized_promise")
    assert rule.readable("亲，仓库签收退货后48小时内就退款哦。", own) == []
    assert rule.readable("亲，仓库签收退货后2小时内就退款哦。", own) != []  # another figure: not the store's sentence


def test_training_is_deterministic_and_learns_from_the_labels():
    rude = ["爱买不买", "烦不烦啊你", "说了多少遍了还问", "自己不会看吗"] * 3
    polite = ["好的亲，马上为您查询", "亲，有货的哦", "感谢您的耐心等待", "您好，请问有什么可以帮您"] * 3
    examples = [ReplyExample(t, frozenset({"polite_language"})) for t in rude] + \
               [ReplyExample(t, frozenset()) for t in polite]
    a, b = train(examples), train(examples)
    assert json.dumps(a.probabilities("烦不烦")) == json.dumps(b.probabilities("烦不烦"))
    assert a.probabilities("烦不烦啊")["polite_language"] > a.probabilities("马上为您查询")["polite_language"]
    assert a.evidence("烦不烦啊", "polite_language")  # the words behind the reading, for the badge
