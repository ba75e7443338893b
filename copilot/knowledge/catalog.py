"""The shop's product catalog: typed models, loading, and time-aware facts.

The catalog is the source of truth for prices, stock, size charts and
promotions. Drafting quotes it and the tone rules check claims against it, so
time is always explicit (``now``) and never read from the clock here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import KnowledgeFileError, NotFoundError, first_error

DEFAULT_TZ = "Asia/Shanghai"


def _to_str(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


Text = Annotated[str, BeforeValidator(_to_str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Promotion(_Strict):
    title: str
    discount: Text = ""
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


class Product(_Strict):
    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list, description="商品简称：买家常用的叫法")
    category: str
    price: float = Field(gt=0)
    original_price: float | None = None
    stock: int = Field(ge=0)
    specs: dict[str, Text] = Field(default_factory=dict)
    size_chart: SizeChart | None = None
    promotions: list[Promotion] = Field(default_factory=list)
    next_price: NextPrice | None = None
    faqs: list[FAQ] = Field(default_factory=list)

    def active_promotions(self, now: datetime) -> list[Promotion]:
        return [p for p in self.promotions if p.is_active(now)]

    def describe(self) -> str:
        """Stable product text for retrieval (no stock or promotions: those change hourly)."""
        price = f"¥{self.price:g}"
        if self.original_price and self.original_price > self.price:
            price += f"（划线价¥{self.original_price:g}）"
        lines = [f"【商品】{self.name}（货号 {self.sku}）"]
        if self.aliases:
            lines.append("简称：" + "、".join(self.aliases))
        lines.append(f"类目：{self.category}；售价：{price}")
        if self.specs:
            lines.append("规格参数：" + "；".join(f"{k}：{v}" for k, v in self.specs.items()))
        if self.size_chart:
            lines.append(self.size_chart.as_text())
        return "\n".join(lines)


class Shop(_Strict):
    name: str = "本店"
    low_stock_threshold: int = Field(default=10, ge=0)
    timezone: str = DEFAULT_TZ

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v


class Facts(BaseModel):
    """What the rules may rely on for one product at one moment."""

    sku: str | None = None
    name: str | None = None
    price: float | None = None
    stock: int | None = None
    low_stock_threshold: int = 10
    promotions: list[Promotion] = Field(default_factory=list)
    next_price: NextPrice | None = None
    now: datetime

    @property
    def active_promotions(self) -> list[Promotion]:
        return [p for p in self.promotions if p.is_active(self.now)]


class Catalog(_Strict):
    shop: Shop = Field(default_factory=Shop)
    products: list[Product] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _localize(cls, data: Any) -> Any:
        """Naive datetimes in the file are read in the shop's time zone."""
        if not isinstance(data, dict):
            raise ValueError("catalog 顶层必须是包含 shop 与 products 的映射")
        tz = ZoneInfo(((data.get("shop") or {}).get("timezone")) or DEFAULT_TZ)
        for product in data.get("products") or []:
            if not isinstance(product, dict):
                continue
            for promo in product.get("promotions") or []:
                for key in ("starts_at", "ends_at"):
                    if isinstance(promo, dict):
                        promo[key] = _localize(promo.get(key), tz)
            if isinstance(product.get("next_price"), dict):
                product["next_price"]["effective_at"] = _localize(product["next_price"].get("effective_at"), tz)
        return data

    @model_validator(mode="after")
    def _unique_skus(self) -> "Catalog":
        seen: set[str] = set()
        for p in self.products:
            if p.sku in seen:
                raise ValueError(f"货号重复：{p.sku}")
            seen.add(p.sku)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.shop.timezone)

    def get(self, sku: str) -> Product:
        for p in self.products:
            if p.sku.lower() == sku.strip().lower():
                return p
        raise NotFoundError(
            f"找不到货号为 {sku} 的商品",
            message_en=f"no product with sku {sku!r}",
            hint="可用的货号：" + "、".join(p.sku for p in self.products[:20]),
        )

    def facts(self, sku: str | None, now: datetime) -> Facts:
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        if not sku:
            return Facts(low_stock_threshold=self.shop.low_stock_threshold, now=now)
        p = self.get(sku)
        return Facts(
            sku=p.sku,
            name=p.name,
            price=p.price,
            stock=p.stock,
            low_stock_threshold=self.shop.low_stock_threshold,
            promotions=list(p.promotions),
            next_price=p.next_price,
            now=now,
        )


def _localize(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def parse_catalog(text: str, path: str = "catalog.yaml") -> Catalog:
    """Parse catalog YAML text, turning every problem into a ``KnowledgeFileError``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else ""
        raise KnowledgeFileError(path, f"YAML 格式错误{where}：{getattr(exc, 'problem', exc)}", reason_en=str(exc)) from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        loc, msg = first_error(exc)
        raise KnowledgeFileError(
            path, f"字段 {loc} 不合法：{msg}（共 {exc.error_count()} 处错误）", reason_en=str(exc)
        ) from None


def load_catalog(path: Path) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeFileError(str(path), f"无法读取：{exc}") from None
    return parse_catalog(text, str(path))


class CatalogFile:
    """The catalog on disk, re-read when the file changes (agents edit stock and promotions all day)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cached: tuple[float, Catalog] | None = None

    def get(self) -> Catalog | None:
        if not self.path.exists():
            return None
        mtime = self.path.stat().st_mtime
        if self._cached is None or self._cached[0] != mtime:
            self._cached = (mtime, load_catalog(self.path))
        return self._cached[1]
