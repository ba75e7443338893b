"""The shop's product catalog: typed models and time-aware facts.

The catalog is the source of truth for prices, stock, variants, size charts and promotions (the product's
own, the shop's and its coupons). Drafting quotes it and the tone rules check claims against it, so time is
always explicit (``now``) and never read from the clock here.

It is open to the store's own fields: an unknown product field (``保质期: N个月``) is kept as a spec and
reported in ``Catalog.warnings``; an unknown shop field is reported and ignored. What stays invalid is
reported in Chinese naming the product and the field (``catalog_errors``).

Every text field is sanitised as it is parsed (``text.safety.neutralize``, see ``catalog_fields``): names,
aliases, descriptions, units, spec keys and values (the store's own fields too), variants' options,
size-chart notes, promotion titles and conditions, and FAQs. The composer, the LLM prompt's 商品事实 and the
rules only ever see the sanitised product; what was removed is kept on it (``Product.flags``,
``Catalog.flags``) for the upload response and the ingest report.

Parsing, merging every catalog file of a store and reading them from disk: ``catalog_io`` (re-exported).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import NotFoundError
from .catalog_errors import catalog_error
from .catalog_fields import (
    SKU_PATTERN,
    VARIANT_KEYS,
    SpecText,
    Text,
    clean,
    kept_and_ignored,
    prepare_catalog,
    sanitized_product,
    sanitized_promotion,
    shop_tz,
)
from .catalog_variants import variants_named

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_UNIT = "件"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Promotion(_Strict):
    title: str
    discount: Text = ""
    condition: Text = Field(default="", description="使用条件（可选），如「全店通用，可跨商品累计」")
    starts_at: datetime
    ends_at: datetime

    @model_validator(mode="after")
    def _ordered(self) -> "Promotion":
        if self.ends_at <= self.starts_at:
            raise ValueError(f"促销「{self.title}」的结束时间早于开始时间")
        return self

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def ends_within(self, now: datetime, window: timedelta) -> bool:
        return self.is_active(now) and self.ends_at - now <= window


class SizeChart(_Strict):
    columns: list[Text]
    rows: list[list[Text]]
    note: str = ""

    @model_validator(mode="after")
    def _rectangular(self) -> "SizeChart":
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"尺码表行 {row} 的列数与表头 {self.columns} 不一致")
        return self

    def as_text(self) -> str:
        head = " / ".join(self.columns[1:])
        lines = [f"尺码表（{self.columns[0]}：{head}）"]
        lines += [f"{r[0]}：{' / '.join(r[1:])}" for r in self.rows]
        if self.note:
            lines.append(f"尺码建议：{self.note}")
        return "\n".join(lines)


class NextPrice(_Strict):
    price: float = Field(gt=0)
    effective_at: datetime


class FAQ(_Strict):
    q: Text = Field(min_length=1)
    a: Text = Field(min_length=1)


class Variant(_Strict):
    """One purchasable variant: its options (``{颜色: 黑色, 尺码: M}``), its own stock and, optionally, its own
    price and sku. In the file every key of a variant other than stock / price / sku is an option."""

    options: dict[str, Text]
    stock: int = Field(ge=0)
    price: float | None = Field(default=None, gt=0)
    sku: str | None = Field(default=None, pattern=SKU_PATTERN)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("options"), dict):
            data = {"options": {str(k): v for k, v in data.items() if k not in VARIANT_KEYS},
                    **{k: data[k] for k in VARIANT_KEYS if k in data}}
        return data

    @field_validator("options")
    @classmethod
    def _some_option(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("规格至少要有一个选项（如 颜色、尺码、规格）")
        return v

    @property
    def label(self) -> str:
        """The option values as a buyer reads them: 「黑色 / M」."""
        return " / ".join(self.options.values())

    def price_or(self, product: "Product", now: datetime | None = None) -> float:
        """This variant's own price, else the product's (its page price at ``now`` when given)."""
        if self.price is not None:
            return self.price
        return product.price_at(now) if now is not None else product.price


class Product(_Strict):
    sku: str = Field(pattern=SKU_PATTERN)
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list, description="商品简称：买家常用的叫法")
    category: str
    price: float = Field(gt=0, description="页面价；有 variants 时可省略（= 各规格的最低价）")
    original_price: float | None = None
    stock: int = Field(ge=0, description="库存；有 variants 时可省略（= 各规格库存之和）")
    unit: str = Field(default=DEFAULT_UNIT, min_length=1, max_length=4, description="计量单位：件、罐、袋、盒…")
    description: str = Field(default="", description="商品介绍（可选）")
    specs: dict[str, SpecText] = Field(default_factory=dict)
    variants: list[Variant] = Field(default_factory=list)
    size_chart: SizeChart | None = None
    promotions: list[Promotion] = Field(default_factory=list)
    next_price: NextPrice | None = None
    faqs: list[FAQ] = Field(default_factory=list)
    _flags: list[str] = PrivateAttr(default_factory=list)
    _extra_fields: list[str] = PrivateAttr(default_factory=list)
    _ignored: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _sanitize(cls, data: Any, handler) -> "Product":
        """The store's own fields become specs and every text field is sanitised before validation, whoever
        builds the product."""
        removed: list[str] = []
        if not isinstance(data, dict):
            return handler(data)
        data, extras, ignored = sanitized_product(data, removed, frozenset(cls.model_fields))
        product = handler(data)
        product._flags = list(dict.fromkeys(removed))
        product._extra_fields = [k for k in extras if k in product.specs]  # not those sanitising dropped
        product._ignored = ignored
        return product

    @property
    def flags(self) -> list[str]:
        """What sanitising removed from this product's text (instructions, contacts, review rewards)."""
        return list(self._flags)

    @property
    def extra_fields(self) -> list[str]:
        """The store's own fields of this product, kept as specs."""
        return list(self._extra_fields)

    def active_promotions(self, now: datetime) -> list[Promotion]:
        return [p for p in self.promotions if p.is_active(now)]

    def price_at(self, now: datetime) -> float:
        """The page price at ``now``: a ``next_price`` is the price from its ``effective_at`` on."""
        if self.next_price is not None and now >= self.next_price.effective_at:
            return self.next_price.price
        return self.price

    def pending_price(self, now: datetime) -> NextPrice | None:
        """A price change that is decided but not yet in effect at ``now``."""
        return self.next_price if self.next_price is not None and now < self.next_price.effective_at else None

    def variants_in(self, text: str) -> list[Variant]:
        """The variants whose option values ``text`` names (「M码黑色有货吗」: 尺码 M and the colour …黑); all
        named options must agree; [] when the text names none (see ``catalog_variants``)."""
        return variants_named(self.variants, text) if self.variants and text else []

    def statements(self) -> str:
        """Everything the store says about this product: its description text and its FAQ answers."""
        return "\n".join([self.describe(), *(f"{f.q}{f.a}" for f in self.faqs)])

    def describe(self) -> str:
        """Stable product text for retrieval (no stock or promotions: those change hourly)."""
        price = f"¥{self.price:g}" + ("起" if self._prices_differ() else "")
        if self.original_price and self.original_price > self.price:
            price += f"（划线价¥{self.original_price:g}）"
        lines = [f"【商品】{self.name}（货号 {self.sku}）"]
        if self.aliases:
            lines.append("简称：" + "、".join(self.aliases))
        lines.append(f"类目：{self.category}；售价：{price}")
        if self.description:
            lines.append(f"商品介绍：{self.description}")
        if self.specs:
            lines.append("规格参数：" + "；".join(f"{k}：{v}" for k, v in self.specs.items()))
        if self.variants:
            keys = dict.fromkeys(k for v in self.variants for k in v.options)
            lines.append("可选：" + "；".join(
                f"{k}：{'、'.join(dict.fromkeys(v.options[k] for v in self.variants if k in v.options))}" for k in keys))
            if self._prices_differ():
                lines.append("各规格价格：" + "；".join(f"{v.label} ¥{v.price_or(self):g}" for v in self.variants[:12]))
        if self.size_chart:
            lines.append(self.size_chart.as_text())
        return "\n".join(lines)

    def _prices_differ(self) -> bool:
        return len({v.price_or(self) for v in self.variants}) > 1


class Shop(_Strict):
    name: str = "本店"
    platform: str = Field(default="", max_length=20, description="开店平台：淘宝、天猫、京东、拼多多、抖音…")
    low_stock_threshold: int = Field(default=10, ge=0)
    tracking_stale_hours: int = Field(default=48, ge=1, le=720, description="物流多久没有新记录算停滞（小时），草稿会说帮买家核实")
    timezone: str = DEFAULT_TZ
    promotions: list[Promotion] = Field(default_factory=list, description="全店活动，如满减")
    coupons: list[Promotion] = Field(default_factory=list, description="店铺优惠券")
    _flags: list[str] = PrivateAttr(default_factory=list)
    _ignored: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _sanitize(cls, data: Any, handler) -> "Shop":
        """Unknown shop fields are dropped (and named in ``_ignored``); the name and promotions are sanitised."""
        if not isinstance(data, dict):
            return handler(data)
        removed: list[str] = []
        ignored = [f"字段「{k}」" for k in data if str(k) not in cls.model_fields]
        data = {k: v for k, v in data.items() if str(k) in cls.model_fields}
        if isinstance(data.get("name"), str):
            data["name"] = clean(data["name"], removed) or "本店"
        if isinstance(data.get("platform"), str):
            data["platform"] = clean(data["platform"], removed)
        for key in ("promotions", "coupons"):
            if isinstance(data.get(key), list):
                data[key] = [p for p in (sanitized_promotion(x, removed, ignored) for x in data[key]) if p is not None]
        shop = handler(data)
        shop._flags, shop._ignored = removed, ignored
        return shop

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"不认识的时区「{v}」，例如 Asia/Shanghai") from None
        return v


class Facts(BaseModel):
    """What the rules may rely on for one product at one moment."""

    sku: str | None = None
    name: str | None = None
    price: float | None = None
    stock: int | None = None
    low_stock_threshold: int = 10
    promotions: list[Promotion] = Field(default_factory=list)
    store_promotions: list[Promotion] = Field(default_factory=list, description="全店活动和店铺券（进行中的）")
    next_price: NextPrice | None = None
    now: datetime

    @property
    def active_promotions(self) -> list[Promotion]:
        return [p for p in self.promotions if p.is_active(self.now)]


class Catalog(_Strict):
    shop: Shop = Field(default_factory=Shop)
    products: list[Product] = Field(default_factory=list)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _lexicon_units: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _read(cls, data: Any, handler, info: ValidationInfo) -> "Catalog":
        """Times read in the shop's time zone (date-only ends as the end of that day), a SKU repeated in the file
        kept once, what stays invalid told in Chinese; what was kept or ignored listed in ``warnings``.

        Context (optional): ``path`` names the file in warnings, ``tz`` overrides the shop's time zone (a
        store's other catalog files are read in the zone of the file holding the shop)."""
        if isinstance(data, Catalog):
            return data
        if not isinstance(data, dict):
            raise ValueError("catalog 顶层必须是包含 shop 与 products 的映射")
        context = info.context or {}
        path = context.get("path", "catalog.yaml")
        data, warnings = prepare_catalog(data, path, context.get("tz") or shop_tz(data.get("shop"), DEFAULT_TZ))
        try:
            catalog = handler(data)
        except ValidationError as exc:
            raise ValueError(catalog_error(exc.errors(), data)) from None
        warnings += kept_and_ignored(path, catalog.shop, catalog.products)
        catalog._warnings = warnings
        return catalog

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.shop.timezone)

    @property
    def flags(self) -> dict[str, list[str]]:
        """What sanitising removed, by product sku (``"shop"`` for the shop's own fields); empty when clean."""
        out = {"shop": self.shop._flags} if self.shop._flags else {}
        out.update({p.sku: p.flags for p in self.products if p.flags})
        return out

    @property
    def warnings(self) -> list[str]:
        """What reading the catalog kept or ignored, in Chinese, naming the file, the product and the field:
        the store's own fields kept as specs, unknown shop fields ignored, repeated SKUs (in a file or across
        the store's catalog files)."""
        return list(self._warnings)

    @property
    def units(self) -> set[str]:
        """The units a stock count may be given in: 件, every product's unit and the store lexicon's ``units``."""
        return {DEFAULT_UNIT, *(p.unit for p in self.products), *self._lexicon_units}

    def has(self, sku: str) -> bool:
        return any(p.sku.lower() == sku.strip().lower() for p in self.products)

    def get(self, sku: str) -> Product:
        for p in self.products:
            if p.sku.lower() == sku.strip().lower():
                return p
        raise NotFoundError(
            f"找不到货号为 {sku} 的商品",
            message_en=f"no product with sku {sku!r}",
            hint="可用的货号：" + "、".join(p.sku for p in self.products[:20]),
        )

    def store_promotions(self, now: datetime) -> list[Promotion]:
        """The shop-wide promotions and coupons running at ``now`` (promotions first)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        return [p for p in (*self.shop.promotions, *self.shop.coupons) if p.is_active(now)]

    def facts(self, sku: str | None, now: datetime) -> Facts:
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        store = self.store_promotions(now)
        if not sku:  # no product page: the store's promotions, so a reply listing them can be checked
            return Facts(low_stock_threshold=self.shop.low_stock_threshold, now=now, store_promotions=store,
                         promotions=[pr for p in self.products for pr in p.promotions])
        p = self.get(sku)
        return Facts(
            sku=p.sku,
            name=p.name,
            price=p.price_at(now),
            stock=p.stock,
            low_stock_threshold=self.shop.low_stock_threshold,
            promotions=list(p.promotions),
            store_promotions=store,
            next_price=p.next_price,
            now=now,
        )


from .catalog_io import (  # noqa: E402  (parsing needs the models above)
    CatalogFile,
    load_catalog,
    load_store_catalog,
    merge_catalog_files,
    parse_catalog,
)

__all__ = [
    "DEFAULT_TZ", "DEFAULT_UNIT", "Promotion", "SizeChart", "NextPrice", "FAQ", "Variant", "Product", "Shop",
    "Facts", "Catalog", "CatalogFile", "load_catalog", "load_store_catalog", "merge_catalog_files", "parse_catalog",
]
