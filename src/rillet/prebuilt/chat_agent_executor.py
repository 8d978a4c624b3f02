"""``rillet.prebuilt.chat_agent_executor``: where LangGraph programs import the agent's
state classes from (``from langgraph.prebuilt.chat_agent_executor import AgentState``).

The same objects as ``rillet.prebuilt``.
"""

from typing import TYPE_CHECKING, Any

from rillet.prebuilt._agent_state import (
    AgentState,
    AgentStateWithStructuredResponse,
    RemainingSteps,
)
from rillet.prebuilt._react import create_react_agent

if TYPE_CHECKING:
    from rillet.prebuilt._agent_state_pydantic import (
        AgentStatePydantic,
        AgentStateWithStructuredResponsePydantic,
    )

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "RemainingSteps",
    "create_react_agent",
]


def __getattr__(name: str) -> Any:
    # The pydantic states need pydantic, which rillet does not require: load on use.
    if name in ("AgentStatePydantic", "AgentStateWithStructuredResponsePydantic"):
        from rillet.prebuilt import _agent_state_pydantic

        return getattr(_agent_state_pydantic, name)
    raise AttributeError(f"module 'rillet.prebuilt.chat_agent_executor' has no attribute {name!r}")
