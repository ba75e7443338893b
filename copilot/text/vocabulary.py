"""Chinese e-commerce vocabulary every store shares: the couriers buyers and shops name.

General knowledge of the trade, not one shop's facts (which carriers a store uses is in its policies). The
privacy masker, the rules, the store self-check and the fact tracer all read the list from here.
"""

from __future__ import annotations

import re

CARRIERS: tuple[str, ...] = (
    "顺丰", "中通", "圆通", "申通", "韵达", "极兔", "京东快递", "京东物流", "邮政", "EMS", "德邦", "百世",
    "天天快递", "宅急送", "丰网", "跨越速运", "安能", "优速", "菜鸟",
)


def carrier_core(name: str) -> str:
    """A courier's name without its trade suffix (「中通快递」「顺丰速运」 → 中通、顺丰), to compare two namings."""
    return re.sub(r"(快递|快运|速运|速递|物流|公司)$", "", name.strip())


def carrier_alternation(*extra: str) -> str:
    """The carriers (and ``extra`` words) as one regular-expression alternation, longest first."""
    return "|".join(sorted({*CARRIERS, *extra}, key=len, reverse=True))


__all__ = ["CARRIERS", "carrier_alternation", "carrier_core"]
