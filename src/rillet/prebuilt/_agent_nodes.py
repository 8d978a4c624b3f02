"""The nodes ``create_react_agent`` builds: ``agent`` (the model call) and
``generate_structured_response``; both as LangGraph words and shapes them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from rillet.errors import UsageError
from rillet.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage

Prompt = str | SystemMessage | Callable[[Any], Any] | Any
"""A system prompt string or message, a function of the state (sync or async)
returning the model input, or an object with ``invoke`` (a LangChain ``Runnable``)."""

NEED_MORE_STEPS = "Sorry, need more steps to process this request."

INVALID_CHAT_HISTORY = (
    "Found AIMessages with tool_calls that do not have a corresponding ToolMessage. "
    "Here are the first few of those tool calls: {calls}.\n\n"
    "Every tool call (LLM requesting to call a tool) in the message history MUST have a "
    "corresponding ToolMessage (result of a tool invocation to return to the LLM) - this "
    "is required by most LLM providers.\n"
    "For troubleshooting, visit: "
    "https://docs.langchain.com/oss/python/langgraph/errors/INVALID_CHAT_HISTORY"
)


def state_value(state: Any, key: str, default: Any = None) -> Any:
    if isinstance(state, dict):
        return state.get(key, default)
    return getattr(state, key, default)


class AgentNode:
    """The ``agent`` node: prompt, model, and the agent's name on its answer.

    With a ``pre_model_hook`` the model reads ``llm_input_messages`` when the hook
    wrote them (``messages`` otherwise). An answer asking for tools when the run has
    too few steps left becomes LangGraph's "need more steps" message.
    """

    def __init__(self, model: Any, prompt: Prompt | None, name: str | None,
                 hooked: bool, return_direct: set[str]) -> None:
        self.model = model
        self.prompt = prompt
        self.name = name
        self.hooked = hooked
        self.return_direct = return_direct

    def invoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        view = self._view(state)
        if inspect.iscoroutinefunction(self.prompt):
            raise UsageError(
                "create_react_agent(prompt=...): the prompt is an async function, so run "
                "the agent with ainvoke() or astream()"
            )
        if self.prompt is not None and not callable(self.prompt) and hasattr(
            self.prompt, "invoke"
        ):
            model_input = self.prompt.invoke(view)
        else:
            model_input = self._prompted(view)
        return self._answer(state, self.model.invoke(model_input))

    async def ainvoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        view = self._view(state)
        prompt = self.prompt
        if inspect.iscoroutinefunction(prompt):
            model_input = await prompt(view)
        elif prompt is not None and not callable(prompt) and hasattr(prompt, "ainvoke"):
            model_input = await prompt.ainvoke(view)
        elif prompt is not None and not callable(prompt) and hasattr(prompt, "invoke"):
            model_input = prompt.invoke(view)
        else:
            model_input = self._prompted(view)
        return self._answer(state, await self.model.ainvoke(model_input))

    def _view(self, state: Any) -> Any:
        """The state the prompt sees: ``messages`` replaced by what the model reads."""
        messages = state_value(state, "messages")
        expected = "'messages' key"
        if self.hooked:
            messages = state_value(state, "llm_input_messages") or messages
            expected = "'llm_input_messages' or 'messages' key"
        if messages is None:
            raise ValueError(f"Expected input to call_model to have {expected}, but got {state}")
        validate_chat_history(messages)
        if isinstance(state, dict):
            return {**state, "messages": messages}
        copy = getattr(state, "model_copy", None)
        return copy(update={"messages": messages}) if callable(copy) else state

    def _prompted(self, view: Any) -> Any:
        messages = list(state_value(view, "messages"))
        prompt = self.prompt
        if prompt is None:
            return messages
        if isinstance(prompt, str):
            return [SystemMessage(prompt), *messages]
        if isinstance(prompt, SystemMessage):
            return [prompt, *messages]
        if callable(prompt):
            return prompt(view)
        raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")

    def _answer(self, state: Any, response: Any) -> dict[str, Any]:
        if isinstance(response, BaseMessage):
            response.name = self.name
        if self._needs_more_steps(state, response):
            return {"messages": [AIMessage(NEED_MORE_STEPS, id=response.id)]}
        return {"messages": [response]}

    def _needs_more_steps(self, state: Any, response: Any) -> bool:
        calls = response.tool_calls if isinstance(response, AIMessage) else []
        # A managed key (rillet.managed.RemainingSteps) in the agent's state.
        remaining = state_value(state, "remaining_steps")
        if remaining is None:
            return False
        all_direct = isinstance(response, AIMessage) and all(
            c["name"] in self.return_direct for c in calls
        )
        return (remaining < 1 and all_direct) or (remaining < 2 and bool(calls))


def validate_chat_history(messages: Sequence[Any]) -> None:
    """:raises ValueError: if an AI message's tool call has no ``ToolMessage`` answer."""
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    missing = [c for c in calls if c["id"] not in answered]
    if missing:
        raise ValueError(INVALID_CHAT_HISTORY.format(calls=missing[:3]))


class StructuredResponseNode:
    """The ``generate_structured_response`` node: one more model call, through the
    model's ``with_structured_output(schema)``, on the conversation (after the system
    prompt of a ``(prompt, schema)`` pair)."""

    def __init__(self, model: Any, response_format: Any) -> None:
        self.system: str | None = None
        schema = response_format
        if isinstance(response_format, tuple):
            self.system, schema = response_format
        make = getattr(model, "with_structured_output", None)
        if not callable(make):
            raise UsageError(
                f"create_react_agent(response_format=...) needs a model with "
                f"with_structured_output(schema); {model!r} has none"
            )
        self.model = make(schema)

    def _messages(self, state: Any) -> list[Any]:
        messages = list(state_value(state, "messages"))
        return [SystemMessage(self.system), *messages] if self.system else messages

    def invoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"structured_response": self.model.invoke(self._messages(state))}

    async def ainvoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"structured_response": await self.model.ainvoke(self._messages(state))}
