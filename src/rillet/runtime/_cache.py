"""The runtime side of node caching (``compile(cache=...)``, ``CachePolicy``).

Before a step runs, :func:`match_cached` asks the cache for the entries of all its
tasks with a policy in one call; a task found there is done: it takes the stored
writes and routes (what its ``Command``, ``Send``s and conditional edges chose, as in
LangGraph) and its node is not called. A task that runs and finishes writes its entry
(:func:`store_call`); one that fails or pauses writes none.

A cache is an optimisation, so its failures do not fail the run (LangGraph's do): a
read that raises, or an entry that does not decode or does not fit the graph (written
by another version, or tampered with), is a miss, and a write that raises is skipped;
each is logged as a warning on the ``rillet.cache`` logger.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from rillet.errors import UsageError
from rillet.runtime._effects import Call, Failure
from rillet.runtime._observe import update_view
from rillet.types import Send

if TYPE_CHECKING:
    from rillet.cache.base import BaseCache
    from rillet.checkpoint.serde import Serializer
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._context import Task
    from rillet.runtime._loop import Loop

logger = logging.getLogger("rillet.cache")

#: The first part of every node's namespace (LangGraph's).
WRITES_NS = "__pregel_ns_writes"


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """The input (a task's arguments) encoded with dict keys sorted, so two equal
    inputs built in another order share a key. An input rillet's serializer cannot
    encode is pickled instead: only dumped to make a key, never loaded."""
    import pickle

    from rillet.checkpoint.serde import SerializationError

    frozen = [_sorted(args), _sorted(kwargs)]
    try:
        return _serde().dumps(frozen)
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
        return ("__dict__", items)  # a tuple: sequences became lists, so no clash
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
    ``"__dynamic__"`` for an object without one (a compiled graph, a ``partial``)."""
    qualname = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module, str):
        return "__dynamic__"
    return f"{module}.{qualname}"


@functools.cache
def _serde() -> Serializer:
    from rillet.checkpoint.serde import Serializer

    return Serializer()


def check_policy(what: str, policy: Any) -> Any:
    from rillet.types import CachePolicy

    if policy is not None and not isinstance(policy, CachePolicy):
        raise UsageError(
            f"{what}: expected a rillet.types.CachePolicy, got "
            f"{type(policy).__module__}.{type(policy).__qualname__}"
        )
    return policy


def use_cache(graph: CompiledStateGraph, cache: Any, schemas: Any) -> None:
    """Give ``graph`` its ``compile(cache=...)``: each cached node's namespace, and
    the state's classes registered with the cache's serializer."""
    from rillet.cache.base import BaseCache

    if not isinstance(cache, BaseCache):
        kind = type(cache)
        raise UsageError(
            f"compile(cache=...) takes a rillet cache (InMemoryCache, SqliteCache, or a "
            f"rillet.cache.base.BaseCache subclass), got {kind.__module__}.{kind.__qualname__}"
        )
    graph.cache = cache
    for spec in graph.nodes.values():
        fn = spec.subgraph if spec.subgraph is not None else spec.fn
        spec.cache_ns = (WRITES_NS, identifier(fn), spec.name)
    graph.cached = any(spec.cache_policy is not None for spec in graph.nodes.values())
    for cls in schemas:
        cache.serde.register_annotations(cls)


def cache_key(task: Task, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
              ) -> None:
    """Set ``task.cache_key`` from its policy: the node's input, or a ``@task``'s
    ``args`` and ``kwargs`` when given."""
    node = task.node
    policy = node.cache_policy
    if args or kwargs is not None:
        raw = policy.key_func(*args, **(kwargs or {}))
    else:
        raw = policy.key_func(task.input)
    task.cache_key = ((node.cache_ns, digest(raw)), policy.ttl)


def match_cached(loop: Loop, tasks: list[Task]) -> Generator[Call, Any, list[Task]]:
    """Look the step's cached tasks up; those found are done. Returns the rest."""
    cache: BaseCache[Any] = loop.graph.cache
    wanted: dict[Any, list[Task]] = {}
    for task in tasks:
        if task.node.cache_policy is not None:
            try:
                cache_key(task)
            except Exception as exc:
                exc.add_note(f"While making the cache key of node {task.name!r}")
                raise
            wanted.setdefault(task.cache_key[0], []).append(task)
    if not wanted:
        return tasks
    found = yield Call(cache.get, (list(wanted),), afn=cache.aget)
    if found.__class__ is Failure:
        logger.warning("cache read failed, running the nodes: %r", found.error)
        return tasks
    for full, entry in found.items():
        # Every task with the key takes the entry (LangGraph gives it to one of them).
        for task in wanted.get(full, ()):
            if not restore(loop, task, entry):
                logger.warning("cache entry of node %r does not fit the graph: a miss",
                               task.name)
                break
            for observer in loop.observers:
                observer.task_cached(loop, task)
    return [t for t in tasks if not t.done]


def restore(loop: Loop, task: Task, entry: Any) -> bool:
    """Make ``task`` done with a stored entry; ``False`` if the entry is not one."""
    if not isinstance(entry, dict):
        return False
    writes, goto = entry.get("writes"), entry.get("goto")
    channels = loop.graph.channels
    if not isinstance(writes, list) or not isinstance(goto, list) or not all(
        isinstance(w, list) and len(w) == 2 and w[0] in channels for w in writes
    ) or not all(isinstance(g, str | Send) for g in goto):
        return False
    try:
        loop._check_destinations(task.name, goto)
    except Exception:
        return False
    task.writes = [(k, v) for k, v in writes]
    task.goto = [*task.node.edges, *goto]
    task.result = entry.get("view")
    task.done = True
    return True


def store_call(loop: Loop, task: Task) -> Call:
    """The cache write of a task that finished."""
    cache: BaseCache[Any] = loop.graph.cache
    full, ttl = task.cache_key
    entry = {
        "view": update_view(task.result, task.writes, task.node),
        "writes": [[k, v] for k, v in task.writes],
        "goto": task.goto[len(task.node.edges):],  # the static edges are the graph's
    }
    return Call(cache.set, ({full: (entry, ttl)},), afn=cache.aset)


def stored(task: Task, outcome: Any) -> None:
    """Log a cache write that failed."""
    if outcome.__class__ is Failure:
        logger.warning("cache write of node %r failed: %r", task.name, outcome.error)
