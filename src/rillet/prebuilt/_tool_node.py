"""``ToolNode`` and ``tools_condition``: run a model's tool calls in a graph."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from typing import Any, Literal

from rillet._constants import END
from rillet.messages import AIMessage, BaseMessage, ToolMessage, convert_to_messages
from rillet.tools import Tool
from rillet.tools._tool import ToolArgumentError

ErrorHandler = bool | str | Callable[[Exception], str]


class ToolNode:
    """A node that runs every tool call of the last AI message, in parallel.

    It returns ``{"messages": [ToolMessage, ...]}`` in the order of the calls. A tool
    that raises, an unknown tool or invalid arguments become a ``ToolMessage`` with
    ``status="error"`` telling the model what went wrong (``handle_tool_errors=False``
    lets tool errors raise instead; a string or a function sets the message).
    """

    def __init__(
        self,
        tools: Sequence[Tool | Callable[..., Any]],
        *,
        name: str = "tools",
        handle_tool_errors: ErrorHandler = True,
        messages_key: str = "messages",
    ) -> None:
        self.name = name
        self.tools: dict[str, Tool] = {}
        for item in tools:
            t = item if isinstance(item, Tool) else Tool(item)
            self.tools[t.name] = t
        self.handle_tool_errors = handle_tool_errors
        self.messages_key = messages_key

    def __repr__(self) -> str:
        return f"ToolNode(tools={list(self.tools)!r})"

    def invoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        calls = self._tool_calls(state)
        if len(calls) == 1:
            return self._output([self._run(calls[0], config)])
        from rillet.runtime._sync import shared_pool

        futures = [
            shared_pool().submit(contextvars.copy_context().run, self._run, call, config)
            for call in calls
        ]
        return self._output([f.result() for f in futures])

    async def ainvoke(self, state: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        calls = self._tool_calls(state)
        results = await asyncio.gather(*(self._arun(call, config) for call in calls))
        return self._output(list(results))

    __call__ = invoke

    # ------------------------------------------------------------- internals

    def _tool_calls(self, state: Any) -> list[Any]:
        if isinstance(state, list):
            messages = state
        elif isinstance(state, dict):
            messages = state.get(self.messages_key, [])
        else:
            messages = getattr(state, self.messages_key, [])
        messages = convert_to_messages(messages)
        for message in reversed(messages):
            if isinstance(message, AIMessage):
                return list(message.tool_calls)
        raise ValueError(f"ToolNode {self.name!r}: no AIMessage found in the input")

    def _output(self, messages: list[ToolMessage]) -> dict[str, Any]:
        return {self.messages_key: messages}

    def _lookup(self, call: dict[str, Any]) -> Tool | ToolMessage:
        tool = self.tools.get(call["name"])
        if tool is None:
            names = ", ".join(self.tools)
            return ToolMessage(
                content=f"Error: {call['name']} is not a valid tool, try one of [{names}].",
                tool_call_id=call.get("id") or "",
                name=call["name"],
                status="error",
            )
        return tool

    def _run(self, call: dict[str, Any], config: dict[str, Any] | None) -> ToolMessage:
        tool = self._lookup(call)
        if isinstance(tool, ToolMessage):
            return tool
        try:
            result = tool.invoke({**call, "type": "tool_call"}, config)
        except Exception as exc:
            return self._error_message(call, exc)
        return _as_tool_message(result, call, tool)

    async def _arun(self, call: dict[str, Any], config: dict[str, Any] | None) -> ToolMessage:
        tool = self._lookup(call)
        if isinstance(tool, ToolMessage):
            return tool
        try:
            result = await tool.ainvoke({**call, "type": "tool_call"}, config)
        except Exception as exc:
            return self._error_message(call, exc)
        return _as_tool_message(result, call, tool)

    def _error_message(self, call: dict[str, Any], exc: Exception) -> ToolMessage:
        handler = self.handle_tool_errors
        if handler is False and not isinstance(exc, ToolArgumentError):
            raise exc
        if isinstance(handler, str):
            content = handler
        elif callable(handler) and not isinstance(handler, bool):
            content = handler(exc)
        else:
            content = f"Error: {exc!r}\n Please fix your mistakes."
        return ToolMessage(
            content=content, tool_call_id=call.get("id") or "", name=call["name"], status="error"
        )


def _as_tool_message(result: Any, call: dict[str, Any], tool: Tool) -> ToolMessage:
    if isinstance(result, ToolMessage):
        return result
    return ToolMessage(content=str(result), tool_call_id=call.get("id") or "", name=tool.name)


def tools_condition(state: Any, messages_key: str = "messages") -> Literal["tools", "__end__"]:
    """Route to ``"tools"`` when the last message asks for tool calls, else to END."""
    if isinstance(state, list):
        messages = state
    elif isinstance(state, dict):
        messages = state.get(messages_key, [])
    else:
        messages = getattr(state, messages_key, [])
    if not messages:
        raise ValueError(f"tools_condition: no messages found in the state ({messages_key!r})")
    last: BaseMessage = convert_to_messages([messages[-1]])[0]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "tools"
    return END
