"""What is wrong with a catalog, in Chinese, naming the product and the field (never pydantic's English, never a
bare index): 「商品 AB-01 的字段「price」不合法：应为大于 0 的数字」, 「第 3 个商品（某某）的字段「sku」不合法：…」.

The file is named by whoever reports the error (``KnowledgeFileError(path, reason)``)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import explain_error
from .catalog_fields import SKU_PATTERN, VARIANT_KEYS

_WHOLE = {"stock", "low_stock_threshold"}  # integer fields


def _short(value: Any, n: int = 30) -> str:
    text = str(value)
    return text if len(text) <= n else text[:n] + "…"


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def explain(err: dict) -> str:
    """Chinese for one pydantic error of a catalog, with the value found when that helps."""
    kind, ctx, given = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    field = next((str(x) for x in reversed(err.get("loc") or ()) if isinstance(x, str)), "")
    if kind == "value_error":  # our own validators raise Chinese ValueErrors
        return str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing":
        if field == "price":
            return "缺少这个必填字段（有 variants 时也可以在每个规格里写 price）"
        if field == "stock":
            return "缺少这个必填字段（有 variants 时也可以在每个规格里写 stock）"
        return "缺少这个必填字段"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        reason = "应为「名称: 值」的映射" + ("，而不是列表" if isinstance(given, list) else "")
    elif kind == "list_type":
        reason = "应为列表（每一项以「- 」开头）" + ("，而不是「名称: 值」的映射" if isinstance(given, dict) else "")
    elif kind == "greater_than":
        reason = f"应为大于 {_bound(ctx.get('gt'))} 的数字"
    elif kind == "greater_than_equal":
        reason = f"应为不小于 {_bound(ctx.get('ge'))} 的{'整数' if field in _WHOLE else '数字'}"
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        reason = "应为整数"
    elif kind in ("float_parsing", "float_type"):
        reason = "应为数字"
    elif kind == "string_type":
        reason = "应为文字"
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == SKU_PATTERN:
        reason = "货号只能用字母、数字、横线和下划线，以字母或数字开头，最长 40 位"
    elif kind.startswith(("datetime", "date")):
        reason = "应为时间，例如 2026-12-12（当天）或 2026-12-12T20:00"
    elif kind == "extra_forbidden":
        reason = "不是这里的标准字段（请检查拼写，或删去它）"
    else:
        reason = explain_error(err)
    if given is not None and not isinstance(given, (dict, list)) and kind != "extra_forbidden":
        reason += f"（当前为「{_short(given)}」）"
    return reason


def product_label(raw: Any, index: int, *, by_sku: bool = True) -> str:
    """「商品 AB-01 」 when the product has a valid sku, else its position and name: 「第 3 个商品（某某）」."""
    sku = raw.get("sku") if isinstance(raw, dict) else None
    if by_sku and isinstance(sku, str) and re.match(SKU_PATTERN, sku):
        return f"商品 {sku} "
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"第 {index + 1} 个商品" + (f"（{_short(name, 20)}）" if isinstance(name, str) and name.strip() else "")


def _item_hint(item: Any) -> str:
    """How the shop can find a list item: a promotion's title, a variant's options, a FAQ's question."""
    if not isinstance(item, dict):
        return ""
    if isinstance(item.get("title"), str):
        return f"（{_short(item['title'], 20)}）"
    options = item.get("options") if isinstance(item.get("options"), dict) else \
        {k: v for k, v in item.items() if k not in VARIANT_KEYS and k not in ("q", "a")}
    if options and "q" not in item:
        return f"（{_short(' / '.join(str(v) for v in options.values()), 20)}）"
    if isinstance(item.get("q"), str):
        return f"（{_short(item['q'], 20)}）"
    return ""


def field_path(loc: tuple, raw: Any) -> str:
    """「price」, 「promotions」第 1 项（某活动）的「ends_at」, 「specs」的「产地」."""
    out, node = "", raw
    for part in loc:
        if part == "options" and out.startswith("「variants」"):
            node = node.get("options", node) if isinstance(node, dict) else node
            continue  # a variant's options are written on the variant itself
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            out += f"第 {part + 1} 项{_item_hint(item)}"
            node = item
        else:
            out += ("的" if out else "") + f"「{part}」"
            node = node.get(part) if isinstance(node, dict) else None
    return out


def catalog_error(errors: list[dict], data: Any) -> str:
    """The first problem of a catalog, in Chinese, and how many more there are."""
    err = errors[0] if errors else {"loc": (), "type": "", "msg": "取值不合法"}
    loc = tuple(err.get("loc") or ())
    reason = explain(err)
    more = f"（另有 {len(errors) - 1} 处问题）" if len(errors) > 1 else ""
    data = data if isinstance(data, dict) else {}
    if not loc:
        return reason + more
    if loc[0] == "shop":
        where = "店铺信息（shop）" + (f"的字段{field_path(loc[1:], data.get('shop'))}" if len(loc) > 1 else "")
        return f"{where}不合法：{reason}{more}"
    if loc[0] == "products" and len(loc) > 1 and isinstance(loc[1], int):
        products = data.get("products") if isinstance(data.get("products"), list) else []
        raw = products[loc[1]] if loc[1] < len(products) else None
        who = product_label(raw, loc[1], by_sku=not (len(loc) > 2 and loc[2] == "sku"))
        if len(loc) == 2:
            return f"{who}不合法：{reason}{more}"
        return f"{who}的字段{field_path(loc[2:], raw)}不合法：{reason}{more}"
    if loc[0] == "products":
        return f"products（商品列表）不合法：{reason}{more}"
    return f"字段{field_path(loc, data)}不合法：{reason}{more}"
