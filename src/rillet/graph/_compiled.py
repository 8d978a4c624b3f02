"""``CompiledStateGraph``: the frozen graph, and its ``invoke``/``stream`` API."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rillet._constants import START
from rillet.channels import MISSING
from rillet.graph._branch import BranchSpec
from rillet.graph._config import check_config, check_flag
from rillet.graph._node import NodeSpec
from rillet.graph._run_setup import (
    RunOptions,
    check_input,
    events_table,
    nested_loop,
    no_kwargs,
    on_loop_of,
    root_loop,
    run_id,
)
from rillet.graph._saved_state import SavedStateAPI
from rillet.graph._structure import StructureAPI
from rillet.runtime._context import RootRun, current_task
from rillet.runtime._loop import Loop
from rillet.runtime._runtime import coerce_context
from rillet.runtime._sync import run_sync
from rillet.stream._bus import SyncBus
from rillet.stream._format import (
    Formatter,
    check_version,
    make_formatter,
    normalize_modes,
)
from rillet.types import GraphOutput

if TYPE_CHECKING:
    from rillet.graph._builder import StateGraph
    from rillet.graph._schema import StateSchema
    from rillet.types import Durability, StreamMode


class CompiledStateGraph(SavedStateAPI, StructureAPI):
    """A compiled graph: run it with ``invoke``/``ainvoke``, watch it with
    ``stream``/``astream``. Immutable; one instance serves any number of concurrent
    runs, and can itself be a node of another graph."""

    stream_mode: str = "updates"
    #: Set by ``compile()``: the saver (or None / True / False for a subgraph), the
    #: store, and the nodes to pause around.
    checkpointer: Any = None
    store: Any = None
    interrupt_before: frozenset[str] = frozenset()
    interrupt_after: frozenset[str] = frozenset()
    #: ``compile(cache=...)``, and whether a node has a cache policy (a step looks
    #: its tasks up in the cache only then).
    cache: Any = None
    cached: bool = False
    #: The loop class that runs this graph.
    loop_class: type[Loop] = Loop
    #: The output schema when ``version="v2"`` builds values and output as its class
    #: (pydantic, dataclass); ``None`` when they stay dicts.
    output_object: StateSchema | None = None
    #: What a run's ``context=`` dict is turned into (``StateGraph(context_schema=)``).
    context_schema: Any = None

    def __init__(self, builder: StateGraph, *, name: str) -> None:
        self.name = name
        self.builder = builder
        self.schema = builder.schema
        self.context_schema = builder.context_schema
        #: Every key of the graph: the state's, then those of the other schemas.
        self.channels = builder.keys.channels
        self.input_keys: frozenset[str] = frozenset(builder.input_schema.channels)
        #: What ``invoke`` returns; ``None`` when no key of an explicit output schema
        #: has a value (as LangGraph does).
        self.output_keys: tuple[str, ...] = tuple(builder.output_schema.channels)
        self.output_given = builder.output_schema is not builder.schema \
            and builder.output_schema.kind != "root"
        if builder.output_schema.kind not in ("typeddict", "root"):
            self.output_object = builder.output_schema
        #: Keys a run inside a node leaves out of its ``updates`` items.
        self.hidden_keys = frozenset(self.channels).difference(self.output_keys)
        #: Keys the runtime fills in for each step (``rillet.managed``), often none.
        self.managed = builder.keys.managed
        exact = len(self.channels) == len(self.schema.channels) \
            and len(self.managed) == len(self.schema.managed)
        #: How a node (or a START branch) on the state reads the values.
        self.read_state = self.schema.reader(exact)
        #: What a subgraph node reads: every key (or the one value of a root state).
        self.read_all: Callable[[Mapping[str, Any]], Any] = \
            dict if self.schema.kind != "root" else self.read_state
        nodes = {n: dataclasses.replace(spec) for n, spec in builder.nodes.items()}
        self.node_order: tuple[str, ...] = tuple(nodes)
        self.joins: tuple[tuple[tuple[str, ...], str], ...] = tuple(builder.joins)
        edges: dict[str, list[str]] = {}
        for start, end in builder._edge_order:
            edges.setdefault(start, []).append(end)
        for name_, spec in nodes.items():
            spec.edges = tuple(edges.get(name_, ()))
            spec.joins = tuple(i for i, (srcs, _) in enumerate(self.joins) if name_ in srcs)
            own = spec.input_schema
            spec.read = own.reader(False) if own is not None else self.read_state
            spec.injects = (spec.wants_config or spec.wants_writer or spec.wants_store
                            or spec.wants_runtime)
            spec.branches = tuple(
                self._with_reader(b, spec.read) for b in builder.branches.get(name_, {}).values()
            )
        self.nodes: dict[str, NodeSpec] = nodes
        #: Whether a node waits for the rest (``defer=True``): planning checks it.
        self.deferred = any(spec.defer for spec in nodes.values())
        self.start_edges: tuple[str, ...] = tuple(edges.get(START, ()))
        self.start_branches: tuple[BranchSpec, ...] = tuple(
            self._with_reader(b, self.read_state) for b in builder.branches.get(START, {}).values()
        )

    def _with_reader(self, branch: BranchSpec, source_read: Any) -> BranchSpec:
        """A copy of ``branch`` that reads the values with its own schema (a path
        function annotated with one), else as its source does."""
        own = branch.input_schema
        if own is None:
            read = source_read
        elif own is self.schema:
            read = self.read_state
        else:
            read = own.reader(False)
        return dataclasses.replace(branch, read=read)

    def initial_values(self) -> dict[str, Any]:
        """Values present before the input: reducer keys with an empty value."""
        values: dict[str, Any] = {}
        for key, channel in self.channels.items():
            value = channel.initial()
            if value is not MISSING:
                values[key] = value
        return values

    def _returned(self, output: Any, v2: bool = False) -> Any:
        """A run's output as ``invoke`` returns it: ``None`` when an explicit output
        schema has no key with a value, as in LangGraph; for v2 a ``GraphOutput`` of
        the output (built as the output schema's class) and the interrupts, which v1
        gives under ``"__interrupt__"``."""
        interrupts: tuple[Any, ...] = ()
        if v2 and isinstance(output, dict) and "__interrupt__" in output:
            output = dict(output)
            interrupts = tuple(output.pop("__interrupt__"))
        if not output and self.output_given and isinstance(output, dict):
            output = None
        if not v2:
            return output
        if output is not None and self.output_object is not None:
            output = self.output_object.as_object(output)
        return GraphOutput(output, interrupts)

    def __repr__(self) -> str:
        return f"CompiledStateGraph(name={self.name!r}, nodes={list(self.nodes)!r})"

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Delete the cached writes of ``nodes`` (names; by default every node).

        :raises ValueError: if the graph was compiled without a cache (as LangGraph).
        """
        self._cache_or_raise().clear(self._cache_namespaces(nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async :meth:`clear_cache`."""
        await self._cache_or_raise().aclear(self._cache_namespaces(nodes))

    def _cache_or_raise(self) -> Any:
        if self.cache is None:
            raise ValueError("No cache is set for this graph. Cannot clear cache.")
        return self.cache

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        # Unknown names are skipped, as LangGraph does.
        names = nodes or self.node_order
        return [self.nodes[n].cache_ns for n in names if n in self.nodes]

    # ------------------------------------------------------------------ runs

    def invoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        version: str = "v1",
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end; return the final state (a dict).

        With another ``stream_mode``, return the list of items ``stream`` would yield.
        ``version="v2"`` returns a :class:`~rillet.types.GraphOutput` (``.value``,
        ``.interrupts``) instead, or for another ``stream_mode`` the v2 items. Called
        inside a node, the graph runs as a subgraph of that node's run. With a
        checkpointer, ``input=None`` continues the thread's saved run and
        ``Command(resume=...)`` answers its ``interrupt()``. ``context`` is what nodes
        read as ``runtime.context`` (a dict becomes the graph's ``context_schema``
        when that is a dataclass or pydantic model); a graph run inside a node
        inherits its caller's unless given its own.

        :raises ConfigError: for a ``version`` other than ``"v1"`` or ``"v2"``.
        """
        no_kwargs("invoke", kwargs)
        v2 = check_version(version)
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        if stream_mode != "values":
            return list(self.stream(input, config, stream_mode=stream_mode, context=context,
                                    version=version,
                                    **options.kwargs()))
        parent = current_task.get()
        if parent is not None:
            loop = nested_loop(self, parent, config, context)
            bus = parent.run.settings.bus
            blocking = on_loop_of(parent.run.settings)
            if blocking and bus is not None:
                bus.blocked += 1  # its consumer cannot drain it while we block its loop
            try:
                return self._returned(run_sync(loop, loop.run_steps(input)), v2)
            finally:
                if blocking and bus is not None:
                    bus.blocked -= 1
        cfg = check_config(config)
        root = RootRun(frozenset(), False, None, run_id=run_id(cfg))
        loop = root_loop(self, root, cfg, input, options, context)
        try:
            return self._returned(run_sync(loop, loop.run_steps(input)), v2)
        finally:
            root.closed = True
            root.release()

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        version: str = "v1",
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Async ``invoke``."""
        no_kwargs("ainvoke", kwargs)
        from rillet.runtime._async import run_async

        v2 = check_version(version)
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        if stream_mode != "values":
            return [item async for item in self.astream(
                input, config, stream_mode=stream_mode, context=context, version=version,
                **options.kwargs())]
        parent = current_task.get()
        if parent is not None:
            loop = nested_loop(self, parent, config, context)
            return self._returned(await run_async(loop, loop.run_steps(input)), v2)
        cfg = check_config(config)
        root = RootRun(frozenset(), False, None, run_id=run_id(cfg))
        loop = root_loop(self, root, cfg, input, options, context)
        try:
            return self._returned(await run_async(loop, loop.run_steps(input)), v2)
        finally:
            root.close()

    def stream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        version: str = "v1",
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph and yield what it produces, live.

        One mode yields its items; a list of modes yields ``(mode, item)``;
        ``subgraphs=True`` prefixes the namespace: ``(ns, item)`` or
        ``(ns, mode, item)``. ``version="v2"`` yields every item as a dict
        ``{"type": mode, "ns": ns, "data": item}`` instead (``values`` items add
        ``"interrupts"``), whatever the modes. Leaving the loop early stops the run.

        :raises ConfigError: for an unknown stream mode or version or a bad config, at
            the call.
        """
        no_kwargs("stream", kwargs)
        modes, multi = normalize_modes(stream_mode)
        nested = check_flag("subgraphs", subgraphs)
        table = make_formatter(modes, multi, nested, check_version(version))
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        return self._stream(input, config, frozenset(modes), nested, table, options, context)

    def astream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        version: str = "v1",
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async ``stream``: the same items, from an async generator."""
        no_kwargs("astream", kwargs)
        modes, multi = normalize_modes(stream_mode)
        nested = check_flag("subgraphs", subgraphs)
        table = make_formatter(modes, multi, nested, check_version(version))
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        return self._astream(input, config, frozenset(modes), nested, table, options, context)

    def astream_events(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        context: Any = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield LangChain-shaped event dicts (``event``, ``name``, ``run_id``,
        ``parent_ids``, ``tags``, ``metadata``, ``data``): ``on_chain_start/stream/end``
        for the graph and each node, ``on_chat_model_start/stream/end`` for each model
        call, ``on_custom_event`` for ``dispatch_custom_event``, at any depth.

        The graph's own ``on_chain_stream`` events carry ``{"chunk": {node: update}}``;
        with ``stream_mode`` (and ``subgraphs``) they carry instead each item that
        ``astream(stream_mode=..., subgraphs=...)`` would yield, as LangGraph's do: one
        run gives both the events and the stream modes. ``durability``,
        ``interrupt_before`` and ``interrupt_after`` are ``astream``'s.
        """
        table, modes, nested = events_table(self, version, locals())
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        return self._astream(input, config, modes, nested, table, options, context)

    def stream_events(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        context: Any = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        durability: Durability | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Sync :meth:`astream_events`."""
        table, modes, nested = events_table(self, version, locals())
        options = RunOptions(self, durability, interrupt_before, interrupt_after)
        return self._stream(input, config, modes, nested, table, options, context)

    def _stream(
        self,
        input: Any,
        config: dict[str, Any] | None,
        modes: frozenset[str],
        subgraphs: bool,
        table: Formatter,
        options: RunOptions | None = None,
        context: Any = None,
    ) -> Iterator[Any]:
        from rillet.runtime._stream import stream_sync

        cfg = check_config(config)
        bus = SyncBus()
        root = RootRun(modes, subgraphs, bus.put, bus, run_id=run_id(cfg))
        loop = root_loop(self, root, cfg, input, options or RunOptions(self), context)
        return stream_sync(loop, loop.run_steps(input), bus, table)

    def _astream(
        self,
        input: Any,
        config: dict[str, Any] | None,
        modes: frozenset[str],
        subgraphs: bool,
        table: Formatter,
        options: RunOptions | None = None,
        context: Any = None,
    ) -> AsyncIterator[Any]:
        from rillet.runtime._stream import stream_async
        from rillet.stream._bus import AsyncBus

        cfg = check_config(config)
        opts = options or RunOptions(self)
        check_input(input, opts)
        context = coerce_context(self.context_schema, context)

        async def run() -> AsyncGenerator[Any, None]:
            import asyncio

            bus = AsyncBus(asyncio.get_running_loop())
            root = RootRun(modes, subgraphs, bus.put, bus, run_id=run_id(cfg))
            loop = root_loop(self, root, cfg, input, opts, context, coerced=True)
            items = stream_async(loop, loop.run_steps(input), bus, table)
            async with contextlib.aclosing(items):
                async for item in items:
                    yield item

        return run()
