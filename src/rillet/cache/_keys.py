"""Cache keys: the default ``key_func``, and the namespaces LangGraph uses."""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

from rillet.checkpoint.serde import SerializationError, Serializer

#: The first part of every node's namespace (LangGraph's).
WRITES_NS = "__pregel_ns_writes"

_SERDE = Serializer()


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """The input (a task's arguments) encoded with dict keys sorted, so two equal
    inputs built in another order share a key. An input rillet's serializer cannot
    encode is pickled instead: only dumped to make a key, never loaded."""
    frozen = [_sorted(args), _sorted(kwargs)]
    try:
        return _SERDE.dumps(frozen)
    except (SerializationError, TypeError, ValueError):
        return pickle.dumps(frozen, protocol=5)


def _sorted(obj: Any, depth: int = 0) -> Any:
    if depth > 20:
        return obj
    if isinstance(obj, dict):
        items = [(k, _sorted(v, depth + 1)) for k, v in obj.items()]
        try:
            items.sort(key=lambda kv: kv[0])
        except TypeError:
            items.sort(key=lambda kv: repr(kv[0]))
        return ["__dict__", items]
    if isinstance(obj, list | tuple):
        return [_sorted(v, depth + 1) for v in obj]
    return obj


def digest(key: str | bytes) -> str:
    """A ``key_func``'s result as the stored key (fixed length, whatever its size)."""
    data = key.encode() if isinstance(key, str) else key
    if not isinstance(data, bytes | bytearray):
        raise TypeError(
            f"CachePolicy.key_func must return str or bytes, got {type(key).__name__}"
        )
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def identifier(fn: Any) -> str:
    """What a node's namespace names it by: ``module.qualname`` of its function, or
    ``"__dynamic__"`` for an object without one (a compiled graph, a ``ToolNode``)."""
    qualname = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module, str):
        return "__dynamic__"
    return f"{module}.{qualname}"
