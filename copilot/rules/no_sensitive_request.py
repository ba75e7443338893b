"""不索要敏感信息: never ask for passwords, verification codes, full card numbers/CVV or ID numbers."""

from __future__ import annotations

import re

from .base import CheckContext, Rule, RuleResult

SECRET = (
    r"(支付|登录|账户|账号|花呗|银行卡|取款|交易)?密码|验证码|校验码|动态码|短信码|安全码|CVV|cvv|卡背面.{0,4}(三位|3位)|"
    r"(完整的?)?(银行卡|信用卡|储蓄卡)(卡)?号(?!.{0,2}(后|尾)\s?[四4])|卡号|身份证(号码?|正反面|照片)?|有效期|"
    r"(银行卡|信用卡|身份证|卡)[^。，]{0,6}(正反|两面|照片|拍)|"
    r"(登录|登陆|登|输入|支付)(时)?[^。，]{0,10}(那串|那组|字符|字母数字|字母和数字|组合)|短信里.{0,6}(数字|号码)|(6|六)位数字|"
    r"银行卡(拍|照片)|拍.{0,4}银行卡|预留手机号|"
    # described instead of named: 那串数字、卡片正面那一长串号码、背面那三位数、证件上那18位号码、一位不落
    r"那串(数字|号码|字符|码)|(卡|卡片)(的)?(正面|背面)[^。，]{0,10}(号码|数字|三位|3位)|签名栏|一长串(号码|数字)|那三位数|"
    r"收到的(那)?(几|六|6|四|4)位数(字)?|那几位数字|(证件|身份证)[^。，]{0,6}(号码|18位|十八位)|(18|十八)位(的)?(证件|身份)?(号码|数字|号)|证件号|从头到尾的(号码|数字)|一位不落"
)
ASK = re.compile(
    rf"(告诉|发|提供|报|给|念|输入|填|说|拍)(一下|下|个)?(我|给我|我们|过来)?.{{0,14}}({SECRET})|"
    rf"({SECRET}).{{0,10}}(发|告诉|报|给|念|提供|私信|说)(一下|下)?(给)?(我|我们|过来)|({SECRET})[^。，！？]{{0,6}}(跟|和|对)(我|我们)说|"
    rf"把[^。，！？]{{0,4}}({SECRET})[^。，！？]{{0,8}}(报|发|告诉|说|给|念|提供|私信)|"
    rf"(需要|要|麻烦|请)(您)?(的)?.{{0,8}}({SECRET})"
)
# this rule's negations reach further back than base.negated (a whole clause, "我们绝不会……向您索要……"),
# and a warning to the buyer ("不要告诉任何人") after the secret also makes it safe
# (「别着急」「不用担心」 comfort the buyer, they deny nothing)
SAFE_CONTEXT = re.compile(r"(不会|绝不|从不|不要|请勿|切勿|千万别|别(?!着急|急|担心|慌)|不需要|无需|不用(?!着急|担心|急))[^。！？]{0,20}$")
NEGATED_JUST_BEFORE = re.compile(r"(不会|不要|不需要|无需|不用|请勿|千万别).{0,6}$")
WARNED_AFTER = re.compile(r"不要给|别给|别发|不要发|不要告诉|不要透露|都不要|千万不要|不能给|别告诉|打(个)?码|遮(住|挡|一下)|涂掉|马赛克")
PARTIAL = re.compile(r"\s?(的)?(后|尾号?)\s?[四4]位")
COMPANY_ACCOUNT = re.compile(r"(开户行|对公|公司).{0,6}(账号|账户)")
NEGATED_INSIDE = re.compile(r"(不会|不要|请勿|千万别|别|不需要|无需|不用|绝不)")


class NoSensitiveRequest(Rule):
    id = "no_sensitive_request"
    name = "不索要敏感信息"

    def clears(self, reply: str, ctx: CheckContext) -> bool:
        # the secret is named and this rule judged how (「不要把验证码告诉任何人」「卡号后4位」): its reading stands
        return bool(re.search(SECRET, reply))

    def check(self, reply: str, ctx: CheckContext) -> RuleResult:
        for m in ASK.finditer(reply):
            before = re.split(r"[。！？!?]", reply[: m.start()])[-1]
            if SAFE_CONTEXT.search(before) or NEGATED_JUST_BEFORE.search(reply[: m.start()]) or \
                    re.search(r"[不无没别勿]$", reply[: m.start()]):  # 「不需要身份证」
                continue
            inner = m.group(0)
            after = re.split(r"[。！？]", reply[m.end():])[0]
            if PARTIAL.match(reply[m.end() : m.end() + 5]):
                continue
            if WARNED_AFTER.search(after) or re.search(r"任何人", reply[max(0, m.start() - 12) : m.start()]):
                continue
            company = COMPANY_ACCOUNT.search(reply[max(0, m.start() - 10) : m.end()]) and not re.search(
                r"身份证|密码|验证码|校验码|动态码|CVV|cvv|安全码", inner)  # a VAT invoice needs the company's account
            if re.search(r"(后|尾号?)\s?[四4]位", inner) or company:
                continue
            if NEGATED_INSIDE.search(inner):
                continue
            if re.search(r"(您|你)(刚才|上面)?(说|提到|问)的", (before + inner[:3])[-8:]) and re.match(r"[^。！？]{0,8}(不需要|不用|不要|用不上|没必要)", reply[m.end():]):
                continue  # 「您说的身份证号我们这边不需要哈」 answers the buyer, it asks for nothing
            return self.fail(f"索要敏感信息：「{inner}」（密码、验证码、完整卡号/CVV、身份证号一律不能要）", inner)
        return self.ok()
