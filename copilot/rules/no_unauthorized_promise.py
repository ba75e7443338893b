"""不越权承诺: no discounts, 改价, 抹零, gifts, compensation, refund terms, delivery dates
or guarantees beyond what the catalog (active promotions) and the shop policies say.

Each claim type is extracted and checked against its source:

- price changes and discounts → an active promotion with that discount;
- gifts → an active gift promotion for that item ("多送/额外送" is always beyond it);
- compensation, coupons, red packets → only as a request the agent will file,
  never as a promised outcome (policy-backed 假一赔四/退差价/运费承担 excepted);
- delivery dates → never guaranteed ("保证明天到");
- durations and amounts in service promises (退款时效, 价保天数, 质保期, 运费险金额)
  → must appear in the policies;
- return terms → no 七天无理由 for opened/used goods, no "特殊处理", no
  waiving the evidence the policy asks for; remote-area free shipping and free
  顺丰 upgrades only where the policy's conditions hold.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .base import CheckContext, Rule, RuleResult, find, from_store, matches, to_number

PRICE_CHANGE = re.compile(
    r"改价(?!权限)|改(成|到)\s?\d+|抹(个|掉|去)?(零|\d+)|便宜(您|你)?\s?\d+|少(收|算)(您|你)?\s?\d*|算(您|你)\s?\d+|"
    r"按\s?\d+\s?(元|块)?(算|给您|卖)|给(您|你)(便宜|优惠|减|打|让)\s?(\d+|[一二三四五六七八九十]+)?\s?(元|块|折|点)?|"
    r"打(个)?[\d一二三四五六七八九]+折给|提前(给您|帮您)?(减|享受|打折|算)|按.{0,8}(价格|价)(给您|帮您)?算|内部价|成本价(给|卖)|"
    r"(给|帮)(您|你)(备注)?(减|免)(掉)?\d+"
)
GIFT = re.compile(r"(额外|另外|多|再|加)(送|赠|放|寄|给)(您|你)?|送(您|你)(一|1|两|2|个|条|片|份|双|瓶|盒|支)|一共送|(给|帮)(您|你)(备注)?(多|送|加)")
EXTRA_GIFT = re.compile(r"额外|多送|多放|多寄|多给|再送|加送|一共送|多两|多一")
COMPENSATION = re.compile(
    r"(补偿|赔偿|赔|返)(您|你)\s?(\d+|一些|点|一张|个)|(给|发)(您|你)?\s?\d+\s?元?(的)?(无门槛)?(红包|券|优惠券|补偿)|"
    r"(申请|发)了.{0,12}(券|补偿|红包|赔付)|作为补偿|补偿您|(固定)?赔(您|你)\s?\d+|"
    r"(给|帮)(您|你)(直接)?(返|补|赔)\s?\d+\s?(元|块)"
)
HEDGE = re.compile(r"申请(一下|看看)|看审核|审核结果|不一定|能不能|尽量|帮您反馈|反馈给|按平台规则|平台规则")
DELIVERY = re.compile(
    r"保证.{0,8}(到|送达|到货|收到|送到)|(一定|肯定|绝对|准|包)(能|会)?(在)?(明天|今天|后天|\d+天内)?(给您)?(到|送到|送达|收到)(?!账)|"
    r"(明天|今天|后天)(一定|肯定|就能|准能|保证|铁定)(到|送到|收到|送达)"
)
WARRANTY = re.compile(r"终身(保修|质保|包换|免费)|永久(保修|质保)|(摔|磕|进水|人为|碰).{0,12}(保修|免费修|在保|质保范围)")
OPENED_RETURN = re.compile(
    r"(拆开|拆封|拆了|试听|试用|用过|用了|激活|撕了膜|洗过|洗了|穿过|穿了|敷了).{0,14}(也|还|照样|都)(能|可以|支持)(七天|7天)?(无理由)?(退|换)"
)
SPECIAL = re.compile(r"特殊(给您|帮您)?处理|特批|破例|通融(一下)?|走个后门")
NO_PROOF = re.compile(r"不(需要|用)(任何)?(证明|凭证|诊断|照片|视频|理由|寄回)|直接(给您)?退(款|钱)?[，,]?不(用|需要)|不用寄回.{0,4}退")
REMOTE_FREE = re.compile(r"(新疆|西藏|偏远)[^。]{0,14}(包邮|免运费|不用(另外|额外|再)?补|补运费就不用|不收(运费)?|也一样)")
SF_FREE = re.compile(
    r"(免费|不用补差价|直接|默认(就是)?)(给您|帮您)?(升级|发|走|用)?顺丰|顺丰(免费|包邮)|"
    r"顺丰[^。]{0,10}(差价|运费)[^。]{0,4}(不用|无需|免)|(差价|补差)[^。]{0,4}(不用|无需)(您)?(再)?补"
)
PRICE_PROTECT = re.compile(r"(优惠券|满减|券)[^。]{0,8}(也算|也可以|都算|也退|都退|也能)")
QUANTITY = re.compile(r"(\d+(?:\.\d+)?(?:\s?[-~–]\s?\d+(?:\.\d+)?)?|[一两三四五六七八九十半]{1,2})\s?(个)?(小时|天|个月|月|年|分钟)")
# a statement that something is NOT covered limits a promise, it does not make one: "磕碰…不在质保范围"
EXCLUDES = re.compile(r"不(在|属于|享受|包括|含|保)|除外|以外")
PROMISE_CONTEXT = re.compile(r"退|换|赔|保修|质保|价保|到账|运费险|差价|补发|送达|保证|承诺|都给您|包")
MONEY_IN_PROMISE = re.compile(r"(运费险|赔付?|补偿|红包|返|券)[^。，]{0,6}?(\d+(?:\s?[-~–]\s?\d+)?)\s?(元|块)")

def _norm_qty(num: str, unit: str) -> str:
    num = num.replace(" ", "").replace("~", "-").replace("–", "-")
    value = None if re.fullmatch(r"[\d.\-]+", num) else to_number(num)  # 十五 -> 15, 半 -> 0.5
    num = f"{value:g}" if value is not None else num
    unit = "个月" if unit in ("月", "个月") else unit
    return f"{num}{unit}"


@lru_cache(maxsize=8)
def _policy_quantities(text: str) -> set[str]:
    return {_norm_qty(m.group(1), m.group(3)) for m in QUANTITY.finditer(text)}


@lru_cache(maxsize=8)
def _policy_money(text: str) -> set[str]:
    return {re.sub(r"\s", "", m.group(0)) for m in re.finditer(r"\d+(?:\.\d+)?(?:\s?[-~–]\s?\d+(?:\.\d+)?)?\s?元", text)}


class NoUnauthorizedPromise(Rule):
    id = "no_unauthorized_promise"
    name = "不越权承诺"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        f = ctx.facts
        active = f.active_promotions if f else []
        promo_text = " ".join(p.title + p.discount for p in active)
        policies = ctx.policies

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
        if m and not HEDGE.search(reply[max(0, m.start() - 20) : m.end() + 20]):
            return self.fail(f"「{m.group(0)}」：政策里没有这项补偿，不能直接承诺结果（可以说帮您申请）", m.group(0))
        for pattern, why, unless_near in (
            (DELIVERY, "不能保证到货日期，只能说政策里的发货时效和一般送达时间", None),
            (WARRANTY, "超出了政策写明的质保范围", None),
            (OPENED_RETURN, "拆封/使用过的商品不在七天无理由范围内（质量问题除外）", "质量"),
            (SPECIAL, "客服不能承诺政策之外的特殊处理", None),
            (NO_PROOF, "政策要求的凭证不能免除", None),
            (PRICE_PROTECT, "价保不含优惠券和满减", None),
        ):
            m = next((m for m in matches(pattern, reply)
                      if not EXCLUDES.search(m.group(0)) and not _store_says(reply, m, ctx)), None)
            if m and not (unless_near and unless_near in reply[max(0, m.start() - 10) : m.end() + 10]):
                return self.fail(f"「{m.group(0)}」：{why}", m.group(0))
        m = find(REMOTE_FREE, reply)
        if m and re.search(r"(新疆|西藏)[^。]{0,20}(补|加收|另付|\d+\s?元)", policies):
            return self.fail(f"「{m.group(0)}」：政策写明偏远地区需补运费", m.group(0))
        m = find(SF_FREE, reply)
        if m and not self._sf_free_allowed(ctx):
            return self.fail(f"「{m.group(0)}」：该订单不满足政策里免费发顺丰的条件", m.group(0))
        # durations and amounts inside service promises must come from the policies
        if policies:
            # the store's own statements back a figure too: the policies, and this product's specs and FAQs
            allowed = _policy_quantities(policies) | (_policy_quantities(ctx.product.statements()) if ctx.product else set())
            money = _policy_money(policies)
            for sentence in re.split(r"(?<=[。！？；])", reply):
                if not PROMISE_CONTEXT.search(sentence):
                    continue
                for q in matches(QUANTITY, sentence):
                    norm = _norm_qty(q.group(1), q.group(3))
                    if norm not in allowed:
                        return self.fail(f"「{q.group(0)}」：政策里没有这个时限/期限", q.group(0))
                for mm in MONEY_IN_PROMISE.finditer(sentence):
                    amount = re.sub(r"\s", "", mm.group(2)) + "元"
                    if amount not in money and amount.replace("元", "") not in re.findall(r"\d+", promo_text):
                        return self.fail(f"「{mm.group(0)}」：政策里没有这个金额", mm.group(0))
        return self.ok()

    @staticmethod
    def _sf_free_allowed(ctx: CheckContext) -> bool:
        m = re.search(r"(\d+)\s?元(及)?以上[^。]{0,20}顺丰|满\s?(\d+)\s?元[^。]{0,20}顺丰|顺丰[^。]{0,20}满\s?(\d+)", ctx.policies)
        threshold = float(next(g for g in m.groups() if g and g.isdigit())) if m else None
        p = ctx.product
        if p is None:
            return False
        if p.category and re.search(rf"{p.category}[^。]{{0,30}}顺丰", ctx.policies):
            return True
        return threshold is not None and p.price_at(ctx.now) >= threshold


def _store_says(reply: str, m: re.Match, ctx: CheckContext) -> bool:
    """The sentence holding the match is the store's own statement (its knowledge or the product's FAQ)."""
    start = max(reply.rfind(p, 0, m.start()) for p in "。！？\n") + 1
    ends = [i for i in (reply.find(p, m.end()) for p in "。！？\n") if i >= 0]
    sentence = reply[start : (min(ends) + 1) if ends else len(reply)]
    return from_store(sentence, ctx.knowledge)


def _shares(a: str, b: str) -> bool:
    grams = {a[i : i + 2] for i in range(len(a) - 1)}
    return any(g in b for g in grams if re.match(r"[\u4e00-\u9fff]{2}", g) and g not in ("活动", "赠送", "送您"))
