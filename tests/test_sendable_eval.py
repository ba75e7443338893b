"""The sendability eval judges the top draft per sub-question, with a reason for every miss."""

from copilot.evaluation.sendable import (
    SendableCase,
    judge_case,
    load_cases,
    near_duplicates,
)

from .conftest import EVALS

CASE = SendableCase.model_validate({
    "id": "x-1", "persona": "decisive", "stage": "pre_sale", "sku": "DJ-2301", "now": "2026-11-23T12:00:00+08:00",
    "turns": [{"role": "buyer", "text": "新疆包邮吗 发啥快递"}],
    "questions": [
        {"ask": "新疆包邮吗", "answerable": True, "must_include": [["新疆", "偏远"], ["补运费", "运费"]]},
        {"ask": "发啥快递", "answerable": True, "must_include": [["中通", "圆通", "韵达"]]},
    ],
    "must_not_include": ["包邮到新疆"],
})


def test_every_sub_question_is_judged_with_a_reason():
    v = judge_case(CASE, ["亲，新疆属于偏远地区，需要补运费15元哦～快递这边帮您核实一下再答复您。"])
    assert [q["passed"] for q in v["questions"]] == [True, False]
    assert v["questions"][1]["deferred_although_answerable"] and "中通" in v["questions"][1]["reason"]
    assert not v["passed"]
    good = judge_case(CASE, ["亲，新疆偏远地区需要补运费15元，默认发中通或韵达～"])
    assert good["passed"] and not good["failures"]
    bad = judge_case(CASE, ["亲，包邮到新疆，发中通～"])
    assert any("不应出现" in f for f in bad["failures"])


def test_drafts_that_differ_only_in_the_greeting_are_near_duplicates():
    body = "新疆偏远地区需要补运费15元，默认发中通或韵达，付款后48小时内发出。"
    assert near_duplicates(["亲，" + body, "您好呀，" + body, "亲～这款轻薄保暖，" + "冬天零下也能穿，蓬松度650+。"]) == 1


def test_the_frozen_test_split_is_complete():
    dev, test = load_cases(EVALS / "sendable" / "dev.yaml"), load_cases(EVALS / "sendable" / "test.yaml")
    assert len(dev) == len(test) == 60 and not {c.id for c in dev} & {c.id for c in test}
    assert sum(c.script == "traditional" for c in dev + test) >= 8
    assert sum(len(c.turns) > 1 for c in test) >= 0.3 * len(test)


def test_a_forbidden_claim_counts_only_when_the_reply_states_it():
    from copilot.evaluation import states

    assert states("这款能刷公交卡", "能刷公交")
    assert not states("这款没有NFC，不能刷公交卡", "能刷公交")  # denies the claim
    assert states("不能退，但能刷公交", "能刷公交")  # one stated occurrence is enough
    assert states("拆封后不支持退货", "不支持退货")  # a forbidden phrase that is itself a negation
