"""平台规则: no reward for reviews (好评返现), no moving the deal off the platform (加微信/私下转账)."""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult, find, last_clause_denies, matches, quotes_the_buyer

REVIEW_FOR_REWARD = re.compile(
    r"(五星|5星|满分|好评|晒图|晒单|带图|追评|评价|评论)[^。！？]{0,24}(返现|返|送|领|给您|抽|立减|红包|无门槛券|优惠券|小样|感谢您|多寄|退款|抵|减\s?\d)|"
    r"(返现|红包|返|送|领|抽奖|立减).{0,10}(好评|五星|晒图|追评|评价)|好评返现|"
    r"(感受|心得|评价|照片|图)[^。！？]{0,14}(发|晒)出来[^。！？]{0,16}(心意|红包|小礼物?|福利|奖励|好处)|(\d+|[一二三四五六七八九十百]+)字以上[^。！？]{0,30}(心意|红包|返|奖励|福利|小礼)|"
    r"(改|删|撤)(一下|掉)?(评价|差评|中评).{0,10}(退款|补偿|返|送|给您)|"
    r"(差评|中评|评价)(删|改|撤)(掉|了|除)[^。]{0,16}(退|换|补偿|处理|帮您|返)|"
    r"(给|打)个?(好评|五星).{0,10}[“\"]?感谢"
)
OFF_PLATFORM = re.compile(
    r"加(一下|个|我)*(的)?(微信|薇信|威信|vx|VX|v信|V信|V|v|QQ|qq|企微|私人号)|私人号|单聊|私下联系|不走(店铺|平台)|直接找我(拿货|买|下单)|(微信|QQ|qq)(上|里)?(聊|联系|给您|转|付)|"
    r"留(个|下)?(您的)?(微信|QQ|qq|电话)号?|私人(号码|微信|电话|账号)|私聊|私下(转|交易|给|打|把钱)|"
    r"(支付宝|微信|银行卡)(直接)?转(给)?我|转(到|给)我的?(支付宝|银行卡|微信|账户)|(钱|款)(直接)?转(到|给)我|"
    r"收款码|扫(我的)?码(付|支付)|不走平台|线下(签|交易|打款|付款)|不用在(平台|京东|淘宝|天猫|拼多多|抖音)上?(拍|付|下单)|现金给我|给我现金|(直接)?转(账)?(到|给)\s?1[3-9]\d{3,}|(老板|店长|店主|我)(的)?(个人)?(支付宝|微信)(也可以|直接|转)|(个人|私人|自己的?)(的)?(支付宝|微信|银行卡|账户|账号)[^，。！？]{0,6}(转|打|付|给)|线下[^，。！？]{0,4}(交易|付款|付钱|打款)|现金交易|绕(开|过)平台|"
    r"(Q|q)号|扣扣|企鹅号|(见面|当面)(交易|付|谈|交货)|不走(天猫|淘宝|京东|拼多多|抖音|官方)|别走平台|"
    r"(直接)?(打款|转账|汇款|打钱)(到|给)(我们)?(公司|个人|我)|省(掉)?(平台|天猫|淘宝|京东)?(的)?手续费|"
    r"加[^，。！？]{0,8}的(微信|薇信|vx|VX|QQ|qq|企微)|(微信|vx|VX|QQ|qq)(号)?[:：]?\s?[A-Za-z][A-Za-z0-9_-]{4,}|(微信|vx|VX|QQ|qq|企微)(号|群)?[:：]?\s?\d{5,}|"
    r"(发|传|拍)(到|给)[^，。！？]{0,6}(微信|vx|VX|QQ|qq|企微)(?!群?[^，。！？]{0,3}(不|别))|"
    r"(打|转|汇)(到)?(我们)?(的)?(公司|对公|个人)(账户|账号|卡)|不走店里|"
    r"(进|加|拉您进|拉你进)(我们|店里|店铺|咱们)?的?(VIP|vip|粉丝|售后|会员|福利|专属)?(群|微信群|QQ群|粉丝群)|扫[^。！？]{0,12}二维码[^。！？]{0,6}(加|进|添加)|"
    r"(支付宝|微信|银行卡)(账号|号|卡号)?(发|给)我[^。！？]{0,12}转|我(直接|私下)?(转|打)(钱|款|账)给(您|你)"
)


# the contact or transfer named as a risk: 「私下转账对您也没保障」「加微信的都是骗子」
_WARNED = re.compile(r"[^。！？]{0,8}(没(有)?保障|不安全|有风险|风险(很|太)?大|不靠谱|容易被骗|都是骗子|是骗子|出了事没人)|"
                     r"[^。！？]{0,12}(千万|请)?(别|不要|勿)(转|加|理|相信|信|给|扫|点)")


def _denied_after_quote(reply: str, start: int) -> bool:
    """The quoted words are followed by a denial: 「您说的“晒图返红包”我们这边没有哈」."""
    closes = [i for i in (reply.find(q, start) for q in "」”\"’』") if i >= 0]
    return bool(closes) and bool(re.match(r"[^。！？]{0,6}(没有|不做|不搞|不支持|不能|不可以|不允许|不会)", reply[min(closes) + 1:]))


class PlatformRules(Rule):
    id = "platform_rules"
    name = "平台规则"

    def clears(self, reply: str, ctx: CheckContext) -> bool:
        # WeChat or a reward is named and this rule read it as refused (「不加微信」「不做好评返现」)
        return bool(OFF_PLATFORM.search(reply) or REVIEW_FOR_REWARD.search(reply))

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        m = next((m for m in matches(REVIEW_FOR_REWARD, reply) if not last_clause_denies(m.group(0))
                  and not (quotes_the_buyer(reply, m.start(), ctx.message) and _denied_after_quote(reply, m.start()))), None)
        if m:
            return self.fail(f"以奖励诱导评价或改评：「{m.group(0)}」", m.group(0))
        m = next((m for m in matches(OFF_PLATFORM, reply) if not _WARNED.match(reply[m.end():])
                  and not re.match(r"[^。！？，,]{0,6}(不做|不支持|不可以|不行|不搞|不能|不接受|不允许)", reply[m.end():])), None)
        if m:
            return self.fail(f"引导到平台外联系或交易：「{m.group(0)}」", m.group(0))
        return self.ok()
