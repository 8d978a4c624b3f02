"""Starting a compiled graph's run: the call's persistence options, the checks made
at the call, and the :class:`~rillet.runtime._loop.Loop` a root run or a run inside a
node gets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rillet._constants import NS_SEP
from rillet.errors import CheckpointError, ConfigError, UsageError
from rillet.graph._config import check_config, check_flag, check_names, recursion_limit
from rillet.runtime._context import RootRun, RunContext, Task
from rillet.runtime._observe import root_metadata
from rillet.runtime._runtime import coerce_context
from rillet.stream._format import (
    Formatter,
    event_formatter,
    make_formatter,
    normalize_modes,
    with_stream_items,
)
from rillet.types import Command

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._loop import Loop


class RunOptions:
    """A root run's persistence options: the graph's, overridden by the call's."""

    __slots__ = ("after", "before", "durability", "saver")

    def __init__(
        self,
        graph: CompiledStateGraph,
        durability: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
    ) -> None:
        saver = graph.checkpointer
        self.saver = None if saver is None or saver is True or saver is False else saver
        if durability is not None and durability not in ("sync", "async", "exit"):
            raise ConfigError(
                f"durability must be 'sync', 'async' or 'exit', got {durability!r}"
            )
        self.durability = durability or "async"
        self.before = _names("interrupt_before", interrupt_before, graph) \
            if interrupt_before is not None else graph.interrupt_before
        self.after = _names("interrupt_after", interrupt_after, graph) \
            if interrupt_after is not None else graph.interrupt_after

    def kwargs(self) -> dict[str, Any]:
        return {"durability": self.durability, "interrupt_before": sorted(self.before),
                "interrupt_after": sorted(self.after)}


def _names(option: str, value: Any, graph: CompiledStateGraph) -> frozenset[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple | set | frozenset):
        raise UsageError(f"{option} takes node names or '*', got {value!r}")
    for name in names:
        if name != "*" and name not in graph.nodes:
            raise ConfigError(
                f"{option}: no node named {name!r} (nodes: {', '.join(graph.nodes)})"
            )
    return frozenset(names)


def check_input(input: Any, options: RunOptions) -> None:
    """Refuse a ``Command(resume=...)`` that no checkpointer can answer."""
    if options.saver is None and isinstance(input, Command) and input.resume is not None:
        raise CheckpointError(
            "Cannot use Command(resume=...) without a checkpointer: a resume continues "
            "saved state. Compile the graph with checkpointer=InMemorySaver() (from "
            "rillet.checkpoint.memory) and run it with config={'configurable': "
            "{'thread_id': ...}}."
        )

def root_loop(
    graph: CompiledStateGraph, root: RootRun, cfg: dict[str, Any], input: Any,
    options: RunOptions, context: Any = None, *, coerced: bool = False,
) -> Loop:
    """The loop of a run called from outside any node (``coerced``: ``context`` is
    already the graph's ``context_schema``)."""
    check_input(input, options)
    if not coerced:
        context = coerce_context(graph.context_schema, context)
    root.store = graph.store
    persist = None
    if options.saver is not None:
        from rillet.runtime._persist import Persister

        persist = Persister(
            options.saver, cfg, "", durability=options.durability,
            interrupt_before=options.before, interrupt_after=options.after,
        )
    run = RunContext(root, cfg, ())
    run.persist = persist
    run.context = context
    return graph.loop_class(graph, run, recursion_limit(cfg), persist=persist)

def nested_loop(
    graph: CompiledStateGraph, parent: Task, config: dict[str, Any] | None,
    context: Any = None,
) -> Loop:
    """The loop of a run called inside ``parent``'s node: a subgraph of its run, with
    its own checkpoints when the parent run saves."""
    cfg = dict(parent.run.config)
    if config:
        cfg.update(check_config(config))
    run = RunContext(parent.run.settings, cfg, parent.child_ns(), parent.child_parent_ids())
    # As LangGraph: a graph run inside a node sees its caller's context, unless
    # the call gives its own.
    run.context = parent.run.context if context is None \
        else coerce_context(graph.context_schema, context)
    persist = None
    above = parent.run.persist
    own = graph.checkpointer
    if above is not None and own is not False:
        from rillet.runtime._persist import Persister

        parents = dict(above.parent_ids)
        if above.checkpoint_id is not None:
            parents[above.ns] = above.checkpoint_id
        ns = parent.checkpoint_ns
        if own is True:
            # compile(checkpointer=True): a history of its own on the thread, under
            # the node's name, that each run of the node continues.
            ns = NS_SEP.join((*parent.run.ns, parent.node.name))
        persist = Persister(
            above.saver if own is None or own is True else own, cfg, ns,
            durability=above.durability, interrupt_before=graph.interrupt_before,
            interrupt_after=graph.interrupt_after, nested=True,
            resuming=parent.resuming, parent_ids=parents,
        )
    run.persist = persist
    return graph.loop_class(graph, run, recursion_limit(cfg), nested=True, persist=persist)

def run_id(config: dict[str, Any]) -> str | None:
    run_id = config.get("run_id")
    return str(run_id) if run_id is not None else None


def on_loop_of(root: RootRun) -> bool:
    """Whether this thread runs ``root``'s event loop (sync code called from async)."""
    if root.async_loop is None:
        return False
    import asyncio

    try:
        return asyncio.get_running_loop() is root.async_loop
    except RuntimeError:
        return False


_EVENT_FILTERS = (
    "include_names", "include_types", "include_tags",
    "exclude_names", "exclude_types", "exclude_tags",
)


def events_table(
    graph: CompiledStateGraph, version: str, arguments: dict[str, Any],
) -> tuple[Formatter, frozenset[str], bool]:
    """The ``astream_events`` formatter for a call's ``version``, filter arguments and
    ``stream_mode``/``subgraphs``; the run's modes and its subgraphs flag."""
    if version != "v2":
        raise ConfigError(f"astream_events supports version='v2' only, got {version!r}")
    table = event_formatter(**{name: check_names(name, arguments[name]) for name in _EVENT_FILTERS})
    if arguments["stream_mode"] is None:
        return table, frozenset({"events"}), True
    modes, multi = normalize_modes(arguments["stream_mode"])
    subgraphs = check_flag("subgraphs", arguments["subgraphs"])
    cfg = check_config(arguments["config"])
    items = make_formatter(modes, multi, subgraphs)
    table = with_stream_items(table, items, graph.name, cfg.get("tags") or (), root_metadata(cfg))
    return table, frozenset({"events", *modes}), subgraphs


def no_kwargs(method: str, kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments ``method`` does not take (LangGraph's run options
    rillet lacks)."""
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise UsageError(f"{method}() got unexpected keyword argument(s): {names}")
