"""``CompiledStateGraph``: the frozen graph, and its ``invoke``/``stream`` API."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rillet._constants import DEFAULT_RECURSION_LIMIT, START
from rillet.graph._branch import BranchSpec
from rillet.graph._node import NodeSpec
from rillet.runtime._context import RunContext, StreamSettings, Task, current_task
from rillet.runtime._loop import Loop
from rillet.runtime._stream import stream_sync
from rillet.runtime._sync import run_coroutine_sync, run_loop_sync
from rillet.stream._bus import SyncBus
from rillet.stream._format import Formatter, event_formatter, make_formatter, normalize_modes

if TYPE_CHECKING:
    from rillet.draw import DrawableGraph
    from rillet.graph._builder import StateGraph
    from rillet.types import StreamMode


class CompiledStateGraph:
    """A compiled graph: run it with ``invoke``/``ainvoke``, watch it with
    ``stream``/``astream``. Immutable; one instance serves any number of concurrent
    runs, and can itself be a node of another graph."""

    stream_mode: str = "updates"

    def __init__(self, builder: StateGraph, *, name: str) -> None:
        self.name = name
        self.builder = builder
        self.schema = builder.schema
        nodes = {n: dataclasses.replace(spec) for n, spec in builder.nodes.items()}
        self.node_order: tuple[str, ...] = tuple(nodes)
        self.joins: tuple[tuple[tuple[str, ...], str], ...] = tuple(builder.joins)
        edges: dict[str, list[str]] = {}
        for start, end in builder._edge_order:
            edges.setdefault(start, []).append(end)
        for name_, spec in nodes.items():
            spec.edges = tuple(edges.get(name_, ()))
            spec.branches = tuple(builder.branches.get(name_, {}).values())
            spec.joins = tuple(i for i, (srcs, _) in enumerate(self.joins) if name_ in srcs)
        self.nodes: dict[str, NodeSpec] = nodes
        self.start_edges: tuple[str, ...] = tuple(edges.get(START, ()))
        self.start_branches: tuple[BranchSpec, ...] = tuple(
            builder.branches.get(START, {}).values()
        )

    def __repr__(self) -> str:
        return f"CompiledStateGraph(name={self.name!r}, nodes={list(self.nodes)!r})"

    # ------------------------------------------------------------------ runs

    def invoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end; return the final state (a dict).

        With another ``stream_mode``, return the list of items ``stream`` would yield.
        Called inside a node, the graph runs as a subgraph of that node's run.
        """
        _no_kwargs("invoke", kwargs)
        if stream_mode != "values":
            return list(self.stream(input, config, stream_mode=stream_mode))
        parent = current_task.get()
        if parent is not None:
            loop = self._nested_loop(parent, config)
            return run_loop_sync(loop, input, nested=True)
        settings = StreamSettings(frozenset(), False, None)
        loop = Loop(self, RunContext(settings, _check_config(config), ()), _limit(config))
        return run_loop_sync(loop, input)

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        **kwargs: Any,
    ) -> Any:
        """Async ``invoke``."""
        _no_kwargs("ainvoke", kwargs)
        from rillet.runtime._async import run_loop_async

        if stream_mode != "values":
            return [item async for item in self.astream(input, config, stream_mode=stream_mode)]
        parent = current_task.get()
        if parent is not None:
            loop = self._nested_loop(parent, config)
            return await run_loop_async(loop, input, nested=True)
        settings = StreamSettings(frozenset(), False, None)
        loop = Loop(self, RunContext(settings, _check_config(config), ()), _limit(config))
        return await run_loop_async(loop, input)

    def stream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph and yield what it produces, live.

        One mode yields its items; a list of modes yields ``(mode, item)``;
        ``subgraphs=True`` prefixes the namespace: ``(ns, item)`` or
        ``(ns, mode, item)``. Leaving the loop early stops the run.

        :raises ValueError: for an unknown stream mode or a bad config, at the call.
        """
        _no_kwargs("stream", kwargs)
        modes, multi = normalize_modes(stream_mode)
        table = make_formatter(modes, multi, bool(subgraphs))
        return self._stream(input, config, frozenset(modes), bool(subgraphs), table)

    def astream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        subgraphs: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async ``stream``: the same items, from an async generator."""
        _no_kwargs("astream", kwargs)
        modes, multi = normalize_modes(stream_mode)
        table = make_formatter(modes, multi, bool(subgraphs))
        return self._astream(input, config, frozenset(modes), bool(subgraphs), table)

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
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield LangChain-shaped event dicts (``event``, ``name``, ``run_id``,
        ``parent_ids``, ``tags``, ``metadata``, ``data``): ``on_chain_start/stream/end``
        for the graph and each node, ``on_chat_model_start/stream/end`` for each model
        call, ``on_custom_event`` for ``dispatch_custom_event``, at any depth.
        """
        table = _events_table(version, locals())
        return self._astream(input, config, frozenset({"events"}), True, table)

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
    ) -> Iterator[dict[str, Any]]:
        """Sync :meth:`astream_events`."""
        table = _events_table(version, locals())
        return self._stream(input, config, frozenset({"events"}), True, table)

    def _stream(
        self,
        input: Any,
        config: dict[str, Any] | None,
        modes: frozenset[str],
        subgraphs: bool,
        table: Formatter,
    ) -> Iterator[Any]:
        cfg = _check_config(config)
        limit = _limit(config)
        bus = SyncBus()
        settings = StreamSettings(modes, subgraphs, bus.put, bus)
        loop = Loop(self, RunContext(settings, cfg, ()), limit)
        return stream_sync(lambda: run_loop_sync(loop, input), bus, table)

    def _astream(
        self,
        input: Any,
        config: dict[str, Any] | None,
        modes: frozenset[str],
        subgraphs: bool,
        table: Formatter,
    ) -> AsyncIterator[Any]:
        cfg = _check_config(config)
        limit = _limit(config)

        def start(bus: Any) -> Any:
            from rillet.runtime._async import run_loop_async

            settings = StreamSettings(modes, subgraphs, bus.put, bus)
            loop = Loop(self, RunContext(settings, cfg, ()), limit)
            return lambda: run_loop_async(loop, input)

        from rillet.runtime._stream import stream_async

        return stream_async(start, table)

    def _nested_loop(self, parent: Task, config: dict[str, Any] | None) -> Loop:
        cfg = dict(parent.run.config)
        if config:
            _check_config(config)
            cfg.update(config)
        run = RunContext(parent.run.settings, cfg, parent.child_ns(), parent.child_parent_ids())
        return Loop(self, run, _limit(cfg))

    # --------------------------------------------------------------- drawing

    def get_graph(
        self, config: dict[str, Any] | None = None, *, xray: bool | int = False
    ) -> DrawableGraph:
        """A drawable view of the graph: ``.draw_mermaid()``, ``.draw_ascii()``,
        ``.draw_png()`` (rendered locally with Graphviz), as LangGraph draws it.

        ``xray=True`` draws every subgraph's nodes inside its node; ``xray=N`` expands
        N levels of nesting. ``config`` is accepted for LangGraph compatibility and not
        used.
        """
        from rillet.draw import build_graph

        return build_graph(self, xray)

    # -------------------------------------------------------------- branches

    def call_branch_sync(self, branch: BranchSpec, view: Any, task: Task | None) -> Any:
        result = _call_branch(branch, view, task)
        if hasattr(result, "__await__"):
            return run_coroutine_sync(result)
        return result

    async def call_branch_async(self, branch: BranchSpec, view: Any, task: Task | None) -> Any:
        result = _call_branch(branch, view, task)
        if hasattr(result, "__await__"):
            return await result
        return result


def _call_branch(branch: BranchSpec, view: Any, task: Task | None) -> Any:
    if branch.wants_config:
        return branch.path(view, config=task.config if task is not None else {})
    return branch.path(view)


_EVENT_FILTERS = (
    "include_names", "include_types", "include_tags",
    "exclude_names", "exclude_types", "exclude_tags",
)


def _events_table(version: str, arguments: dict[str, Any]) -> Formatter:
    """The ``astream_events`` formatter for a call's ``version`` and filter arguments."""
    if version != "v2":
        raise ValueError(f"astream_events supports version='v2' only, got {version!r}")
    return event_formatter(**{name: arguments[name] for name in _EVENT_FILTERS})


def _no_kwargs(method: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise TypeError(f"{method}() got unexpected keyword argument(s): {names}")


_CONFIG_KEYS = frozenset(
    {
        "configurable",
        "metadata",
        "tags",
        "recursion_limit",
        "max_concurrency",
        "callbacks",
        "run_name",
        "run_id",
    }
)


def _check_config(config: dict[str, Any] | None) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise ValueError(
            f"Unknown config key(s) {sorted(unknown)}: config takes "
            f"{', '.join(sorted(_CONFIG_KEYS))}; put your own values in config['configurable']"
        )
    limit = config.get("max_concurrency")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"max_concurrency must be a positive int or None, got {limit!r}")
    for key in ("metadata", "configurable"):
        value = config.get(key)
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"config[{key!r}] must be a dict, got {type(value).__name__}")
    tags = config.get("tags")
    if tags is not None and (isinstance(tags, str) or not isinstance(tags, list | tuple)):
        raise TypeError(f"config['tags'] must be a list of strings, got {tags!r}")
    return config


def _limit(config: dict[str, Any] | None) -> int:
    limit = (config or {}).get("recursion_limit")
    if limit is None:
        return DEFAULT_RECURSION_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise TypeError(f"recursion_limit must be an int, got {type(limit).__name__}: {limit!r}")
    if limit < 1:
        raise ValueError(f"recursion_limit must be at least 1, got {limit}")
    return limit
