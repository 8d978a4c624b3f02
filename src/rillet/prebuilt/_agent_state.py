"""The ReAct agent's state: ``AgentState``, and the checks and extensions
``create_react_agent`` makes to a custom one. (``AgentStatePydantic`` lives in
:mod:`rillet.prebuilt._agent_state_pydantic`, so that pydantic loads only when used.)"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Annotated, Any, NotRequired, TypedDict

from rillet.errors import UsageError
from rillet.graph import add_messages
from rillet.managed import RemainingSteps
from rillet.messages import AnyMessage, BaseMessage

__all__ = ["AgentState", "RemainingSteps", "check_state_schema", "with_llm_input"]


class AgentState(TypedDict):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


class AgentStateWithStructuredResponse(AgentState):
    """The state of an agent with a ``response_format``."""

    structured_response: Any


def check_state_schema(state_schema: Any, structured: bool) -> type[Any]:
    """``state_schema``, or the default state, after checking it has the keys the
    agent needs.

    :raises ValueError: naming the missing keys, in LangGraph's words.
    """
    if state_schema is None:
        return AgentStateWithStructuredResponse if structured else AgentState
    required = {"messages", "remaining_steps"} | ({"structured_response"} if structured else set())
    try:
        keys = set(typing.get_type_hints(state_schema))
    except Exception as exc:
        raise UsageError(
            f"create_react_agent(state_schema=...): cannot read the keys of {state_schema!r}"
        ) from exc
    missing = sorted(required - keys)
    if missing:
        shown = "{" + ", ".join(repr(k) for k in missing) + "}"
        raise ValueError(f"Missing required key(s) {shown} in state_schema")
    schema: type[Any] = state_schema
    return schema


def with_llm_input(state_schema: type[Any]) -> type[Any]:
    """``state_schema`` plus the ``llm_input_messages`` key a ``pre_model_hook`` may
    write (LangGraph keeps it out of the graph's output; rillet has no output schema
    yet, so it shows in the final state)."""
    if hasattr(state_schema, "model_fields"):  # a pydantic model: pydantic is installed
        from pydantic import create_model

        extended: type[Any] = create_model(
            "CallModelInputSchema",
            __base__=state_schema,
            llm_input_messages=(list[AnyMessage], []),
        )
        return extended

    class CallModelInputSchema(state_schema):  # type: ignore[misc]
        llm_input_messages: NotRequired[list[AnyMessage]]  # type: ignore[valid-type]

    return CallModelInputSchema
