"""先共情: when the buyer is upset or complaining after the sale, empathy or an apology
must come before (or together with) the solution — not procedure first, not a defence first."""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult, negated, sentences

EMPATHY = re.compile(
    r"抱歉|对不起|对不住|让(您|你)扫兴|不好意思|致歉|道歉|理解您|理解你|理解(亲|的亲)|您的心情|着急的心情|让您(久等|担心|失望|着急|受累|糟心|费心|添麻烦|不开心|遇到)|"
    r"给您添(麻烦|堵)|辛苦(您|了)|(^|[，。！？\s])(亲[，,]?)?没关系(的|哈|哦|呀)?(亲)?[，,～~]|不要紧|别着急|(亲)?别急|别担心|先别急|(请|您)?放心|别慌|不用担心|消消气|心疼|糟心|太闹心|确实(让人|很|吓人|闹心|糟心|气人|难受|不应该)|是我们没做好|我们的(失误|问题)|"
    r"换(我|谁|作是我)(也|都)|窝火|让(您|你)[^，。！？]{0,2}(等|久)(着急|久|急)|(人|您|你|孩子|宝宝)(没事|没伤着|没烫着|没受伤)吧|有没有受伤|吓坏了吧|天哪"
)
DEFENCE = re.compile(r"(正常现象|属于正常|(很|是|挺|算)正常(的)?|质量没(有)?问题|没有质量问题|(不算|不属于|不是)(是)?质量问题|(出厂|发货前|发货之前)[^，。]{0,8}(测试|检测|检查|质检|测过)|我们(不会|没有|都会|从来)|您先确认|是不是您|您是怎么|没有骗|不会赖|"
                     r"(每双|每件|每个|每批|每台|都是)[^。]{0,8}(质检|检测|检查|检验)|第三方检测|检测报告|(您|你)是(几点|什么时候|哪天|怎么))")
PROCEDURE = re.compile(r"订单号|照片|拍照|拍(个|张|下)照|视频|提供|申请|退货|退款|换货|补发|寄回|流程|核实|查一下|质保|保修|检查|停用|诊断|按.{0,4}(政策|流程)")


_CARE_FOR_A_SCAM = re.compile(EMPATHY.pattern + r"|别理会?|千万(别|不要)|不要(转账|扫码|点|给)|(多半|肯定|一定)?是(诈骗|骗子)|注意(安全|防骗)|小心(被骗|诈骗)|不是我们")


class EmpathyFirst(Rule):
    id = "empathy_first"
    name = "先共情"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        if not ctx.buyer_is_negative:
            return self.ok("买家情绪平稳，不要求先共情")
        parts = sentences(reply)
        care = EMPATHY
        if ctx.buyer_reports_scam:
            care = _CARE_FOR_A_SCAM  # a buyer reporting a scam is looked after by a clear warning
        # 「不是我们的问题」 is no apology: an empathy word counts only when it is not denied
        first_empathy = next((i for i, s in enumerate(parts) if any(not negated(s, e.start(), 3) for e in care.finditer(s))),
                             None)
        if first_empathy is None:
            span = parts[0] if parts else reply
            return self.fail("买家有情绪或在投诉，回复没有任何道歉或共情，直接走了流程", span)
        first_solution = next((i for i, s in enumerate(parts) if PROCEDURE.search(s) or DEFENCE.search(s)), None)
        if first_solution is not None and first_solution < first_empathy:
            return self.fail("先讲流程或先辩解，道歉/共情放在了后面", parts[first_solution])
        m = DEFENCE.search(parts[first_empathy])
        e = EMPATHY.search(parts[first_empathy])
        if m and e and m.start() < e.start():
            return self.fail("先辩解再道歉", m.group(0))
        return self.ok("先共情再给方案")
