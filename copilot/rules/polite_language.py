"""文明用语: no 禁用语 (爱买不买, 你听不懂吗, 不知道自己看…), no impatience or sarcasm."""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult

FORBIDDEN = re.compile(
    r"爱买不买|爱要不要|不买拉倒|你听不懂|听不懂吗|不知道自己看|自己看(详情页?|说明|订单页|图)?(啊|吧|去|呗)?(?=[，。！？!?]|$)|"
    r"自己看订单|(你|您)自己(对|看|查|研究)一下[，,]?(这也|还)|没看到吗|看不见吗|看不到吗|眼睛|烦不烦|有完没完|"
    r"说了(多少|几|三|好几)(遍|次)|都说了(三|几|好几|多少)?(遍|次)?(了)?[，,]?(不支持|就是|就三|还问)|我都说了|"
    r"别再问了|天天问|问也没用|问这么多(干嘛|干什么)|问我干嘛|这也要问|这都要问|您急什么|你急什么|急什么|"
    r"这么简单都不会|不会用手机|不会(自己)?看吗|是不会|你是不是傻|有病|脑子|呵呵|想得(挺|真|倒)?美|"
    r"嫌贵(的话)?(可以|就)?(去|别)|去别家|去买别家|买别家的呗|到底买不买|随便你|爱信不信|你才是|有事说事|"
    r"关我什么事|关我啥事|我哪知道|你问我我问谁|没货就是没货|不支持就是不支持|懂不懂|穿穿不就知道"
)
SARCASM = re.compile(
    r"您可真(行|会)|您开心就好|行吧行吧|随您便|那您(看着办|自便)|(您|你)这么(懂|厉害|会)|那(您|你)自己(去)?(查|看|弄|问|研究)|"
    r"又是这个问题|不是(回答|说|讲)过了吗|刚(才|刚)(不是)?(已经)?(说|回答|讲)过了|还要我说几遍"
)


class PoliteLanguage(Rule):
    id = "polite_language"
    name = "文明用语"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        m = FORBIDDEN.search(reply) or SARCASM.search(reply)
        if m:
            return self.fail(f"不文明或不耐烦的说法：「{m.group(0)}」", m.group(0))
        return self.ok()
