"""Long-term memory for graphs: a store of JSON documents in namespaces.

``from rillet.store import InMemoryStore`` (LangGraph: ``langgraph.store.memory``);
``rillet.store.sqlite.SqliteStore`` and ``rillet.store.postgres.PostgresStore`` keep the
same data in a database. All share the API of :class:`BaseStore`.
"""

from __future__ import annotations

from rillet.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from rillet.store.memory import InMemoryStore

__all__ = [
    "BaseStore",
    "GetOp",
    "InMemoryStore",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "PutOp",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
]
