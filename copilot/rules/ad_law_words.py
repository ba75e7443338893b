"""广告法极限词: 最低价, 第一, 最好, 国家级, 100%有效 and the like, unless literally factual.

Advice and limits are not absolute claims: "最好先做个皮肤测试", "最晚48小时发货",
"最高深度40dB", "第一次购买", "第一步", "100%棉", "国家药监局备案" pass.
"""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult

ABSOLUTE = re.compile(
    r"全网最低|最低价|史上最|全网最|最便宜|最好(的|用|看|穿|喝|卖)?(?!先|不要|别|再|是|在|还是|提前|能|用温|搭配|配合|选|穿[厚薄]|避免|放|等|问)|"
    r"最佳|最优|最强|最棒|最牛|最顶|最高级|最先进|最安全|最舒服|最暖和?|最轻|最耐|最受欢迎|最火|"
    r"顶级|顶尖|至尊|极致|第一(?!次|步|时间|件|天|印象|眼|个|单|位|条|种|批|周|个月|年|[，,、:：])|销量冠军|冠军|首选|"
    r"独一无二|唯一|国家级|世界级|全球(首|领先|第一)|行业领先|遥遥领先|领导品牌|100%(有效|安全|纯天然|无副作用|满意|正品保证)|"
    r"百分百有效|百分之百(有效|安全)|绝对|万能|永久|永不|一辈子|终身(?!保修)|没有之一|天花板|封神|秒杀一切|秒杀(所有|大牌)|"
    r"零风险|保证(不|有效|治|去|祛|美白|不长)|根治|彻底(修复|根除|治好|解决)|再也不会|闭眼入|无敌|神器|奇迹|特效|"
    r"找不到比(它|这|我们).{0,8}(更|还)|(比|超过)(所有|一切)(大牌|品牌|同类)|只此一家|"
    r"没有(哪个|任何|一个|哪款)(牌子|品牌|产品|同类|别家)?[^。]{0,6}(比得过|能比|超过|比它)|(业内|行业|市面上?|同类)[^。]{0,6}(找不到|没有)(更|比它)|"
    r"100%\s?(不|会|能|有效|保证|安全|没|可以|无效|治)|(多少次|怎么(洗|用)|无论[^。]{0,6})都不会|永远不会|绝不会(坏|掉|褪|起|过敏)"
)
FACTUAL = re.compile(r"(最高|最低|最大|最小|最多|最少|最快|最晚|最早|最长|最短)(深度|温度)?(不低于|不超过|可达|只)?\s?\d")
# the checkout working out the best combination of coupons is arithmetic, not a claim: "下单页面会自动计算最优价格"
COMPUTED = re.compile(r"(计算|算出|自动(选|匹配|组合|叠加)|叠加)[^。，！？]{0,4}$")


class AdLawWords(Rule):
    id = "ad_law_words"
    name = "广告法极限词"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        for m in ABSOLUTE.finditer(reply):
            word = m.group(0)
            if FACTUAL.match(reply, m.start()) or (word == "最优" and COMPUTED.search(reply[max(0, m.start() - 10):m.start()])):
                continue
            return self.fail(f"广告法极限用语：「{word}」，改为客观描述或具体参数", word)
        return self.ok()
