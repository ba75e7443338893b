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
    ("damaged_wrong", "破损/错发/漏发", r"破损|压坏|摔坏|碎了|瘪|凹了|压烂|补发|漏液|发错|错发|少发|漏发|少了一|不是我买的|颜色不对|发成|裂开|裂了|开裂|裂缝|"
     r"(给我|你们)发的(是)?.{1,8}(不是|错)|我(买|拍|要)的是?.{1,10}(你们|却)?给我发的"),
    ("quality_complaint", "质量问题", r"质量|开线|起球|掉色|钻毛|褪色|钻绒|跑绒|异味|味道大|开胶|坏了|不亮|充不进|断了|破洞|过敏|起痘|刺痛|泛红|不保温|漏水|线头|瑕疵|脏了|污渍|"
     r"没反应|识别不了|不识别|用不了|不能用了|失灵|不工作|不充电|充不了电|连不上了|没声了|没声音了|没画面|鼓包了|发烫了|烫手了|死机|黑屏了|"
     r"断连|发霉|霉点|长毛|变质|变味|有虫|臭了|发黏|发酸|不新鲜|化冻了|化了|漏气|松动了?"),
    ("refund", "退款", r"退款|退钱|退全款|全额退|退我全款|钱什么时候|钱还没|钱到账|赔偿|补偿|赔我"),
    ("return_exchange", "退换货", r"退货|退换|换货|换个?码|换一件|换一双|能退|可以退|退了|能换|可以换|换吗|[七7]天无理由|不想要了|换大|换小|买大了|买小了"),
    ("address_change", "修改地址", r"改地址|地址(写|填)?错|地址.{0,6}(填|写)成|换地址|修改地址|改收货|改个?电话"),
    ("logistics", "物流进度", r"到哪了?|物流|单号|没收到|还没到|几天到|多久到|什么时候到|派送|快递员|驿站|丰巢|签收"),
    ("shipping", "发货", r"发货|发了吗|能发出|一起发|一块发|合并发|发出吗|能发吗|今天能发|什么时候发|啥时候发|多久发|当天发|今天发|发顺丰|发什么快递|哪家快递|包邮|运费|邮费|偏远"),
    ("payment", "付款", r"付款|付不了|支付|花呗|信用卡|分期|货到付款|拍了|拍下|下单了?没付|催付"),
    ("invoice", "发票", r"发票|开票|抬头|税号"),
    ("review", "评价", r"好评|差评|评价|晒图|返现"),
    ("authenticity", "正品", r"正品|假货|假的|真的吗|真假|山寨|高仿|授权|专柜|验货|防伪"),
    ("stock", "库存", r"有货|有没有货|还有没|现货|没货|缺货|补货|售罄|库存|还有吗|到货"),
    ("promotion", "优惠活动", r"优惠|活动|券|满减|打折|折扣|赠品|送什么|买.{0,2}送|送不送|还送|送[个点吗不]|半价|双12|双十二|秒杀|直降"),
    ("price", "价格", r"便宜|多少钱|价格|贵|抹零|砍价|降价|差价|价保|少点|改价|最低|便宜点|\d+\s*(块|元)?\s*(行|卖|可以)吗?"),
    ("size", "尺码", r"[SMLX]{1,3}还是[SMLX]{1,3}|尺码|码数|多大码|什么码|啥码|哪个码|几码|穿多大|选码|[SMLX]{1,3}码|[SMLX]{1,3}号|身高|体重|\d+\s*斤|\d+\s*kg|脚长|鞋码|偏大|偏小|大了|小了|合身|胸围|衣长"),
    ("usage", "使用方法/适用", r"怎么用|用法|敏感肌|孕妇|孕期|哺乳|能用吗|适合|防水|游泳|续航|充电|兼容|苹果|安卓|机洗|怎么洗|清洗|保质期|过期|成分|多久用|敷多久|能不能穿|冷不冷|保暖"),
    ("recommendation", "推荐", r"推荐|哪款|哪个好|选哪|什么好|有什么|新品|随便看看|送人|礼物|搭配|跟.{0,6}搭|好搭"),
    ("product_info", "参数规格", r"参数|规格|材质|面料|含绒量|充绒量|重量|多重|尺寸|多大|容量|区别|对比|蓬松度|克重|功能|支持|颜色|色差"),
    ("greeting", "打招呼", r"^(在吗|在不在|有人吗|你好|您好|hello|hi|亲|客服)[？?！!。\s]*$"),
]
_INTENT_RE = [(i, re.compile(p, re.IGNORECASE)) for i, _, p in INTENTS]


def detect_intent(text: str) -> Intent:
    for intent, pattern in _INTENT_RE:
        if pattern.search(text):
            return intent
    return "other"


# ------------------------------------------------------------------- stage ---

# The goods are in the buyer's hands: receipt, use, defects, returns of what arrived.
_RECEIVED = re.compile(
    r"收到(了|货|的|啦|咯)(?!.{0,3}(吗|没|呢|我怎么))|签收|到货了|拆开(了|后|一看)|打开(一看|发现|后)|"
    r"穿了|用了(?!.{0,3}(吗|对吧))|用完|用过了|敷了|敷完|戴了|洗了|洗过|试了|试穿了|喝了|充了|充满|实际(用|只|才)|"
    r"破(了|损|洞)|压坏|碎了|瘪了|磕瘪|压瘪|刚拆|漏液|发错|错发|少发|漏发|发成|给我发(了|成)?.{0,6}(的|过来)|怎么发(了|成)(个|一)|"
    r"坏了|不保温|起球了|开线|掉毛了|掉色了|褪色了|钻绒|跑绒|开胶|底噪|有杂音|过敏了|泛红了|有点红|起痘|刺痛|有异味|线头(好|太|很)?多|"
    r"质量(太|真|也|有)|退货|换货|换(小|大)一?码|我要退|想退|要退了|退差价|申请售后|售后|差评|中评|追评|好评|晒图|补发|寄回|退回|返修|"
    r"买大了|买小了|不合身|收货后|签收后|跟新的一样|吊牌剪|"
    # receipt told with a time, use of any kind of goods, and defects found in use (food, drink, devices)
    r"(今天|昨天|前天|刚刚?|早上|上午|下午|晚上)(才|刚)?收(到|的)|收到.{0,4}(天|周|星期|个月)了|确认收货|"
    r"吃了|尝了|开罐|开袋|拆封了|插(上|了|到)|装上|贴(上了|了|完)|(很|挺|真|超)好用(?!吗)|"
    r"没反应|识别不了|没画面|没声了|没声音了|裂开了?|鼓包了|发霉|霉点|变质|有虫|"
    r"我(?!想|要|准备|打算)[^，。！？]{0,12}?买的(?!话)"
)
# Ordered but not yet received.
_NOT_RECEIVED = re.compile(
    r"还没(发货?|到|收到|寄)|没发货|未发货|先别发|不要发|能先不发|暂时别发|别发了|不发(货|我)?|发了没|发货(了)?(吗|没)|"
    r"没收到|还没到|没到货|刚付|付完款|付了款|刚拍|刚下单|刚买的|刚付款|(改|修改|换)(个|一下)?(收货)?地址|地址(写|填)错"
)
_ORDERED = re.compile(
    r"(已经|昨天|前天|今天|上午|下午|早上|刚刚)?(下单了|下单啦|拍了|拍下了|付款了|付了)(?!.{0,2}吗)|已经下单|订单|单号|物流|快递员|驿站|派送|"
    r"到哪了?|待付款|没付|付不了|付款失败|催(一下|发)|发顺丰|走顺丰|换顺丰"
)
_BUY_LATER = re.compile(
    r"(就|马上|直接|再|才|立马|现在)(拍|下单|买)|够的话|要是|如果|万一|假如|想买|准备买|打算|考虑|"
    r"还剩|有货吗|有没有货|支持.{0,8}吗|到时候|收到后|收到货后"
)


def _received(text: str) -> re.Match | None:
    m = None
    for cand in _RECEIVED.finditer(text):
        # "之前在别家买的穿两次就起球了": someone else's goods, told as background
        if re.search(r"之前|上次|以前|别家|别的店|其他家", text[max(0, cand.start() - 14) : cand.end()]):
            continue
        m = cand
        break
    if m is None:
        return None
    receipt = re.match(r"收到|签收|确认收货|(今天|昨天|前天|刚刚?|早上|上午|下午|晚上)", m.group(0))
    if not receipt and re.match(r".{0,6}?(会不会|会不|怎么办|能不能|可不可以|咋办|能[^，。！？\s]{0,2}不(?!能|了))",
                                text[m.end():m.end() + 10]):
        return None  # 「洗了会不会缩水」「坏了怎么办」 ask what would happen, before buying
    # "收到后能退吗" / "如果不合适能退吗" ask about the future, before buying
    if _BUY_LATER.search(text) and not re.search(r"收到了|签收|穿了|用了|敷了|戴了|洗了|破|坏|发错|少发|漏发|发成|我要退", text):
        return None
    return m


def detect_stage(message: str, history: Sequence[Turn]) -> tuple[Stage, list[str]]:
    """Newest strong evidence wins; earlier turns tell whether the goods were ordered or received."""
    m = _NOT_RECEIVED.search(message)
    if m and not re.search(r"收到了|签收|穿了|用了|敷了|戴了|洗了", message):
        return "in_sale", [f"已下单、还没收到：「{m.group(0)}」"]
    m = _received(message)
    if m:
        return "after_sale", [f"已收货或在售后：「{m.group(0)}」"]
    buyer_hist = [t.text for t in history if t.role == "buyer"]
    for text in reversed(buyer_hist):
        r = _received(text)
        if r:
            return "after_sale", [f"之前提到已收货/售后：「{r.group(0)}」"]
    m = _ORDERED.search(message)
    if m and not _BUY_LATER.search(message):
        return "in_sale", [f"已下单：「{m.group(0)}」"]
    for turn in reversed(history):
        if turn.role == "buyer":
            o = _NOT_RECEIVED.search(turn.text) or (_ORDERED.search(turn.text) if not _BUY_LATER.search(turn.text) else None)
        else:
            o = re.search(r"已(经)?(为您)?发(货|出)|单号|物流显示|已打包|已出库|包裹", turn.text)
        if o:
            return "in_sale", [f"对话中已下单：「{o.group(0)}」"]
    return "pre_sale", ["尚未下单：咨询、比较或议价"]


# ----------------------------------------------------------------- emotion ---

_ANGRY = re.compile(
    r"[！!]{2,}|[？?]{3,}|气死|什么破|破东西|垃圾|坑人|骗子|投诉|12315|差评|太过分|受够|烦死|什么态度|无语|搞什么|"
    r"凭什么|凭啥|有病|恶心|退钱|赔我|不要脸|黑店|还不发|到底(怎么|想|什么|啥|多久|还|能不能|管不管|发不发)|滚|"
    # accusations put as questions or sarcasm: 「良心不痛吗」「那你们就不管了？」「说好的48小时呢」「你们可真行」
    r"良心|(就|都)不管了|不负责(任)?了?[？?吗]|说好的[^，。！？\s]{0,10}呢|(什么|啥)效率|还想不想|不专业|"
    r"(你们|你)(后台)?自己(去)?查|别跟我(扯|说|来|废话)|废话|虚假宣传|忽悠|糊弄|耍我|可真行|真行啊|服了"
)
_ANXIOUS = re.compile(
    r"着急|急用|急着|急死|赶时间|赶紧|能不能快|快点|尽快|担心|怕|万一|会不会|靠谱吗|放心吗|安全吗|还没到|怎么还没|出差要用|"
    r"明天要用|来得及|赶得上|等着用|慌|焦虑|没收到|不会是"
)
_POSITIVE = re.compile(r"谢谢|感谢|多谢|好的呀|好哒|喜欢|满意|很好|不错|好评|哈哈|棒|赞|开心|太好了|辛苦了|麻烦你了|爱了")


def detect_emotion(message: str, history: Sequence[Turn]) -> tuple[Emotion, list[str]]:
    recent = [t.text for t in history if t.role == "buyer"][-1:]
    m = _ANGRY.search(message)
    if m and not re.search(r"不会给差评|不给差评|不差评|差评.{0,3}(会不会|的话|吗)", message):
        return "angry", [f"激动/不满：「{m.group(0)}」"]
    m = _ANXIOUS.search(message)
    if m:
        return "anxious", [f"着急/担心：「{m.group(0)}」"]
    m = _POSITIVE.search(message)
    if m:
        return "positive", [f"友好/满意：「{m.group(0)}」"]
    if recent and _ANGRY.search(recent[0]) and (len(message) < 12 or re.search(r"[？?！!]|退|赔|还是|到底", message)):
        return "angry", ["上一条消息仍在生气"]
    return "neutral", []



# the buyer reports or forwards a likely scam: fake notices, someone posing as the shop, requests for codes
SCAM_REPORT = re.compile(
    r"【.{0,6}(通知|提醒)】|系统通知|冒充|(要|让)我?.{0,6}(验证码|密码|卡号)|发了链接|加.{0,3}微信.{0,6}(退款|理赔|赔)|"
    r"(打电话|来电|短信|发消息).{0,8}(说是|自称).{0,6}(客服|店|你们)|自称.{0,4}(客服|店家|店主|你们)|说.{0,10}(账户|账号|资金).{0,4}冻结"
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

STRONG_NEGATIVE = re.compile(r"离谱|太差|太坑|坑人|骗人|骗子|气死|失望|生气|赖账|吓人|心塞|糟心|闹心|垃圾|投诉|差评")
NEGATIVE_CUES = re.compile(
    r"[！!]{1,}|？{2,}|\?{2,}|失望|生气|气死|太差|太坑|坑|骗|赖账|离谱|吓人|糟|闹心|好心塞|心塞|急着|着急|半天不回|还没(到|发|解决)|"
    r"第二次找|又|开线|钻毛|钻绒|掉色|破洞|起红疹|过敏|不保温|充不进|坏了|没声音|发错|弄丢|丢了|没收到|差了好几|跟宣传"
)


def reads_negative(message: str, history: Sequence[Turn]) -> bool:
    """The eager reading: any sign of upset in the newest message (a sigh, a "又", one "！"). Empathy comes first then."""
    if not message:
        return False
    emotion, _ = detect_emotion(message, history)
    stage, _ = detect_stage(message, history)
    return negative_from(message, emotion, stage, detect_intent(message))


def negative_from(message: str, emotion: str, stage: str, message_intent: str) -> bool:
    """``reads_negative`` from readings already made (the analyzer passes its own)."""
    if not message:
        return False
    if emotion in ("angry", "anxious"):
        return True
    if message_intent in COMPLAINT_INTENTS and stage == "after_sale":
        return True
    if STRONG_NEGATIVE.search(message):
        return True
    return bool(NEGATIVE_CUES.search(message)) and message_intent not in ("price", "size", "usage", "product_info")


def is_upset(a: Analysis) -> bool:
    """Upset or with an after-sale problem: the empathy-first strategy leads."""
    return a.emotion in ("angry", "anxious") or (
        a.stage == "after_sale" and a.intent in ("quality_complaint", "damaged_wrong", "refund")
    )


def is_complaint(a: Analysis) -> bool:
    """Angry, or complaining about goods after the sale (an angry buyer type after the sale too): open with an apology."""
    return (
        a.emotion == "angry"
        or (a.stage == "after_sale" and a.intent in COMPLAINT_INTENTS | {"refund"})
        or (a.persona.id == "angry" and a.stage == "after_sale")
    )
