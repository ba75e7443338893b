"""Catalog fields before the models see them: text coercion, sanitising, a store's own fields, date-only times.

A real shop's catalog carries fields of its own (``保质期: N个月``): they are kept as specs (``absorb_extras``)
so the composer and the LLM see them, and reported as a warning, never rejected. Every text field is
sanitised here (``text.safety.neutralize``); the models in ``catalog`` call ``sanitized_product`` /
``sanitized_promotion`` from their validators. Nothing here imports those models.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

from ..text.safety import neutralize

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
VARIANT_KEYS = ("stock", "price", "sku")  # every other key of a variant is one of its options
PROMOTION_KEYS = frozenset({"title", "discount", "condition", "starts_at", "ends_at"})


def to_str(value: Any) -> Any:
    """Numbers written in YAML (``尺码: 38``) as the text they stand for."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


def spec_text(value: Any) -> Any:
    """A spec value as one line of text: a list as 「a、b」, a mapping as 「k：v；…」, yes/no as 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(spec_text(v)) for v in value if v is not None and str(spec_text(v)).strip())
    if isinstance(value, dict):
        return "；".join(f"{k}：{spec_text(v)}" for k, v in value.items())
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return to_str(value)


Text = Annotated[str, BeforeValidator(to_str)]
SpecText = Annotated[str, BeforeValidator(spec_text)]


def clean(value: Any, removed: list[str]) -> Any:
    """A text field with instruction-like text, private contacts and review rewards removed (other values as they are)."""
    if not isinstance(value, str):
        return value
    text, gone = neutralize(value)
    if not gone:
        return value
    removed += gone
    return text.strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def absorb_extras(data: dict, known: frozenset[str]) -> tuple[dict, list[str]]:
    """Unknown product fields moved into ``specs`` (key = the field name, value as text); their names, in order."""
    extras = [k for k in data if str(k) not in known]
    if not extras:
        return data, []
    d = {k: v for k, v in data.items() if str(k) in known}
    specs = dict(d["specs"]) if isinstance(d.get("specs"), dict) else d.get("specs", {})
    kept = []
    for k in extras:
        value = spec_text(data[k])
        if isinstance(specs, dict) and str(value).strip():
            specs.setdefault(str(k), value)
            kept.append(str(k))
    d["specs"] = specs
    return d, kept


def from_variants(d: dict) -> dict:
    """A product with variants may omit ``stock`` (= their sum) and ``price`` (= their lowest price)."""
    variants = [v for v in d.get("variants") or [] if isinstance(v, dict)] if isinstance(d.get("variants"), list) else []
    if not variants:
        return d
    d = dict(d)
    if d.get("stock") is None:
        stocks = [_number(v.get("stock")) for v in variants]
        d["stock"] = int(sum(s for s in stocks if s is not None and s >= 0 and s == int(s)))
    if d.get("price") is None:
        prices = [p for p in (_number(v.get("price")) for v in variants) if p is not None and p > 0]
        if prices:
            d["price"] = min(prices)
    return d


def sanitized_promotion(pr: Any, removed: list[str], ignored: list[str]) -> Any:
    """One promotion with its texts sanitised and unknown keys dropped (named in ``ignored``); None if emptied."""
    if not isinstance(pr, dict):
        return pr
    title = pr.get("title")
    ignored += [f"活动「{title or '未命名'}」的字段「{k}」" for k in pr if str(k) not in PROMOTION_KEYS]
    pr = {k: v for k, v in pr.items() if str(k) in PROMOTION_KEYS}
    pr.update({k: clean(to_str(pr[k]), removed) for k in ("title", "discount", "condition") if k in pr})
    return None if pr.get("title") == "" else pr


def _sanitized_variant(v: Any, removed: list[str]) -> Any:
    if not isinstance(v, dict):
        return v
    options = v["options"] if isinstance(v.get("options"), dict) else {k: x for k, x in v.items() if k not in VARIANT_KEYS}
    kept = {}
    for k, x in options.items():
        text = to_str(x)
        if isinstance(text, str):
            _, gone = neutralize(f"{k}：{text}")
            if gone:  # read as one line, like a spec: anything flagged drops the option
                removed += gone
                continue
        kept[str(k)] = text
    if not kept and options:
        return None  # nothing left to tell this variant by
    return {"options": kept, **{k: v[k] for k in VARIANT_KEYS if k in v}}


def sanitized_product(data: dict, removed: list[str], known: frozenset[str]) -> tuple[dict, list[str], list[str]]:
    """The raw product mapping with unknown fields kept as specs and every text field sanitised (entries left
    empty by it are dropped); also the unknown fields kept and the nested fields ignored."""
    d, extras = absorb_extras(dict(data), known)
    d = from_variants(d)
    ignored: list[str] = []
    if isinstance(d.get("name"), str) and d["name"].strip():
        name = clean(d["name"], removed)
        if not name:
            raise ValueError(f"商品名称只包含疑似给 AI 的指令或站外联系方式：{d['name'][:40]}")
        d["name"] = name
    for key in ("category", "description", "unit"):
        if key in d:
            d[key] = clean(to_str(d[key]), removed)
    if isinstance(d.get("aliases"), list):
        d["aliases"] = [a for a in (clean(to_str(x), removed) for x in d["aliases"]) if a != ""]
    if isinstance(d.get("specs"), dict):
        specs = {}
        for k, v in d["specs"].items():
            v = spec_text(v)
            # a spec is one line, read as 「key：value」 (「客服微信：kf_8899」 is a contact only when read together):
            # anything flagged in it drops the whole entry
            _, gone = neutralize(f"{k}：{v}")
            if gone:
                removed += gone
                continue
            if isinstance(v, str) and not v.strip():
                continue
            specs[str(k)] = v
        d["specs"] = specs
    if isinstance(d.get("size_chart"), dict):
        chart = dict(d["size_chart"])
        if "note" in chart:
            chart["note"] = clean(chart["note"], removed)
        if isinstance(chart.get("columns"), list):
            chart["columns"] = [clean(c, removed) for c in chart["columns"]]
        if isinstance(chart.get("rows"), list):
            chart["rows"] = [[clean(c, removed) for c in r] if isinstance(r, list) else r for r in chart["rows"]]
        d["size_chart"] = chart
    if isinstance(d.get("promotions"), list):
        d["promotions"] = [p for p in (sanitized_promotion(x, removed, ignored) for x in d["promotions"]) if p is not None]
    if isinstance(d.get("variants"), list):
        d["variants"] = [v for v in (_sanitized_variant(x, removed) for x in d["variants"]) if v is not None]
    if isinstance(d.get("faqs"), list):
        faqs = []
        for f in d["faqs"]:
            if isinstance(f, dict):
                gone = [g for k in ("q", "a") if isinstance(f.get(k), str) for g in neutralize(f[k])[1]]
                if gone:  # one pair is one line of knowledge: a partly poisoned answer is not an answer
                    removed += gone
                    continue
            faqs.append(f)
        d["faqs"] = faqs
    return d, extras, ignored


# ------------------------------------------------------------------ times ---

_DATE_ONLY = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")


def localize(value: Any, tz: ZoneInfo, *, end: bool = False) -> Any:
    """A time from the file, in the shop's time zone. A date alone (``2026-12-12``, a YAML date or a string)
    means 00:00 of that day, or the END of it (00:00 of the next day) when ``end``; a time without a zone is
    the shop's local time. Anything else is left for the model to reject."""
    if isinstance(value, str):
        m = _DATE_ONLY.match(value)
        try:
            value = date(int(m[1]), int(m[2]), int(m[3])) if m else datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, date) and not isinstance(value, datetime):
        start = datetime(value.year, value.month, value.day, tzinfo=tz)
        return start + timedelta(days=1) if end else start
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def localize_promotions(promos: Any, tz: ZoneInfo) -> Any:
    if not isinstance(promos, list):
        return promos
    out = []
    for pr in promos:
        if isinstance(pr, dict):
            pr = {**pr, **{k: localize(pr[k], tz, end=(k == "ends_at")) for k in ("starts_at", "ends_at") if k in pr}}
        out.append(pr)
    return out


def localize_product(product: Any, tz: ZoneInfo) -> Any:
    if not isinstance(product, dict):
        return product
    p = dict(product)
    if "promotions" in p:
        p["promotions"] = localize_promotions(p["promotions"], tz)
    if isinstance(p.get("next_price"), dict) and "effective_at" in p["next_price"]:
        p["next_price"] = {**p["next_price"], "effective_at": localize(p["next_price"]["effective_at"], tz)}
    return p


def shop_tz(shop: Any, default: str) -> ZoneInfo:
    """The shop's time zone from its raw mapping (the default when missing or unknown: the model reports it)."""
    name = shop.get("timezone") if isinstance(shop, dict) else getattr(shop, "timezone", None)
    try:
        return ZoneInfo(str(name or default))
    except (ValueError, KeyError, OSError):
        return ZoneInfo(default)


# --------------------------------------------------------------- catalog ---

def _first_of_each_sku(products: list) -> tuple[list, list[tuple[str, str]]]:
    """The raw products with a repeated SKU kept once (the first), and (sku, where) for each one dropped."""
    seen: dict[str, int] = {}
    kept, repeated = [], []
    for n, p in enumerate(products):
        sku = p.get("sku") if isinstance(p, dict) else None
        key = str(sku).strip().lower() if isinstance(sku, (str, int)) and not isinstance(sku, bool) else None
        if key and key in seen:
            repeated.append((str(sku).strip(), f"第 {seen[key] + 1} 个和第 {n + 1} 个商品"))
            continue
        if key:
            seen[key] = n
        kept.append(p)
    return kept, repeated


def prepare_catalog(data: dict, path: str, tz: ZoneInfo) -> tuple[dict, list[str]]:
    """The raw catalog mapping before validation: unknown top-level keys dropped, times read in ``tz``, a SKU
    repeated in the file kept once; and the warnings saying so."""
    warnings = [f"{path}：顶层的「{k}」不是标准字段（只认 shop 和 products），已忽略"
                for k in data if k not in ("shop", "products")]
    data = {k: v for k, v in data.items() if k in ("shop", "products")}
    if isinstance(data.get("shop"), dict):
        shop = dict(data["shop"])
        for key in ("promotions", "coupons"):
            if key in shop:
                shop[key] = localize_promotions(shop[key], tz)
        data["shop"] = shop
    if isinstance(data.get("products"), list):
        data["products"], repeated = _first_of_each_sku([localize_product(p, tz) for p in data["products"]])
        warnings += [f"{path}：货号 {sku} 重复（{where}），已保留第一个" for sku, where in repeated]
    elif data.get("products") is None:
        data.pop("products", None)
    return data, warnings


def kept_and_ignored(path: str, shop: Any, products: list) -> list[str]:
    """Warnings for what validation kept as specs (a store's own product fields, grouped by field) or ignored
    (unknown shop fields, unknown keys of promotions)."""
    out = [f"{path}：店铺信息（shop）的{x}不是标准字段，已忽略" for x in shop._ignored]
    kept: dict[str, list[str]] = {}  # a store's own field → the products that have it
    for p in products:
        for k in p._extra_fields:
            kept.setdefault(k, []).append(p.sku)
        out += [f"{path}：商品 {p.sku} 的{x}不是标准字段，已忽略" for x in p._ignored]
    for k, skus in kept.items():
        who = f"商品 {skus[0]} " if len(skus) == 1 else \
            f"{len(skus)} 个商品（{'、'.join(skus[:5])}{' 等' if len(skus) > 5 else ''}）"
        out.append(f"{path}：{who}的字段「{k}」不是标准字段，已作为规格参数保留")
    return out
