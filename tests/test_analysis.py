"""Reading the buyer from the whole conversation, offline and explainably."""

import pytest

from copilot.buyer.signals import detect_emotion, detect_intent, detect_stage
from copilot.drafting.pipeline import Copilot
from copilot.evaluation.analysis import load_cases, run_analysis_eval
from copilot.schema import Turn
from copilot.text.cleaning import simplify_buyer_text

from .conftest import EVALS


@pytest.fixture(scope="module")
def analyzer(real_index):
    settings, retriever, _ = real_index
    return Copilot(settings, retriever=retriever, backend=None).analyzer


def buyer(*texts):
    return [Turn(role="buyer", text=t) for t in texts]


def test_repeated_haggling_means_bargainer(analyzer):
    history = [Turn(role="buyer", text="这羽绒服能便宜点吗"), Turn(role="agent", text="亲，价格以页面为准哦"),
               Turn(role="buyer", text="别家才卖399，你们便宜50呗"), Turn(role="agent", text="亲，客服没有改价权限")]
    a = analyzer.analyze("那抹个零，400我就拍", history)
    assert a.persona.id == "bargainer"
    assert any("议价" in s for s in a.persona.signals)


def test_only_one_word_replies_means_silent(analyzer):
    history = [Turn(role="buyer", text="在"), Turn(role="agent", text="亲，在的，请问想了解哪款呢？"),
               Turn(role="buyer", text="卫衣"), Turn(role="agent", text="好的亲，想了解尺码还是价格呢？")]
    a = analyzer.analyze("L", history)
    assert a.persona.id == "silent" and a.persona.confidence > 0.3


def test_ordered_buyer_asking_about_delivery_is_in_sale():
    history = [Turn(role="buyer", text="刚拍了一件卫衣，M码"), Turn(role="agent", text="好的亲，付款后48小时内发货")]
    assert detect_stage("啥时候能到啊", history)[0] == "in_sale"
    assert detect_stage("发货没", [])[0] == "in_sale"
    assert detect_stage("羽绒服收到了，袖子开线了", [])[0] == "after_sale"
    assert detect_stage("如果不合适能退吗", [])[0] == "pre_sale"


def test_emotion_and_intent():
    assert detect_emotion("什么破东西！！退钱", [])[0] == "angry"
    assert detect_emotion("明天出差要用，能不能快点发", [])[0] == "anxious"
    assert detect_emotion("收到了很喜欢，谢谢亲", [])[0] == "positive"
    assert detect_intent("175 140斤穿什么码") == "size"
    assert detect_intent("发错颜色了") == "damaged_wrong"
    assert detect_intent("能开发票吗") == "invoice"


def test_agent_can_override_the_persona(analyzer):
    a = analyzer.analyze("便宜点呗", persona="friendly")
    assert a.persona.id == "friendly" and a.persona.overridden and a.persona.confidence == 1.0
    assert a.alternatives and all(x.id != "friendly" for x in a.alternatives)
    # what the reading found is kept next to the override, so feedback stores both (issue 15)
    assert a.persona.detected == analyzer.analyze("便宜点呗").persona.id != "friendly"
    assert analyzer.analyze("便宜点呗").persona.detected is None


def test_accuracy_on_the_labelled_set(analyzer):
    """evals/analysis.jsonl: persona >= 0.80 and stage >= 0.88 (numbers in the README). The cue rules were tuned on
    this set (0.911 alone); the learned reader, better on every blind-written dev round, reads 0.893 here."""
    result = run_analysis_eval(analyzer, load_cases(EVALS / "analysis.jsonl"))
    assert result["cases"] >= 140
    assert result["accuracy"]["persona"] >= 0.80
    assert result["accuracy"]["stage"] >= 0.88


@pytest.mark.parametrize("message, stage", [
    ("充电宝今天收到 外壳一角直接裂开了！！！", "after_sale"),      # receipt told with a time, a defect of any goods
    ("收到了 能不能把30块退给我呀", "after_sale"),                  # a question after receipt is still after-sale
    ("硬盘插电脑上识别不了了", "after_sale"),
    ("鼠标很好用 谢谢～就是接收器弄丢了", "after_sale"),
    ("我上次买的床单全是线头 这款走线直吗", "pre_sale"),            # earlier goods told as background
    ("贴坏了能补不", "pre_sale"),                                   # what would happen, before buying
    ("这个好用吗", "pre_sale"),
])
def test_stage_cues_that_hold_for_any_kind_of_goods(message, stage):
    from copilot.buyer.signals import detect_stage

    assert detect_stage(message, [])[0] == stage


@pytest.mark.parametrize("message, intent", [
    ("8月底买的充电器 现在C2口插上没反应", "quality_complaint"),
    ("我买的红轴 你们给我发的青轴", "damaged_wrong"),
    ("这个充电宝会发烫吗", "usage"),                                # a question about use, not a complaint
])
def test_defect_and_wrong_item_cues_beyond_clothing(message, intent):
    from copilot.buyer.signals import detect_intent

    assert detect_intent(message) == intent


@pytest.mark.parametrize("message,history,stage", [
    ("收到个毛 我根本没收到啊 显示签收了 谁签的", [], "after_sale"),  # delivered by the record, missing in hand
    ("快递三天没动了 一直在转运中心 是不是丢了", [], "in_sale"),
    ("我昨天下午两点就拍了 到现在还没动 到底几点发", [], "in_sale"),  # 「就拍了」 is past, not a plan
    ("我喝了二十年岩茶 你这就是拼配的", [], "pre_sale"),  # a life's experience, not these goods
    ("要不两个都拍了 收到了再退一个 行不行", [], "pre_sale"),  # a plan
    ("怕买到假的用了烂脸 能查备案吗", [], "pre_sale"),  # what might happen
    ("mac咋切", [Turn(role="buyer", text="键盘到了"), Turn(role="agent", text="收到啦，有问题随时找我")], "after_sale"),
    ("嗯", [Turn(role="buyer", text="左键连击"), Turn(role="agent", text="已为您申请换新，快递会上门取件")], "after_sale"),
])
def test_stage_reads_logistics_states_plans_and_the_conversation(message, history, stage):
    assert detect_stage(message, history)[0] == stage


def test_written_cantonese_is_read_in_mandarin_words():
    from copilot.text.cleaning import simplify_buyer_text

    text = simplify_buyer_text("收到個充電器 插咗部手機完全冇反應 點算啊")
    assert text == "收到个充电器 插了部手机完全没反应 怎么办啊"
    assert detect_stage(text, [])[0] == "after_sale" and detect_intent(text) == "quality_complaint"


@pytest.mark.parametrize("message,safety", [
    ("用了两次脸有点红还有点痒，怎么办啊", "reaction"),
    ("吃了你家花生糖过敏起疹子了", "reaction"),
    ("拧盖子的时候开水喷出来 手背烫红一大片还起泡了", "injury"),
    ("有人打电话自称你们客服 让我报验证码", "fraud"),
    ("敏感肌会不会过敏啊", None),  # a worry before buying
    ("防腐剂用的啥？我对甲基异噻唑啉酮过敏", None),  # a known allergy told before buying
    ("我個仔頭先食咗兩塊，而家話個肚有啲痛", "reaction"),  # written Cantonese
    ("这个杯子保温多久", None),
])
def test_safety_scenarios_are_read_from_reports_not_worries(analyzer, message, safety):
    a = analyzer.analyze(simplify_buyer_text(message))  # as the pipeline reads it
    assert a.safety == safety
    if safety in ("reaction", "injury"):
        assert a.stage == "after_sale"


def test_every_need_of_a_message_is_an_intent(analyzer):
    a = analyzer.analyze("新疆包邮吗 几天到 能开发票吗")
    # before buying, 「几天到」 asks about delivery time (shipping), not the progress of a parcel (logistics)
    assert set(a.intents) == {"shipping", "invoice"}
    # ``a.intent``, the main need the answer plan routes by, stays the cue rules' reading (here 「几天到」 as logistics)
    carried = analyzer.analyze("公司的", [Turn(role="buyer", text="发票怎么开"), Turn(role="agent", text="个人还是公司抬头？")])
    assert carried.intents == ["invoice"]  # the need carried over from the earlier turn


@pytest.mark.parametrize("message,emotion", [
    ("打个折呗😭 学生党没钱", "neutral"),  # a crying face beside a haggle is 哭穷, not worry
    ("周六就搬家了 到时候没人收😭", "anxious"),
    ("老板爽快点嘛 再少20", "neutral"),  # 爽快点 is not 快点
    ("那怎么办…要不我拒收重新买？还是等它到了", "neutral"),  # weighing options
    ("好的谢谢", "positive"),
    ("能开发票吗 谢谢", "neutral"),  # thanks after a request is politeness
    ("一支我都嫌贵还两支。。月底了真的穷😭", "neutral"),  # 哭穷 with a crying face
    ("嗯…茶轴是不是打字更有感觉 怕红轴太软了 好纠结", "neutral"),  # weighing two options
    ("第一次网上买 有点怕买到假的", "anxious"),
    ("呵呵 你们的“今天一定”是按火星时间算的吧", "angry"),  # sarcasm
    ("能不能稍微便宜一丢丢 实在不行也没关系哈", "positive"),  # an easy-going ask
])
def test_emotion_tells_worry_and_pleasure_from_politeness_and_haggling(message, emotion):
    assert detect_emotion(message, [])[0] == emotion


@pytest.mark.parametrize("message,intent", [
    ("发票能开成办公用品吗 你们开不了我就退了", "invoice"),  # the threat is not the need
    ("到底什么时候发货 再不发我就投诉", "shipping"),
    ("我要退货", "return_exchange"),  # a plain return is still one
])
def test_a_threatened_consequence_does_not_decide_the_intent(message, intent):
    assert detect_intent(message) == intent


@pytest.mark.parametrize("message,intent", [
    ("付款两天了还不发货", "shipping"),  # 付款 says when, not a payment problem
    ("我刚拍了耳机 能先取消吗 你先别发", "address_change"),  # cancelling before it ships
    ("地址改下 上海市闵行区春申路88弄5号602", "address_change"),
    ("在", "greeting"),
    ("幾時寄出", "shipping"),
    ("65w这款用的哪家的芯片", "product_info"),
])
def test_order_changes_and_attribute_questions_are_their_own_needs(message, intent):
    assert detect_intent(simplify_buyer_text(message)) == intent


def test_after_a_problem_with_the_goods_asking_to_return_them_is_asking_for_the_money(analyzer):
    reaction = analyzer.analyze("精华用了两天脸又红又痒 拆了还能退吗")
    assert reaction.stage == "after_sale" and "refund" in reaction.intents and "return_exchange" not in reaction.intents
    swap = analyzer.analyze("耳机收到右边没声音 能换个新的吗")
    assert "return_exchange" in swap.intents  # a swap stays a swap
    before = analyzer.analyze("这款不合适能退吗")
    assert before.intent == "return_exchange"  # no problem with the goods: the return policy


def test_wider_wordings_name_a_need_beside_the_main_one_without_deciding_it():
    from copilot.buyer.signals import detect_intents
    # the plan routes 「我要退货」 to the return policy; 「钱多久退给我」 is reported as a refund need beside it
    assert detect_intents("我要退货 钱多久退给我")[:2] == ["return_exchange", "refund"]
    assert detect_intent("我要退货 钱多久退给我") == "return_exchange"
    assert "logistics" in detect_intents("快递三天没动了 能换顺丰吗")


def test_a_short_answer_carries_the_need_of_the_agents_question(analyzer):
    history = [Turn(role="buyer", text="收了 礼盒"), Turn(role="agent", text="请问抬头是个人还是单位呢？")]
    assert analyzer.analyze("公司", history).intent == "invoice"
    defect = analyzer.analyze("撬开里面有几块长了白毛 您看下怎么处理", [
        Turn(role="buyer", text="寿眉饼收到了"), Turn(role="agent", text="好的亲～")])
    assert defect.stage == "after_sale" and defect.intent == "quality_complaint"


def test_a_weak_persona_guess_is_marked_unsure_and_picks_strategies_for_any_buyer(analyzer):
    from copilot.drafting.prompting import load_strategies
    from copilot.drafting.strategies import choose_strategies
    from copilot.schema import PERSONA_UNSURE
    from copilot.settings import PACKAGED_PROMPTS

    a = analyzer.analyze("这个")
    assert a.persona.unsure == (a.persona.confidence < PERSONA_UNSURE)
    sure = analyzer.analyze("再便宜点呗 别家才卖399 抹个零我就拍")
    assert not sure.persona.unsure and sure.persona.id == "bargainer"
    strategies = load_strategies(str(PACKAGED_PROMPTS)).strategies
    unsure = sure.model_copy(update={"persona": sure.persona.model_copy(update={"unsure": True}),
                                     "intent": "other"})
    picked = [s.id for s in choose_strategies(unsure, strategies, 3, urgency=False)]
    assert "hold_price_value" not in picked  # the haggling strategy needs the type (or a price question)
    assert "hold_price_value" in [s.id for s in choose_strategies(sure, strategies, 3, urgency=False)]
    assert not analyzer.analyze("这个", persona="silent").persona.unsure  # the agent's choice is never unsure


@pytest.mark.parametrize("message, stage", [
    ("订单已付 要开增值税专票", "in_sale"),
    ("货还在路上，先把开票确认清楚", "in_sale"),
    ("付好款了 周一能发吧", "in_sale"),
    ("【深圳市】快件已到达【深圳龙华分拣中心】\n卡两天了", "in_sale"),  # a pasted tracking line
    ("我65W头插笔记本只显示27W 换别家线就有60多", "after_sale"),  # a measurement of the buyer's own unit
    ("半个月接头就松了 稍微一碰就断充", "after_sale"),
    ("这个只有128G吗", "pre_sale"),  # the same words asked before buying
    ("好嘞 那到了以后怎么连mac呀 要装驱动不", "pre_sale"),  # the goods still to come (no order in this chat)
    ("付好款了 发之前帮我看一眼屏幕有没有划痕 盒子四个角别压瘪", "in_sale"),  # a packing request, nothing broke
    ("订单还没签收 想先开专票 现在能开吗", "in_sale"),
    ("毛毯发出了没呀 宝宝周五就出院回家了", "in_sale"),
    ("上礼拜拍的音箱昨天刚到 今天一看便宜了30 差价退我 不退我就退货重拍", "after_sale"),
    ("IPX7防水？那我拿去海边泡一下坏了你们保不保", "pre_sale"),  # a hypothetical fault
])
def test_stage_from_payment_tracking_and_measurements(message, stage):
    assert detect_stage(message, [])[0] == stage


@pytest.mark.parametrize("message, safety", [
    ("敏感肌用了烂脸 还得我自费挂号开证明", "reaction"),  # what happened to a sensitive skin
    ("我皮肤超敏感 用了烂脸谁负责？？", None),  # a worry before buying
    ("我老公尝了两片就吐了", "reaction"),
    ("碧根果一股哈喇味 吃了一颗差点吐了", None),  # disgust, not a reaction
    ("撕保护层的时候划的 血都滴屏幕上了", "injury"),
    ("充电头特别烫我儿子去拔的时候手指头被汤了一下", "injury"),  # voice input: 汤 for 烫
    ("尋日食咗你哋啲芒果乾 成晚肚痾 屙咗三次", "reaction"),  # written Cantonese
    ("昨晚敷了十分钟脸就跟火烧似的 又红又刺挠 眼皮都种了", "reaction"),  # dialect 刺挠, voice input 种 for 肿
    ("这两天喝完心里头慌慌的 晚上睡不着 还老往厕所跑", "reaction"),  # understated, no word for 过敏
    ("穿这双在台阶上滑了一跤，尾巴骨疼到现在", "injury"),  # a fall the goods caused
    ("部尿袋鼓咗起嚟 個殼都爆開咗條罅", "injury"),  # a swollen battery, in Cantonese
    ("烫得我闺女手指头都红了 还有股糊味", "injury"),  # a burn, not a skin reaction
    ("网上好多说虚标 还有新闻说充电宝半夜炸了 你家这个有3c没", None),  # news heard of, before buying
    ("吓？我已經撳咗入去 仲填咗張卡嘅號碼同驗證碼 點算啊😭😭", "fraud"),  # a code already given away, in Cantonese
    ("每日坚果有花生吗？孩子花生过敏", None),  # a known allergy told before buying
])
def test_safety_in_the_words_buyers_really_use(analyzer, message, safety):
    assert analyzer.analyze(simplify_buyer_text(message)).safety == safety
