"""``InjectedState``, ``InjectedStore`` and ``ToolRuntime``: tool arguments
``ToolNode`` fills in.

``ToolNode`` reads each tool's markers once, when built. At a call it drops whatever
the model sent for any injected argument (so a model cannot forge one), then adds the
graph state (whole, or one key of it), the graph's store, and a ``ToolRuntime``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rillet.tools import InjectedToolArg, Tool
from rillet.tools._injected import DirectlyInjectedToolArg, injected_markers, is_injection

__all__ = ["InjectedState", "InjectedStore", "Injections", "ToolRuntime"]

ContextT = TypeVar("ContextT")
StateT = TypeVar("StateT")

NO_STORE = (
    "Cannot inject store into tools with InjectedStore annotations - please compile "
    "your graph with a store."
)
"""LangGraph's words for a tool that needs a store, in a graph compiled without one."""


class InjectedState(InjectedToolArg):
    """Marks a tool argument that receives the graph state:
    ``state: Annotated[dict, InjectedState]`` for all of it,
    ``foo: Annotated[str, InjectedState("foo")]`` for one key."""

    def __init__(self, field: str | None = None) -> None:
        self.field = field

    def __repr__(self) -> str:
        return f"InjectedState({self.field!r})" if self.field else "InjectedState()"


class InjectedStore(InjectedToolArg):
    """Marks a tool argument that receives the store the graph was compiled with:
    ``store: Annotated[BaseStore, InjectedStore()]``."""


def _no_op_writer(_: Any) -> None:
    """The writer of a tool run outside a graph."""


@dataclass
class ToolRuntime(DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """What a tool run by ``ToolNode`` sees of its run, injected into a parameter
    annotated ``ToolRuntime`` (whatever its name, no ``Annotated`` needed): the graph
    state, the run's ``context``, the node's config, the stream writer, the id of
    the tool call, the store, the node's tools and the task's ``execution_info``."""

    state: StateT
    context: ContextT
    config: dict[str, Any]
    stream_writer: Callable[[Any], None]
    tool_call_id: str | None
    store: Any
    tools: list[Tool] = field(default_factory=list)
    execution_info: Any = None
    server_info: Any = None
    """Set by LangGraph Server only: always ``None`` in rillet."""

    def __class_getitem__(cls, params: Any) -> Any:
        # ``ToolRuntime[Ctx]`` as in LangGraph, whose state type has a default.
        if not isinstance(params, tuple):
            params = (params, Any)
        return super().__class_getitem__(params)  # type: ignore[misc]


def tool_runtime(call: dict[str, Any], state: Any, store: Any, config: dict[str, Any] | None,
                 tools: list[Tool]) -> ToolRuntime[Any, Any]:
    """The ``ToolRuntime`` of one tool call, from the running node's ``Runtime``."""
    from rillet.runtime._context import current_task

    task = current_task.get()
    runtime = task.runtime if task is not None else None
    return ToolRuntime(
        state=state, context=runtime.context if runtime else None, config=config or {},
        stream_writer=runtime.stream_writer if runtime else _no_op_writer,
        tool_call_id=call.get("id"), store=store, tools=tools,
        execution_info=runtime.execution_info if runtime else None,
    )


@dataclass(frozen=True, slots=True)
class Injections:
    """What ``ToolNode`` injects into one tool's calls.

    :ivar state: argument -> state key (``None`` for the whole state).
    :ivar store: the argument that takes the store, if any.
    :ivar hidden: every ``InjectedToolArg`` argument (dropped from the model's call).
    :ivar optional: state arguments with a default, skipped when their key is absent.
    :ivar runtime: the argument that takes the call's ``ToolRuntime``, if any.
    """

    state: dict[str, str | None] = field(default_factory=dict)
    store: str | None = None
    hidden: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    runtime: str | None = None

    @classmethod
    def of(cls, tool: Tool) -> Injections:
        markers = injected_markers(tool.fn)
        state = {
            name: marker.field if isinstance(marker, InjectedState) else None
            for name, marker in markers.items()
            if is_injection(marker, InjectedState)
        }
        stores = [n for n, m in markers.items() if is_injection(m, InjectedStore)]
        runtimes = [n for n, m in markers.items() if is_injection(m, ToolRuntime)]
        params = inspect.signature(tool.fn).parameters
        optional = {n for n in state if params[n].default is not inspect.Parameter.empty}
        return cls(state, stores[-1] if stores else None, frozenset(markers),
                   frozenset(optional), runtimes[-1] if runtimes else None)

    def __bool__(self) -> bool:
        return bool(self.hidden)

    def names(self) -> set[str]:
        """The arguments whose errors the model cannot fix (state, store, runtime)."""
        return {*self.state, *([self.store] if self.store else []),
                *([self.runtime] if self.runtime else [])}

    def apply(self, args: dict[str, Any], state: Any, store: Any, messages_key: str,
              tool_name: str) -> dict[str, Any]:
        """``args`` without what the model sent for injected arguments, plus the state
        and store values.

        :raises ValueError: if a store is needed and there is none, or a state is
            needed and the input was a bare list of messages.
        :raises KeyError: (``AttributeError`` for an object state) if a state key is
            missing and its argument has no default.
        """
        values: dict[str, Any] = {}
        if self.state:
            state = _as_state(state, self.state, messages_key, tool_name)
            for arg, key in self.state.items():
                if key is None:
                    values[arg] = state
                elif isinstance(state, dict):
                    if key in state:
                        values[arg] = state[key]
                    elif arg not in self.optional:
                        raise KeyError(key)
                elif hasattr(state, key):
                    values[arg] = getattr(state, key)
                elif arg not in self.optional:
                    raise AttributeError(key)
        if self.store:
            if store is None:
                raise ValueError(NO_STORE)
            values[self.store] = store
        kept = {k: v for k, v in args.items() if k not in self.hidden}
        return {**kept, **values}


def _as_state(state: Any, wanted: dict[str, str | None], messages_key: str,
              tool_name: str) -> Any:
    """A list of messages given to ``ToolNode`` is a state only for tools that want
    the whole state or just the messages (as in LangGraph)."""
    if not isinstance(state, list):
        return state
    keys = list(wanted.values())
    if keys == [messages_key] or keys[0] is None:
        return {messages_key: state}
    message = (
        f"Invalid input to ToolNode. Tool {tool_name} requires graph state dict as input."
    )
    if any(keys):
        message += f" State should contain fields {', '.join(k for k in keys if k)}."
    raise ValueError(message)
