"""不推卸责任: no blaming the courier, platform, factory, warehouse, "the system" or the buyer.

Two kinds of evidence: disclaimers that refuse responsibility outright
("跟我们没关系", "我们也没办法", "不归我们管"), and blame that points at a third
party or the buyer ("是快递的问题", "您自己没看清", "找快递去"). Blame is
excused when the same reply takes responsibility ("但这是我们应该跟进的",
"由我们承担", "我马上帮您催") — mentioning the courier is not blaming it.
"""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult, find

PARTY = r"(快递(公司|员|小哥)?|物流|中通|圆通|顺丰|韵达|申通|平台|厂家|工厂|仓库|系统|运营|支付宝|支付(渠道|那边)?|银行|品牌方)"

DISCLAIMERS = re.compile(
    r"(跟|和|与)(我们|店铺|本店|客服)(店铺)?(没|无|没有)(什么)?关系|不关(我们|店铺|客服)的?事|(跟|与)店铺无关|"
    r"(不是|不属于)(我们|店铺|客服)的?(问题|责任|过错)|责任不在(我们|店铺|客服)|不归(我们|客服|店铺)管|"
    r"(我们|客服)(也)?(管不了|管不着|控制不了|左右不了|决定不了|负责不了)|"
    r"(我们|客服|这边)(也|实在)?(没办法|没有办法|无能为力|爱莫能助)(了)?(?![，,]?(不过|但|帮|给|可以|您可以))|"
    r"催也没用|只能(等着|等等|干等)|(不是|非)客服能(管|处理|决定)|只负责(卖货|销售)|就当运气|只能怪(您|你)|怪(您|你)自己|"
    r"后面(的)?(运输|派送)?(就)?不归|交给.{0,6}(就|后)(就)?不(归|关)"
)
BLAME = re.compile(
    rf"(是|属于|因为|都怪|要怪)({PARTY})(那边)?(的)?(问题|原因|造成|弄|搞|导致|的锅|失误|规定的?)|"
    rf"{PARTY}(那边)?(造成|弄坏|搞错|的问题|的原因|的锅)|"
    rf"(您|你)(直接|自己|得|只能|还是|要不)(去)?(找|问|联系|投诉)(一下|问)?({PARTY})|"
    rf"(找|问)(一下|问)?({PARTY})(去|吧|理赔|问问|沟通吧)|要不(您|你)?(问问|找找|去问)({PARTY})|"
    r"(我们|客服|我)(也)?(不清楚|不知道)(?!.{0,6}(帮您|给您|马上|查))|"
    r"(您|你)自己(没看清|没看|看错|选错|选的|填错|填的|弄|划|摔|拆|操作|研究|没注意|的问题)|"
    r"(肯定|一定|应该|估计)是(您|你)(自己|的|拆|弄|没|操作|电脑|手机|设备)|"
    r"(您|你)的(电脑|手机|设备|网络)(的)?问题|是(您|你)(选|填|看|弄)错|"
    r"平台规定(的)?(?!.{0,12}(不过|但|可以|帮您|给您))|(是)?(运营|上面|领导)(那边)?(定|决定)的"
)
RESPONSIBLE = re.compile(
    r"(是|属于)我们的(失误|问题|责任|疏忽)|我们(应该|会|来|负责)(跟进|处理|负责|解决|补发|承担)|由我们(来)?(处理|负责|承担|补发)|"
    r"我们承担|我们负责|我(马上|立刻|这就|现在|来|帮您|给您|会)(联系|催|处理|跟进|核实|查|反馈|申请|补发|安排|盯)|"
    r"(这件事|这个问题)(我|我们)来|都由我们|负责到底|这是我们应该|我们的问题"
)


class NoBlameShifting(Rule):
    id = "no_blame_shifting"
    name = "不推卸责任"

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        m = find(DISCLAIMERS, reply)
        if m:
            return self.fail(f"推卸责任：「{m.group(0)}」把问题推给了别人，应由店铺承担并跟进", m.group(0))
        m = find(BLAME, reply)
        if m and not RESPONSIBLE.search(reply):
            return self.fail(f"把问题归咎于他人或买家：「{m.group(0)}」，且没有承担跟进责任", m.group(0))
        return self.ok()
