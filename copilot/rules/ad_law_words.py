"""广告法极限词: 最低价, 第一, 最好, 国家级, 100%有效 and the like, unless literally factual;
and efficacy or medical claims (治疗, 降血压, 增强免疫力, 减肥, 排毒, 无副作用, 对…100%有好处),
which food and ordinary cosmetics may not make (美白/祛斑 only with a 特殊化妆品 registration, never for food).

Advice and limits are not absolute claims: "最好先做个皮肤测试", "最晚N小时发货",
"最高深度NdB", "第一次购买", "第一步", "100%棉", "国家药监局备案" pass. A claim denied or
asked in its own clause is no claim: "不能治疗疾病", "您问的「能治病吗？」".
"""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult, quotes_the_buyer
from .policy import is_food

ABSOLUTE = re.compile(
    r"全网最低|最低价|史上最|全网最|最便宜|最好(的|用|看|穿|喝|卖)?(?!先|不要|别|再|是|在|还是|提前|能|用温|搭配|配合|选|穿[厚薄]|避免|放|等|问)|"
    r"最佳|最优|最强|最棒|最牛|最顶|最高级|最先进|最安全|最舒服|最暖和?|最轻|最耐|最受欢迎|最火|"
    r"顶级|顶尖|至尊|极致|(航天|军工|医用|医疗|军用)级|巅峰|(?<!安全)(?<!健康)第一(?!次|步|时间|件|天|印象|眼|个|单|位|条|种|批|周|个月|年|泡|道|口|遍|轮|层|页|段|包|罐|盒|袋|杯|[，,、:：])|销量冠军|冠军|首选|"
    r"独一无二|唯一|国家级|世界级|全球(首|领先|第一)|行业领先|遥遥领先|领导品牌|100%(有效|安全|纯天然|无副作用|满意|正品保证)|"
    r"百分百有效|百分之百(有效|安全)|绝对|万能|永久|永不|一辈子|终身(?!保修)|没有之一|天花板|封神|秒杀一切|秒杀(所有|大牌)|"
    r"零风险|保证(不|有效|治|去|祛|美白|不长)|根治|彻底(修复|根除|治好|解决)|再也不会|闭眼入|无敌|神器|奇迹|特效|"
    r"找不到比(它|这|我们).{0,8}(更|还)|(比|超过)(所有|一切)(大牌|品牌|同类)|只此一家|"
    r"没有(哪个|任何|一个|哪款)(牌子|品牌|产品|同类|别家)?[^。]{0,6}(比得过|能比|超过|比它)|(业内|行业|市面上?|同类)[^。]{0,6}(找不到|没有)(更|比它)|"
    r"100%\s?(不|会|能|有效|保证|安全|没|可以|无效|治)|(多少次|怎么(洗|用)|无论[^。]{0,6})都不会|永远不会|绝不会(坏|掉|褪|起|过敏)|"
    # the superlative in other words: 找不出第二家、没有谁家能超过、排头名、数一数二、挑不出比它更好的
    r"找不(出|到)(第二家|第二个|第二款|对手|更好|比它更|比这更)|挑不出(比它|比这|更好)|"
    r"独一份|(全行业|全网|行业里|业内|同行里?)[^，。！？]{0,4}(就)?没有比|(全网|同价位|同类|市面上?|同品类里|行业里)[^，。！？]{0,6}没有(比它|比这款?|比我们|能超过它|能比得上它|超过它)|没有能(超过|比得上|比得过)(它|这款|我们)|"
    r"没有(谁|哪)家[^，。！？]{0,10}(超过|比得上|比得过|能比)|(排|坐)(头名|第一把交椅|头把交椅)|数一数二|无人能及|无可匹敌|独占鳌头"
)
FACTUAL = re.compile(r"(最高|最低|最大|最小|最多|最少|最快|最晚|最早|最长|最短)(深度|温度)?(不低于|不超过|可达|只)?\s?\d")
# the checkout working out the best combination of coupons is arithmetic, not a claim: "下单页面会自动计算最优价格"
COMPUTED = re.compile(r"(计算|算出|自动(选|匹配|组合|叠加|算)|(系统|帮您|会)算|叠加)[^。，！？]{0,4}$")


# claims no food or ordinary cosmetic may make, whatever the wording around them
MEDICAL = re.compile(
    r"包治|药到病除|药效|疗效|抗癌|防癌|抗肿瘤|(100%|百分之?百)\s?(有效|治愈)|(无|没有|零|不会有)任何?(毒)?副作用|"
    r"对[^，。！？；,!?;]{1,10}(100%|百分之?百|绝对|肯定|一定)(是)?有(好处|益|帮助)|(100%|百分之?百)\s?有(好处|益|帮助)|"
    # a cure told as a result: 比去医院还管用、红血丝一两周就能退干净、宝宝出生皮肤白嫩
    r"比(去)?(医院|看医生|吃药)[^，。！？]{0,8}(还|更)(管用|好使|有效)|"
    r"(红血丝|痘痘|痘印|色斑|斑点|皱纹|湿疹|红疹|黑头)[^，。！？]{0,8}(就能|就会|都能)(退干净|消失|消掉|去掉|根除|没了)|"
    r"(宝宝|胎儿)[^，。！？]{0,8}(白嫩|变白|更聪明|更健康)|"
    r"(预防|防止|远离|减少)[^，。！？]{0,3}(湿疹|感冒|疾病|生病|癌|炎症|过敏|三高)|(血糖|血压|血脂)[^，。！？]{0,8}(稳|降|平稳|正常|控制住)|(稳|控|降)住?(血糖|血压|血脂)|天然的?调理|调理(零食|身体)|(感冒|生病)[^，。！？]{0,3}(都)?少(一半|了)"
)
# efficacy words: a claim when something is said to do it (能降血压, 有减肥的效果), not a mention (减肥期间)
EFFICACY = re.compile(
    r"治疗|治愈|治好|治病|医治|消炎|祛痘|养胃|(慢慢|就能?|可以)?调理好|降(血)?压|降(血)?糖|降(血)?脂|降三高|(增强|提高|提升|调节)免疫力?|"
    r"美白|祛斑|淡斑|减肥|瘦身|燃脂|排毒|清肠|养颜|补肾|壮阳|调理(回来|好)"
)
CLAIM_BEFORE = re.compile(r"(能|可以|可|会|帮助|帮您|有助于?|有利于|促进|达到|起到|具有|用于|专门|还能|也能|让|使)[^，。！？；,!?;]{0,6}$")
CLAIM_AFTER = re.compile(r"^[^，。！？；,!?;]{0,2}(效果|作用|功效|功能)")
COSMETIC_ONLY = re.compile(r"美白|祛斑|淡斑")
SPECIAL_COSMETIC = re.compile(r"特殊化妆品|国妆特字|特证")
DENIED = re.compile(
    r"不能|不可以|不会|不具有|不具备|没有|无法|不是|并非|不宜|代替不了|替代不了|不能代替|不能替代|不等于|不宣传|不承诺|不保证|"
    r"不敢|不要|别|不属于|不夸大"
)
_CLAUSE_END = "，,。；;！!？?\n"


def _clause_before(text: str, start: int) -> str:
    return text[max(text.rfind(c, 0, start) for c in _CLAUSE_END) + 1 : start]


def _asked_or_quoted(text: str, start: int, end: int) -> bool:
    """The clause asks (「能治病吗？」) or quotes the buyer (您问的“能降血压”)."""
    ends = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
    stop = min(ends) if ends else len(text)
    clause = _clause_before(text, start) + text[start:stop]
    if text[stop : stop + 1] in ("？", "?") or re.search(r"[吗么呢]\W*$|是否|能不能|会不会|可不可以|有没有", clause):
        return True
    opened = max(text.rfind(q, 0, start) for q in "「“\"'‘")
    closed = max(text.rfind(q, 0, start) for q in "」”'’")
    return opened > closed and bool(re.search(r"(您|你|买家)[^，。]{0,4}(说|问|提到|咨询|关心)", text[max(0, opened - 10) : opened]))


def _claims(reply: str, ctx: CheckContext) -> tuple[str, str] | None:
    """The first efficacy or medical claim in ``reply`` (its span, and what kind), or None."""
    for m in sorted([*MEDICAL.finditer(reply), *EFFICACY.finditer(reply)], key=lambda x: x.start()):
        before = _clause_before(reply, m.start())
        if DENIED.search(before) or _asked_or_quoted(reply, m.start(), m.end()):
            continue
        if re.match(r"[^，。！？；]{0,6}(这类|这种|之类|等)?(的)?(功效|效果|说法|作用)?[^，。！？；]{0,6}(不宣传|不能宣传|不能说|不敢说|不承诺|不保证|没有依据)",
                    reply[m.end():]):
            continue  # 「养胃这类功效我们不宣传哈」 names the claim to refuse it
        if m.re is EFFICACY:
            lead = CLAIM_BEFORE.search(before)
            if not lead and not CLAIM_AFTER.search(reply[m.end():]):
                continue
            p = ctx.product
            if COSMETIC_ONLY.match(m.group(0)) and p is not None and not is_food(p) and SPECIAL_COSMETIC.search(p.statements()):
                continue  # a registered 特殊化妆品 may claim what it is registered for
            span = (before[lead.start():] if lead else "") + m.group(0)
        else:
            span = m.group(0)
        return span, "医疗功效" if re.search(r"治|药|癌|肿瘤|副作用|压|糖|脂|免疫", span) else "功效"
    return None


# a superlative denied right before it (「没有全网最低价的说法」「不敢说最好」), but not 「不是吹，最好的」
_DENIED_JUST_BEFORE = re.compile(r"(没有|没|不是|并非|不算|算不上|不敢说?|不能说|不说|谈不上|称不上|不存在|不保证|不承诺|不(做|用|写|打|搞)|从不)[^，。！？；,!?;]{0,4}$")
# 「开袋后最好当次吃完」「睡前最好别喝」: 最好 as advice, after a time or at the head of a clause
_ADVICE = re.compile(r"(^|[，,。；;！!？?\s]|后|前|时|的话|您|你|建议|还是|所以|平时|最)$")
_DENIED_AFTER = re.compile(r"[”」\"’』]?(\s*[、和与及]?\s*[“「\"‘『][^”」\"’』]{1,8}[”」\"’』])*\s*"
                           r"(这种|这样的|这些|这个|之类的|的)?(话|说法|字眼|词|宣传)?[^。！？，,；;]{0,8}"
                           r"(没有|不能|不敢|不可以|没法|不会|不好|不让|不说)")
# a comparison inside the shop is a fact about its own range: 「我们家最便宜的是10000mAh那款」
_IN_SHOP = re.compile(r"(我们家|我家|店里|本店|店内|咱家|这几款|这两款|这三款)[^，。！？]{0,6}$")


def _denied_word(reply: str, m: re.Match) -> bool:
    from .base import quoted_and_denied

    before = _clause_before(reply, m.start())
    if _DENIED_JUST_BEFORE.search(before) and not re.search(r"不是吹|不夸张|不骗", before):
        return True
    if m.group(0).startswith("保证不") and reply[m.end():m.end() + 1] in ("了", "到"):
        return True  # 「保证不了几点到」 says it cannot be promised
    if m.group(0) in ("最便宜", "最贵") and _IN_SHOP.search(reply[:m.start()]):
        return True
    if m.group(0).startswith("最好") and m.group(0) != "最好的" and _ADVICE.search(reply[:m.start()]):
        return True
    after = reply[m.end():]
    if after.startswith("不" + m.group(0)) or reply[:m.start()].endswith(m.group(0) + "不") or _DENIED_AFTER.match(after):
        return True  # 「顶级不顶级我们不好下结论」 asks; 「最低价这种话我们可不能乱讲」 denies
    return quoted_and_denied(reply, m.start(), m.end())


class AdLawWords(Rule):
    id = "ad_law_words"
    name = "广告法极限词"

    def clears(self, reply: str, ctx: CheckContext) -> bool:
        return bool(ABSOLUTE.search(reply))  # the word is there and this rule read it as denied, advice or a fact

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        for m in ABSOLUTE.finditer(reply):
            word = m.group(0)
            if FACTUAL.match(reply, m.start()) or (word == "最优" and COMPUTED.search(reply[max(0, m.start() - 10):m.start()])):
                continue
            if quotes_the_buyer(reply, m.start(), ctx.message):
                continue  # 「您说的“最好”要看口味」 repeats the buyer's word, it claims nothing
            if re.search(r"根治|治|副作用", word) and DENIED.search(_clause_before(reply, m.start())):
                continue  # 「不能根治」 denies the claim
            if _denied_word(reply, m):
                continue
            if word.startswith("最好") and re.search(r"(\d+|[一二三四五六七八九十两半]+)\s?(天|小时|个月|周)(以?内|之内)[^，。！？]{0,6}$",
                                                  reply[max(0, m.start() - 14):m.start()]):
                continue  # 「开罐几天内吃完口感最好」: advice on when, not a claim about the goods
            return self.fail(f"广告法极限用语：「{word}」，改为客观描述或具体参数", word)
        claim = _claims(reply, ctx)
        if claim:
            span, kind = claim
            return self.fail(f"{kind}宣称：「{span}」，普通食品和普通化妆品不能宣传治疗、保健、美白等功效（广告法）", span)
        return self.ok()
