"""先共情: when the buyer is upset or complaining after the sale, empathy or an apology
must come before (or together with) the solution — not procedure first, not a defence first."""

from __future__ import annotations

import re

from ..analysis import Turn, detect_emotion, detect_intent, detect_stage
from .base import CheckContext, Rule, RuleResult, sentences

EMPATHY = re.compile(
    r"抱歉|对不起|不好意思|致歉|道歉|理解您|理解你|您的心情|着急的心情|让您(久等|担心|失望|着急|受累|糟心|费心|添麻烦|不开心|遇到)|"
    r"给您添(麻烦|堵)|辛苦(您|了)|别着急|别担心|先别急|消消气|心疼|糟心|太闹心|确实(让人|很)|是我们没做好|我们的(失误|问题)"
)
DEFENCE = re.compile(r"(正常现象|属于正常|我们(不会|没有|都会|从来)|您先确认|是不是您|您是怎么|没有骗|不会赖)")
STRONG_NEGATIVE = re.compile(r"离谱|太差|太坑|坑人|骗人|骗子|气死|失望|生气|赖账|吓人|心塞|糟心|闹心|垃圾|投诉|差评")
NEGATIVE_CUES = re.compile(
    r"[！!]{1,}|？{2,}|\?{2,}|失望|生气|气死|太差|太坑|坑|骗|赖账|离谱|吓人|糟|闹心|好心塞|心塞|急着|着急|半天不回|还没(到|发|解决)|"
    r"第二次找|又|开线|钻毛|钻绒|掉色|破洞|起红疹|过敏|不保温|充不进|坏了|没声音|发错|弄丢|丢了|没收到|差了好几|跟宣传"
)
PROCEDURE = re.compile(r"订单号|照片|视频|提供|申请|退货|退款|换货|补发|寄回|流程|核实|查一下|质保|保修|检查|停用|诊断|按.{0,4}(政策|流程)")


def buyer_is_negative(message: str, history: list[Turn]) -> bool:
    """Whether this rule wants empathy first; the composer asks the same question to open its drafts."""
    if not message:
        return False
    emotion, _ = detect_emotion(message, history)
    if emotion in ("angry", "anxious"):
        return True
    intent = detect_intent(message)
    stage, _ = detect_stage(message, history)
    if intent in ("quality_complaint", "damaged_wrong") and stage == "after_sale":
        return True
    if STRONG_NEGATIVE.search(message):
        return True
    return bool(NEGATIVE_CUES.search(message)) and intent not in ("price", "size", "usage", "product_info")


class EmpathyFirst(Rule):
    id = "empathy_first"
    name = "先共情"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        if not buyer_is_negative(ctx.message, ctx.history):
            return self.ok("买家情绪平稳，不要求先共情")
        parts = sentences(reply)
        first_empathy = next((i for i, s in enumerate(parts) if EMPATHY.search(s)), None)
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
