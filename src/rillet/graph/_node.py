"""How a node is called: which arguments it takes, sync or async, retry policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args, get_origin, get_type_hints

from rillet.errors import UsageError
from rillet.types import RetryPolicy

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.graph._schema import StateSchema


@dataclass(slots=True)
class NodeSpec:
    """A node as the runtime sees it."""

    name: str
    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool = False
    wants_writer: bool = False
    wants_store: bool = False
    wants_runtime: bool = False
    """Takes a ``runtime`` parameter (by name, whatever its annotation, as LangGraph)."""
    subgraph: CompiledStateGraph | None = None
    afn: Callable[..., Any] | None = None
    """An async twin of ``fn``, used by the async driver (objects with ``ainvoke``)."""
    retry: RetryPolicy | None = None
    """The first of ``retry_policies``, or ``None``."""
    retry_policies: tuple[RetryPolicy, ...] = ()
    """Every policy given, in order: the first whose ``retry_on`` matches applies."""
    metadata: dict[str, Any] = field(default_factory=dict)
    destinations: dict[str, Any] | None = None
    """Where a ``Command`` returned by the node may go, when declared: each name with
    the label of its drawn edge (``None``: no label)."""
    functional: bool = False
    """A functional-API node (``rillet.func``): its update is its return value, and it
    produces items while it runs (the tasks it calls)."""
    input_schema: StateSchema | None = None
    """What the node reads, when not the graph's state."""
    defer: bool = False
    """Run only when nothing else is left to run."""
    cache_policy: Any = None
    """A ``CachePolicy``: the node's writes are cached by its input."""
    cache_ns: tuple[str, ...] = ()
    """The cache namespace of the node's entries (LangGraph's)."""
    # Filled in by compile():
    injects: bool = False
    """Takes any injected parameter (one flag for the per-task check)."""
    read: Callable[[Mapping[str, Any]], Any] = dict
    """The graph's values -> the node's input (a new object)."""

    edges: tuple[str, ...] = ()
    branches: tuple[Any, ...] = ()
    joins: tuple[int, ...] = ()

    def retry_policy_for(self, exc: Exception) -> RetryPolicy | None:
        """The policy that applies to ``exc``: the first whose ``retry_on`` matches it
        (as in LangGraph), or ``None`` when the error is not to be retried."""
        for policy in self.retry_policies:
            if policy.should_retry(exc):
                return policy
        return None


def node_name(fn: Any) -> str:
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    if not isinstance(name, str):
        raise UsageError(
            f"add_node({fn!r}): cannot infer a node name from this object; "
            f"pass one: add_node('name', fn)"
        )
    return name


def annotated_input(fn: Any) -> type[Any] | None:
    """The class a node function's first parameter is annotated with, when it is one
    with annotated keys (a TypedDict, dataclass or pydantic model), as LangGraph
    infers a node's input schema; else ``None``."""
    import inspect

    if not (inspect.isfunction(fn) or inspect.ismethod(fn)
            or inspect.ismethod(getattr(fn, "__call__", None))):  # noqa: B004
        return None
    try:
        target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else fn.__call__
        hints = get_type_hints(target)
        first = next(iter(inspect.signature(fn).parameters))
        hint = hints.get(first)
        if isinstance(hint, type) and get_type_hints(hint):
            return hint
    except (NameError, TypeError, ValueError, StopIteration):
        pass
    return None


def inspect_callable(fn: Callable[..., Any], kind: str = "node") -> tuple[bool, bool, bool]:
    """(is_async, wants_config, wants_writer) for a node function, or for a path
    function with ``kind="path"``."""
    import inspect

    target = fn
    is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return is_async, False, False
    names = list(params)
    positional = [
        p for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if not positional and not any(
        p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()
    ):
        example = "def route(state): ..." if kind == "path" else "def node(state): ..."
        raise UsageError(
            f"{kind.capitalize()} function {getattr(fn, '__name__', fn)!r} must take the "
            f"state as its first parameter, e.g. {example}"
        )
    rest = names[1:]
    return is_async, "config" in rest, "writer" in rest


def takes_parameter(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` has a parameter ``name`` after its first (the state)."""
    import inspect

    try:
        return name in list(inspect.signature(fn).parameters)[1:]
    except (TypeError, ValueError):
        return False


def command_destinations(fn: Callable[..., Any]) -> dict[str, Any] | None:
    """Targets declared by a ``-> Command[Literal["a", "b"]]`` return annotation, with
    no labels."""
    from rillet.types import Command

    try:
        hints = get_type_hints(fn)
    except Exception:
        return None
    ret = hints.get("return")
    if ret is None:
        return None
    for candidate in (ret, *get_args(ret)):
        if get_origin(candidate) is Command:
            args = get_args(candidate)
            if args and get_origin(args[0]) is not None:
                return dict.fromkeys(str(a) for a in get_args(args[0]))
    return None


def literal_targets(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """Targets declared by a path function's ``-> Literal["a", "b"]`` annotation."""
    try:
        ret = get_type_hints(fn).get("return")
    except Exception:
        return None
    if ret is None:
        return None
    values: list[str] = []
    for candidate in (ret, *get_args(ret)):
        if str(get_origin(candidate)) == "typing.Literal":
            values.extend(str(a) for a in get_args(candidate))
    return tuple(values) or None


def as_names(value: object) -> tuple[str, ...] | bool | None:
    """``value`` as a tuple of names (``None`` stays ``None``; a str is one name, never
    a list of characters), or ``False`` when it is neither a name nor names."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset) and all(
        isinstance(v, str) for v in value
    ):
        return tuple(value)
    return False


def destination_labels(what: str, value: object) -> dict[str, Any] | None:
    """``add_node(destinations=...)`` as names with their edge labels: a dict
    ``{node: label}`` as given, or one name or a list of names, unlabelled.

    :raises UsageError: naming ``what`` (e.g. ``"add_node('a', destinations=...)"``).
    """
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return dict(value)
    names = as_names(value)
    if names is False:
        raise UsageError(
            f"{what}: expected a node name, a list of node names or a dict of node "
            f"names to edge labels, got {type(value).__name__}: {value!r}"
        )
    return None if names is None else dict.fromkeys(names)  # type: ignore[arg-type]


def retry_policies(name: str, retry: object, retry_policy: object) -> tuple[RetryPolicy, ...]:
    """The policies given to ``add_node`` as ``retry=`` or ``retry_policy=`` (LangGraph's
    name): one ``RetryPolicy`` or a list of them.

    :raises UsageError: if both are given, or either is not a policy.
    """
    if retry is not None and retry_policy is not None:
        raise UsageError(
            f"add_node({name!r}, ...): give retry= or retry_policy=, not both"
        )
    given, keyword = (retry, "retry") if retry is not None else (retry_policy, "retry_policy")
    if given is None:
        return ()
    if isinstance(given, RetryPolicy):
        return (given,)
    if isinstance(given, list | tuple) and all(isinstance(p, RetryPolicy) for p in given):
        return tuple(given)
    raise UsageError(
        f"add_node({name!r}, {keyword}=...): expected a RetryPolicy or a list of them, "
        f"got {type(given).__name__}: {given!r}; e.g. {keyword}=RetryPolicy(max_attempts=3)"
    )
