"""``AgentStatePydantic``: the agent's state as a pydantic model (needs pydantic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

try:
    from pydantic import BaseModel, ConfigDict
except ImportError as exc:  # pragma: no cover - pydantic is a test dependency
    raise ImportError(
        "rillet.prebuilt.AgentStatePydantic needs pydantic: pip install pydantic"
    ) from exc

from rillet.graph import add_messages
from rillet.messages import BaseMessage
from rillet.prebuilt._agent_state import RemainingSteps

__all__ = ["AgentStatePydantic", "AgentStateWithStructuredResponsePydantic"]


class AgentStatePydantic(BaseModel):
    """The state of the agent, as a pydantic model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: RemainingSteps = 25


class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):
    """The pydantic state of an agent with a ``response_format``."""

    structured_response: Any = None
