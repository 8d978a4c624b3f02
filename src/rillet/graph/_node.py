"""How a node is called: which arguments it takes, sync or async, retry policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.types import RetryPolicy


@dataclass(slots=True)
class NodeSpec:
    """A node as the runtime sees it."""

    name: str
    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool = False
    wants_writer: bool = False
    subgraph: CompiledStateGraph | None = None
    afn: Callable[..., Any] | None = None
    """An async twin of ``fn``, used by the async driver (objects with ``ainvoke``)."""
    retry: RetryPolicy | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    destinations: tuple[str, ...] | None = None
    """Where a ``Command`` returned by the node may go, when declared."""
    # Filled in by compile():
    edges: tuple[str, ...] = ()
    branches: tuple[Any, ...] = ()
    joins: tuple[int, ...] = ()


def node_name(fn: Any) -> str:
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(
            f"add_node({fn!r}): cannot infer a node name from this object; "
            f"pass one: add_node('name', fn)"
        )
    return name


def inspect_callable(fn: Callable[..., Any]) -> tuple[bool, bool, bool]:
    """(is_async, wants_config, wants_writer) for a node function."""
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
        raise TypeError(
            f"Node function {getattr(fn, '__name__', fn)!r} must take the state as its first "
            f"parameter, e.g. def node(state): ..."
        )
    rest = names[1:]
    return is_async, "config" in rest, "writer" in rest


def command_destinations(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """Targets declared by a ``-> Command[Literal["a", "b"]]`` return annotation."""
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
                return tuple(str(a) for a in get_args(args[0]))
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


def as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)
