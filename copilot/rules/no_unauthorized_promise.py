"""不越权承诺: no discounts, 改价, 抹零, gifts, compensation, refund terms, delivery dates
or guarantees beyond what the catalog (active promotions) and the shop policies say.

Each claim type is extracted and checked against its source:

- price changes and discounts → an active promotion with that discount;
- gifts → an active gift promotion for that item ("多送/额外送" is always beyond it);
- compensation, coupons, red packets → only as a request the agent will file,
  never as a promised outcome (policy-backed 假一赔四/退差价/运费承担 excepted);
- delivery dates → never guaranteed ("保证明天到");
- durations and amounts in service promises (退款时效, 价保天数, 质保期, 运费险金额, N天无理由)
  → must appear in the policy's part about that promise (``policy.topic_text``), not just anywhere;
- return terms → no no-reason return for opened/used goods, nor for goods the policy excludes
  (「生鲜不支持七天无理由」「食品一经拆封不退不换」, ``policy.exclusions``), no "特殊处理", no
  waiving the evidence the policy asks for; remote-area free shipping only where the policy allows it;
- couriers → "给您发X/免费升级X" only where a positive policy statement about X has conditions that
  hold for this order (``policy.courier_permissions``); a negative one (「不支持指定X」) never allows it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .base import (
    NUM_DAYS,
    NUMBER,
    CheckContext,
    Rule,
    RuleResult,
    clause_around,
    clause_from_store,
    find,
    from_store,
    matches,
    to_number,
    unit_alternation,
)
from .policy import (
    COURIER,
    courier_denials,
    courier_permissions,
    covering,
    covers,
    exclusions,
    mentioned_products,
    topic_text,
    topics_in,
)

PRICE_CHANGE = re.compile(
    r"改价(?!权限)|改(成|到)\s?\d+|(?<!比)抹(个|掉|去)?(零|\d+)|便宜(您|你)?\s?\d+|少(收|算)(您|你)?\s?\d*|算(您|你)\s?\d+|"
    r"按\s?\d+\s?(元|块)(算|给您|卖)|按\s?\d+\s?(给您|卖)|给(您|你)(便宜|优惠|减|打(?!包票|个?包票|保票)|让)\s?(\d+|[一二三四五六七八九十]+)?\s?(元|块|折|点)?|"
    r"打(个)?[\d一二三四五六七八九]+折给|提前(给您|帮您)?(减|享受|打折|算)|按.{0,8}(价格|价)(给您|帮您)?(算|处理|改|发|结)|内部价|成本价(给|卖)|"
    r"(零头|零钱|尾数)[^。，！？]{0,6}(返|退|免|抹|不要)|(就|直接)?按\s?\d+\s?整(算|收|给您)?|"
    r"(给|帮)(您|你)(备注)?(减|免)(掉)?\d+|锁价|锁住价格|把\s?\d+\s?(元|块)?(的价|的价格)?锁(住|定)|(照|按)\s?\d+\s?((元|块)(给您|帮您|给你)?|给您|帮您|给你)(发|算|卖|拍|结)"
)
GIFT = re.compile(rf"(额外|另外|多|再|加)(送|赠|放|寄(?![出回件过])|给(?![我下出一])|塞|装|补)(您|你)?|赔礼|赔罪|(偷偷|悄悄|私下)(地)?(给|帮)?(您|你)?(塞|送|放|加|多)|(给|帮)(您|你)塞|送(您|你)(一|1|两|2|{unit_alternation()})|一共送|(给|帮)(您|你)(备注)?(多|送|塞|加(?!急|快|个备注|热|紧|班|一下备注))")
EXTRA_GIFT = re.compile(r"额外|多送|多放|多寄|多给|多塞|多装|再送|加送|一共送|多两|多一")
COMPENSATION = re.compile(
    r"(补偿|赔偿|赔|返)(您|你)\s?(\d+|一些|点|一张|个)|(给|发)(您|你)?\s?\d+\s?元?(的)?(无门槛)?(红包|券|优惠券|补偿)|"
    r"(申请|发)了.{0,12}(券|补偿|红包|赔付)|作为补偿|补偿您|(给|帮)(您|你)补偿|补偿(您|你)?一部分|(给|帮)(您|你)补(个|点)?[^，。！？]{0,4}(红包|券)|(每天|每日)[^，。！？]{0,4}(\d+|[一二两三四五六七八九十百]+)\s?(块|元)(钱)?[^，。！？]{0,2}(补|赔|返)|打到(您|你)的(账户|卡|银行卡|支付宝|微信)|(固定)?赔(您|你)\s?\d+|"
    r"(给|帮)(您|你)(直接)?(返|补|赔)\s?\d+\s?(元|块)|(退|返|补)(您|你)\s?\d+\s?(元|块)|"
    # 「按资料损失给您补偿」「收货后联系我，我从售后那边给您退100块」
    r"\d+\s?元?(的)?(无门槛)?(红包|券|优惠券|代金券)[^。，！？]{0,6}(已经|已)?(发|放|打|充)(到|给|进)(您|你)|"
    r"(单独|特别|私下|额外)(给|帮)(您|你)(弄|申请|开|搞|做)(了)?(个|一个|一张)?\s?\d+\s?(元|块)?的?(抵扣|优惠|券|红包|折扣)|"
    r"差(的|了)\s?\d+\s?(块|元)?[^。，！？]{0,8}(给您|帮您|给你)(返|补|退)|"
    r"按[^。，！？]{0,6}损失[^。，！？]{0,4}(给您|帮您|给你)?(补偿|赔)|(售后|后台|私下)(那边)?(给|帮)(您|你)(退|返)\s?\d+\s?(元|块)"
)
HEDGE = re.compile(r"申请(一下|看看)|看审核|审核结果|不一定|能不能|尽量|帮您反馈|反馈给|按平台规则|平台规则")
DELIVERY = re.compile(
    r"保证.{0,8}(到|送达|到货|收到|送到)|(一定|肯定|绝对|准|包)(能|会)?(在)?(明天|今天|后天|\d+天内)?(给您)?(到|送到|送达|收到)(?!账)|"
    r"(明天|今天|后天)(一定|肯定|就能|准能|保证|铁定)(到|送到|收到|送达)"
)
WARRANTY = re.compile(r"终身(保修|质保|包换|免费)|永久(保修|质保)|(摔|磕|进水|人为|碰).{0,12}(保修|免费修|在保|质保范围)")
# opened or used: generic verbs for any goods, food and drink included
OPENED = (r"(拆开|拆封|拆了|开封|开袋|开罐|开盒|开瓶|打开了|打开过|试听|试用|用过|用了|激活|撕了膜|撕膜|洗过|洗了|穿过|穿了|敷了|"
          r"吃了|吃过|喝了|喝过|泡了|泡过|尝了|尝过|试吃|试喝)")
OPENED_RETURN = re.compile(rf"{OPENED}.{{0,14}}(也|还|照样|都)(能|可以|支持)({NUM_DAYS})?(无理由)?(退|换)")
SPECIAL = re.compile(r"特殊(给您|帮您)?处理|特批|破例|开(个)?例外|通融(一下)?|走个后门|私下(给您|帮您)?(算|退|返|补)|"
                     r"(手动|私下|单独)[^，。！？]{0,10}(退|返|补)(给)?(您|你)|单独(给您|帮您)?(算|加|放)进去|"
                     r"(本来|原本)?(不参加|不参与|不享受|不包括|不在)[^。！？]{0,12}(不过|但是?|可是)[^。！？]{0,12}(算进去|也算|一样|照样|给您算)|"
                     # 不管检测结果如何都全额退款: a result promised before anyone checked
                     r"(免费|不收钱)(帮|给)(您|你)[^。，！？]{0,8}(恢复|维修|修好|修|翻新)|"
                     r"(不管|无论|不论)[^。！？]{0,12}(都|也|照样)(给您)?(全额)?(退款|退钱|赔|包退|包换|退差价|补差价|保价)|"
                     r"(不管|无论|不论)[^。！？]{0,20}(都|也|照样)[^。！？]{0,8}(补|退|赔)(给)?(您|你)|"
                     # a term no policy has: no time limit, a price held against a rise, goods put aside
                     r"没有期限|没有时间限制|不限时间|没有时限|不限(时|期)(?!间)|差价[^。！？]{0,8}随时|永久价保|涨价也不影响|(还是|照样|仍然?)按[^，。！？]{0,10}(给您|卖您|给你)|"
                     r"(先)?(替|给|帮)您(记下|预)?留(着|一罐|一份|一件|一盒|一个)|(给|帮|替)您(保留|留着|锁定|锁)[^，。！？]{0,12}(价|优惠|活动|立减|折)")
RESTOCK = re.compile(r"\d{1,2}月\d{1,2}[日号](就|会|能)?(到货|补货|有货|上架)|(明天|后天|下周)(就|会|能)?(到货|补货|有货)")
NO_PROOF = re.compile(r"不(需要|用)(任何)?(证明|凭证|诊断|照片|视频|理由|寄回)|直接(给您)?退(款|钱)?[，,]?不(用|需要)|不用寄回.{0,4}退|"
                      # a refund without the goods coming back: 「钱照退，东西您留着用」「货您留着，钱一样退」
                      r"(钱|款)(照|也|一样|还是)(给您)?退[^。！？]{0,8}(留着|不用(寄|退)回|不用退了|自己留)|"
                      r"(东西|货|商品|宝贝)(您|你)?(就)?留着[^。！？]{0,8}(钱|款)(照|也|一样|还是)(给您)?退")
REGIONS = r"新疆|西藏|青海|甘肃|宁夏|内蒙古?|海南|港澳台"
REGION = rf"({REGIONS}|偏远(地区)?)"
REMOTE_FREE = re.compile(rf"{REGION}[^。]{{0,14}}(包邮|免运费|不用(另外|额外|再)?补|补运费就不用|不收(运费)?|也一样)")
# a courier promised for free: no upgrade fee asked
COURIER_FREE = re.compile(
    rf"(免费|不用补差价|直接|默认(就是)?)(给您|帮您)?(升级|发|走|用)?{COURIER}|{COURIER}(免费|包邮)|"
    rf"{COURIER}[^。]{{0,10}}(差价|运费)[^。]{{0,4}}(不用|无需|免)|(差价|补差)[^。]{{0,4}}(不用|无需)(您)?(再)?补"
)
COURIER_CLAIM = re.compile(
    rf"(可以|可|能|会|给您|帮您|为您|直接|默认(就是|是)?|安排|改(成|为|发)?|换(成)?|指定|升级(成|为|到)?|统一|一律|免费)"
    rf"[^，。！？；,!?;]{{0,6}}?{COURIER}"
)
SHIP_VERB = re.compile(r"发|走|用|寄|升级|改|换|指定|默认|安排|冷运|配送")
FREE = re.compile(r"免费|不用(您)?(再)?补|无需(您)?(再)?补|不收(差价|运费)|包邮|不(用)?加钱|不用补差价")
PAID_MENTION = re.compile(r"补差价|差价|链接|\d+\s?元")
RETURN_GRANT = re.compile(
    r"(可以|可|能|支持|享受|享有|照样|没问题|给您|帮您)[^，。！？；,!?;]{0,10}?"
    r"(退换货|退换|退货|退款|退掉|退|换货|换新|换)(?!差价|运费|券|费|回|成|个|一|下)|包(退|换)"
)
NO_REASON = re.compile(rf"({NUM_DAYS})?无理由")
MODAL = re.compile(r"可以|可|能|支持|享受|享有|照样|没问题|都行|也行")
CHANGE_OF_MIND = re.compile(r"不喜欢|不想要|不合适|不满意|后悔|不要了|吃不惯|喝不惯|不合口味|口味不合|不好喝|不好吃")
QUALITY = re.compile(r"划痕|刮花|磕碰|瑕疵|碎了|不亮|没反应|质量|破损|错发|漏发|少发|变质|发霉|霉变|异物|坏了|损坏|过期|胀袋|虫|超时|故障")
NEG_BEFORE = re.compile(r"(不|没|未|无法|暂不|不再|别|并不)(支持|能|可以|可|会|提供|接受|允许|给您|帮您|再)?$")
# price protection refunds the page price's drop only: coupons and 满减 counted into it are a promise (not a coupon
# that simply stacks on an order: 「会员券满128减10也能叠加」)
PRICE_PROTECT = re.compile(r"(价保|保价|差价)[^。]{0,20}(优惠券|满减|券)[^。]{0,8}(也算|也可以|都算|也退|都退|也能)|"
                           r"(优惠券|满减|券)[^。]{0,8}(也算|都算|也退|都退)[^。]{0,8}(价保|保价|差价)")
QUANTITY = re.compile(r"(\d+(?:\.\d+)?(?:\s?[-~–]\s?\d+(?:\.\d+)?)?|[一两三四五六七八九十半]{1,2})\s?(个)?(小时|天|个月|月|年|分钟)")
# a statement that something is NOT covered limits a promise, it does not make one: "磕碰…不在质保范围"
EXCLUDES = re.compile(r"不(在|属于|享受|包括|含|保)|除外|以外")
PROMISE_CONTEXT = re.compile(r"退|换|无理由|赔|保修|质保|价保|到账|运费险|差价|补发|送达|保证|承诺|都给您|包")
MONEY_IN_PROMISE = re.compile(r"(运费险|赔付?|补偿|红包|返|券)[^。，]{0,6}?(\d+(?:\s?[-~–]\s?\d+)?)\s?(元|块)")


# money and codes are denied by default: each claim below needs the store's own data to say the same
CODE = re.compile(
    r"(优惠码|券码|口令|兑换码|折扣码|暗号|邀请码|红包码|内部码|专属码|福利码|立减码|抵扣码|(?i:coupon|promo ?code|code))[是为：:\s]*[“\"'「]?(?P<c>[A-Za-z0-9][A-Za-z0-9_-]{3,15})|"
    # a 淘口令-shaped token: 「复制这段口令 ￥K87福利专享￥」; a code typed spaced out after the box it goes in
    r"￥(?P<y>[^￥\s]{2,20})￥|(优惠码|券码|口令|兑换码)(那一?栏|那里|框|处)?(里)?(填|输|写)(上|入)?\s?(?P<z>[A-Za-z](\s?[A-Za-z0-9杠\-_]){3,24})|"
    # a code in words, quoted: 「下单备注口令“茗香满园”立减50」
    r"(口令|暗号|券码|红包码|优惠码|兑换码|福利码|邀请码)[是为：:\s]*[“\"'「『](?P<e>[^”\"'」』\s]{2,16})[”\"'」』]|"
    r"(输入|填写?|填入|使用|报)[^。，！？]{0,4}?[“\"'「]?(?P<d>[A-Z][A-Z0-9_-]*\d[A-Z0-9_-]*|[A-Z]{4,})[”\"'」]?(?=[^。！？]{0,24}(减|折|抵|优惠|券|价|少|便宜))"
)
FREE_ORDER = re.compile(r"不用(您)?(出|花|付)一分钱|不(另外|额外|再)收(您)?(钱|费)|[0零]元(给您|送|发|寄)|(不用|无需)(您)?(再)?付款|一分钱(都)?不用(您)?(出|花|付)|(费用|钱|货款)(都)?由(店铺|我们|本店|店里)(全部|全额)?(承担|出)|免单|[0零]元(购|拿|买|带走)|免费(送|赠)(给)?|白送|白给|(不用|无需|不要)(您)?(付|花)钱|全额(返还|返现)|全部免费|"
                        r"相当于(是)?[^，。！？]{0,6}(送|白送|白给|免费)(给)?(您|你)?|只收一(支|件|个|份|罐|盒|台|袋|双)的钱")
# a price set by the agent, in any words: 「把标价调到一百九十九」「零头给您去掉，按一百二十块结」「还能再少四十块」
PRICE_SET = re.compile(
    rf"(价|标价|价格|金额|链接)[^，。！？]{{0,6}}(调|改)(到|成|为|低)|(把)?金额(调|改)(一下|好)|(给您|帮您|我)[^，。！？]{0,2}往下调|(给您|帮您)下调\s?{NUMBER}\s?(块|元)|"
    rf"(零头|零钱|尾数)[^。，！？]{{0,6}}(去掉|去了|免了|不算|不要了)|(?P<at>按\s?{NUMBER}\s?((块|元)\s?(结|算|收|付款|付)|结|收)(?![^，。！？]{{0,2}}[吗呢]))|"
    rf"(?P<more>(再|还能再?|额外|另外|又)(少|减|便宜|优惠|抵)(个|掉)?\s?{NUMBER}\s?(块|元))|"
    rf"(?P<give>(给|帮)(您|你|她|他)(们)?(直接)?(减|便宜|少收|优惠|抵)(个|掉)?\s?{NUMBER}\s?(块|元))|"
    r"(帮|给)(您|你)[^，。！？]{0,8}算进去|后台[^，。！？]{0,6}(帮|给)(您|你)[^，。！？]{0,6}(算|改|调|减|补)"
)
MULTIPLE = re.compile(
    r"(?P<n>[一二两三四五六七八九十百\d]+)倍(的)?(金额|价款|货款|价格)?(的)?(赔付|赔偿|补偿|返还|退款|赔)|翻(?P<f>[一二两三四五六七八九十\d]+)(番|倍)|假一赔(?P<m>[一二三四五六七八九十\d]+)|(?<![假])[一1]赔(?P<k2>[二两三四五六七八九十\d]+)|"
    r"(赔付|赔偿|补偿|赔)[^。，！？]{0,10}?(?P<k>[一二两三四五六七八九十百\d]+)倍"
)
DISCOUNT = re.compile(
    r"(?P<n>\d(\.\d)?|[一二三四五六七八九](点[一二三四五六七八九])?)\s?折(?!扣码)(?!叠)"
)
GRANT = re.compile(r"打|享|给您|给你|帮您|按|算|立享|可享|直接|特价|内部|专属|老客|只要|价")
RESTORE = re.compile(r"恢复[^。，！？]{0,8}(活动|优惠|立减|直降|券|折|\d+元)|(还|照|仍然?|继续)按[^。，！？]{0,10}(活动价|优惠价|预热价|券后价)")
REFUND_ARRIVAL = re.compile(
    r"(退款|退的钱|钱|款项?|差价)[^。，！？]{0,8}?(?P<q>(\d+|[一二两三半])\s?(个)?(小时|分钟|天|工作日)|当天|今天|马上|立刻|立即|秒)"
    r"(内|之内)?[^。，！？]{0,3}(到账|到您|退回|原路退回|打到)|"
    # 「今天下午就能到账」: 到账 is money arriving, with or without the word 退款
    r"(?P<r>(\d+|[一二两三半])\s?(个)?(小时|分钟)|当天|今天|今晚|马上|立刻|立即|即时|实时|秒)(内|之内)?[^。，！？]{0,8}?(就|便)?(能|会|可以)?(退)?到账|"
    # 「今天下午三点前钱一定回到您卡里」: the money back in the buyer's account by a time
    r"(?P<t>当天|今天|今晚|明天|马上|立刻|(\d+|[一二两三四五六七八九十])\s?(点|个?小时|天))[^。，！？]{0,6}?(钱|款|退款)[^。，！？]{0,4}?(回到|到|退到|打到)(您|你)的?(支付)?(卡|账户|账上|账里|银行卡|支付宝|微信|余额)|"
    # 「今晚之前把钱全打给您」「钱今天下午就能回到您卡上」: money handed back by a time, in other verbs or word orders
    r"(?P<s>当天|今天|今晚|明天|马上|立刻)[^。，！？]{0,6}?(把)?(钱|款|退款)[^。，！？]{0,3}?(打给|退给|转给|打回给|退回给)(您|你)|"
    r"(钱|款|退款)(?P<v>当天|今天|今晚|明天|马上|立刻)[^。，！？]{0,6}?(回到|到|退到|打到|打回)(您|你)的?(支付)?(卡|账户|账上|账里|银行卡|支付宝|微信|余额)|"
    # 「确认收货后就到账」: the money promised on an event, not a policy's time
    r"(?P<u>确认收货|签收|收货)后(就|马上|立即|立刻|即)(能|会|可以)?到账"
)
# who pays: 「数据恢复的费用店里出」「运费我们承担」 needs a store sentence saying the store pays that
COST = re.compile(
    r"(?P<what>[\u4e00-\u9fff]{0,4}?)(的)?(?P<noun>费用|运费|邮费|维修费|来回运费|快递费)[^。，！？]{0,4}?(都)?(由)?"
    r"(店里|我们|店铺|本店|小店|我们店|咱们)(来)?(出|承担|报销|包了?|负责)|"
    r"(店里|我们|店铺|本店|小店)(来)?(承担|报销|出)(掉)?[^。，！？]{0,4}?(?P<noun2>费用|运费|邮费|维修费|快递费)|"
    r"(?P<noun3>费用|运费|邮费|维修费|快递费)[^，。！？]{0,3}(您|你)(一分(钱)?)?(都|也)?不用(出|花|付|承担)"
)
BEAR = re.compile(r"承担|报销|负责|出|包")
GIFT_CLAIM = re.compile(r"买一送一|买[\d一二三]送[\d一二三]|拍一(组|件|个|份|盒)[^，。！？]{0,4}发(两|2)|赠送|(买|下单|拍|现在买|付款)[^。，！？]{0,10}?(就|即|还)?(送|赠)(?!完)|送(您|你)?[^。，！？]{0,6}(一|两|\d)(个|条|张|份|盒|包|瓶|件|袋|罐)")


def _store_text(ctx: CheckContext, promo_text: str) -> str:
    """Everything the store says that may back money: policies and FAQs, the request's knowledge (which holds the
    product's own text, ``checking.build_context``) and the promotions running now."""
    return f"{ctx.policies}\n{ctx.knowledge}\n{promo_text}"


UNOPENED = re.compile(r"(没|未|不)(拆|开封|激活|撕|使用|用过|穿过|洗过|吃过|喝过)|完好|不影响二次销售|吊牌(还)?在")
# 「拆没拆封都能退」「不管用没用过」: opened or not, so no condition at all
EITHER_WAY = re.compile(r"(拆|开|用|穿|洗|吃|喝|激活)(没|未|不)(拆|开|用|穿|洗|吃|喝|激活)|不管|无论|不论")


def _norm_qty(num: str, unit: str) -> str:
    num = num.replace(" ", "").replace("~", "-").replace("–", "-")
    value = None if re.fullmatch(r"[\d.\-]+", num) else to_number(num)  # 十五 -> 15, 半 -> 0.5
    num = f"{value:g}" if value is not None else num
    unit = "个月" if unit in ("月", "个月") else unit
    return f"{num}{unit}"


@lru_cache(maxsize=128)
def _policy_quantities(text: str) -> set[str]:
    return {_norm_qty(m.group(1), m.group(3)) for m in QUANTITY.finditer(text)}


@lru_cache(maxsize=128)
def _policy_money(text: str) -> set[str]:
    return {re.sub(r"\s", "", m.group(0)) for m in re.finditer(r"\d+(?:\.\d+)?(?:\s?[-~–]\s?\d+(?:\.\d+)?)?\s?元", text)}


class NoUnauthorizedPromise(Rule):
    id = "no_unauthorized_promise"
    name = "不越权承诺"

    def readable(self, reply: str, ctx: CheckContext) -> list[str]:
        """The reply reader judges, sentence by sentence, what the store does not back: a sentence naming a promotion
        that runs now with its own figures, a policy or FAQ sentence or clause told nearly word for word are left
        out. What is left and reads as a promise fails (money denies by default)."""
        out, store = [], None
        for sentence in _sentences(reply):
            if not _CLAIM_CUE.search(sentence) or sentence.strip() in _stock_sentences():
                continue  # 「亲，有货的，您放心下单哦」 names no money, gift, exception or time: nothing to promise;
                # the composer's own reviewed lines (「我这边立刻给您走售后处理。」) keep every rule as they are
            if store is None:  # the store's own text, once per reply
                store = f"{ctx.policies}\n{ctx.knowledge}\n{ctx.product.statements() if ctx.product else ''}"
            clauses = [c for c in re.split(r"(?<=[，,；;])", sentence) if c.strip()]
            if _backed(sentence, ctx, store) or \
                    all(_backed(c, ctx, store) or not _amounts(c) and _opener(c) for c in clauses):
                continue  # the store's own sentence, or its clauses after an opener such as 「亲，非常抱歉…，」
            out.append(sentence)
        return out

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        f = ctx.facts
        active = f.active_promotions if f else []
        promo_text = " ".join(p.title + p.discount for p in active)
        policies = ctx.policies

        denied = self._money(reply, ctx, promo_text)
        if denied:
            return denied
        m = find(PRICE_CHANGE, reply)
        if m:
            nums = re.findall(r"\d+", m.group(0))
            backed = nums and any(n in re.findall(r"\d+", promo_text) for n in nums) and not re.search(r"改|抹|提前|按.{0,8}价|内部|成本", m.group(0))
            if not backed:
                return self.fail(f"「{m.group(0)}」：客服没有改价/额外优惠的权限，只能用进行中的活动", m.group(0))
        m = find(GIFT, reply)
        if m:
            sentence = re.split(r"[。！？]", reply[m.start():])[0]
            gift_promos = [p for p in active if re.search(r"赠|送", p.title + p.discount)]
            shared = any(_shares(sentence, p.title + p.discount) for p in gift_promos)
            if EXTRA_GIFT.search(reply[m.start() : m.start() + 12]) or not shared:
                return self.fail(f"「{m.group(0)}」：目录中没有对应的赠品活动，不能额外承诺赠品", m.group(0))
        m = find(COMPENSATION, reply)
        if m and re.match(r"[^，。！？]{0,3}差价(?![^，。！？]{0,3}红包)", reply[m.end():]) and "红包" not in m.group(0) \
                and re.search(r"(退|补)差价|价保", policies):
            m = None  # a price-protection refund the policy grants (「核实后退您30块差价」)
        if m and not HEDGE.search(reply[max(0, m.start() - 20) : m.end() + 20]):
            return self.fail(f"「{m.group(0)}」：政策里没有这项补偿，不能直接承诺结果（可以说帮您申请）", m.group(0))
        for pattern, why, unless_near in (
            (DELIVERY, "不能保证到货日期，只能说政策里的发货时效和一般送达时间", None),
            (WARRANTY, "超出了政策写明的质保范围", None),
            (OPENED_RETURN, "拆封/使用过的商品不在无理由退换范围内（质量问题除外）", "质量"),
            (SPECIAL, "客服不能承诺政策之外的特殊处理", None),
            (NO_PROOF, "政策要求的凭证不能免除", None),
            (PRICE_PROTECT, "价保不含优惠券和满减", None),
            (RESTOCK, "目录里没有这个到货/补货日期，不能承诺", None),
        ):
            m = next((m for m in matches(pattern, reply)
                      if not EXCLUDES.search(m.group(0)) and not _store_says(reply, m, ctx)
                      and not _policy_clause(reply, m, ctx)
                      and not re.match(r"保证不", m.group(0))), None)  # 「保证不了哪天到」 promises nothing
            if m and not (unless_near and unless_near in reply[max(0, m.start() - 10) : m.end() + 10]):
                return self.fail(f"「{m.group(0)}」：{why}", m.group(0))
        m = find(REMOTE_FREE, reply)
        if m and _surcharged(m.group(1), policies) and not _store_says(reply, m, ctx) and not _same_threshold(m, policies):
            return self.fail(f"「{m.group(0)}」：政策写明该地区需补运费", m.group(0))
        return self._returns(reply, ctx) or self._couriers(reply, ctx) or self._figures(reply, ctx, promo_text) or self.ok()

    def _money(self, reply: str, ctx: CheckContext, promo_text: str) -> RuleResult | None:
        """Codes, free orders, multiples, N折, restored prices, refund arrival times and gifts: denied unless the
        store's own text (an active promotion, a policy or FAQ sentence, the product's text) says the same."""
        store = _store_text(ctx, promo_text)
        for m in matches(PRICE_SET, reply):
            num = re.search(NUMBER, m.group(0)) or re.match(rf"\s?{NUMBER}", reply[m.end():m.end() + 8])
            n = to_number(num.group(1)) if num else None
            backing = f"{promo_text} {_active_prices(ctx, reply)}" + ("" if (m.group("more") or m.group("give")) else f" {ctx.knowledge}")
            if n is not None and f"{n:g}" in re.findall(r"\d+(?:\.\d+)?", backing):
                continue  # 「按129元算」 the page price, 「再减30」 an active promotion's own figure, 「调到149」 the set change
            return self.fail(f"「{m.group(0)}」：客服不能自己改价、抹零或另给优惠，只能用进行中的活动", m.group(0))
        for m in matches(CODE, reply):
            code = m.group("c") or m.group("d") or m.group("e") or m.group("y") or re.sub(r"\s", "", m.group("z") or "")
            if code and code not in store and code not in re.sub(r"\s", "", store):
                return self.fail(f"「{m.group(0)}」：店铺资料里没有这个码，不能给买家任何优惠码/口令", m.group(0))
        m = find(FREE_ORDER, reply)
        if m and m.group(0) not in store:
            return self.fail(f"「{m.group(0)}」：店铺没有免单/免费送的活动或政策", m.group(0))
        for m in matches(MULTIPLE, reply):
            n = to_number(m.group("n") or m.group("m") or m.group("k") or m.group("k2") or "")
            backed = n is not None and any(to_number(x.group(1)) == n for x in re.finditer(r"(\d+|[一二两三四五六七八九十]+)倍", store)) \
                or (m.group("m") and f"假一赔{m.group('m')}" in store)\
                or (m.group("k2") and f"一赔{m.group('k2')}" in store)
            if not backed:
                return self.fail(f"「{m.group(0)}」：政策里没有这个倍数的赔付", m.group(0))
        for m in matches(DISCOUNT, reply):
            around = reply[max(0, m.start() - 6): m.end() + 4]
            if not GRANT.search(around) or EXCLUDES.search(around):
                continue
            if m.group(0).replace(" ", "") not in re.sub(r"\s", "", store):
                return self.fail(f"「{m.group(0)}」：没有进行中的活动给这个折扣", m.group(0))
            if re.search(r"(已经?|虽然|都)[^，。！？]{0,4}(结束|截止|过期|下线)了?[^。！？]{0,14}$", reply[max(0, m.start() - 24):m.start()]):
                return self.fail(f"「{m.group(0)}」：活动已结束，不能再按活动给这个折扣", m.group(0))
        m = find(RESTORE, reply)
        clause = re.split(r"[。！？，,]", reply[m.start():])[0] if m else ""
        listed = {f"{x:g}" for x in (getattr(ctx.facts, "price", None), getattr(ctx.product, "price", None)) if x}
        prices = set(re.findall(r"\d+(?:\.\d+)?", clause))
        if m and prices and prices <= listed:
            m = None  # 「过了今晚恢复69元一支」: back to the page's own price, no promotion promised
        if m and not (promo_text and _shares(clause, promo_text)
                      and all(n in promo_text for n in re.findall(r"\d+", clause))):  # 「恢复双11立减60元」: that promotion
            return self.fail(f"「{m.group(0)}」：活动已结束或不存在，不能按活动价给", m.group(0))
        m = find(REFUND_ARRIVAL, reply)
        if m and not _store_says(reply, m, ctx):
            q = re.sub(r"\s", "", next(m.group(g) for g in ("q", "r", "t", "s", "v", "u") if m.group(g)))
            if not re.search(rf"{re.escape(q)}(内|之内)?[^。\n]{{0,12}}(到账|退回|退款|打款)", re.sub(r"[ \t]", "", ctx.policies)):
                return self.fail(f"「{m.group(0)}」：政策没有写这个到账时间，不能承诺", m.group(0))
        m = find(COST, reply)
        if m and not _store_says(reply, m, ctx) and not _store_pays(m, store):
            return self.fail(f"「{m.group(0)}」：政策没有写这笔费用由店铺承担，不能承诺", m.group(0))
        m = find(GIFT_CLAIM, reply)
        if m and re.match(r"买.送.$|拍一", m.group(0)) and m.group(0) not in store:
            return self.fail(f"「{m.group(0)}」：店铺没有这样的买赠活动", m.group(0))  # named exactly, or not at all
        if m and not _store_says(reply, m, ctx):
            sentence = re.split(r"[。！？]", reply[max(reply.rfind(c, 0, m.start()) for c in "。！？") + 1:])[0]
            promos = ctx.facts.promotions if ctx.facts else []
            running = " ".join(p.title + p.discount for p in (ctx.facts.active_promotions if ctx.facts else [])
                               if re.search(r"赠|送", p.title + p.discount))
            said = " ".join(x for x in re.split(r"[。！？\n]", f"{ctx.policies}\n{ctx.knowledge}") if re.search(r"赠|送", x))
            # a promotion's own dates (「12月10日到12日下单送表带，现在下单不送」) describe it, they promise nothing now
            dated = bool(re.search(r"\d{1,2}月\d{1,2}[日号]|才送|不送", sentence))
            scheduled = " ".join(p.title + p.discount for p in promos if re.search(r"赠|送", p.title + p.discount))
            if not (_shares(sentence, running) or _shares(sentence, said) or (dated and _shares(sentence, scheduled))):
                return self.fail(f"「{m.group(0)}」：目录和政策里没有这项赠品", m.group(0))
        return None

    def _returns(self, reply: str, ctx: CheckContext) -> RuleResult | None:
        """No return the policy excludes: by class of goods (「生鲜不支持七天无理由」), or once opened."""
        rules = exclusions(ctx.policies) if ctx.policies else ()
        if not rules:
            return None
        for sentence in _sentences(reply):
            if QUALITY.search(sentence) or ctx.buyer_reports_a_problem or from_store(sentence, ctx.knowledge):
                continue  # a remedy for goods that arrived wrong or harmed the buyer is no no-reason return
            opened = _opened(sentence)
            no_reason = _no_reason_grant(sentence)
            grant = no_reason or _return_grant(sentence)
            if grant is None:
                continue
            clause = _clause(sentence, grant.start(), grant.end())
            if UNOPENED.search(clause) and not EITHER_WAY.search(clause):
                continue  # 「没拆封的签收N天内可以退」: the grant is for unopened goods, as the policy allows
            if no_reason is None and (opened or CHANGE_OF_MIND.search(sentence)):
                no_reason = grant  # returning opened goods, or on a change of mind, is a no-reason return
            products = mentioned_products(sentence, ctx.catalog) or ([ctx.product] if ctx.product else [])
            for ex in rules:
                if ex.opened and not opened:
                    continue
                if ex.classes:
                    named = [c for c in ex.classes if c in sentence]
                    hit = named[0] if named else next((c for p in products if (c := covering(ex.classes, p))), None)
                elif ex.opened:
                    hit = "拆封/使用过的商品"
                else:
                    continue
                if hit is None:
                    continue
                if ex.scope == "无理由" and no_reason is None and not ex.opened:
                    continue
                span = (no_reason or grant).group(0)
                if ex.opened:
                    what = hit if hit == "拆封/使用过的商品" else f"拆封/使用过的「{hit}」"
                    why = f"{what}不能承诺退换"
                else:
                    why = f"「{hit}」不能承诺{'无理由退换' if ex.scope == '无理由' else '退换'}"
                return self.fail(f"「{span}」：政策写明「{ex.clause}」，{why}（质量问题除外）", span)
        return None

    def _couriers(self, reply: str, ctx: CheckContext) -> RuleResult | None:
        """A courier only where a positive policy statement allows it for this order."""
        for sentence in _sentences(reply):
            free_claim = find(COURIER_FREE, sentence)
            claims = [(m, True) for m in ([free_claim] if free_claim else [])]
            claims += [(m, bool(FREE.search(sentence))) for m in COURIER_CLAIM.finditer(sentence) if _ships(sentence, m)]
            for m, free in claims:
                if not ctx.policies and not free:
                    continue
                courier = _courier_of(m.group(0))
                if re.search(r"不了|不能|没法|无法|不支持|不可以|不给", m.group(0)):
                    continue  # 「补差价也改不了顺丰」 refuses the courier
                if courier is None or _store_says(reply, m, ctx) or _stated_fact(sentence, m):
                    continue
                products = mentioned_products(sentence, ctx.catalog) or ([ctx.product] if ctx.product else [])
                perms = [p for p in courier_permissions(ctx.policies) if p.courier == courier] if ctx.policies else []
                if any(_permits(p, free, sentence, products, ctx) for p in perms):
                    continue
                if perms and not products and not free and not any(p.paid for p in perms):
                    continue  # 「今晚下单明天就发韵达」 with no product named: the policy's courier for its goods
                denied = courier_denials(ctx.policies, courier) if ctx.policies else []
                if denied:
                    why = f"政策写明「{denied[0]}」"
                elif perms:
                    why = f"该订单不满足政策里{'免费' if free else ''}发{courier}的条件（「{perms[0].clause}」）"
                else:
                    why = f"政策里没有可以发{courier}的说法"
                return self.fail(f"「{m.group(0)}」：{why}", m.group(0))
        return None

    def _figures(self, reply: str, ctx: CheckContext, promo_text: str) -> RuleResult | None:
        """Durations and amounts inside service promises come from the policy's part about that promise."""
        if not ctx.policies:
            return None
        for sentence in re.split(r"(?<=[。！？；])", reply):
            if not PROMISE_CONTEXT.search(sentence):
                continue
            if re.search(r"(没法|不能|不敢|没办法)(打)?(包票|保证)|保证不了|打不了包票", sentence):
                continue  # 「过两天还在不在我没法打包票」 promises nothing
            for q in matches(QUANTITY, sentence):
                if _date_or_usage(sentence, q) or _policy_clause(sentence, q, ctx):
                    continue
                text, topics = _backing(sentence, q, ctx)
                if _norm_qty(q.group(1), q.group(3)) not in _policy_quantities(text):
                    where = f"政策里关于{'、'.join(topics)}的条款没有这个时限" if topics else "政策里没有这个时限/期限"
                    return self.fail(f"「{q.group(0)}」：{where}", q.group(0))
            for mm in MONEY_IN_PROMISE.finditer(sentence):
                if re.search(r"(券后|用券后|到手|折后|减后|合计|一共)[^，。！？]{0,2}$", sentence[max(0, mm.start(2) - 6):mm.start(2)]):
                    continue  # 「用券后479元」: the price after a coupon, no money promised
                amount = re.sub(r"\s", "", mm.group(2)) + "元"
                text, topics = _backing(sentence, mm, ctx, product=False)
                if amount not in _policy_money(text) and amount.replace("元", "") not in re.findall(r"\d+", promo_text):
                    where = f"政策里关于{'、'.join(topics)}的条款没有这个金额" if topics else "政策里没有这个金额"
                    return self.fail(f"「{mm.group(0)}」：{where}", mm.group(0))
        return None


def _date_or_usage(sentence: str, q: re.Match) -> bool:
    """「11月11号」「2026年春茶」 are dates; 「用了一个月」「一个月在保修期内」 tell how long the buyer has had the goods."""
    if q.group(3) == "年" and re.fullmatch(r"(19|20)\d\d", q.group(1)):
        return True
    if re.match(r"\d{1,2}\s?(号|日)", sentence[q.end():q.end() + 3]) and q.group(3) in ("月", "个月"):
        return True
    if re.search(r"(用了|买了|戴了|穿了|才|已经|刚)[^，。！？]{0,2}$", sentence[max(0, q.start() - 4):q.start()]):
        return True
    return bool(re.match(r"(了)?(还)?(在|属于|没过|没超)[^，。！？]{0,8}(保修|质保|换新|退换|价保)期", sentence[q.end():q.end() + 14]))


def _backing(sentence: str, m: re.Match, ctx: CheckContext, product: bool = True) -> tuple[str, list[str]]:
    """The policy text that may back a figure, and the topics it was chosen by.

    The figure's own clause names the promise (「N天价保」): only the policy's part about it backs it.
    Else its sentence does: that part, or the product's own statements. Else: the whole policy and the product."""
    clause = _clause(sentence, m.start(), m.end())
    statements = ctx.product.statements() if (ctx.product and product) else ""
    topics = topics_in(clause)
    if topics:
        return "\n".join(topic_text(ctx.policies, t) + "\n" + topic_text(statements, t) for t in topics), topics
    topics = topics_in(sentence)
    if topics:
        return "\n".join([*(topic_text(ctx.policies, t) for t in topics), statements]), topics
    return ctx.policies + "\n" + statements, []


def _permits(p, free: bool, sentence: str, products: list, ctx: CheckContext) -> bool:
    """Do ``p``'s conditions hold for this order? A paid upgrade allows only a paid promise."""
    if p.paid:
        return not free
    if p.unconditional:
        return True
    if p.classes and (any(c in sentence for c in p.classes) or any(covers(p.classes, x) for x in products)):
        return True
    if p.threshold is not None:
        if re.search(rf"满\s?{p.threshold:g}\s?元|{p.threshold:g}\s?元(及)?以上", sentence):
            return True
        return any(x.price_at(ctx.now) >= p.threshold for x in products)
    return False


def _surcharged(region: str, policies: str) -> bool:
    """Does the policy ask this region (or, for 偏远, any remote region) to pay extra shipping?"""
    names = REGIONS if region.startswith("偏远") else re.escape(region)
    return bool(re.search(rf"({names})[^。]{{0,20}}(补|加收|另付|\d+\s?元)", policies))


def _same_threshold(m: re.Match, policies: str) -> bool:
    """「新疆满N元包邮」 where the policy frees that region from N元 on: a condition stated, not waived."""
    t = re.search(r"满\s?(\d+)\s?元?", m.group(0))
    return bool(t) and bool(re.search(rf"{re.escape(m.group(1))}[^。]{{0,20}}满\s?{t.group(1)}\s?元[^。]{{0,4}}包邮", policies))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？!?\n])", text) if s.strip()]


def _clause(text: str, start: int, end: int) -> str:
    return clause_around(text, start, end, "，,。；;！!？?：:\n")


def _is_question(text: str, m: re.Match) -> bool:
    clause = _clause(text, m.start(), m.end())
    after = text[text.find(clause) + len(clause) : text.find(clause) + len(clause) + 1]
    return after in ("？", "?") or bool(re.search(r"[吗么呢]\s*$|是否|能不能|可不可以|行不行", clause))


def _positive(text: str, m: re.Match) -> bool:
    """Not negated right before it (「不支持」「无法给您」), and not a question."""
    return not NEG_BEFORE.search(text[max(0, m.start() - 5) : m.start()]) and not _is_question(text, m)


def _no_reason_grant(sentence: str) -> _Span | None:
    """「可以七天无理由退换」「支持N天无理由」「无理由退换是可以的」: a no-reason return granted, not denied."""
    for m in NO_REASON.finditer(sentence):
        a = max(sentence.rfind(c, 0, m.start()) for c in "，,。；;！!？?：:\n") + 1
        if re.search(r"(不|没|未|无法|暂不)(支持|享受|适用|在|属于|参加|提供|能|可以|可|会|是)?[^，。]{0,2}$", sentence[a : m.start()]):
            continue
        clause = _clause(sentence, m.start(), m.end())
        modal = next((x for x in MODAL.finditer(sentence, a, a + len(clause)) if _positive(sentence, x)), None)
        if modal is None:
            continue
        tail = re.match(r"(退换货|退换|退货|退款|退|换货|换)", sentence[m.end():])
        return _Span(sentence, min(modal.start(), m.start()), max(modal.end(), m.end() + (tail.end() if tail else 0)))
    return None


def _return_grant(sentence: str) -> re.Match | None:
    return next((m for m in RETURN_GRANT.finditer(sentence) if _positive(sentence, m)), None)


def _opened(sentence: str) -> bool:
    """Opened or used goods, not 「未拆封」「没有拆开」."""
    return any(not re.search(r"未|没|不|无", sentence[max(0, m.start() - 2) : m.start()])
               for m in re.finditer(OPENED, sentence))


def _ships(sentence: str, m: re.Match) -> bool:
    """A promise to ship by a courier: a shipping verb, not negated, not a question."""
    after = sentence[m.end() : m.end() + 2]
    return bool(SHIP_VERB.search(m.group(0) + after)) and _positive(sentence, m)


def _stated_fact(sentence: str, m: re.Match) -> bool:
    """「已经给您发了顺丰」 reports what happened, 「您可以用顺丰寄回」 is the buyer's choice: no promise."""
    return bool(re.search(r"已(经)?[^，。]{0,6}$", sentence[: m.start()])) or \
        bool(re.match(r"[^，。！？]{0,8}(寄回|退回|寄过来|寄给我们|返回)", sentence[m.end():]))


def _courier_of(span: str) -> str | None:
    found = re.findall(COURIER, span)
    if not found:
        return None
    name = found[-1]
    return "京东" if name.startswith("京东") else name.upper() if name.lower() == "ems" else name


class _Span:
    """A match-like span over ``text`` (``group(0)``, ``start()``, ``end()``)."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self._text, self._start, self._end = text, start, end

    def group(self, _: int = 0) -> str:
        return self._text[self._start : self._end]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def _active_prices(ctx: CheckContext, reply: str = "") -> str:
    """The prices the product really has at ``now`` (page price, promotion prices), and those of the other products
    the reply names (their page price and scheduled change: 「另外那款12月16日起页面价会调到89元」), as text."""
    f = ctx.facts
    out = []
    if f is not None:
        out += [f"{f.price:g}"] if f.price else []
        if f.next_price is not None:
            out.append(f"{f.next_price.price:g}")
        for p in f.active_promotions:
            out += re.findall(r"\d+(?:\.\d+)?", p.title + p.discount)
    for p in mentioned_products(reply, ctx.catalog) if reply else []:
        out.append(f"{p.price_at(ctx.now):g}")
        if p.next_price is not None:
            out.append(f"{p.next_price.price:g}")
    return " ".join(out)


def _policy_clause(reply: str, m: re.Match, ctx: CheckContext) -> bool:
    """The clause holding the match is one of the store's policy or knowledge clauses: word for word (「碎片不用寄回」
    where the policy says 「玻璃、瓷器碎片不用寄回，请注意安全」), or a store sentence that holds the matched words and
    nearly all the clause's characters (「碎玻璃不用寄回」)."""
    store = f"{ctx.policies}\n{ctx.knowledge}"
    if clause_from_store(reply, m.start(), m.end(), store):
        return True
    clause = set(re.sub(r"[\W\d]", "", _clause(reply, m.start(), m.end())))
    return len(clause) >= 4 and any(m.group(0) in s and len(clause & set(s)) >= 0.8 * len(clause)
                                    for s in re.split(r"[。！？\n]", store))


def _store_says(reply: str, m: re.Match, ctx: CheckContext) -> bool:
    """The sentence holding the match is the store's own statement (its knowledge or the product's FAQ)."""
    start = max(reply.rfind(p, 0, m.start()) for p in "。！？\n") + 1
    ends = [i for i in (reply.find(p, m.end()) for p in "。！？\n") if i >= 0]
    sentence = reply[start : (min(ends) + 1) if ends else len(reply)]
    return from_store(sentence, ctx.knowledge)


def _store_pays(m: re.Match, store: str) -> bool:
    """A store sentence says the store pays this cost: the same cost word, a paying verb, not denied, and (when the
    reply names what the cost is for, 「数据恢复的费用」) the same thing."""
    noun = m.group("noun") or m.group("noun2") or m.group("noun3")
    what = m.group("what") or ""
    for s in re.split(r"[。！？\n；;]", store):
        if noun[-2:] not in s or not BEAR.search(s) or re.search(r"不(提供|承担|负责|报销|包)|买家(自行)?承担|由(买家|您)|自理", s):
            continue
        if len(what) < 2 or _shares(what, s):
            return True
    return False


def _shares(a: str, b: str) -> bool:
    return any(g in b for g in _grams(a) - {"活动", "赠送", "送您"})


_AMOUNT = re.compile(r"\d+(?:\.\d+)?|[零一二两三四五六七八九十百千]{2,}|[一二两三四五六七八九十](?=\s?(元|块|折|倍|天|张|个|件|小时))")


# times, dates and event names hold numbers that are no amount: 「到今天23:59」「12月12日」「双12」
_NOT_AMOUNT = re.compile(r"\d{1,2}[:：]\d{2}(:\d{2})?|\d{2,4}年|\d{1,2}月\d{1,2}(日|号)?|双\s?\d{1,2}|\d{1,2}(日|号)")


def _amounts(text: str) -> set[float]:
    text = _NOT_AMOUNT.sub(" ", text)
    return {n for n in (to_number(m.group(0)) for m in _AMOUNT.finditer(text)) if n is not None}


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _grams(text: str) -> set[str]:
    """The text's two-character runs of Chinese."""
    return {run[i : i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)}


@lru_cache(maxsize=32)
def _store_sentences(store: str) -> tuple[tuple[frozenset[str], frozenset[float]], ...]:
    """Each store sentence's grams and amounts, computed once per store text (the policy and knowledge of a request)."""
    return tuple((frozenset(_grams(t)), frozenset(_amounts(t))) for t in re.split(r"[。！？\n]", store) if t.strip())


# what a promise beyond the store's authority is made of: money, a price, a gift, an exception, a guarantee or a time
_CLAIM_CUE = re.compile(r"钱|元|块|券|红包|折|减|免|送|赠|赔|补|返|退|换|到账|包邮|运费|邮费|保证|包您|一定|肯定|终身|永久|特殊|破例|"
                        r"做主|价|优惠|码|\d|[一二两三四五六七八九十百]+(天|小时|倍)|今天|今晚|明天|当天|马上|立刻")


@lru_cache(maxsize=1)
def _stock_sentences() -> frozenset[str]:
    """Every sentence of the offline composer's own lines (``prompts/composer.yaml``, package data reviewed against
    every rule), as the promise rule splits a reply."""
    from .reply_reader import stock_phrases

    return frozenset(s.strip() for e in stock_phrases() for s in _sentences(e.reply) if s.strip())


def _opener(clause: str) -> bool:
    """A greeting or an apology that promises nothing: 「亲，」「非常抱歉给您带来不好的体验，」「您先别着急，」."""
    return bool(re.fullmatch(r"[\s亲您好的在～~！!，,]*|[^，。！？]{0,12}(抱歉|对不起|不好意思|别着急|别担心|理解您|心情)[^，。！？]{0,12}[，,]", clause))


def _backed(sentence: str, ctx: CheckContext, store: str) -> bool:
    """Does the store back this sentence (or clause)? Its amounts are all a running promotion's or the product's
    prices, or it has no amount and names that promotion's kind of offer; or it is nearly a sentence of ``store`` (the
    policy, knowledge and product text) with the same amounts."""
    amounts = _amounts(sentence)
    active = ctx.facts.active_promotions if ctx.facts else []
    prices = _amounts(_active_prices(ctx)) if active else set()
    for p in active:
        offer = f"{p.title}{p.discount}{p.condition}"
        if amounts and amounts <= _amounts(offer) | prices | _promotion_prices(ctx, offer):
            return True
        if not amounts and _grams(sentence) & (_grams(offer) - {"活动", "赠送", "送您", "优惠"}):
            return True
    grams = _grams(sentence)
    if len(grams) < 3:
        return False
    if from_store(sentence, store):
        return True
    need = 0.6 * len(grams)
    # a policy sentence in the agent's own words keeps its figures: with the same figures (「发出后超过N小时还没送到，
    # 您直接拒收…全额退款或者重新发一份」 for 「…发货后超过N小时仍未送达的，可以直接拒收，本店全额退款或重新发货」) less
    # of the wording has to match
    low = 0.4 * len(grams)
    for g, a in _store_sentences(store):
        if not amounts <= a:
            continue
        shared = len(grams & g)
        if shared >= need or (amounts and amounts == a and shared >= low):
            return True
    return False


def _promotion_prices(ctx: CheckContext, offer: str) -> set[float]:
    """The price a promotion leaves (「立减100元」 on a 899 page price: 799), so 「到手799元」 is the promotion's own."""
    prices = {ctx.facts.price} if ctx.facts and ctx.facts.price else set()
    if ctx.product is not None:
        prices |= {v.price for v in ctx.product.variants if v.price}
    return {price - n for price in prices for n in _amounts(offer) if 0 < n < price}
