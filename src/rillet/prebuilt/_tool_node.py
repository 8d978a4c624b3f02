"""``ToolNode`` and ``tools_condition``: run a model's tool calls in a graph.

Errors are handled as LangGraph's ``ToolNode`` handles them. An unknown tool name
always becomes an error ``ToolMessage``. With the default ``handle_tool_errors``,
arguments that do not fit the tool's schema become an error ``ToolMessage``
(``ToolInvocationError.message``), and an exception raised inside the tool
propagates. ``True`` catches every exception, a str is the message for every
exception, an exception type or a tuple of them catches those, a function of the
exception catches the types its first parameter is annotated with (any exception
without an annotation) and returns the message, and ``False`` catches nothing.
``StreamClosedError`` (the consumer left) and rillet's control flow always
propagate, as do ``BaseException``s such as ``KeyboardInterrupt`` and
``asyncio.CancelledError``.
"""

from __future__ import annotations

import asyncio
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Literal

from rillet._constants import END
from rillet.errors import ConfigError, StreamClosedError, UsageError
from rillet.messages import AIMessage, BaseMessage, ToolMessage, convert_to_messages
from rillet.runtime._workers import parallel
from rillet.tools import Tool
from rillet.tools._tool import ToolInvocationError, tool_content

ErrorHandler = (
    bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]
)
InputKind = Literal["list", "dict", "tool_calls"]

INVALID_TOOL_NAME_ERROR_TEMPLATE = (
    "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
)
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."


def _default_handle_tool_errors(e: Exception) -> str:
    """LangGraph's default: invalid arguments become a message, other errors raise."""
    if isinstance(e, ToolInvocationError):
        return e.message
    raise e


class ToolNode:
    """A node that runs every tool call of the last AI message, in parallel.

    Given a state (``{"messages": [...]}`` or an object with a ``messages``
    attribute) or a list of tool calls, it returns ``{"messages": [ToolMessage, ...]}``
    in the order of the calls; given a list of messages, the list of ``ToolMessage``s.
    See the module docstring for ``handle_tool_errors``.

    :raises ConfigError: if two tools share a name, or ``handle_tool_errors`` is not
        one of the kinds above.
    """

    def __init__(
        self,
        tools: Sequence[Tool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandler = _default_handle_tool_errors,
        messages_key: str = "messages",
    ) -> None:
        self.name = name
        self.tags = tags
        self.tools: dict[str, Tool] = _tools_by_name(tools)
        self.handle_tool_errors = handle_tool_errors
        self._handled = _handled_types(handle_tool_errors)
        self.messages_key = messages_key

    @property
    def tools_by_name(self) -> dict[str, Tool]:
        """The tools by name (LangGraph's name for :attr:`tools`)."""
        return self.tools

    def __repr__(self) -> str:
        return f"ToolNode(tools={list(self.tools)!r})"

    def invoke(self, state: Any, config: dict[str, Any] | None = None) -> Any:
        calls, kind = self._tool_calls(state)
        # parallel() never waits on a call no thread has started, so a ToolNode
        # inside busy parallel nodes cannot deadlock the worker pool.
        outputs = parallel([partial(self._run, call, config) for call in calls])
        return self._output(outputs, kind)

    async def ainvoke(self, state: Any, config: dict[str, Any] | None = None) -> Any:
        calls, kind = self._tool_calls(state)
        outputs = await asyncio.gather(*(self._arun(call, config) for call in calls))
        return self._output(list(outputs), kind)

    __call__ = invoke

    # ------------------------------------------------------------- internals

    def _tool_calls(self, state: Any) -> tuple[list[dict[str, Any]], InputKind]:
        kind: InputKind
        if isinstance(state, list):
            if state and isinstance(state[-1], dict) and state[-1].get("type") == "tool_call":
                return list(state), "tool_calls"
            messages, kind = state, "list"
        elif isinstance(state, dict):
            messages, kind = state.get(self.messages_key, []), "dict"
        else:
            messages, kind = getattr(state, self.messages_key, []), "dict"
        for message in reversed(convert_to_messages(messages or [])):
            if isinstance(message, AIMessage):
                return [dict(call) for call in message.tool_calls], kind
        raise ValueError(
            f"ToolNode {self.name!r}: no AIMessage found in the input "
            f"(looked in {self.messages_key!r})"
        )

    def _output(self, messages: list[ToolMessage], kind: InputKind) -> Any:
        return messages if kind == "list" else {self.messages_key: messages}

    def _run(self, call: dict[str, Any], config: dict[str, Any] | None) -> ToolMessage:
        tool = self.tools.get(call["name"])
        if tool is None:
            return self._invalid_tool(call)
        try:
            return _normalize(tool.invoke({**call, "type": "tool_call"}, config), call)
        except (StreamClosedError, _parent_command()):
            raise
        except Exception as exc:
            return self._handle(exc, call)

    async def _arun(self, call: dict[str, Any], config: dict[str, Any] | None) -> ToolMessage:
        tool = self.tools.get(call["name"])
        if tool is None:
            return self._invalid_tool(call)
        try:
            return _normalize(await tool.ainvoke({**call, "type": "tool_call"}, config), call)
        except (StreamClosedError, _parent_command()):
            raise
        except Exception as exc:
            return self._handle(exc, call)

    def _invalid_tool(self, call: dict[str, Any]) -> ToolMessage:
        content = INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
            requested_tool=call["name"], available_tools=", ".join(self.tools)
        )
        return ToolMessage(
            content, name=call["name"], tool_call_id=call.get("id") or "", status="error"
        )

    def _handle(self, exc: Exception, call: dict[str, Any]) -> ToolMessage:
        """The error message for ``exc``, or ``exc`` raised again if it is not handled."""
        handler = self.handle_tool_errors
        if not self._handled or not isinstance(exc, self._handled):
            raise exc
        if isinstance(handler, str):
            content: Any = handler
        elif callable(handler) and not isinstance(handler, type):
            content = handler(exc)
        else:  # True, an exception type or a tuple of them
            content = TOOL_CALL_ERROR_TEMPLATE.format(error=repr(exc))
        return ToolMessage(
            content, name=call["name"], tool_call_id=call.get("id") or "", status="error"
        )


def _normalize(result: Any, call: dict[str, Any]) -> ToolMessage:
    if not isinstance(result, ToolMessage):
        raise TypeError(f"Tool {call['name']} returned unexpected type: {type(result)}")
    content = tool_content(result.content)
    return result if content is result.content else result.model_copy(update={"content": content})


def _parent_command() -> type[Exception]:
    # A Command(graph=Command.PARENT) on its way up from a subgraph the tool ran.
    from rillet.runtime._loop import ParentCommand

    return ParentCommand


def _tools_by_name(tools: Any) -> dict[str, Tool]:
    if tools is None or isinstance(tools, str | Tool) or not isinstance(tools, Iterable):
        raise UsageError(
            f"ToolNode(tools=...) takes a list of tools (functions or Tool objects), "
            f"got {tools!r}"
        )
    by_name: dict[str, Tool] = {}
    for item in tools:
        t = item if isinstance(item, Tool) else Tool(item)
        if t.name in by_name:
            raise ConfigError(
                f"ToolNode got two tools named {t.name!r}: a model calls tools by name, "
                f"so names must be unique (rename one with @tool('other_name'))"
            )
        by_name[t.name] = t
    return by_name


def _handled_types(handler: Any) -> tuple[type[Exception], ...]:
    """The exception types ``handle_tool_errors`` turns into messages."""
    if isinstance(handler, bool | str):  # False and "" catch nothing, as in LangGraph
        return (Exception,) if handler else ()
    if isinstance(handler, type) and issubclass(handler, Exception):
        return (handler,)
    if isinstance(handler, tuple) and all(
        isinstance(t, type) and issubclass(t, Exception) for t in handler
    ):
        return handler
    if callable(handler) and not isinstance(handler, type):
        return _annotated_types(handler)
    raise ConfigError(
        f"ToolNode(handle_tool_errors=...) takes a bool, a str, an exception type, a tuple "
        f"of exception types or a function of the exception, got {handler!r}"
    )


def _annotated_types(handler: Callable[..., Any]) -> tuple[type[Exception], ...]:
    """The exception types a handler's first parameter is annotated with (as
    LangGraph infers them), or ``(Exception,)`` without an annotation."""
    try:
        params = list(inspect.signature(handler).parameters.values())
        hints = typing.get_type_hints(handler)
    except Exception:  # no signature, or annotations that do not resolve
        return (Exception,)
    if not params:
        return (Exception,)
    first = params[1] if params[0].name in ("self", "cls") and len(params) == 2 else params[0]
    hint = hints.get(first.name)
    if hint is None:
        return (Exception,)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
    else:
        options = (hint,)
    if all(isinstance(t, type) and issubclass(t, Exception) for t in options):
        return tuple(options)
    raise ConfigError(
        f"ToolNode(handle_tool_errors={handler!r}): annotate the handler's error with an "
        f"exception type or a union of them, such as `def handler(e: ValueError) -> str`; "
        f"got {hint!r}"
    )


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
