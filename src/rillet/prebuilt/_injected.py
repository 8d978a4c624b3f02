"""``InjectedState`` and ``InjectedStore``: tool arguments ``ToolNode`` fills in.

``ToolNode`` reads each tool's markers once, when built. At a call it drops whatever
the model sent for any injected argument (so a model cannot forge one), then adds the
graph state (whole, or one key of it) and the graph's store.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from rillet.tools import InjectedToolArg, Tool
from rillet.tools._injected import injected_markers, is_injection

__all__ = ["InjectedState", "InjectedStore", "Injections"]

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


@dataclass(frozen=True, slots=True)
class Injections:
    """What ``ToolNode`` injects into one tool's calls.

    :ivar state: argument -> state key (``None`` for the whole state).
    :ivar store: the argument that takes the store, if any.
    :ivar hidden: every ``InjectedToolArg`` argument (dropped from the model's call).
    :ivar optional: state arguments with a default, skipped when their key is absent.
    """

    state: dict[str, str | None] = field(default_factory=dict)
    store: str | None = None
    hidden: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()

    @classmethod
    def of(cls, tool: Tool) -> Injections:
        markers = injected_markers(tool.fn)
        state = {
            name: marker.field if isinstance(marker, InjectedState) else None
            for name, marker in markers.items()
            if is_injection(marker, InjectedState)
        }
        stores = [n for n, m in markers.items() if is_injection(m, InjectedStore)]
        params = inspect.signature(tool.fn).parameters
        optional = {n for n in state if params[n].default is not inspect.Parameter.empty}
        return cls(state, stores[-1] if stores else None, frozenset(markers),
                   frozenset(optional))

    def __bool__(self) -> bool:
        return bool(self.hidden)

    def names(self) -> set[str]:
        """The arguments whose errors the model cannot fix (state and store)."""
        return {*self.state, *([self.store] if self.store else [])}

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
