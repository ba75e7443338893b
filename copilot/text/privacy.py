"""Personal data (PIPL): detect and mask it before any LLM call, in logs and in the feedback store.

Masked kinds (setting ``pii_mask``, all on by default):

| kind | detected | masked as |
|---|---|---|
| ``mobile`` | mainland mobile numbers, with +86 and spaces/dashes | ``138****5678`` |
| ``id_card`` | 18-digit 身份证 numbers with a valid date and checksum | ``110***********123X`` |
| ``bank_card`` | 13–19 digit card numbers that pass Luhn, when the text says it is a card or the number looks like one | ``6222 **** **** 0123`` |
| ``email`` | e-mail addresses | ``z***@qq.com`` |
| ``address`` | street-level address detail after the district (best effort) | ``浙江省杭州市西湖区文三路***`` |

Order numbers stay usable: digit runs introduced as 订单/单号/快递单 are never masked,
and neither are prices, sizes, dates or quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("mobile", "id_card", "bank_card", "email", "address")

_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?![\d])")
_ID = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3})([\dXx])(?![\dA-Za-z])")
_CARD = re.compile(r"(?<![\d])(\d{4}(?:[\s-]?\d{4}){2,3}(?:[\s-]?\d{1,3})?)(?![\d])")
_EMAIL = re.compile(r"(?<![\w.])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_ADDRESS = re.compile(
    r"((?:[\u4e00-\u9fff]{2,8}?(?:省|自治区))?(?:[\u4e00-\u9fff]{2,8}?市)?(?:[\u4e00-\u9fff]{1,8}?(?:区|县|旗))?)"
    r"([\u4e00-\u9fff0-9A-Za-z]{1,20}?(?:路|街|大道|巷|弄|胡同|村|镇|乡)[\u4e00-\u9fff0-9A-Za-z\-#（）()]{0,30})"
)
_ORDER_CONTEXT = re.compile(r"(订单|单号|订单号|订单编号|快递单|运单|物流单|order)[^\d]{0,6}$", re.IGNORECASE)
_CARD_CONTEXT = re.compile(r"(卡号|银行卡|信用卡|储蓄卡|借记卡|卡)[^\d]{0,6}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


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


@dataclass
class Found:
    kind: str
    start: int
    end: int
    masked: str


def find_pii(text: str, kinds: tuple[str, ...] | list[str] = KINDS) -> list[Found]:
    out: list[Found] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(kind: str, a: int, b: int, masked: str) -> None:
        out.append(Found(kind, a, b, masked))
        taken.append((a, b))

    def order_number(start: int) -> bool:
        return bool(_ORDER_CONTEXT.search(text[max(0, start - 12) : start]))

    if "id_card" in kinds:
        for m in _ID.finditer(text):
            number = "".join(m.groups())
            if _valid_birth(m.group(2)) and id_checksum_ok(number) and not order_number(m.start()):
                add("id_card", m.start(), m.end(), number[:3] + "*" * 11 + number[-4:])
    if "mobile" in kinds:
        for m in _MOBILE.finditer(text):
            if free(m.start(), m.end()) and not order_number(m.start()):
                add("mobile", m.start(), m.end(), f"{m.group(1)}****{m.group(3)}")
    if "bank_card" in kinds:
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(1))
            if not (13 <= len(digits) <= 19) or not free(m.start(), m.end()) or order_number(m.start()):
                continue
            said_card = bool(_CARD_CONTEXT.search(text[max(0, m.start() - 10) : m.start()]))
            looks_like_card = luhn_ok(digits) and re.match(r"(62|4|5[1-5]|3[47]|9)", digits) is not None
            if said_card or looks_like_card:
                add("bank_card", m.start(), m.end(), f"{digits[:4]} **** **** {digits[-4:]}")
    if "email" in kinds:
        for m in _EMAIL.finditer(text):
            if free(m.start(), m.end()):
                add("email", m.start(), m.end(), f"{m.group(1)}***@{m.group(2)}")
    if "address" in kinds:
        for m in _ADDRESS.finditer(text):
            street = m.group(2)
            # needs a house number or building detail to be personal; "去过南京路" is not an address
            if not re.search(r"\d|号|栋|幢|单元|室|楼", street) or not free(m.start(2), m.end(2)):
                continue
            keep = re.match(r"[\u4e00-\u9fff0-9A-Za-z]{1,20}?(?:路|街|大道|巷|弄|胡同|村|镇|乡)", street)
            head = keep.group(0) if keep else ""
            add("address", m.start(2), m.end(2), head + "***")
    return sorted(out, key=lambda f: f.start)


def mask(text: str, kinds: tuple[str, ...] | list[str] = KINDS) -> str:
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
