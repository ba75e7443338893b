"""The shop's product catalog: typed models, loading, and time-aware facts.

The catalog is the source of truth for prices, stock, size charts and
promotions. Drafting quotes it and the tone rules check claims against it, so
time is always explicit (``now``) and never read from the clock here.

Every text field is sanitised as it is parsed (``text.safety.neutralize``):
names, aliases, descriptions, spec keys and values, size-chart notes,
promotion titles and FAQs. The composer, the LLM prompt's 商品事实 and the
rules only ever see the sanitised product; what was removed is kept on it
(``Product.flags``, ``Catalog.flags``) for the upload response and the
ingest report.
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
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import KnowledgeFileError, NotFoundError, first_error
from ..text.safety import neutralize

DEFAULT_TZ = "Asia/Shanghai"


def _to_str(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


Text = Annotated[str, BeforeValidator(_to_str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _clean(value: Any, removed: list[str]) -> Any:
    """A text field with instruction-like text, private contacts and review rewards removed (other values as they are)."""
    if not isinstance(value, str):
        return value
    clean, gone = neutralize(value)
    if not gone:
        return value
    removed += gone
    return clean.strip()


def _sanitized_product(data: dict, removed: list[str]) -> dict:
    """The raw product mapping with every text field sanitised; entries left empty by it are dropped."""
    d = dict(data)
    if isinstance(d.get("name"), str) and d["name"].strip():
        name = _clean(d["name"], removed)
        if not name:
            raise ValueError(f"商品名称只包含疑似给 AI 的指令或站外联系方式：{d['name'][:40]}")
        d["name"] = name
    for key in ("category", "description"):
        if key in d:
            d[key] = _clean(d[key], removed)
    if isinstance(d.get("aliases"), list):
        d["aliases"] = [a for a in (_clean(x, removed) for x in d["aliases"]) if a != ""]
    if isinstance(d.get("specs"), dict):
        specs = {}
        for k, v in d["specs"].items():
            # a spec is one line, read as 「key：value」 (「客服微信：kf_8899」 is a contact only when read together):
            # anything flagged in it drops the whole entry
            _, gone = neutralize(f"{k}：{v}")
            if gone:
                removed += gone
                continue
            specs[k] = v
        d["specs"] = specs
    if isinstance(d.get("size_chart"), dict):
        chart = dict(d["size_chart"])
        if "note" in chart:
            chart["note"] = _clean(chart["note"], removed)
        if isinstance(chart.get("columns"), list):
            chart["columns"] = [_clean(c, removed) for c in chart["columns"]]
        if isinstance(chart.get("rows"), list):
            chart["rows"] = [[_clean(c, removed) for c in r] if isinstance(r, list) else r for r in chart["rows"]]
        d["size_chart"] = chart
    if isinstance(d.get("promotions"), list):
        promos = []
        for pr in d["promotions"]:
            if isinstance(pr, dict):
                pr = {**pr, **{k: _clean(pr[k], removed) for k in ("title", "discount") if k in pr}}
                if pr.get("title") == "":
                    continue
            promos.append(pr)
        d["promotions"] = promos
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
    return d


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
    description: str = Field(default="", description="商品介绍（可选）")
    specs: dict[str, Text] = Field(default_factory=dict)
    size_chart: SizeChart | None = None
    promotions: list[Promotion] = Field(default_factory=list)
    next_price: NextPrice | None = None
    faqs: list[FAQ] = Field(default_factory=list)
    _flags: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _sanitize(cls, data: Any, handler) -> "Product":
        """Every text field is sanitised before validation, whoever builds the product."""
        removed: list[str] = []
        if isinstance(data, dict):
            data = _sanitized_product(data, removed)
        product = handler(data)
        if removed:
            product._flags = list(dict.fromkeys(removed))
        return product

    @property
    def flags(self) -> list[str]:
        """What sanitising removed from this product's text (instructions, contacts, review rewards)."""
        return list(self._flags)

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

    def statements(self) -> str:
        """Everything the store says about this product: its description text and its FAQ answers."""
        return "\n".join([self.describe(), *(f"{f.q}{f.a}" for f in self.faqs)])

    def describe(self) -> str:
        """Stable product text for retrieval (no stock or promotions: those change hourly)."""
        price = f"¥{self.price:g}"
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
        if self.size_chart:
            lines.append(self.size_chart.as_text())
        return "\n".join(lines)


class Shop(_Strict):
    name: str = "本店"
    low_stock_threshold: int = Field(default=10, ge=0)
    timezone: str = DEFAULT_TZ
    _flags: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _sanitize(cls, data: Any, handler) -> "Shop":
        removed: list[str] = []
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = {**data, "name": _clean(data["name"], removed) or "本店"}
        shop = handler(data)
        if removed:
            shop._flags = removed
        return shop

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

    @property
    def flags(self) -> dict[str, list[str]]:
        """What sanitising removed, by product sku (``"shop"`` for the shop's own fields); empty when clean."""
        out = {"shop": self.shop._flags} if self.shop._flags else {}
        out.update({p.sku: p.flags for p in self.products if p.flags})
        return out

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
        if not sku:  # no product page: the store's promotions, so a reply listing them can be checked
            return Facts(low_stock_threshold=self.shop.low_stock_threshold, now=now,
                         promotions=[pr for p in self.products for pr in p.promotions])
        p = self.get(sku)
        return Facts(
            sku=p.sku,
            name=p.name,
            price=p.price_at(now),
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
    """The catalog file on disk, re-read when it changes. Drafting and checking use the catalog kept with the
    served index (it takes effect at the reindex); this file is read only where there is no such index."""

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
