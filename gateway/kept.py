"""What the gateway keeps in memory between requests: a bounded map, least recently used out first.

One mechanism for every such memory (verified tokens, readers of links, documents as HTML, files
recorded lately): each says only its key, its value, its size and, if it must be forgotten after a
while, how long it is kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    """At most `size` values; with `ttl`, a value is forgotten that long after it was put."""

    def __init__(self, size: int, ttl: timedelta | None = None) -> None:
        self._size = size
        self._ttl = ttl.total_seconds() if ttl is not None else None
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        kept = self._values.get(key)
        if kept is None:
            return None
        if self._ttl is not None and time.monotonic() - kept[0] > self._ttl:
            del self._values[key]
            return None
        self._values.move_to_end(key)
        return kept[1]

    def put(self, key: K, value: V) -> None:
        self._values[key] = (time.monotonic(), value)
        self._values.move_to_end(key)
        while len(self._values) > self._size:
            self._values.popitem(last=False)
