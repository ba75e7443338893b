"""Where orders come from when a request sends only an order id.

``OrderSource.get(order_id)`` is the connector a shop implements against its platform (Taobao/Tmall 交易 API,
JD 订单 API, Shopify Admin API…): look the order up and map it to ``Order``. ``FileOrderSource`` reads a JSON
or YAML file of orders (a list, or a mapping by id): for tests, demos, and shops that export orders.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import ConfigError
from .model import Order


class OrderSource(ABC):
    @abstractmethod
    def get(self, order_id: str) -> Order | None:
        """The order with this id, or None when the platform does not know it."""


class FileOrderSource(OrderSource):
    """Orders from one JSON or YAML file, read once (and again when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: float | None = None
        self._orders: dict[str, Order] = {}

    def get(self, order_id: str) -> Order | None:
        self._load()
        return self._orders.get(order_id)

    def _load(self) -> None:
        try:
            stamp = self.path.stat().st_mtime
        except OSError as exc:
            raise ConfigError(f"订单文件无法读取：{self.path}（{exc.strerror}）",
                              message_en=f"cannot read orders file {self.path}",
                              hint="检查 orders_file 设置指向的文件是否存在") from None
        if stamp == self._stamp:
            return
        text = self.path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if self.path.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"订单文件格式有误：{self.path}（{str(exc).splitlines()[0]}）",
                              message_en=f"malformed orders file {self.path}",
                              hint="订单文件是 JSON 或 YAML：订单的列表，或以订单号为键的映射") from None
        rows = list(data.values()) if isinstance(data, dict) else data if isinstance(data, list) else None
        if rows is None:
            raise ConfigError(f"订单文件格式有误：{self.path}（应为订单的列表或映射）",
                              message_en=f"orders file {self.path} is not a list or mapping")
        orders: dict[str, Order] = {}
        for i, row in enumerate(rows, 1):
            try:
                o = Order.model_validate(row)
            except ValidationError as exc:
                raise ConfigError(f"订单文件第 {i} 条有误：{exc.errors()[0]['msg']}（{self.path}）",
                                  message_en=f"orders file {self.path}: entry {i} is invalid") from None
            if o.order_id:
                orders[o.order_id] = o
        self._orders, self._stamp = orders, stamp


class MemoryOrderSource(OrderSource):
    """Orders held in memory (a deterministic fake for tests, or a cache in front of a platform connector)."""

    def __init__(self, orders: list[Order] | None = None) -> None:
        self._orders = {o.order_id: o for o in orders or [] if o.order_id}

    def get(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)
