"""Prebuilt graphs and nodes: ``create_react_agent``, ``ToolNode``, ``tools_condition``,
the ``InjectedState`` / ``InjectedStore`` tool-argument markers and ``ToolRuntime``."""

from typing import Any

from rillet.prebuilt._agent_state import AgentState
from rillet.prebuilt._injected import InjectedState, InjectedStore, ToolRuntime
from rillet.prebuilt._react import create_react_agent
from rillet.prebuilt._tool_node import ToolNode, tools_condition

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "InjectedState",
    "InjectedStore",
    "ToolNode",
    "ToolRuntime",
    "create_react_agent",
    "tools_condition",
]


def __getattr__(name: str) -> Any:
    # AgentStatePydantic needs pydantic, which rillet does not require: load it on use.
    if name == "AgentStatePydantic":
        from rillet.prebuilt._agent_state_pydantic import AgentStatePydantic

        return AgentStatePydantic
    raise AttributeError(f"module 'rillet.prebuilt' has no attribute {name!r}")
