"""``StateGraph``: the mutable builder. ``compile()`` checks it and freezes it."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from rillet._constants import END, NAME_FORBIDDEN_CHARS, RESERVED_NAMES, START
from rillet.errors import GraphBuildError, UsageError
from rillet.graph._branch import BranchSpec, normalize_path_map
from rillet.graph._config import check_flag
from rillet.graph._node import (
    NodeSpec,
    annotated_input,
    command_destinations,
    destination_labels,
    inspect_callable,
    literal_targets,
    node_name,
    retry_policies,
    takes_parameter,
)
from rillet.graph._schema import GraphKeys, StateSchema, schema_of
from rillet.runtime._cache import check_policy

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.types import CachePolicy, RetryPolicy


class StateGraph:
    """A graph whose nodes read a shared state and return updates to it.

    ``State`` is a ``TypedDict``, a dataclass or a pydantic model; a key annotated
    ``Annotated[T, reducer]`` merges updates with ``reducer(old, new)``, other keys keep
    the last value written. Any other type is a state that is one value
    (``StateGraph(Annotated[list, add_messages])``, ``StateGraph(int)``): nodes get it
    and return its update. Builder methods return the builder, so calls chain::

        graph = (
            StateGraph(State)
            .add_node(refine_topic)
            .add_edge(START, "refine_topic")
            .compile()
        )
    """

    def __init__(
        self,
        state_schema: type[Any],
        context_schema: type[Any] | None = None,
        *,
        input_schema: type[Any] | None = None,
        output_schema: type[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``input_schema`` keeps only its keys of the run's input; ``output_schema``
        is what ``invoke`` returns (both default to the state); ``context_schema`` is
        the type of the run's ``context`` (a dict given for a dataclass or pydantic
        model becomes one). LangGraph's older names ``input=``, ``output=`` and
        ``config_schema=`` still work, with a ``DeprecationWarning``.

        :raises UsageError: for an argument LangGraph's ``StateGraph`` does not take.
        """
        input_schema = _renamed(kwargs, "input", "input_schema", input_schema)
        output_schema = _renamed(kwargs, "output", "output_schema", output_schema)
        context_schema = _renamed(kwargs, "config_schema", "context_schema", context_schema)
        if kwargs:
            raise UsageError(
                f"StateGraph() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}"
            )
        self.schema = schema_of(state_schema)
        self.keys = GraphKeys(self.schema)
        self.input_schema = self.keys.add(input_schema, "StateGraph(input_schema=...)") \
            if input_schema is not None else self.schema
        self.output_schema = self.keys.add(output_schema, "StateGraph(output_schema=...)") \
            if output_schema is not None else self.schema
        self.context_schema = context_schema
        self.nodes: dict[str, NodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self._edge_order: list[tuple[str, str]] = []
        self.joins: list[tuple[tuple[str, ...], str]] = []
        self.branches: dict[str, dict[str, BranchSpec]] = {}
        self.compiled = False

    @property
    def config_schema(self) -> type[Any] | None:
        """LangGraph's older name of ``context_schema``."""
        return self.context_schema

    # ------------------------------------------------------------------ nodes

    def add_node(
        self,
        node: str | Callable[..., Any] | CompiledStateGraph | Any,
        action: Callable[..., Any] | CompiledStateGraph | Any | None = None,
        *,
        defer: bool = False,
        metadata: Mapping[str, Any] | None = None,
        input_schema: type[Any] | None = None,
        retry: RetryPolicy | Sequence[RetryPolicy] | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        destinations: str | Sequence[str] | Mapping[str, Any] | None = None,
        cache_policy: CachePolicy | None = None,
        **kwargs: Any,
    ) -> Self:
        """Add a node: ``add_node(fn)`` (named after the function) or
        ``add_node("name", fn_or_compiled_graph)``.

        The function takes the state first; parameters named ``config`` and ``writer``
        are injected by name. It returns a dict of updates, a ``Command`` or ``None``.
        ``retry`` (or LangGraph's ``retry_policy``) is a ``RetryPolicy`` or a list of
        them; ``destinations`` names where a returned ``Command`` may go, for drawing
        (a dict ``{node: label}`` labels the drawn edges).
        ``input_schema`` (by default the first parameter's annotation, when it is a
        TypedDict, dataclass or pydantic class) is what the node reads; its keys join
        the graph's, so nodes may write keys the state does not declare. ``defer=True``
        holds the node back until nothing else is left to run. ``cache_policy`` caches
        the node's writes by its input, in the graph's ``compile(cache=...)``.

        :raises UsageError: for an argument of the wrong type, or one of LangGraph's
            options rillet does not support (``error_handler``, ``timeout``,
            ``trace_policy``).
        :raises GraphBuildError: for a bad or duplicate name.
        """
        if isinstance(node, str):
            name = node
            if action is None:
                raise UsageError(f"add_node({name!r}): give the node's function as well")
        else:
            if action is not None:
                raise UsageError(
                    f"add_node(name, action): the name must be a str, got "
                    f"{type(node).__name__}: {node!r}"
                )
            action = node
            name = node_name(action)
        input_schema = _renamed(kwargs, "input", "input_schema", input_schema)
        _unsupported(f"add_node({name!r}, ...)", kwargs)
        self._check_name(name)
        check_flag(f"add_node({name!r}, defer=...)", defer)
        declared = destination_labels(f"add_node({name!r}, destinations=...)", destinations)
        policies = retry_policies(name, retry, retry_policy)
        if metadata is not None and not isinstance(metadata, Mapping):
            raise UsageError(
                f"add_node({name!r}, metadata=...): expected a dict, got "
                f"{type(metadata).__name__}: {metadata!r}"
            )
        if self.compiled:
            warnings.warn(
                "Adding a node to a graph that has already been compiled: this will not be "
                "reflected in the compiled graph.",
                stacklevel=2,
            )
        spec = _node_spec(name, action, declared)
        spec.retry_policies = policies
        spec.retry = policies[0] if policies else None
        spec.metadata = dict(metadata or {})
        spec.defer = defer
        spec.cache_policy = check_policy(f"add_node({name!r}, cache_policy=...)", cache_policy)
        if input_schema is not None or (spec.subgraph is None and spec.afn is None):
            spec.input_schema = self._node_input(name, action, input_schema)
        self.nodes[name] = spec
        return self

    def _node_input(self, name: str, action: Any, given: Any) -> StateSchema | None:
        """The schema a node reads: ``input_schema=...``, else its first parameter's
        annotation when that is a class with annotated keys (registering its keys
        with the graph), else ``None`` (the state)."""
        cls = given if given is not None else annotated_input(action)
        if cls is None or cls is self.schema.cls:
            return None
        return self.keys.add(cls, f"add_node({name!r}, input_schema=...)")

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str):
            raise UsageError(
                f"A node name must be a str, got {type(name).__name__}: {name!r}"
            )
        if not name:
            raise GraphBuildError(f"A node name must be a non-empty string, got {name!r}")
        if name in RESERVED_NAMES:
            raise GraphBuildError(f"Node name {name!r} is reserved: choose another name.")
        for ch in NAME_FORBIDDEN_CHARS:
            if ch in name:
                raise GraphBuildError(
                    f"Node name {name!r} contains {ch!r}, which rillet reserves for "
                    f"namespaces: choose a name without '|' or ':'."
                )
        if name in self.nodes:
            raise GraphBuildError(f"Node {name!r} is already in the graph: names must be unique.")

    def add_sequence(self, nodes: Sequence[Callable[..., Any] | tuple[str, Any]]) -> Self:
        """Add nodes that run one after the other, with edges between them: each item
        is a function (named after itself) or a ``(name, function)`` pair."""
        if isinstance(nodes, str) or not isinstance(nodes, Sequence):
            raise UsageError(
                f"add_sequence(nodes): expected a list of functions or (name, function) "
                f"pairs, got {type(nodes).__name__}: {nodes!r}"
            )
        if not nodes:
            raise GraphBuildError("add_sequence() needs at least one node")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[0], str):
                    raise UsageError(
                        f"add_sequence(): each item must be a function or a (name, function) "
                        f"pair, got {item!r}"
                    )
                name, fn = item
                self.add_node(name, fn)
            else:
                name = node_name(item)
                self.add_node(item)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    # ------------------------------------------------------------------ edges

    def add_edge(self, start_key: str | Sequence[str], end_key: str) -> Self:
        """Run ``end_key`` after ``start_key``; with a list of starts, after all of them.

        ``end_key`` may be ``END``: the run ends there, as far as this edge goes.
        """
        if not isinstance(end_key, str):
            raise UsageError(
                f"add_edge({start_key!r}, end_key): end_key must be a node name or END, "
                f"got {type(end_key).__name__}: {end_key!r}"
            )
        if isinstance(start_key, str):
            starts: tuple[str, ...] = (start_key,)
        elif isinstance(start_key, list | tuple) and all(isinstance(s, str) for s in start_key):
            starts = tuple(start_key)
        else:
            raise UsageError(
                f"add_edge(start_key, {end_key!r}): start_key must be a node name, START, or "
                f"a list of node names, got {type(start_key).__name__}: {start_key!r}"
            )
        if not starts:
            raise GraphBuildError(f"add_edge([], {end_key!r}): give at least one start node")
        if END in starts:
            raise GraphBuildError("END cannot be the start of an edge: nothing runs after END")
        if end_key == START:
            raise GraphBuildError("START cannot be the end of an edge: it only starts the run")
        if len(starts) == 1:
            edge = (starts[0], end_key)
            if edge not in self.edges:
                self.edges.add(edge)
                self._edge_order.append(edge)
            return self
        if START in starts:
            raise GraphBuildError(
                f"add_edge({list(starts)!r}, {end_key!r}): START cannot be part of a join; "
                f"a join waits for nodes to finish. Use add_edge(START, {end_key!r}) to "
                f"start the run at {end_key!r}."
            )
        self.joins.append((starts, end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | Sequence[str] | str | None = None,
    ) -> Self:
        """After ``source``, call ``path(state)`` to choose what runs next.

        ``path`` returns a node name, ``END``, a ``Send``, or a list of them; with a
        ``path_map``, it returns keys of the map instead (a list, or a single name,
        maps each name to itself). Without one, the targets are read from a
        ``-> Literal["a", "b"]`` return annotation when present.
        """
        if not isinstance(source, str):
            raise UsageError(
                f"add_conditional_edges(source, path): source must be a node name or START, "
                f"got {type(source).__name__}: {source!r}"
            )
        if not callable(path):
            raise UsageError(
                f"add_conditional_edges({source!r}, path): path must be a function, got "
                f"{type(path).__name__}: {path!r}"
            )
        name = getattr(path, "__name__", None) or "condition"
        if name == "<lambda>":
            name = "condition"
        branches = self.branches.setdefault(source, {})
        if name in branches:
            raise GraphBuildError(
                f"Node {source!r} already has a conditional edge named {name!r}: "
                f"give the path function another name"
            )
        pmap = normalize_path_map(source, name, path_map)
        if pmap is None:
            targets = literal_targets(path)
            if targets:
                pmap = {t: t for t in targets}
        is_async, wants_config, _ = inspect_callable(path, "path")
        cls = annotated_input(path)
        schema = None
        if cls is self.schema.cls:
            schema = self.schema
        elif cls is not None:
            schema = self.keys.add(cls, f"add_conditional_edges({source!r}, {name})")
        branches[name] = BranchSpec(
            source, path, name, pmap, is_async, wants_config,
            wants_runtime=takes_parameter(path, "runtime"), input_schema=schema
        )
        return self

    def set_entry_point(self, key: str) -> Self:
        """Same as ``add_edge(START, key)``."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | Sequence[str] | str | None = None,
    ) -> Self:
        """Same as ``add_conditional_edges(START, path, path_map)``."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> Self:
        """Same as ``add_edge(key, END)``."""
        return self.add_edge(key, END)

    # ---------------------------------------------------------------- compile

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        name: str | None = None,
        debug: bool = False,
    ) -> CompiledStateGraph:
        """Check the graph and freeze it into a runnable ``CompiledStateGraph``.

        ``checkpointer`` saves every run by thread (``config["configurable"]
        ["thread_id"]``), for memory between calls, ``interrupt()`` and time travel;
        ``store`` is shared memory across threads (a node's ``store`` parameter);
        ``cache`` (a ``BaseCache``) keeps the writes of nodes with a ``cache_policy``;
        ``interrupt_before``/``interrupt_after`` pause the run around those nodes
        (``"*"``: all).

        :raises GraphBuildError: naming the node or edge at fault.
        """
        from rillet.graph._compiled import CompiledStateGraph
        from rillet.graph._validate import validate

        if name is not None and not isinstance(name, str):
            raise UsageError(f"compile(name=...): expected a str, got {type(name).__name__}")
        validate(self)
        _check_saver(checkpointer)
        self.compiled = True
        graph = CompiledStateGraph(self, name=name or "LangGraph")
        graph.checkpointer = checkpointer
        graph.store = store
        if cache is not None:
            from rillet.runtime._cache import use_cache

            use_cache(graph, cache, self.keys.schemas)
        graph.interrupt_before = _interrupt_nodes(self, "interrupt_before", interrupt_before)
        graph.interrupt_after = _interrupt_nodes(self, "interrupt_after", interrupt_after)
        if checkpointer is not None and checkpointer is not True and checkpointer is not False:
            for cls in self.keys.schemas:
                checkpointer.serde.register_annotations(cls)
        return graph


def _renamed(kwargs: dict[str, Any], old: str, new: str, value: Any) -> Any:
    """LangGraph's deprecated ``old=`` for ``new=``: taken (with a warning) when
    ``new`` is not given."""
    if old not in kwargs:
        return value
    given = kwargs.pop(old)
    warnings.warn(
        f"`{old}` is deprecated and will be removed. Please use `{new}` instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return value if value is not None else given


#: LangGraph's ``add_node`` options rillet does not implement.
_UNSUPPORTED = ("error_handler", "timeout", "trace_policy")


def _unsupported(what: str, kwargs: dict[str, Any]) -> None:
    for option in _UNSUPPORTED:
        if kwargs.get(option) is not None:
            raise UsageError(f"{what}: rillet does not support the {option}= option yet")
        kwargs.pop(option, None)
    if kwargs:
        raise UsageError(f"{what} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")


def _check_saver(checkpointer: Any) -> None:
    if checkpointer is None or checkpointer is True or checkpointer is False:
        return
    from rillet.checkpoint.base import BaseCheckpointSaver

    if not isinstance(checkpointer, BaseCheckpointSaver):
        kind = type(checkpointer)
        hint = (
            " (a LangGraph saver: use the rillet one of the same name, from rillet.checkpoint)"
            if kind.__module__.startswith("langgraph") else ""
        )
        raise UsageError(
            f"compile(checkpointer=...) takes a rillet checkpoint saver (InMemorySaver, "
            f"SqliteSaver, PostgresSaver, or a BaseCheckpointSaver subclass), True, False or "
            f"None; got {kind.__module__}.{kind.__qualname__}{hint}"
        )


def _interrupt_nodes(builder: StateGraph, option: str, value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple | set | frozenset) or not all(
        isinstance(n, str) for n in names
    ):
        raise UsageError(f"compile({option}=...) takes node names, or '*', got {value!r}")
    for n in names:
        if n != "*" and n not in builder.nodes:
            raise GraphBuildError(
                f"compile({option}=...): no node named {n!r} (nodes: "
                f"{', '.join(builder.nodes)})"
            )
    return frozenset(names)


def _node_spec(name: str, action: Any, destinations: dict[str, Any] | None) -> NodeSpec:
    """The spec of a node whose action is a compiled graph, an object with
    ``invoke``/``ainvoke`` (such as ``ToolNode``), or a function."""
    from rillet.graph._compiled import CompiledStateGraph

    if isinstance(action, CompiledStateGraph):
        return NodeSpec(
            name=name,
            fn=action.invoke,
            is_async=False,
            subgraph=action,
            destinations=destinations,
        )
    if _is_runnable(action):
        # Each driver calls the matching method.
        return NodeSpec(
            name=name,
            fn=getattr(action, "invoke"),  # noqa: B009 - checked by _is_runnable
            afn=getattr(action, "ainvoke"),  # noqa: B009
            is_async=False,
            wants_config=True,
            destinations=destinations,
        )
    if callable(action):
        is_async, wants_config, wants_writer = inspect_callable(action)
        return NodeSpec(
            name=name,
            fn=action,
            is_async=is_async,
            wants_config=wants_config,
            wants_writer=wants_writer,
            wants_store=takes_parameter(action, "store"),
            wants_runtime=takes_parameter(action, "runtime"),
            destinations=destinations or command_destinations(action),
        )
    raise UsageError(
        f"add_node({name!r}, ...): expected a function, an async function or a "
        f"compiled graph, got {type(action).__name__}"
    )


def _is_runnable(action: Any) -> bool:
    return callable(getattr(action, "invoke", None)) and callable(
        getattr(action, "ainvoke", None)
    )
