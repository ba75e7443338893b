"""Personal data (PIPL): detect and mask it before any LLM call, in logs and in the feedback store.

Masked kinds (setting ``pii_mask``, all on by default; ``KINDS`` is the one list settings accept):

| kind | detected | masked as |
|---|---|---|
| ``mobile`` | mainland mobile numbers, with +86 and spaces/dashes | ``138****5678`` |
| ``id_card`` | 18-digit 身份证 numbers with a valid date and checksum, also in spaced/dashed 6-8-4 groups | ``110***********123X`` |
| ``bank_card`` | 13–19 digit card numbers that pass Luhn, when the text says it is a card or the number looks like one | ``6222 **** **** 0123`` |
| ``email`` | e-mail addresses, also glued to Chinese text | ``z***@qq.com`` |
| ``address`` | street-level address detail after the district (best effort) | ``浙江省杭州市西湖区文三路***`` |
| ``wechat`` | an id after 微信/微信号/VX/v信/WX, and any ``wxid_…`` | ``wxid_****``, ``li****`` |
| ``qq`` | 5–11 digits after QQ/扣扣/企鹅 | ``QQ 28****50`` |
| ``landline`` | area code (010, 02x, 0xxx) + 7–8 digits, with dashes, parentheses or spaces | ``0571-****3456`` |
| ``passport`` | a passport number after 护照 | ``E****47`` |
| ``hk_macau_permit`` | a permit number after (港澳)通行证/回乡证 | ``C****67`` |
| ``sms_code`` | 4–8 digit codes after 验证码/校验码/动态码 (also spaced: ``93 61 27``) | ``******`` |
| ``payment_password`` | 6 digits (or a letters+digits password) after 密码 | ``******`` |

Matching runs on a normalised view of the text — NFKC per character (full-width digits, letters, ＠, ．
and spaces become ASCII), dashes unified, control and zero-width characters skipped — and every match
is mapped back to the original text, so only the personal data itself is replaced and everything else
stays exactly as typed. Boundaries are ASCII-only: a number or e-mail right next to Chinese characters
is still found.

Look-alikes stay usable: digit runs introduced as 订单/单号/快递单 are never masked, and neither are
tracking numbers (SF…/YT…/JT…), prices, sizes, dates, SKUs or quantities.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .vocabulary import carrier_alternation

KINDS = ("mobile", "id_card", "bank_card", "email", "address", "wechat", "qq", "landline",
         "passport", "hk_macau_permit", "sms_code", "payment_password")

# all patterns run on the normalised view (ASCII digits/letters, "-" for every dash, ":" for "：")
_S = r"[ \-]?"  # one optional separator inside a number
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z*])(?:\(?(?:\+|00)?86\)?[ \-]?)?(1[3-9][0-9])" + _S + r"([0-9]{4})" + _S + r"([0-9]{4})(?![0-9*])"
)
_ID = re.compile(
    r"(?<![0-9A-Za-z*])([0-9]{6})" + _S + r"([0-9]{8})" + _S + r"([0-9]{3}[0-9Xx])(?![0-9A-Za-z*])"
)
_CARD = re.compile(r"(?<![0-9A-Za-z*])([0-9]{4}(?:[ \-]?[0-9]{4}){2,3}(?:[ \-]?[0-9]{1,3})?)(?![0-9*])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-*])([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"
)
# area codes: 010 and 02x have three digits, every other one four
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z*])(?:\((0(?:[12][0-9]|[3-9][0-9]{2}))\)|(0(?:[12][0-9]|[3-9][0-9]{2})))[ \-]?"
    r"([0-9]{3,4})" + _S + r"([0-9]{4})(?![0-9*])"
)
_SAID = r"(?:号码|号|账号|ID|id)?[ ]*(?P<said>是|为|:)?[ ]*"  # "微信号是 …", "QQ：…"
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|(?<![A-Za-z])(?i:v信|vx|wx(?!id_)|weixin|wechat))" + _SAID
    + r"(?P<id>[A-Za-z0-9][A-Za-z0-9_\-]{4,19})(?![A-Za-z0-9_\-*])"
)
_WXID = re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9_\-]{2,30}(?![A-Za-z0-9_\-*])", re.IGNORECASE)
_QQ = re.compile(r"(?:扣扣|企鹅|(?<![A-Za-z])(?i:qq))" + _SAID + r"(?P<id>[1-9][0-9]{4,10})(?![0-9*@])")
_PASSPORT = re.compile(r"(?:护照|(?i:passport))(?:编号)?" + _SAID + r"(?P<id>[A-Za-z]{1,2}[0-9]{7,8})(?![0-9A-Za-z*])")
_PERMIT = re.compile(
    r"(?:通行证|回乡证)(?:编号)?" + _SAID + r"(?P<id>[A-Za-z]{0,2}[0-9]{7,9})(?![0-9A-Za-z*])"
)
_SMS = re.compile(
    r"(?:验证码|校验码|动态码|短信码|确认码|动态密码|(?:那个|这个)码)[^0-9。！？!?\n]{0,6}?"
    r"(?<![0-9])(?P<id>[0-9]{4,8}|[0-9]{2,3}(?: [0-9]{2,3}){1,3})(?![0-9*]| [0-9])"
)
_PASSWORD = re.compile(
    r"密码(?![锁箱])(?:[^0-9。！？!?\n]{0,8}?(?<![0-9A-Za-z])(?P<pin>[0-9]{6})(?![0-9A-Za-z*])"
    r"|[ ]*(?:是|为|:)[ ]*(?P<pw>(?=[A-Za-z0-9!#$%&._\-]*[0-9])(?=[A-Za-z0-9!#$%&._\-]*[A-Za-z])"
    r"[A-Za-z0-9!#$%&._\-]{6,20})(?![A-Za-z0-9*]))"
)
_CJK = r"\u4e00-\u9fff"
_ADMIN = (
    rf"((?:[{_CJK}]{{2,8}}?(?:省|自治区))?(?:[{_CJK}]{{2,8}}?市)?(?:[{_CJK}]{{1,8}}?(?:区|县|旗))?)"
)
_ROAD = r"(?:路|街|大道|巷|弄|胡同|村|镇|乡)"
_DETAIL = rf"[{_CJK}0-9A-Za-z\-#()]"
_ADDRESS = re.compile(_ADMIN + rf"([{_CJK}0-9A-Za-z]{{1,20}}?{_ROAD}{_DETAIL}{{0,30}})")
# a residential compound right after city + district, with a house number: 北京市朝阳区望京西园三区312号楼2单元1801
_COMPOUND = re.compile(
    rf"[{_CJK}]{{2,8}}?(?:省|自治区|市)[{_CJK}]{{1,8}}?(?:区|县|旗)"
    rf"({_DETAIL}{{0,20}}?[0-9]+(?:号楼|号院|栋|幢|单元|室){_DETAIL}{{0,30}})"
)
_HOUSE = re.compile(r"[0-9]|号|栋|幢|单元|室|楼")
# "30号晚上", "5号前能到吗": a day of the month, not a house number
_DAY = re.compile(
    r"(?<![0-9])(?:[1-9]|[12][0-9]|3[01])号"
    r"(?=前|之前|以前|左右|能|可以|发|到|送|晚|早|上午|下午|中午|当天|那天|下单|付款|之后|以后|再)"
)
_ORDER_CONTEXT = re.compile(r"(订单|单号|订单号|订单编号|快递单|运单|物流单|order)[^0-9]{0,6}$", re.IGNORECASE)
_CARD_CONTEXT = re.compile(r"(卡号|银行卡|信用卡|储蓄卡|借记卡|卡)[^0-9]{0,6}$")
_COURIER_CONTEXT = re.compile(rf"({carrier_alternation('京东', '快递', '物流', '运单', '单号')})[^0-9]{{0,6}}$",
                              re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without NUL and the other control characters (``\\n`` and ``\\t`` stay)."""
    return _CONTROL.sub("", text) if text else text


def normalized_view(text: str) -> tuple[str, list[int]]:
    """The text personal data is matched in, and for each of its characters the index in ``text`` it came from.

    NFKC per character (full-width → ASCII), every dash as ``-``; control characters (except newline and
    tab) and invisible format characters (zero-width space, joiners, BOM) are skipped, so none of them can
    split a number.
    """
    if text.isascii() and not _CONTROL.search(text):
        return text, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            if ch in "\n\t" or not _CONTROL.match(ch):
                out.append(ch)
                where.append(i)
            continue
        if unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        for c in unicodedata.normalize("NFKC", ch).translate(_DASHES):
            out.append(c)
            where.append(i)
    return "".join(out), where


def id_checksum_ok(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _valid_birth(s: str) -> bool:
    year, month, day = int(s[:4]), int(s[4:6]), int(s[6:8])
    return 1900 <= year <= 2030 and 1 <= month <= 12 and 1 <= day <= 31


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _hint(s: str) -> str:
    """First and last characters of an identifier around ``****``: enough to tell two apart, not to use one."""
    keep = 2 if len(s) >= 8 else 1
    return s[:keep] + "****" + s[-keep:]


@dataclass
class Found:
    kind: str
    start: int
    end: int
    masked: str


def find_pii(text: str, kinds: tuple[str, ...] | list[str] = KINDS) -> list[Found]:
    """Personal data in ``text``: kind, span in ``text`` (not in the normalised view) and its masked form."""
    view, where = normalized_view(text)
    spans: list[tuple[str, int, int, str]] = []  # in view coordinates

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for _, x, y, _ in spans)

    def add(kind: str, a: int, b: int, masked: str) -> None:
        spans.append((kind, a, b, masked))

    def order_number(start: int) -> bool:
        return bool(_ORDER_CONTEXT.search(view[max(0, start - 12) : start]))

    def keyed(kind: str, pattern: re.Pattern, masked) -> None:
        """An identifier introduced by a keyword (微信, QQ, 护照, 验证码…): only the identifier is replaced."""
        for m in pattern.finditer(view):
            group = next(g for g in ("id", "pin", "pw") if g in m.re.groupindex and m.group(g))
            value = m.group(group)
            said = m.groupdict().get("said")
            a, b = m.span(group)
            if free(a, b) and (s := masked(value, said)) is not None:
                add(kind, a, b, s)

    if "id_card" in kinds:
        for m in _ID.finditer(view):
            number = "".join(m.groups())
            if _valid_birth(m.group(2)) and id_checksum_ok(number) and not order_number(m.start()):
                add("id_card", m.start(), m.end(), number[:3] + "*" * 11 + number[-4:])
    if "email" in kinds:
        for m in _EMAIL.finditer(view):
            if free(m.start(), m.end()):
                add("email", m.start(), m.end(), f"{m.group(1)}***@{m.group(2)}")
    if "mobile" in kinds:
        for m in _MOBILE.finditer(view):
            if free(m.start(), m.end()) and not order_number(m.start()):
                add("mobile", m.start(), m.end(), f"{m.group(1)}****{m.group(3)}")
    if "bank_card" in kinds:
        for m in _CARD.finditer(view):
            digits = re.sub(r"[^0-9]", "", m.group(1))
            if not (13 <= len(digits) <= 19) or not free(m.start(), m.end()) or order_number(m.start()):
                continue
            before = view[max(0, m.start() - 10) : m.start()]
            said_card = bool(_CARD_CONTEXT.search(before))
            looks_like_card = luhn_ok(digits) and re.match(r"(62|4|5[1-5]|3[47]|9)", digits) is not None
            if said_card or (looks_like_card and not _COURIER_CONTEXT.search(before)):  # "韵达 4312…" is a parcel
                add("bank_card", m.start(), m.end(), f"{digits[:4]} **** **** {digits[-4:]}")
    if "landline" in kinds:
        for m in _LANDLINE.finditer(view):
            if free(m.start(), m.end()) and not order_number(m.start()):
                add("landline", m.start(), m.end(), f"{m.group(1) or m.group(2)}-****{m.group(4)}")
    if "wechat" in kinds:
        def wechat(value: str, said: str | None) -> str | None:
            if value.isalpha() and not said:  # "微信iPhone版": a bare word is an id only when introduced as one
                return None
            if re.fullmatch(r"1[3-9][0-9]{9}", value):  # a phone number used as the WeChat id
                return f"{value[:3]}****{value[-4:]}"
            return "wxid_****" if value.lower().startswith("wxid_") else value[:2] + "****"

        keyed("wechat", _WECHAT, wechat)
        for m in _WXID.finditer(view):
            if free(m.start(), m.end()):
                add("wechat", m.start(), m.end(), "wxid_****")
    if "qq" in kinds:
        keyed("qq", _QQ, lambda v, _: _hint(v))
    if "passport" in kinds:
        keyed("passport", _PASSPORT, lambda v, _: v[0] + "****" + v[-2:])
    if "hk_macau_permit" in kinds:
        keyed("hk_macau_permit", _PERMIT, lambda v, _: (v[0] if v[0].isalpha() else "") + "****" + v[-2:])
    if "sms_code" in kinds:
        keyed("sms_code", _SMS, lambda v, _: "******")
    if "payment_password" in kinds:
        keyed("payment_password", _PASSWORD, lambda v, _: "******")
    if "address" in kinds:
        def clip(a: int, b: int) -> int:
            """An address detail ends where other personal data (a phone glued to it) begins."""
            return min([b] + [x for _, x, _, _ in spans if a < x < b])

        for m in _ADDRESS.finditer(view):
            a, b = m.span(2)
            b = clip(a, b)
            street = view[a:b]
            # needs a house number or building detail to be personal; "去过南京路" is not an address
            keep = re.match(rf"[{_CJK}0-9A-Za-z]{{1,20}}?{_ROAD}", street)
            head = keep.group(0) if keep else ""
            if not _HOUSE.search(_DAY.sub("", street[len(head):])) or not free(a, b):
                continue
            add("address", a, b, head + "***")
        for m in _COMPOUND.finditer(view):
            a, b = m.span(1)
            b = clip(a, b)
            if free(a, b) and _HOUSE.search(view[a:b]):
                add("address", a, b, "***")

    out = []
    for kind, a, b, masked in sorted(spans, key=lambda s: s[1]):
        out.append(Found(kind, where[a], where[b - 1] + 1, masked))
    return out


def mask(text: str, kinds: tuple[str, ...] | list[str] = KINDS) -> str:
    """``text`` with the personal data of ``kinds`` replaced by its masked form; everything else as typed."""
    if not text or not kinds:
        return text
    found = find_pii(text, kinds)
    if not found:
        return text
    parts, pos = [], 0
    for f in found:
        parts.append(text[pos : f.start])
        parts.append(f.masked)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)
