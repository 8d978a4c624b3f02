"""``BaseCache``: the one extension point of node caching.

A cache maps a *full key*, ``(namespace, key)``, to a value with an optional time to
live. The runtime asks for the entries of every cached task of a step at once
(:meth:`BaseCache.get`), writes one entry when a cached task finishes
(:meth:`BaseCache.set`), and ``CompiledStateGraph.clear_cache()`` clears namespaces
(:meth:`BaseCache.clear`). A backend writes those three sync methods; the async ones
call them, in a worker thread when the backend says it ``blocking``.

Values are stored with rillet's :class:`~rillet.checkpoint.serde.Serializer` (JSON with
tagged objects, never pickle): a cache file someone tampered with can give back wrong
data but cannot run code. ``compile(cache=...)`` registers the state schema's classes
with the cache's serializer, so they come back as themselves.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

from rillet.checkpoint.serde import Serializer

__all__ = ["BaseCache", "FullKey", "Namespace"]

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


class BaseCache(ABC, Generic[ValueT]):
    """Base class of a cache: implement :meth:`get`, :meth:`set` and :meth:`clear`.

    ``clock`` (seconds since the epoch, ``time.time`` by default) is when now is, for
    ttls; a test passes its own to expire entries without sleeping.
    """

    #: Whether the sync methods block on I/O: the async ones then run them in a
    #: worker thread instead of on the event loop.
    blocking: bool = False

    def __init__(
        self,
        *,
        serde: Serializer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.serde = serde if serde is not None else Serializer()
        self.clock: Callable[[], float] = clock if clock is not None else time.time

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The live entries among ``keys`` (a missing or expired one is left out)."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        """Store each value with its ttl in seconds (``None``: no expiry)."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the entries of ``namespaces``; with ``None``, every entry."""

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Async :meth:`get`."""
        if self.blocking:
            return await asyncio.to_thread(self.get, keys)
        return self.get(keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        """Async :meth:`set`."""
        if self.blocking:
            await asyncio.to_thread(self.set, pairs)
        else:
            self.set(pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Async :meth:`clear`."""
        if self.blocking:
            await asyncio.to_thread(self.clear, namespaces)
        else:
            self.clear(namespaces)

    def expiry(self, ttl: float | None) -> float | None:
        """When an entry written now with ``ttl`` expires (``None``: never)."""
        return None if ttl is None else self.clock() + ttl

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


