"""What the buyer's words say: intent, stage, emotion, scam reports, and the named readings of "upset".

Ordered Chinese cue patterns; the first match wins, and every reading says
which words fired. This is the one home of the question "is the buyer upset
or complaining?": ``reads_negative`` (the eager reading the empathy rule asks
for), ``is_upset`` (what picks the empathy-first strategy) and
``is_complaint`` (what makes a draft open with an apology).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..schema import (
    COMPLAINT_INTENTS,
    Analysis,
    Emotion,
    Intent,
    Stage,
    Turn,
    buyer_turns,
)

# ------------------------------------------------------------------ intent ---

# (intent id, 中文, pattern) — first match wins, so specific needs come first.
INTENTS: list[tuple[str, str, str]] = [
    ("damaged_wrong", "破损/错发/漏发", r"破损|压坏|摔坏|碎了|碎成|碎掉|摔碎|碎裂|瘪|凹了|压烂|补发|漏液|发错|错发|少发|漏发|少了一|不是我买的|颜色不对|发成(?!都)|裂开|裂了|开裂|裂缝|"
     r"(给我|你们)发的(是)?.{1,8}(不是|错)|我(买|拍|要)的是?.{1,10}(你们|却)?给我发的|我(买|拍|要)的[^，。？]{0,12}(寄来|发来|给我发|到手是)|全错|寄错|发来的是"),
    ("quality_complaint", "质量问题", r"质量|开线|起球|掉色|钻毛|褪色|钻绒|跑绒|异味|味道大|开胶|坏了|不亮|充不进|断了|破洞|过敏|起痘|刺痛|泛红|不保温|漏水|线头|瑕疵|脏了|污渍|"
     r"没反应|识别不了|不识别|用不了|不能用了|失灵|不工作|不充电|充不了电|连不上了|没声了|没声音了|没画面|鼓包了|发烫了|烫手了|死机|黑屏了|"
     r"断连|发霉|霉点|长毛|变质|变味|有虫|臭了|发黏|发酸|不新鲜|化冻了|化了|漏气|松动了?|"
     r"鼓起来|鼓包|烧焦|焦味|冒烟|滋滋|异响|出两个|连击|识别不出|哑了|(磁力|吸力)(好|太|很)?弱|虚标|不亮了|不灵|起疹|疙瘩|哈喇|缩水|缩到|张嘴|时充时不充|出来两个|变双击|不认了"),
    ("refund", "退款", r"退款|退钱|退全款|全额退|退我全款|补(我|给我)?\d+\s*(块|元)|\d+\s*(块|元)钱?退给我|钱什么时候|钱还没|钱到账|赔偿|补偿|赔我"),
    ("return_exchange", "退换货", r"退货|退换|换货|换个?码|换一件|换一双|能退|可以退|退了|能换|可以换|换吗|[七7]天无理由|不想要了|换大|换小|买大了|买小了"),
    ("address_change", "修改地址", r"改地址|地址(写|填)?错|地址.{0,6}(填|写)成|换地址|修改地址|改收货|改个?电话|地址改|新地址|"
     # cancelling or changing an order before it ships: 「能先取消吗」「先别发」「帮我拦一下」「想改成青轴」
     r"取消(订单|了|吧|掉|重拍|重新)?(?![^，。？\s]{0,3}(券|活动|收藏))|先别发|别发(出去|了)|拦(一下|截|住|回来)|想改成|能改成|改成[^，。？\s]{1,8}(可以|行)吗|"
     r"[省市区县][^，。\s]{1,8}(路|街|道|大道)[^，。\s]{0,12}号"),
    ("logistics", "物流进度", r"到哪了?|物流|单号|没收到|还没到|几天到|多久到|什么时候到|派送|快递员|驿站|丰巢|签收"),
    ("shipping", "发货", r"发货|发了吗|能发出|一起发|一块发|合并发|发出吗|能发吗|今天能发|什么时候发|啥时候发|多久发|当天发|今天发|发顺丰|发什么快递|哪家快递|包邮|运费|邮费|偏远|"
     r"寄出|出货|出库|(几时|几点|什么时候|啥时候)寄|寄不寄|寄(到|去)?(香港|澳门|台湾|海外)"),
    # paying itself, not an order placed (「付款两天了还不发」「我刚拍了」 say when, not how to pay)
    ("payment", "付款", r"付不了|付不上|(付款|支付)(失败|不了|方式|不成功)|(怎么|咋|如何)(付|支付)|花呗|信用卡|分期|货到付款|(还)?没付(款)?|未付款|催付|代付|定金"),
    ("invoice", "发票", r"发票|开票|抬头|税号|专票|普票|报销"),
    ("review", "评价", r"好评|差评|评价|晒图|返现"),
    ("authenticity", "正品", r"正品|假货|假的|真的吗|真假|山寨|高仿|授权|专柜|验货|防伪|真货|正规货|是不是真|真是纯|加胶|以次充好|检测报告"),
    ("stock", "库存", r"有货|有没有货|还有没|现货|没货|缺货|补货|售罄|库存|还有吗|到货"),
    ("promotion", "优惠活动", r"优惠|活动|券|满减|打折|折扣|赠品|送什么|买.{0,2}送|送不送|还送|送[个点吗不]|半价|双12|双十二|秒杀|直降"),
    ("price", "价格", r"便宜|多少钱|价格|贵|抹零|抹个零|砍价|降价|差价|价保|少点|(给我)?少\d+|再少|改价|最低|便宜点|\d+\s*(块|元)?\s*(行|卖|可以)吗?"),
    ("size", "尺码", r"[SMLX]{1,3}还是[SMLX]{1,3}|尺码|码数|多大码|什么码|啥码|哪个码|几码|穿多大|选码|[SMLX]{1,3}码|[SMLX]{1,3}号|身高|体重|\d+\s*斤|\d+\s*kg|脚长|鞋码|偏大|偏小|大了|小了|合身|胸围|衣长"),
    ("usage", "使用方法/适用", r"怎么用|用法|(咋|怎么|如何)(连|切|弄|设置|配对|泡|冲|煮|吃|保存|储存)|左手|左撇子|能(放|带|戴|装|泡|煮|蒸|冲|盖|喝|吃|穿|洗)[^，。？]{0,8}(吗|不)|(咋|怎么)做|会不会泡|教教|养胃|怀(孕|上)|敏感肌|孕妇|孕期|哺乳|能用吗|适合|防水|游泳|续航|(怎么|多久|能不能|能)充(电|满)|(会|会不会)(发烫|发热|烫)|兼容|苹果|安卓|机洗|怎么洗|清洗|保质期|过期|成分|多久用|敷多久|能不能穿|冷不冷|保暖"),
    ("recommendation", "推荐", r"推荐|帮我(定|选|挑)|新出的|好玩的|能代替|代替的|随便(逛逛|睇睇|瞅瞅|看看)|推几个|还有啥好|哪款|哪个好|选哪|什么好|有什么|新品|随便看看|送人|礼物|搭配|跟.{0,6}搭|好搭"),
    ("product_info", "参数规格", r"实拍|实物图|做工|磨砂|透明|金属|(别的|几种|其他)(颜)?色|功率|跑满|几代|亮度|防黄|发黄|碳板|落差|含量|产地|年份|规格|材质|面料|含绒量|充绒量|重量|多重|尺寸|多大|容量|区别|对比|蓬松度|克重|功能|支持|颜色|色差|"
     # an attribute asked after: 「主控和颗粒是啥」「用的哪家的芯片」「是清香的还是浓香的」「实测能到多少」
     r"(是|用的?)(啥|什么|哪家|哪种)|是[^，。？\s]{1,6}还是[^，。？\s]{1,6}的|几几开|实测|参数|到手[^，。？\s]{0,4}(多少|只有)"),
    ("greeting", "打招呼", r"^(在吗|在不在|在么|在|有人吗|你好|您好|hello|hi|亲|客服)[？?！!。\s]*$"),
]
_INTENT_RE = [(i, re.compile(p, re.IGNORECASE)) for i, _, p in INTENTS]
INTENT_LABELS: dict[str, str] = {i: label for i, label, _ in INTENTS}  # 「refund」 → 「退款」, as a buyer would say it


# a consequence threatened, not the need: 「你们开不了我就退了」「不然就给我退了」「再不发我就投诉」
_THREAT = re.compile(r"(不然|否则|要不然|再不[^，。？\s]{0,4}|[^，。？\s]{0,4}不了)(的话)?\s*我?就?(直接)?(给我)?(退了|退货|退款|退|差评|投诉|取消)[^，。？\s]{0,4}")


def only_threat(text: str) -> bool:
    """「不然就给我退了」: the words threaten a consequence and ask for nothing themselves."""
    return bool(text.strip()) and not _THREAT.sub("", text).strip(" ，。！？!?～~")


def detect_intent(text: str) -> Intent:
    need = _THREAT.sub(" ", text)
    if need.strip() and need != text:
        said = detect_intent(need)
        if said != "other":
            return said
    for intent, pattern in _INTENT_RE:
        if pattern.search(text):
            return intent
    return "other"


# Wider wordings of a need that name it beside the main one but never decide the main need (the answer plan routes
# each sub-question by ``detect_intent``; these words alone would send it to the wrong knowledge):
# 「钱多久退给我」 also asks for the money, 「赶紧给我换」 for a swap, 「三天没动了」 about the parcel.
_ALSO = [(i, re.compile(p)) for i, p in (
    ("refund", r"退差价|差价[^，。？\s]{0,6}退|退我\d+|钱[^，。？\s]{0,6}(退|找谁|回来)|怎么赔|谁补|给我退"),
    ("return_exchange", r"换(个|一|新|过)|给我换|赶紧换|要换|换不换"),
    ("logistics", r"(天|小时)[^，。？\s]{0,3}(没动|不动)|转运|中转|卡(在|哪)|(几号|哪天|啥时候|什么时候)能?到|能到(不|吗)|"
                  r"催[^，。？\s]{0,2}快递|快递走了"),
)]


def detect_intents(text: str, limit: int = 3) -> list[Intent]:
    """Every need the text names, the main one (``detect_intent``) first, the rest in the order they are said."""
    main = detect_intent(text)
    matches = [(pattern.search(text), intent) for intent, pattern in [*_INTENT_RE, *_ALSO]]
    found = [i for _, i in sorted((m.start(), i) for m, i in matches if m)]
    ordered = ([main] if main != "other" else []) + [i for i in found if i != main]
    return list(dict.fromkeys(ordered))[:limit] or ["other"]


# ------------------------------------------------------------------ safety ---

# a skin or food reaction, and someone hurt by the goods: the reply says to stop using them and to see a doctor
_REACTION = re.compile(
    r"过敏|起疹|红疹|疹子|起痘|长痘|泛红|发红|红肿|刺痛|烂脸了|(用|敷|抹|涂)(了|完)[^，。！？\s会怕]{0,4}烂脸(?![^，。！？]{0,8}(吗|负责|赔|的吧))|瘙痒|发痒|刺挠|(脸|面|皮肤|嘴|手|身上|脖子)[^，。！？]{0,6}(火烧|火辣辣)|眼皮[^，。！？]{0,3}(肿|种)|(脸|面|皮肤|嘴|手|身上|脖子).{0,4}(红|痒|肿|疼)|红点|细粒粒|红疙瘩|痒得|"
    r"拉肚子|腹泻|肚子[^，。！？]{0,8}拉了?|拉了[一二两三四五几\d]+(回|次|趟)|肚子?(有点|有些|好|很)?(疼|痛|不舒服)|呕吐|上吐下泻|吃了.{0,8}(不舒服|难受|头晕)|喝了.{0,8}(不舒服|难受|头晕)|"
    # after drinking or eating: the heart races, hands shake, nausea (「喝了三四泡 结果心跳好快 手一直抖」)
    r"(喝|吃|用|泡)(了|完)[^。！？]{0,24}(心慌|心里头?慌|心跳[^，。！？\s]{0,3}快|手[^，。！？\s]{0,2}抖|想吐|头晕|拉了好几|往厕所跑|跑了?[^，。！？\s]{0,2}趟厕所)|头晕[^。！？]{0,6}(想吐|恶心|手麻)|(想吐|恶心)[^。！？]{0,6}(头晕|手麻)|痕到爆|痕痒|(吃|喝|尝|咬)了?[^。！？差]{0,8}就?吐了|"
    # told without the goods' verb: 「脸蛋还一块一块红」「热辣辣的」「喉咙好痕」「半夜都吐了」「跑了四五趟厕所」
    r"(脸|脸蛋|皮肤|嘴唇|手臂|胳膊)[^，。！？\s]{0,8}(一块一块|一片一片|一粒粒)[^，。！？\s]{0,2}(红|肿)|(脸|皮肤)[^，。！？\s]{0,4}热辣辣|"
    r"(喉咙|皮肤|身上|脸)[^，。！？\s]{0,2}(好|很|有点)?痕|一粒粒红|(半夜|夜里|晚上|回来)[^，。！？\s]{0,4}(都|就|全)?吐了|又吐又拉|"
    r"跑了?[一二两三四五六七八九十几\d]+趟厕所|拉得[^，。！？\s]{0,4}(腿软|腿都软|虚脱|不行)|肚子[^，。！？\s]{0,4}(一阵阵|绞着|绞)(疼|痛)|"
    # breathing, mouth, eyes, stomach, skin and pets (a blind safety round, dev21)
    r"红诊子|湿疹|荨麻疹|嗓子(疼|痛|痒|发紧)|喉咙(发紧|肿|痒|疼)|喘(气|不上气)[^，。！？\s]{0,4}(费劲|困难|呼呼|不上)|打喷嚏|鼻子(也)?堵|一直咳|"
    r"(嘴|舌头|嘴唇|嘴巴)[^，。！？\s]{0,3}(麻|起泡|起皮|肿)|嘴里[^，。！？\s]{0,4}(起|长)[^，。！？\s]{0,3}泡|眼睛[^，。！？\s]{0,4}(辣|睁不开)|"
    r"拉了一(宿|晚|夜|天)(的)?肚子|胃(疼|痛)|(刚|又|还)吐了|吐了[一两二三几\d]+次|猴屁股|(脸|皮肤|肚皮)[^，。！？\s]{0,6}(红彤彤|通红)|舔秃"
)
_INJURY = re.compile(
    r"烫伤|烫到|烫红|烫得[^，。！？]{0,8}(红|疼|起泡)|鼓了?起来|(滑|摔|跌)了?[^，。！？\s]{0,2}(一跤|一下|倒)|摔伤|摔倒|跌倒|烫起|起(水)?泡|烫了手|割伤|割破|割到|划伤|划破|划了道?口子|扎到|扎伤|扎破|流血|出血|受伤|伤到|跟烫了似的|红印子[^，。！？]{0,6}疼|冒烟|起火|着火|爆炸|炸了|烧焦|"
    r"(流|出)了[^，。！？\s]{0,3}血|血流|起了[^，。！？\s]{0,4}泡|划了[^，。！？\s]{0,3}口子|扎[^，。！？\s]{0,3}(手心|手指|肉里)|"
    r"烧(坏|黑|着)|电到|触电|漏电|鼓包|鼓得|鼓起来|烫手|烫得[^，。！？\s]{0,2}拿不住|焦糊味|被[^，。！？\s]{0,4}划[^，。！？\s]{0,2}手|划了手|起了?个?(水)?泡|(划|割|扎|刮)的[^，。！？]{0,8}血|血(都)?(滴|流|渗|冒)|被汤(了|到|伤)|汤(伤|红)了|(摸|碰|拿|握)了?一下[^，。！？]{0,4}手(指|心|背)?[^，。！？\s]{0,3}(红|疼|烫)|(充|电|插|机|线|头)[^，。！？]{0,10}焦味|焦味[^，。！？]{0,6}(冒烟|发烫|烫)|"
    # 「手指有少少灼伤」「爆火花」「膝盖青了一大片」「整个人坐地上了」「说烫 手指头红了一小块」
    r"灼伤|(爆|冒|打)火花|膝盖[^，。！？\s]{0,4}(青|肿|破|磕)|青了一(大)?(片|块)|淤青|乌青|(一滑|滑倒|摔)[^。！？]{0,8}坐(到)?地上|"
    r"烫[^。！？]{0,8}(手指|手心|手背|手)[^，。！？\s]{0,4}红了|"
    # fire, shocks, blows, cuts, scalds and choking in other words (a blind safety round, dev21)
    r"冒火星|火星子|燎(了|到|着|起)|烧了个洞|烧穿|被电(着|到|了|得)|电得[^，。！？\s]{0,2}麻|电了一下|烫亲|痛亲|"
    r"砸(到|在|我)[^，。！？\s]{0,4}(脚|手|头)|肿得[^，。！？\s]{0,6}(穿不进|走不了|握不住|动不了)|血哗哗|血直流|"
    r"(划|割|拉)[^，。！？\s]{0,3}(老深|很深|好深)?一道口子|扎进(了)?(掌心|手|肉)|(牙|门牙|槽牙)[^，。！？\s]{0,3}(崩|磕|断|裂)|"
    r"卡(在)?(嗓子眼|喉咙)|破伤风|缝了[^，。！？\s]{0,2}针|(起|大|个|俩|两|几|一)(个)?水泡|燎泡|"
    r"(开水|热水|汤|茶水)[^。！？]{0,8}(淌|浇|泼|扣|溅|洒|喷)[^。！？]{0,6}(手|脚|腿|身上|脸|胳膊|手臂)|头皮[^，。！？\s]{0,3}红|"
    r"(喷|溅|进)[^，。！？]{0,6}(眼睛|脸上)[^。！？]{0,8}(疼|痛|睁不开|红)"
)


# someone was hurt (a wound to care for), as against a hazard with nobody hurt (smoke, swelling, heat)
_HURT = re.compile(r"伤|流血|烫红|烫到|烫得|泡|疼|痛|电到|触电|割|扎到|划破|红了")
_NEAR_MISS = re.compile(r"(差点|差一点|差点儿|险些|还好没|幸好没|好在没|没有?)[^，。！？\s]{0,3}$")


def reports_hurt(text: str) -> bool:
    """Does the buyer say someone was hurt? 「差点扎到手」 and 「还好没烫到」 tell a danger, not a wound."""
    return any(not _NEAR_MISS.search(text[max(0, m.start() - 5):m.start()]) for m in _HURT.finditer(text))


def detect_safety(message: str, history: Sequence[Turn]) -> tuple[str | None, str | None]:
    """("reaction" | "injury" | "fraud" | None, the words that said so), from the newest message and the one before."""
    if is_scam_report(message, history):
        return "fraud", None
    for text in [message, *buyer_turns(history)[-1:]]:
        found = _harm_in(text)
        if found[0]:
            return found
    return None, None


# a danger told as escaped: 「吃了一颗差点吐了」「人冇事 好彩…」「猫好着呢」
_ESCAPED = re.compile(r"差点|差一点|险些|还好没|幸好没|好在没|好彩|(人|我|孩子|宝宝|猫|狗)(都)?(没事|冇事|好着呢|没伤着)")


def harm_words_weighed(message: str, history: Sequence[Turn]) -> bool:
    """Whether the cues saw words of harm in the texts ``detect_safety`` reads, whatever they decided, or a danger
    told as escaped: where they weighed a mention and set it aside (「差点烫到 还好没洒」「听同事说冒烟了」「我镍过敏
    戴了就起疹子」 before buying), that decision is about the sentence's form, which a reading by meaning does not see."""
    return any(_INJURY.search(t) or _REACTION.search(t) or _ESCAPED.search(t)
               for t in [message, *buyer_turns(history)[-1:]])


_SHARDS = re.compile(r"碎(了|成|掉|开|片|渣)|裂(了|开)|玻璃渣|碴子")
_POWERED = re.compile(r"充电|电池|电源|电芯|尿袋|机身|插座|电器|机器|通电|电")


@lru_cache(maxsize=1024)  # stage, emotion and the analysis itself each ask about the same newest message
def _harm_in(text: str) -> tuple[str | None, str | None]:
    """An injury or a reaction the text reports (not one it worries about, heard of, or knows from before), with its
    words. Each mention is weighed on its own; the first that reports a harm decides."""
    known = _KNOWN_ALLERGY.search(text)
    for kind, pattern in (("injury", _INJURY), ("reaction", _REACTION)):
        found = list(pattern.finditer(text))
        for m in found:
            if _NEAR_MISS.search(text[max(0, m.start() - 5):m.start()]) or re.search(r"一点(都)?没|都没|没有?(心慌|拉|吐|头晕|难受)", m.group(0)):
                # 「差点划破」「还好没过敏」「一点没心慌」: a danger escaped, not a harm, unless it is still there:
                # 「碎成渣了 差点割到手」 leaves shards to handle
                if not (kind == "injury" and _SHARDS.search(text) and m is found[0]):
                    continue
            if m.group(0) == "过敏" and _known_allergy_before(text, m.start()):
                continue  # 「我对甲基异噻唑啉酮过敏」 tells a known allergy before buying, not a reaction to the goods
            if known and re.search(r"(就|会|容易)[起长]?$", text[max(0, m.start() - 3):m.start()]):
                continue  # 「羊毛过敏 沾上就起疹子」「沾一点就喘」: what the known allergy does, not what happened
            if kind == "injury" and m.group(0).startswith("鼓") and not _POWERED.search(text):
                continue  # 「小泡袋有点鼓起来了」: a food bag's air, not a swollen battery
            worry = {w.group(0) for w in _ASKS_BEFORE.finditer(text[max(0, m.start() - 8):m.end() + 8])}
            before = text[max(0, m.start() - 16):m.end()]
            used = list(_USED_BEFORE.finditer(before))
            if worry and used and not _WORRY.search(before[max(0, used[-1].start() - 6):used[-1].start()]):
                # 「敏感肌用了烂脸」「直接敷了…下巴一片红疹子 痒 会不会影响宝宝」: it happened, the worry comes after;
                # 「怕用了过敏」 is still a worry
                worry = set()
            heard = re.search(r"评价|评论|有人说|听说|别人|别家|新闻|网上|视频|听[^，。！？]{0,10}(说|讲)|(朋友|闺蜜|同事|邻居|网友)[^，。！？\s]{0,2}说",
                              text[max(0, m.start() - 20):m.start()])  # 「听我同事说她买的别家那个…冒烟了」
            if not worry and not heard:
                return kind, m.group(0)
    return None, None


_PERSON = r"(孩子|宝宝|小孩|娃|我|本人|他|她|老公|老婆|家人|老人|女儿|儿子|闺女|我家|老大|老二|老三|婆婆|公公|我妈|我爸)"
_KNOWN_ALLERGY = re.compile(
    rf"对[^，。！？\s]{{1,12}}过敏|过敏体质|{_PERSON}(对)?[^，。！？\s吃喝用敷涂戴穿抹擦了过]{{1,4}}过敏|^[^，。！？\s了过]{{1,4}}过敏|"
    r"(穿|用|吃|喝|戴|碰)[^了过，。！？\s]{1,6}(的|就)过敏")
_USED_BEFORE = re.compile(r"(用|敷|抹|涂|擦|吃|喝|穿|戴)(了|完|过)")


def _known_allergy_before(text: str, at: int) -> bool:
    return any(k.end() == at + 2 for k in _KNOWN_ALLERGY.finditer(text))


# 「会不会过敏」「孕妇能用吗 会不会起痘」: a worry before buying, not a reaction
_WORRY = re.compile(r"会不会|会不|容易|怕|担心|是否|能不能|可不可以")
_ASKS_BEFORE = re.compile(rf"{_WORRY.pattern}|敏感肌")


# ------------------------------------------------------------------- stage ---

# The goods are in the buyer's hands: receipt, use, defects, returns of what arrived.
_RECEIVED = re.compile(
    r"收到(了|货|的|啦|咯)(?![吗没呢]|.{0,2}[吗呢]|我怎么|.{0,3}(验证码|短信|电话|消息|通知|链接))|^收到(?![吗没呢了的]|.{0,3}(验证码|短信|电话))|签收|到货了|拆开(了|后|一看)|打开(一看|发现|后)|"
    r"穿了|用了(?!.{0,3}(吗|对吧))|用完|用过了|敷了|敷完|戴了|洗了|洗过|试了|试穿了|喝了|充了|充满|实际(用|只|才)|"
    r"送到(了|已经|的时候|时)|冰袋[^，。！？\s]{0,3}化|(全|都)化了|哈喇|一股[^，。！？\s]{0,4}味|破(了|损|洞)|压坏|压扁了?|压烂|摔坏|碎了|瘪了|磕瘪|压瘪|刚拆|漏液|发错|错发|少发|漏发|发成(?!都)|给我发(了|成)?.{0,6}(的|过来)|怎么发(了|成)(个|一)|"
    r"坏了|不保温|起球了|开线|掉毛了|掉色了|褪色了|钻绒|跑绒|开胶|底噪|有杂音|过敏了|泛红了|有点红|起痘|刺痛|有异味|线头(好|太|很)?多|"
    r"质量(太|真|也|有)|退货|换货|换(小|大)一?码|我要退|想退|要退了|退差价|申请售后|售后|差评|中评|追评|好评|晒图|补发|寄回|退回|返修|"
    r"买大了|买小了|不合身|收货后|签收后|跟新的一样|吊牌剪|"
    # receipt told with a time, use of any kind of goods, and defects found in use (food, drink, devices)
    r"(今天|昨天|前天|刚刚?|早上|上午|下午|晚上)(才|刚)?收(到|的)|收到.{0,4}(天|周|星期|个月)了|确认收货|"
    r"吃了|尝了|开罐|开袋|拆封了|拆了(?!.{0,3}(能|还|可以|就))|插(上|了|到)|装上|贴(上了|了|完)|(很|挺|真|超)好用(?!吗)|"
    r"没反应|识别不了|没画面|没声了|没声音了|裂开了?|鼓包了|发霉|霉点|变质|有虫|"
    r"我(?!想|要|准备|打算)[^，。！？]{0,12}?买的(?!话)|"
    # goods in hand, in any trade: 收了 / 货到了 / 打开一瓶 / 泡出来 / 充着充着鼓起来 / 才买一个礼拜 / 实测 / 这是正常的吗
    r"收了(?!吗|没)|^[^\s，。？?]{1,6}到了[！!。～~]*$|(货|包裹|东西)(都|已经)?到了|打开(了|一[个瓶罐包盒袋])|"
    r"(泡|冲|煮)出来|(泡|冲)的时候|拆的时候|开箱|录了?视频|[着了]{1}.{0,2}(鼓起来|鼓包|发烫|烫手|焦味)|鼓起来|焦味|"
    r"(才|刚)?买了?(一|两|三|几|半|\d+)个?(礼拜|星期|周|天|个?月)|测了|(我|自己)实测|实测(了|下来|出来)|测出|钻毛|往外钻|滋滋|异响|"
    r"连不上|用不了|根本.{0,3}不(了|掉|上|进|动)|(卸|洗|擦|刷)不掉|(烫|扎|割|划)(红|伤|破|到)|起泡了|喷出来|"
    # arrival said of the goods (「东西到啦」「今天到了」), touch and smell, the buyer's own unit, a swapped item
    r"(?<![什么几多就才能会快要说想看找提做遇收没])(已经|都)?到(啦|了)(?![吗没嘛呢])|摸着|闻着|尝着|化成水|"
    r"我(这|那)(块|台|件|双|条|只|瓶|罐|盒|包|副|套)(?![^，。？\s]{0,3}(吗|呢))|绑(过|定)了|换成[^，。？\s]{1,8}(的)?发(了|给我)|"
    # opened, fitted, eaten up, used for a while; what was sent to this buyer; a review offered for money
    r"贴上后|贴好(了|后)|开饼|一开(罐|袋|盒|瓶|包)|(拆开|打开|开封)[^，。？\s]{0,2}(泡|吃|用|喝|试)|干掉|(吃|喝|用)完了|"
    r"(俩|两|几|三|四|半|一)个?(月|礼拜|星期|周)就|(撬|拧|打|拆)不(开|动)|插[^，。？\s]{0,4}不认|不认(盘|了)|不响了|哑了|"
    r"把[^，。？\s]{0,8}发给我|(发|寄)来(的|个)|马上(五星|好评)|评价我就|换不换吧|少了(一|两|\d)|只收到|拆出来|凹了|"
    r"插(电脑|手机|车上|上去)|测(读|写|出|了)|(速度|颜色|尺寸|味道|数量|大小)不对|"
    # what the buyer found in hand: 「到手是白的」「打开只有一只」「装不上」「赶紧给我补」「跟图片差太多」
    r"到手(是|就|发现|一看|后|才)|打开(一看|发现|只有|里面)|装不上|(给我|赶紧|快)补(发|一)|还得我自己[^，。？\s]{0,2}(寄|退)|"
    r"不拉几|跟(图片|详情页|页面)[^，。？\s]{0,4}(差|不一样)|"
    # a measurement of the buyer's own unit (「插笔记本只显示27W」「实测只有400MB/s」), wear after a while of use
    r"(只|才)显示|显示只有|实测(只|才)|测(了|下|出来)?(只有|才)|(月|礼拜|星期|周|天)[^，。？\s]{0,4}就(松|坏|断|黄|裂|掉|磨|不)|(都是|全是|有|生)锈"
)
# Ordered but not yet received.
_NOT_RECEIVED = re.compile(
    r"还没(发货?|到|收到|寄)|没发货|未发货|发出(去|来)?(了)?(没|吗|嘛|没有)|先别发|不要发|能先不发|暂时别发|别发了|不发(货|我)?|发了没|发货(了)?(吗|没)|"
    r"没收到|还没到|没到货|刚付|付完款|付完钱|付了款|刚拍|刚下单|刚买的|刚付款|(改|修改|换)(个|一下)?(收货)?地址|地址(写|填)错|"
    r"地址改(成|下|一下|为)|付的款|(等待|待|还没|未)出库|退了重拍|重拍|(先不|要不|能|想)取消|取消(订单|了吧|吧)|还能发出|(快递|包裹|东西)到哪|还没出货|未见发货|(给|付)了钱|(\d|[一二三四五几两])天(都)?(不动|没动)|(快递|物流)[^，。！？]{0,8}走了[^，。！？]{0,3}天|待发货|还没动|(快递|物流|包裹|单号|轨迹|信息)[^，。！？]{0,8}(没动|不动)|(天|小时)了?都?没动|转运|中转|揽收|运输中|(物流|快递)(信息)?(没|不)更新|催.{0,2}快递|出货了?(吗|没)"
    # paid, on the way, not yet here: 「订单已付」「货还在路上」「已拍 周一能发吧」「拍重了」
    r"|还在路上|在路上(呢|了)|反正还没|卡(了)?[\d一二三四五六几两]+天|分拣中心|快件已(到达|揽收|发出)|派件中|订单已付|已付(款|了)|^已拍|拍重了|还没寄|还没签收"
)
_ORDERED = re.compile(
    r"(已经|昨天|前天|今天|上午|下午|早上|刚刚)?(下单了|下单啦|拍了|拍下了|付款了|付了)(?!.{0,2}吗)|已经下单|下单(时)?备注|订单|单号|物流|快递员|驿站|派送|"
    r"到哪了?|待付款|没付|付不了|付款失败|催(一下|发)|发顺丰|走顺丰|换顺丰|(发|寄)(货)?(之前|前)[^，。！？\s]{0,3}(能不能|能否|可以|帮我|麻烦|记得|请)|"
    r"(昨天|昨晚|前天|今天|上午|下午|早上|刚刚|上周|前几天)(晚上)?(才|就)?(拍|买|下单|下)的(单)?|下(了|的)单|"
    r"我(已经)?买了(?![^，。？\s]{0,3}(吗|没))|付(好|过|完)(款|钱)?了|(刚刚?|刚才|已经)[^，。？\s]{0,3}买了(?![^，。？\s]{0,3}(吗|没))|(钱|款)(已经|都|也)?付(好|过|完)?了|快递单|两个包裹|买了\d+(盒|件|个|套|罐|袋|台|只)|下了(张|个)?单"
)
_BUY_LATER = re.compile(
    r"(就|马上|直接|再|才|立马|现在)(拍|下单|买)(?!了)|(?<!昨天)(?<!前天)(?<!已经)(?<!早)就(拍|下单|买)了|今天拍|加(了)?(购物车|购)|要不|够的话|要是|如果|万一|假如|想买|准备买|打算|考虑|"
    r"还剩|有货吗|有没有货|支持.{0,8}吗|到时候|收到后|收到货后"
)


_DAMAGE_WORD = re.compile(r"破|压|碎|瘪|磕|漏液|坏了|裂")
_BEFORE_SHIPPING = re.compile(r"(发|寄|出库|打包|发货)(之前|以前|前)|(发|寄)的时候")


def _received(text: str) -> re.Match | None:
    m = None
    for cand in _RECEIVED.finditer(text):
        # "之前在别家买的穿两次就起球了": someone else's goods, told as background
        if re.search(r"之前|上次|上回|以前|别家|别的店|其他家|上家|上一家|评价|有人说|听说|别人", text[max(0, cand.start() - 14) : cand.end()]):
            continue
        if re.search(r"(怕|担心|万一|会不会|如果|要是|假如)[^，。！？\s]{0,8}$", text[max(0, cand.start() - 10):cand.start()]):
            continue  # 「怕买到假的用了烂脸」: what might happen
        if re.match(r"再|(\d+|[一二三四五六七八九十几]+)(多)?年", text[cand.end():cand.end() + 4]):
            continue  # 「收到了再退一个」 is a plan, 「用了二十年这类东西」 a life's experience
        if re.match(r"(收到|到)", cand.group(0)) and (re.match(r"(以后|之后|后(?!面)|的话|要是)", text[cand.end():cand.end() + 2])
                                                  or re.search(r"等[^，。！？\s]{0,4}$", text[max(0, cand.start() - 5):cand.start()])):
            continue  # 「到了以后怎么连mac」「等到了用着好给好评」: the goods are still to come
        if re.match(r"收到", cand.group(0)) and re.match(r"(发货|物流|取件|揽收|派件|出库)(的)?(通知|短信|消息|信息|提醒)",
                                                       text[cand.end():cand.end() + 6]):
            continue  # 「收到发货通知啦」: a notice about the parcel, not the parcel
        if _DAMAGE_WORD.match(cand.group(0)) and (re.search(r"(别|不要|防止|以免|免得|小心|千万别)[^，。！？\s]{0,3}$",
                                                          text[max(0, cand.start() - 5):cand.start()])
                                               or _BEFORE_SHIPPING.search(text)):
            continue  # 「发之前帮我看看 盒子别压瘪」: a request for packing, nothing has happened yet
        m = cand
        break
    if m is None:
        return None
    receipt = re.match(r"收到|签收|确认收货|(今天|昨天|前天|刚刚?|早上|上午|下午|晚上)", m.group(0))
    if not receipt and re.match(r"会(?!员)|(能|可以)[^，。！？\s]{0,15}[吗嗎么]|[^，。！？\s]{0,3}(怎么算|算谁的|谁负责|谁承担)|[^，。！？\s]{0,6}(保不保|管不管|退不退|赔不赔|包不包|换不换)|.{0,3}?(会不会|会不|是不是|怎么办|能不能|可不可以|咋办|能[^，。！？\s]{0,2}不(?!能|了))",
                                text[m.end():m.end() + 20]):
        return None  # 「洗了会不会缩水」「坏了怎么办」 ask what would happen, before buying
    # "收到后能退吗" / "如果不合适能退吗" ask about the future, before buying (a plan said near the cue)
    if _buys_later(text, m) and not re.search(r"收到了|签收|穿了|用了|敷了|戴了|洗了|破|坏|发错|少发|漏发|发成(?!都)|我要退", text):
        return None
    return m


def _buys_later(text: str, m: re.Match) -> bool:
    """Is a purchase still to come, said just before or at the cue (「要不两个都拍了」, 「如果不合适能退吗」)?"""
    return bool(_BUY_LATER.search(text[max(0, m.start() - 8):m.end() + 4]))


def detect_stage(message: str, history: Sequence[Turn]) -> tuple[Stage, list[str]]:
    """Newest strong evidence wins; earlier turns tell whether the goods were ordered or received."""
    if SCAM_REPORT.search(message):  # what the caller claimed (「说丢件了要给我理赔」) says nothing of this buyer's goods
        own = re.search(r"收到(了|货)|签收了|(我)?(用|穿|戴)了|(昨天|前天|今天|刚|已经)(才)?到(的|了)|到货了", message)
        if own:
            return "after_sale", [f"举报诈骗，已收货：「{own.group(0)}」"]
        if re.search(r"订单|我的|买的|拍的|单子|快递|包裹", message):
            return "in_sale", ["举报诈骗：对方提到买家的订单"]
    m = re.search(r"显示(已)?签收|谁签(收)?的|冒领|被人签|签收了?.{0,8}没(收到|拿到|见到)", message)
    if m:  # delivered by the carrier's record, missing in the buyer's hands: an after-sale case
        return "after_sale", [f"显示已签收但没收到：「{m.group(0)}」"]
    m = _NOT_RECEIVED.search(message)
    if m and not re.search(r"收到了|(?<![没未])签收|穿了|(?<!忘)用了|敷了|戴了|洗了|(昨天|前天|今天|昨晚)(才|刚)?到(了|的)?", message):
        return "in_sale", [f"已下单、还没收到：「{m.group(0)}」"]
    m = _received(message)
    if m:
        return "after_sale", [f"已收货或在售后：「{m.group(0)}」"]
    kind, words = detect_safety(message, [])
    if kind in ("reaction", "injury"):
        return "after_sale", [f"用后出现不适或受伤：「{words}」"]
    buyer_hist = [t.text for t in history if t.role == "buyer"]
    for turn in reversed(history[-4:]):  # the agent already handles an after-sale case (换新, 退款, 取件)
        if turn.role == "agent" and (o := _AGENT_AFTER_SALE.search(turn.text)):
            return "after_sale", [f"客服已在处理售后：「{o.group(0)}」"]
    for text in reversed(buyer_hist):
        r = _received(text)
        if r:
            return "after_sale", [f"之前提到已收货/售后：「{r.group(0)}」"]
    m = _ORDERED.search(message)
    if m and not _buys_later(message, m):
        return "in_sale", [f"已下单：「{m.group(0)}」"]
    for turn in reversed(history):
        if turn.role == "buyer":
            o = _NOT_RECEIVED.search(turn.text) or (_ORDERED.search(turn.text) if not _BUY_LATER.search(turn.text) else None)
        else:
            o = re.search(r"已(经)?(为您)?发(货|出)|单号|物流显示|已打包|(在|已经在)打包|已出库|包裹|还没(出库|发货)|未出库", turn.text)
        if o:
            return "in_sale", [f"对话中已下单：「{o.group(0)}」"]
    return "pre_sale", ["尚未下单：咨询、比较或议价"]


_AGENT_AFTER_SALE = re.compile(r"(申请|办理)(了)?(换新|退款|退货|补发|售后)|已为您(补发|退款|换新|登记)|上门取件|寄回|收到旧件|"
                               r"(哪天|什么时候|几号)签收|已经?签收(啦|了)|收到的(商品|宝贝|东西)|开箱视频|给您补发")  # the agent asks of the goods received


# ----------------------------------------------------------------- emotion ---

_ANGRY = re.compile(
    r"[！!]{2,}|[？?]{3,}|气死|什么破|破东西|垃圾|坑人|骗子(?![吧吗])|投诉|12315|差评|太过分|受够|烦死|什么态度|无语|搞什么|"
    r"凭什么|凭啥|有病|恶心|退钱|赔我|不要脸|黑店|还不发|到底(怎么|想|什么|啥|多久|还|能不能|管不管|发不发)|滚|"
    # accusations put as questions or sarcasm: 「良心不痛吗」「那你们就不管了？」「说好的当天发呢」「你们可真行」
    r"良心|(就|都)不管了|不负责(任)?了?[？?吗]|说好的[^，。！？\s]{0,10}呢|(什么|啥)效率|还想不想|不专业|"
    r"(你们|你)(后台)?自己(去)?查|别跟我(扯|说|来|废话)|废话|虚假宣传|耍我|耍人|这也(能|敢|好意思)(卖|拿出来)|也好意思卖|就这(质量|水平|做工|服务)|(你们)?让我怎么(吃|用|穿|办|送|喝)|(有没有|没个)谱|可真行|真行啊|(?<![舒佩])服了|别想(赖|跑|糊弄)|"
    r"必须给我(退|换|赔|个说法)|给个说法|早知道不(在你家|在你们家|买)|(这|你们这)?规定谁定的|用得着你教|还敢|"
    # sarcasm and accusations of bad faith: 「呵呵」「按火星时间算的吧」「割韭菜」「这样怎么送得出手」
    r"呵呵|火星|乌龟|蜗牛|在[^，。！？\s]{0,6}度假|好家伙|割韭菜|(?<!有没有)(?<!是不是)(?<!会不会)虚标(?![吗吧嘛不])|误导|当猴|看不起|就这水平|还用你教|(拿|送)得出手|失望|"
    r"说得跟真的|等于没说|合着|有理呗|运气[^，。！？\s]{0,4}好吗|舍不得|啥玩意|赖我|一句话[！!]|这种品控|还在上学|骑[^，。！？\s]{0,4}送的"
)
# a thumbs-up with nothing good said is sarcasm: 「快递走了四天 你们这是骑自行车送的吧👍👍」
_PRAISE = re.compile(r"好用|喜欢|好吃|好喝|不错|挺好|很好|真好|棒|满意|好看|静|快|舒服|谢谢|感谢")
# worry that wants an answer soon; a 「会不会起球」 before buying is a question, not anxiety
_ANXIOUS = re.compile(
    r"(?<![不别])着急|急用|(?<![不别])急着|急住|急死|赶时间|赶紧|能不能快|(?<!爽)快点|尽快|担心|靠谱吗|放心吗|安全吗|怎么还没|出差要用|"
    r"明天要用|来得及|赶得上|等着用|慌|焦虑|不会是|(那|这)?(可)?怎么办|咋办|咋整|吓死|吓人|[😭😣😰😥😟🥺]|愁|"
    r"(?<![不哪])怕|不会[^，。！？\s]{0,8}吧|是你们的?人?吗|(有点|挺|很|比较|特别|好)急|谁负责|卡哪|送哪去|丢了|漏(了|咗)单"
)
_SKINT = re.compile(r"穷|没钱|贵|券|学生|预算|生活费|肉疼")
# pleasure and praise; a 「谢谢」 after a request is politeness (neutral), unless it is all the message says
_POSITIVE = re.compile(r"喜欢|满意|很好|不错|好评|哈哈|嘿嘿|棒|赞|开心|太好了|爱了|好看|好美|好靓|好可爱|好馋|[😍🥰😆😄😊😂]|^哇|真香|"
                       r"不行也没关系|没关系哈|不为难")  # 「实在不行也没关系哈」: an easy-going ask
_THANKS = re.compile(r"^[^？?，,吗呢]{0,4}(谢谢|感谢|多谢|辛苦了|好的呀|好哒)[^？?]{0,6}$")


def detect_emotion(message: str, history: Sequence[Turn]) -> tuple[Emotion, list[str]]:
    recent = [t.text for t in history if t.role == "buyer"][-1:]
    m = _ANGRY.search(message)
    if m and not re.search(r"不会给差评|不给差评|不差评|差评.{0,3}(会不会|的话|吗)", message):
        return "angry", [f"激动/不满：「{m.group(0)}」"]
    if "👍" in message and not _PRAISE.search(message):
        return "angry", ["只点赞、没夸什么：反话"]
    m = _ANXIOUS.search(message)
    if m and re.search(r"怎么办|咋办|咋整", m.group(0)) and re.search(r"要不|还是|你觉得|哪个好|帮我(选|定)", message):
        m = None  # 「那怎么办…要不我拒收重新买？还是等它到了」 weighs options: indecision, not worry
    if m and not re.search(r"[\u4e00-\u9fff]", m.group(0)) and (HAGGLE.search(message) or _SKINT.search(message)):
        m = None  # 「打个折呗😭」「月底了真的穷😭」: a crying face beside a haggle or a lack of money is 哭穷, not worry
    if m and "怕" in m.group(0) and re.search(r"纠结|要不|还是", message):
        m = None  # 「茶轴…怕红轴太软了 好纠结」 weighs two options
    if m:
        return "anxious", [f"着急/担心：「{m.group(0)}」"]
    kind, words = detect_safety(message, [])
    if kind in ("reaction", "injury"):  # a reaction or an injury, told without anger, is a worry
        return "anxious", [f"用后不适或受伤：「{words}」"]
    m = _POSITIVE.search(message) or _THANKS.search(message.strip())
    if m:
        return "positive", [f"友好/满意：「{m.group(0)}」"]
    if recent and _ANGRY.search(recent[0]) and (len(message) < 12 or re.search(r"[？?！!]|退|赔|还是|到底", message)):
        return "angry", ["上一条消息仍在生气"]
    return "neutral", []



# the buyer reports or forwards a likely scam: fake notices, someone posing as the shop, requests for codes
SCAM_REPORT = re.compile(
    r"【.{0,6}(通知|提醒)】|系统通知|冒充.{0,4}(客服|官方|店|工作人员|你们|平台|快递|京东|淘宝)|(要|让)我?.{0,6}(验证码|密码|卡号)|发了链接|加.{0,3}微信.{0,6}(退款|理赔|赔|办理)|短信[^。！？]{0,30}(加[^，。！？]{0,3}微信|点[^，。！？]{0,3}链接)|"
    r"(打电话|来电|短信|发消息).{0,8}(说是|自称).{0,6}(客服|店|你们)|自称.{0,4}(客服|店家|店主|你们)|说.{0,10}(账户|账号|资金).{0,4}冻结|"
    # contact off the platform, money asked up front, a remote screen: 「加我微信说是你们店的」「让我转500验证流水」
    r"加(了)?我(微信|QQ|qq|好友).{0,12}(说是|自称)|说是你们(店|家)的?(售后|客服|人)?|自称.{0,8}(理赔|售后|客服)|"
    r"(转|交)[^，。！？]{0,6}(保证金|验证流水|押金|解冻)|共享屏幕|屏幕共享|备用金|下载[^，。！？]{0,8}(会议|软件|app|APP)|"
    # a call or text claiming to be the shop, a link to fill in or a code to scan for a payout
    r"(电话|短信|简讯|信息|WhatsApp|whatsapp|微信|QQ|qq|有个人)[^。！？]{0,12}(说是|自称|话系|说系)[^，。！？]{0,6}(客服|官方|售后)|"
    # a stranger's contact the buyer asks about: 「有人私信说好评返现，让我扫码，是你们吗」
    r"(有人|陌生人|对方|一个人)[^。！？]{0,4}(私信|私聊|来电|打电话|打来电话|发短信|发消息|加我)[^。！？]{0,24}(是你们|是不是你们|你们的人)|"
    # the buyer already gave a code or a card away and asks what now: 「还填了卡号和验证码 怎么办啊」
    r"(填|输|给|告诉|发|报)(了|过)?[^。！？]{0,10}(验证码|卡号|密码)[^。！？]{0,12}(怎么办|咋办|被骗|骗子|会不会|要紧吗|怎么弄)|"
    r"(链接|连结)[^。！？]{0,12}(填|绑|银行卡)|绑[^，。！？]{0,2}银行卡|(赔|退|理赔)[^。！？]{0,20}扫[^，。！？]{0,3}二维码"
)


def is_scam_report(message: str, history: Sequence[Turn]) -> bool:
    """The buyer reports or forwards a likely scam, in this message or the two before."""
    return any(SCAM_REPORT.search(text) for text in [*buyer_turns(history)[-2:], message])


# the buyer haggles: asks for a lower price, a discount or extras
HAGGLE = re.compile(
    r"便宜|少点|少一点|抹零|抹个零|打个?折|优惠点|再减|砍|最低|底价|包邮呗|送点|送个|别家|人家才|\d{2,4}\s*(块|元)?\s*(行不行|卖不卖|可以吗|行吗|就拍|拍了)|"
    r"一口价|能不能再|再便宜|[退返]我\d+|给我\d+|\d{2,4}\s*(块|元)?\s*我?(立马|马上|就)(下单|拍|买)"
)


# ------------------------------------------------------------ upset readings ---

STRONG_NEGATIVE = re.compile(r"离谱|太差|太坑|坑人|骗人|骗子|气死|失望|生气|赖账|吓人|心塞|糟心|闹心|垃圾|投诉|差评|糊弄|忽悠|当傻子")
# praise of the goods or the service (「质量真的挺好的」「很喜欢」): the word 质量 here is no complaint
PRAISE = re.compile(r"(质量|做工|东西|衣服|味道|效果|服务|客服|包装|物流)(也|都)?(真的|很|挺|超|非常|特别|蛮|相当)*(好|不错|棒|赞|满意|可以)"
                    r"(?!.{0,4}(吗|？|\?|吧))|很喜欢|超喜欢|特别喜欢|(超|很|特别|可)爱(吃|喝|用|穿)|好评")
NEGATIVE_CUES = re.compile(
    r"[！!]{1,}|？{2,}|\?{2,}|失望|生气|气死|太差|(太|好|真|被)坑|坑(人|爹|货|钱|我)|骗|赖账|离谱|吓人|糟|闹心|好心塞|心塞|(?<![不别])急着|(?<![不别])着急|"
    r"半天不回|还没(到|解决)|还没发(?!货?\s*[，,]?\s*(能|可以|的话|吧|是不是|能不能))|"
    r"第二次找|又|开线|钻毛|钻绒|发黏|发粘|酸味|馊|变味|发酸|一股[^，。！？\s]{0,3}味|掉色|破洞|起红疹|过敏|不保温|充不进|坏了|没声音|发错|弄丢|丢了|没收到|差了好几|跟宣传|"
    # a fault in the goods told plainly: 洗了一次就打结变硬、用了不到一个月就黄了、丑死了、什么破东西
    r"(丑|难用|难吃|难喝|臭|难看)死了|心疼|打结|变硬|发黄|(就|都)黄了|起球|缩水|变形|裂(了|开)|断了|漏(水|气|液)|哈喇|想吐|"
    r"不到[^，。！？]{0,4}(天|周|个月)就|什么(破|烂)?东西"
)


def reads_negative(message: str, history: Sequence[Turn]) -> bool:
    """The eager reading: any sign of upset in the newest message (a sigh, a "又", one "！"). Empathy comes first then."""
    if not message:
        return False
    emotion, _ = detect_emotion(message, history)
    stage, _ = detect_stage(message, history)
    return negative_from(message, emotion, stage, detect_intent(message))


# a change to an order asked for calmly: 「拍成青轴了，想换红轴，还没发货」
_ORDER_CHANGE = re.compile(r"(想|要|能|帮我)(换|改)(成)?|改(成|地址)|换成|取消")
# a question put calmly; and a fault told as a fact (「收到就是坏的」「屏幕裂了」), which no question mark undoes
_ASKS_ABOUT = re.compile(r"(吗|么|嘛|不|(怎么|咋)(算|办|处理|弄|整))[？?～~。！!\s]*$|吗[？?\s，,]|[？?]\s*$|是不是|会不会|有没有|能不能|可不可以|正常吗|算不算")
_FAULT_TOLD = re.compile(r"(坏|破|碎|裂|断|烂|化|掉|脱|开|鼓|漏)(了|掉了|开了)(?!吗|[^，。！？]{0,3}(怎么算|怎么办|算谁的|谁负责))|收到(就|的时候就)|发错|少发|漏发|错发|没收到|"
                         r"过敏了|起疹|不能用|用不了|充不进|打不开|没反应|没声|又|第二次|还是不行|就有|[？?]{2,}|是不是(卖|给我|拿|发)")
# faults seen in the goods, told flat: 「一股霉味」「屏幕进水了」「W键连击」「一点香味都没有」
_FAULT_SEEN = re.compile(rf"{_FAULT_TOLD.pattern}|霉味|发霉|长毛|进水了|连击|失灵|(一点|完全)[^，。！？]{{0,4}}(都)?没(有)?(味|香|效果|用)")
# the shop held to its word or asked to account for itself: 「你们不是说5ATM吗？？」「你们到底发没发」「跟你们说的兰花香完全两码事」
_ACCUSES = re.compile(r"你们(是不是(卖|故意|乱发|给我|拿|骗|坑|把)|不是(说|写|承诺)|到底|究竟|怎么(回事|搞的|做的|弄的))|(跟|和)你们(说|写|宣传|介绍)的[^，。！？]{0,10}(不一样|两码事|不符|差太多|差远了)|完全两码事|货不对板")


def negative_from(message: str, emotion: str, stage: str, message_intent: str) -> bool:
    """``reads_negative`` from readings already made (the analyzer passes its own)."""
    if not message:
        return False
    if emotion == "angry" or _ACCUSES.search(message):
        return True
    if message_intent in COMPLAINT_INTENTS and _fault_now(message):
        return True  # 「W键连击，打字全是wwww，才买一周」: a fault told flat is still a complaint
    if emotion in ("neutral", "positive") and (_ASKS_ABOUT.search(message) or _ORDER_CHANGE.search(message)) \
            and not STRONG_NEGATIVE.search(message) and not _FAULT_TOLD.search(message):
        return False  # 「这件会起球吗」「表面白白的是发霉吗」: a calm question about the goods, not a complaint
    if emotion == "anxious" and (stage != "pre_sale" or message_intent in COMPLAINT_INTENTS):
        return True  # worry about an order or the goods; a worried question before buying wants an answer first
    if PRAISE.search(message) and not STRONG_NEGATIVE.search(message) and emotion != "angry":
        return False  # 「收到了很喜欢 质量很好」: the quality is praised, nothing is complained about
    if message_intent in COMPLAINT_INTENTS and stage == "after_sale":
        return True
    if STRONG_NEGATIVE.search(message):
        return True
    cues = [m.group(0) for m in NEGATIVE_CUES.finditer(message)]
    if cues and all(c == "又" or set(c) <= set("!！") for c in cues) and _GRATEFUL.search(message):
        return False  # a lone 「！」 or 「又」 in thanks (「收到了，好香啊，谢谢！」) is no upset
    return bool(cues) and (message_intent not in ("price", "size", "usage", "product_info") or _fault_now(message))


# a fault of an earlier order or one that may happen: 「上次漏发你们很快补了」「要是以后出现连击能保修吗」
_PAST_OR_IF = re.compile(r"上次|上回|之前|以前|如果|要是|万一|假如|以后|将来")


def _fault_now(message: str) -> bool:
    """A fault with the goods told as happening now (not an earlier order's, not a hypothetical one, not asked
    about: 「表面白白的是发霉吗」)."""
    m = _FAULT_SEEN.search(message)
    if not m or _PAST_OR_IF.search(message[:m.start()]):
        return False
    clause = re.split(r"[，,。！!；;]", message[m.start():])[0]
    return not re.search(r"(吗|么|嘛)[？?]?\s*$|是不是|会不会", message[max(0, m.start() - 6):m.start()] + clause)


_GRATEFUL = re.compile(r"谢谢|感谢|多谢|辛苦(了|啦)|开心|喜欢|好(香|吃|喝|看|用)(啊|呀|哦|！|!|$)")


def is_upset(a: Analysis) -> bool:
    """Upset or with an after-sale problem: the empathy-first strategy leads."""
    return a.emotion in ("angry", "anxious") or a.safety in ("reaction", "injury") or (
        a.stage == "after_sale" and a.intent in ("quality_complaint", "damaged_wrong", "refund")
    )


def is_complaint(a: Analysis) -> bool:
    """Angry, or complaining about goods after the sale (an angry buyer type after the sale too): open with an apology."""
    return (
        a.emotion == "angry"
        or a.safety in ("reaction", "injury")
        or (a.stage == "after_sale" and a.intent in COMPLAINT_INTENTS | {"refund"})
        or (a.persona.id == "angry" and a.stage == "after_sale")
    )
