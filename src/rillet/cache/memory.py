"""``InMemoryCache``: entries in a dict, for one process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rillet.cache.base import BaseCache, FullKey, Namespace
from rillet.checkpoint.serde import Serializer

__all__ = ["InMemoryCache"]


class InMemoryCache(BaseCache[Any]):
    """A cache in memory, safe to share between threads and graphs.

    Values are stored encoded, as a database cache would store them, so a cached value
    is a new object each time and mutating it cannot change the cache.
    """

    def __init__(
        self,
        *,
        serde: Serializer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(serde=serde, clock=clock)
        self._entries: dict[Namespace, dict[str, tuple[bytes, float | None]]] = {}
        self._lock = threading.Lock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        found: dict[FullKey, bytes] = {}
        now = self.clock()
        with self._lock:
            for ns, key in keys:
                entries = self._entries.get(ns)
                entry = entries.get(key) if entries is not None else None
                if entry is None:
                    continue
                data, expiry = entry
                if expiry is not None and now >= expiry:
                    del entries[key]  # type: ignore[union-attr]
                    continue
                found[(ns, key)] = data
        loads = self.serde.loads
        return {full: loads(data) for full, data in found.items()}

    def set(self, pairs: Mapping[FullKey, tuple[Any, float | None]]) -> None:
        dumps = self.serde.dumps
        encoded = [(ns, key, dumps(value), self.expiry(ttl))
                   for (ns, key), (value, ttl) in pairs.items()]
        with self._lock:
            for ns, key, data, expiry in encoded:
                self._entries.setdefault(ns, {})[key] = (data, expiry)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._entries.clear()
                return
            for ns in namespaces:
                self._entries.pop(tuple(ns), None)
