"""The buyer's order: its record (``Order``) and where it comes from (``OrderSource``)."""

from .model import STATUS_LABELS, AfterSale, Order, OrderItem, TrackingEvent
from .source import FileOrderSource, MemoryOrderSource, OrderSource

__all__ = ["AfterSale", "FileOrderSource", "MemoryOrderSource", "Order", "OrderItem", "OrderSource", "STATUS_LABELS",
           "TrackingEvent"]
