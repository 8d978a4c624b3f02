"""Node caching: a node (or ``@task``) with a ``CachePolicy`` whose input was seen
before returns its earlier writes without running.

``from rillet.cache.memory import InMemoryCache`` (LangGraph: ``langgraph.cache.memory``)
and ``rillet.cache.sqlite.SqliteCache`` (LangGraph: ``langgraph.cache.sqlite``) share
the API of :class:`~rillet.cache.base.BaseCache`.
"""

from __future__ import annotations

from rillet.cache.base import BaseCache
from rillet.cache.memory import InMemoryCache

__all__ = ["BaseCache", "InMemoryCache"]
