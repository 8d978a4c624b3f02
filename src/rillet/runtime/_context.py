"""The typed run context: how code inside a run (nodes, tools, models) finds the run.

A :class:`Task` is set in a context variable while its node runs, so a stream writer,
``get_config()`` or a model called anywhere below the node reaches the run's bus and
metadata without any ``config`` passed by hand.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from hashlib import sha1 as _sha1
from typing import TYPE_CHECKING, Any, TypeVar

from rillet._constants import NS_END, NS_SEP
from rillet.errors import StreamClosedError
from rillet.stream._events import CustomEvent, Event, Namespace

if TYPE_CHECKING:
    import asyncio

    from rillet.graph._node import NodeSpec
    from rillet.runtime._runtime import Runtime
    from rillet.runtime._workers import LoopThread

T = TypeVar("T")


def _drop(_: Any) -> None:
    """The writer of a run that does not stream ``custom``: costs one call."""



def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building the ``UUID``: a task id is
    made for every task of every step."""
    digest = bytearray(_sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

class RootRun:
    """What one root run shares with all its subgraph runs: what the consumer asked
    for, the bus, the run's identity, its stop flag and its event loop for async code.
    """

    __slots__ = (
        "_loop_thread",
        "async_loop",
        "bus",
        "closed",
        "modes",
        "put",
        "resume_map",
        "run_id",
        "seen_message_ids",
        "store",
        "subgraphs",
        "uuid",
    )

    def __init__(
        self,
        modes: frozenset[str],
        subgraphs: bool,
        put: Callable[[Event], None] | None,
        bus: Any = None,
        run_id: str | None = None,
    ) -> None:
        self.modes = modes
        self.subgraphs = subgraphs
        #: The bus's ``put``, or ``None`` when nothing streams (``invoke``).
        self.put = put
        #: The run's bus (``SyncBus``/``AsyncBus``), or ``None`` when nothing streams.
        self.bus = bus
        self.seen_message_ids: set[str] = set()
        self.uuid = uuid.UUID(run_id) if run_id else uuid.uuid4()
        self.run_id = str(self.uuid)
        #: Set once the run is stopped (consumer left, cancelled, failed): nothing
        #: starts afterwards, and models stop pulling tokens.
        self.closed = False
        #: The event loop the async code of this run runs on, when the run is driven
        #: from async code; a sync run starts a loop thread on first need.
        self.async_loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: LoopThread | None = None
        #: The answers of ``Command(resume=...)``, by interrupt id, for this run.
        self.resume_map: dict[str, Any] | None = None
        #: The graph's store (``compile(store=...)``), reachable from every level.
        self.store: Any = None

    def run_coroutine(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this run's event loop from sync code, and wait for it.

        :raises StreamClosedError: if the run was stopped meanwhile.
        """
        import asyncio
        import concurrent.futures

        from rillet.runtime._workers import LoopThread

        if self.closed:
            coro.close()
            raise StreamClosedError("the run was stopped")
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        holder = self._loop_thread
        run_loop = self.async_loop or (holder.loop if holder is not None else None)
        if running is not None and running is run_loop:
            # Sync code called on the run's own loop (``sub.invoke()`` inside an async
            # node), which it now blocks: a loop of its own, since a loop cannot wait
            # for itself.
            private = LoopThread()
            try:
                return private.run(coro)
            finally:
                private.close()
        if self.async_loop is not None:
            # A sync node of an async run: its coroutines go to the run's loop.
            future = asyncio.run_coroutine_threadsafe(coro, self.async_loop)
            try:
                return future.result()
            except concurrent.futures.CancelledError:
                raise StreamClosedError("the run was stopped") from None
        if holder is None:
            with _loop_lock:  # parallel async nodes: one loop for the run, made once
                if self.closed:  # stopped meanwhile: no loop thread after release()
                    coro.close()
                    raise StreamClosedError("the run was stopped")
                holder = self._loop_thread
                if holder is None:
                    holder = self._loop_thread = LoopThread()
        try:
            return holder.run(coro)
        except asyncio.CancelledError:
            if self.closed:
                raise StreamClosedError("the run was stopped") from None
            raise

    def close(self) -> None:
        """Stop the run: refuse further items, cancel the async code it runs."""
        self.closed = True
        bus = self.bus
        if bus is not None:
            bus.close()
        holder = self._loop_thread
        if holder is not None:
            holder.cancel_all()

    def release(self) -> None:
        """Free the run's loop thread once the run is over."""
        with _loop_lock:
            self.closed = True
            holder, self._loop_thread = self._loop_thread, None
        if holder is not None:
            holder.close()


StreamSettings = RootRun


class RunContext:
    """One graph run (the root run, or a subgraph run inside a task)."""

    __slots__ = (
        "config",
        "context",
        "loop",
        "ns",
        "parent_ids",
        "persist",
        "put",
        "run_id",
        "seed",
        "settings",
        "want_checkpoints",
        "want_custom",
        "want_debug",
        "want_events",
        "want_messages",
        "want_tasks",
        "want_updates",
        "want_values",
    )

    def __init__(
        self,
        settings: RootRun,
        config: dict[str, Any],
        ns: Namespace,
        parent_ids: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.config = config
        self.ns = ns
        #: What task ids derive from: the run id, or the checkpoint a step starts from
        #: when the run is saved (so a resumed run finds its tasks again).
        self.seed = settings.uuid
        #: The run's checkpointer side (:class:`~rillet.runtime._persist.Persister`).
        self.persist: Any = None
        #: The loop running this graph run (set by the loop).
        self.loop: Any = None
        #: The run's ``context=`` (as the graph's ``context_schema``), which graphs
        #: run inside its nodes inherit unless given their own.
        self.context: Any = None
        put = settings.put
        # astream_events sees every level; the other modes see subgraphs on request.
        self.want_events = put is not None and "events" in settings.modes
        emit = put is not None and (not ns or settings.subgraphs)
        modes = settings.modes if emit else frozenset()
        self.put: Callable[[Event], None] = (
            put if (put is not None and (emit or self.want_events)) else _drop
        )
        self.run_id = (
            (settings.run_id if not ns else str(uuid.uuid4())) if self.want_events else ""
        )
        #: Run ids from the root down to this graph run (itself included).
        self.parent_ids = (*parent_ids, self.run_id)
        self.want_values = "values" in modes
        self.want_updates = "updates" in modes
        self.want_custom = "custom" in modes
        self.want_messages = "messages" in modes
        self.want_debug = "debug" in modes
        self.want_tasks = "tasks" in modes
        self.want_checkpoints = "checkpoints" in modes

    @property
    def root(self) -> RootRun:
        return self.settings

    def make_writer(self) -> Callable[[Any], None]:
        if not self.want_custom:
            return _drop
        bus = self.settings.bus
        if hasattr(bus, "make_put"):
            writer: Callable[[Any], None] = bus.make_put(CustomEvent, self.ns)
            return writer
        put, ns = self.put, self.ns

        def write(data: Any) -> None:
            put(CustomEvent(ns, data))

        return write


class Task:
    """One node execution in one superstep, and the context its code runs in."""

    __slots__ = (
        "_config",
        "_id",
        "_metadata",
        "_runtime",
        "abandoned",
        "attempt",
        "cache_key",
        "calls",
        "done",
        "error",
        "goto",
        "input",
        "interrupt_counts",
        "interrupts",
        "node",
        "path",
        "paused",
        "result",
        "resume",
        "resuming",
        "run",
        "step",
        "triggers",
        "writer",
        "writes",
    )

    # Set only when used (most tasks never need them), so declared, not assigned:
    _runtime: Runtime[Any] | None
    attempt: int
    """Which attempt of the node's retry policy runs (1-indexed), once retried."""

    def __init__(
        self,
        run: RunContext,
        node: NodeSpec,
        step: int,
        input: Any,
        triggers: tuple[str, ...],
        path: tuple[Any, ...],
        writer: Callable[[Any], None],
    ) -> None:
        self.run = run
        self.node = node
        self.step = step
        self.input = input
        self.triggers = triggers
        self.path = path
        self.writer = writer
        self._id: str | None = None
        self._metadata: dict[str, Any] | None = None
        self._config: dict[str, Any] | None = None
        self.result: Any = None
        self.writes: list[tuple[str, Any]] = []
        self.goto: list[Any] = []
        self.error: BaseException | None = None
        #: Set when the task's step failed elsewhere: it stops at its next effect.
        self.abandoned = False
        #: Set when the task's writes were saved by an earlier, interrupted attempt of
        #: its step: it does not run again.
        self.done = False
        #: The task paused: ``interrupt()`` calls (``interrupts``), or a subgraph in it
        #: stopped at its ``interrupt_before``/``after`` (no interrupts).
        self.paused = False
        #: What the task's ``interrupt()`` calls asked, when it paused.
        self.interrupts: tuple[Any, ...] = ()
        #: The answers its ``interrupt()`` calls have received, by interrupt id.
        self.resume: dict[str, Any] | None = None
        self.interrupt_counts: dict[str, int] | None = None
        #: The task runs again after an interrupt: a subgraph in it continues from
        #: its own saved state instead of starting over.
        self.resuming = False
        #: The functional API's calls made by this task (``rillet.func``), or ``None``.
        self.calls: Any = None
        #: ``((namespace, key), ttl)`` of a task whose node has a cache policy, once
        #: looked up; ``None`` otherwise.
        self.cache_key: Any = None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def id(self) -> str:
        task_id = self._id
        if task_id is None:
            # Deterministic: the same run, step, place and triggers give the same id
            # (a resumed run finds its tasks again).
            key = f"{NS_SEP.join(self.run.ns)}|{self.step}|{self.path!r}|{self.triggers!r}"
            task_id = self._id = uuid5_text(self.run.seed, key)
        return task_id

    @property
    def checkpoint_ns(self) -> str:
        own = f"{self.node.name}{NS_END}{self.id}"
        return NS_SEP.join((*self.run.ns, own)) if self.run.ns else own

    @property
    def metadata(self) -> dict[str, Any]:
        """``config["metadata"]`` inside the node: the run's metadata and the
        ``langgraph_*`` keys."""
        meta = self._metadata
        if meta is None:
            config = self.run.config
            meta = with_run_ids(config)
            meta["ls_integration"] = "langgraph"
            meta["langgraph_step"] = self.step
            meta["langgraph_node"] = self.node.name
            meta["langgraph_triggers"] = self.triggers
            meta["langgraph_path"] = self.path
            meta["langgraph_checkpoint_ns"] = self.checkpoint_ns
            if self.run.ns:  # as LangGraph: the namespace of the graph this task runs in
                meta["checkpoint_ns"] = NS_SEP.join(self.run.ns)
            self._metadata = meta
        return meta

    @property
    def config(self) -> dict[str, Any]:
        """The run config as the node sees it (what ``get_config()`` returns)."""
        cfg = self._config
        if cfg is None:
            base = self.run.config
            cfg = {k: v for k, v in base.items() if k not in ("metadata", "configurable")}
            cfg["metadata"] = self.metadata
            configurable = dict(base.get("configurable") or ())
            configurable["checkpoint_ns"] = self.checkpoint_ns
            configurable["task_id"] = self.id
            cfg["configurable"] = configurable
            cfg.setdefault("tags", [])
            cfg.setdefault("callbacks", None)
            self._config = cfg
        return cfg

    @property
    def runtime(self) -> Runtime[Any]:
        """The task's :class:`~rillet.runtime.Runtime`, made on first request (a node
        that never asks for it costs nothing)."""
        try:
            runtime = self._runtime
        except AttributeError:
            runtime = None
        if runtime is None:
            from rillet.runtime._runtime import make_runtime

            runtime = self._runtime = make_runtime(self)
        return runtime

    def message_metadata(
        self, extra: dict[str, Any] | None = None, tags: list[str] | tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The metadata of a ``messages`` item produced inside this task."""
        meta = dict(self.metadata)
        # As LangGraph: in a subgraph, the graph's namespace; at the root, the task's.
        meta.setdefault("checkpoint_ns", meta["langgraph_checkpoint_ns"])
        if extra:
            meta.update(extra)
        run_tags = self.run.config.get("tags") or ()
        all_tags = list(dict.fromkeys([*run_tags, *tags]))
        if all_tags:  # as LangGraph: no ``tags`` key when there are none
            meta["tags"] = all_tags
        return meta

    @property
    def event_tags(self) -> list[str]:
        """Tags of this task's ``astream_events`` events."""
        return [f"graph:step:{self.step}", *(self.run.config.get("tags") or ())]

    def child_parent_ids(self) -> tuple[str, ...]:
        """Run ids above a run nested in this task."""
        return (*self.run.parent_ids, self.id)

    def child_ns(self) -> Namespace:
        """The namespace of a subgraph run inside this task."""
        return (*self.run.ns, f"{self.node.name}{NS_END}{self.id}")

    def __repr__(self) -> str:
        return f"Task(node={self.node.name!r}, step={self.step}, path={self.path!r})"


_loop_lock = threading.Lock()

#: ``configurable`` keys LangGraph copies into a task's metadata.
PROPAGATED = (
    "thread_id", "checkpoint_id", "checkpoint_ns", "task_id", "run_id", "assistant_id",
    "graph_id",
)


def with_run_ids(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config["metadata"]`` with the run's scalar ids copied in from
    ``configurable`` (as LangGraph does; keys the metadata has stay)."""
    metadata = dict(config.get("metadata") or ())
    configurable = config.get("configurable")
    if configurable:
        for key in PROPAGATED:
            value = configurable.get(key)
            if key not in metadata and isinstance(value, str | int | float | bool):
                metadata[key] = value
    return metadata

current_task: ContextVar[Task | None] = ContextVar("rillet_current_task", default=None)


def running_task(caller: str, inside: str = "a node, or a tool or function called from one"
                 ) -> Task:
    """The task running now, for ``caller`` (``"get_config()"``...).

    :raises OutsideRunError: outside a running graph, saying to call it ``inside``.
    """
    task = current_task.get()
    if task is None:
        from rillet.errors import OutsideRunError

        raise OutsideRunError(
            f"{caller} was called outside a running graph: call it inside {inside}."
        )
    return task

