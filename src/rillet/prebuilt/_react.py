"""``create_react_agent``: a model that calls tools until it can answer.

Built from the public API only: a ``StateGraph(MessagesState)`` with an ``agent`` node
(the model, with the tools bound) and a ``tools`` node (``ToolNode``), looping while
the model asks for tools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rillet.errors import UsageError
from rillet.graph import END, START, CompiledStateGraph, MessagesState, StateGraph
from rillet.messages import BaseMessage, SystemMessage, convert_to_messages
from rillet.models import ChatModel
from rillet.prebuilt._tool_node import ToolNode, tools_condition
from rillet.tools import Tool

Prompt = str | SystemMessage | Callable[[Any], Sequence[Any]]


class _Agent:
    """The ``agent`` node: calls the model on the (prompted) conversation."""

    def __init__(self, model: ChatModel, prompt: Prompt | None) -> None:
        self.model = model
        self.prompt = prompt

    def _input(self, state: Any) -> list[BaseMessage]:
        messages = state["messages"] if isinstance(state, dict) else state.messages
        prompt = self.prompt
        if prompt is None:
            return list(messages)
        if isinstance(prompt, str):
            return [SystemMessage(prompt), *messages]
        if isinstance(prompt, SystemMessage):
            return [prompt, *messages]
        if callable(prompt):
            return convert_to_messages(prompt(state))
        raise TypeError(f"create_react_agent(prompt=...): unsupported prompt {prompt!r}")

    def invoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"messages": [self.model.invoke(self._input(state))]}

    async def ainvoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"messages": [await self.model.ainvoke(self._input(state))]}


def create_react_agent(
    model: ChatModel | str,
    tools: Sequence[Tool | Callable[..., Any]] | ToolNode,
    prompt: Prompt | None = None,
    *,
    name: str | None = None,
) -> CompiledStateGraph:
    """A ReAct agent: nodes ``agent`` and ``tools``, as in LangGraph.

    ``model`` is a rillet ``ChatModel`` or a name for ``init_chat_model`` (``"local"``,
    ``"openai:gpt-4o-mini"``); ``tools`` is a list of functions or ``Tool`` objects
    (``[]`` for none) or a ``ToolNode``; ``prompt`` is a system prompt string or
    message, or a function of the state returning the messages to send.

    :raises UsageError: if ``model`` or ``tools`` is missing or of the wrong kind.
    """
    chat_model = _chat_model(model)
    tool_node = _tool_node(tools)
    tools_list = list(tool_node.tools.values())
    if tools_list:
        bind = getattr(chat_model, "bind_tools", None)
        if not callable(bind):
            raise UsageError(
                f"create_react_agent(model=...): {chat_model!r} has no bind_tools(), so it "
                f"cannot call tools; pass a rillet ChatModel"
            )
        bound = bind(tools_list)
    else:
        bound = chat_model
    builder = StateGraph(MessagesState)
    builder.add_node("agent", _Agent(bound, prompt))
    builder.add_edge(START, "agent")
    if tool_node.tools:
        builder.add_node("tools", tool_node)
        builder.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
        builder.add_edge("tools", "agent")
    else:
        builder.add_edge("agent", END)
    return builder.compile(name=name or "LangGraph")


def _chat_model(model: Any) -> ChatModel:
    if isinstance(model, str):
        from rillet.models import init_chat_model

        return init_chat_model(model)
    if model is None or not callable(getattr(model, "invoke", None)):
        raise UsageError(
            f"create_react_agent(model=...) takes a chat model or a model name such as "
            f"'openai:gpt-4o-mini', got {model!r}"
        )
    chat_model: ChatModel = model
    return chat_model


def _tool_node(tools: Any) -> ToolNode:
    if isinstance(tools, ToolNode):
        return tools
    if tools is None or isinstance(tools, str | Tool) or not isinstance(tools, Sequence):
        raise UsageError(
            f"create_react_agent(tools=...) takes a list of tools (functions or Tool "
            f"objects; [] for none) or a ToolNode, got {tools!r}"
        )
    return ToolNode(tools)
