"""``ToolNode`` and ``tools_condition``: run a model's tool calls in a graph.

Errors are handled as LangGraph's ``ToolNode`` handles them. An unknown tool name
always becomes an error ``ToolMessage``. With the default ``handle_tool_errors``,
arguments that do not fit the tool's schema become an error ``ToolMessage``
(``ToolInvocationError.message``), and an exception raised inside the tool
propagates. ``True`` catches every exception, a str is the message for every
exception, an exception type or a tuple of them catches those, a function of the
exception catches the types its first parameter is annotated with (any exception
without an annotation) and returns the message, and ``False`` catches nothing.
``StreamClosedError`` (the consumer left), ``interrupt()`` and rillet's control flow
always propagate, as do ``BaseException``s such as ``KeyboardInterrupt`` and
``asyncio.CancelledError``; so do the errors of injecting the state or the store.

Interrupts: every tool call runs in its own ``interrupt_scope`` (its tool call id), so
the ``interrupt()`` calls of parallel tools get distinct ids that a re-run of the node
finds again. The node lets every call finish or pause, then raises one
``GraphInterrupt`` holding all the calls' interrupts in call order (LangGraph raises
the first call's only). A resume runs the node again from its start: every call runs
again, and each ``interrupt()`` answered so far returns its answer. An error raised by
another call (one not handled) wins over the interrupts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Literal

from rillet._constants import END
from rillet.errors import ConfigError, GraphInterrupt, StreamClosedError, UsageError
from rillet.messages import AIMessage, BaseMessage, ToolMessage, convert_to_messages
from rillet.prebuilt._injected import Injections, tool_runtime
from rillet.prebuilt._tool_errors import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    ErrorHandler,
    default_handle_tool_errors,
    error_content,
    handled_types,
)
from rillet.prebuilt._tool_outputs import InputKind, Output, combine, normalize
from rillet.runtime._interrupts import interrupt_scope
from rillet.runtime._workers import parallel
from rillet.tools import Tool
from rillet.tools._tool import ToolInvocationError

CallInput = tuple[list[dict[str, Any]], InputKind, Any]
Outcome = Output | GraphInterrupt  # a call's output, or the interrupt it paused with


class ToolNode:
    """A node that runs every tool call of the last AI message, in parallel.

    Given a state (``{"messages": [...]}`` or an object with a ``messages``
    attribute), a list of tool calls, or LangGraph's ``{"__type":
    "tool_call_with_context", "tool_call": ..., "state": ...}`` (what
    ``create_react_agent`` sends each call), it returns ``{"messages": [ToolMessage,
    ...]}`` in the order of the calls; given a list of messages, the list of
    ``ToolMessage``s. When a tool returns a ``Command``, it returns a list of updates
    and ``Command``s instead (see :mod:`rillet.prebuilt._tool_outputs`). Arguments
    marked ``InjectedState`` / ``InjectedStore`` receive the state and the graph's
    store. See the module docstring for ``handle_tool_errors``.

    :raises ConfigError: if two tools share a name, or ``handle_tool_errors`` is not
        one of the kinds above.
    """

    def __init__(
        self,
        tools: Sequence[Tool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandler = default_handle_tool_errors,
        messages_key: str = "messages",
    ) -> None:
        self.name = name
        self.tags = tags
        self.tools: dict[str, Tool] = _tools_by_name(tools)
        self.handle_tool_errors = handle_tool_errors
        self._handled = handled_types(handle_tool_errors)
        self.messages_key = messages_key
        self._injections = {n: Injections.of(t) for n, t in self.tools.items()}

    @property
    def tools_by_name(self) -> dict[str, Tool]:
        """The tools by name (LangGraph's name for :attr:`tools`)."""
        return self.tools

    def __repr__(self) -> str:
        return f"ToolNode(tools={list(self.tools)!r})"

    def invoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        calls, kind, state = self._tool_calls(input)
        store = self._store(calls)
        # parallel() never waits on a call no thread has started, so a ToolNode
        # inside busy parallel nodes cannot deadlock the worker pool.
        outcomes = parallel(
            [partial(self._run, i, call, kind, state, store, config)
             for i, call in enumerate(calls)]
        )
        return self._combine(outcomes, kind)

    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        calls, kind, state = self._tool_calls(input)
        store = self._store(calls)
        outcomes = await asyncio.gather(
            *(self._arun(i, call, kind, state, store, config) for i, call in enumerate(calls))
        )
        return self._combine(list(outcomes), kind)

    __call__ = invoke

    # ------------------------------------------------------------- internals

    def _tool_calls(self, input: Any) -> CallInput:
        """The calls to run, the kind of input, and the state tools may ask for."""
        kind: InputKind
        if isinstance(input, list):
            if input and isinstance(input[-1], dict) and input[-1].get("type") == "tool_call":
                return list(input), "tool_calls", {}
            messages, kind = input, "list"
        elif isinstance(input, dict) and input.get("__type") == "tool_call_with_context":
            return [dict(input["tool_call"])], "tool_calls", input.get("state", {})
        elif isinstance(input, dict):
            messages, kind = input.get(self.messages_key, []), "dict"
        else:
            messages, kind = getattr(input, self.messages_key, []), "dict"
        for message in reversed(convert_to_messages(messages or [])):
            if isinstance(message, AIMessage):
                return [dict(call) for call in message.tool_calls], kind, input
        raise ValueError(
            f"ToolNode {self.name!r}: no AIMessage found in the input "
            f"(looked in {self.messages_key!r})"
        )

    def _store(self, calls: list[dict[str, Any]]) -> Any:
        injections = [self._injections[c["name"]] for c in calls if c["name"] in self.tools]
        if not any(i.store or i.runtime for i in injections):
            return None
        return _graph_store()

    def _prepare(self, call: dict[str, Any], state: Any, store: Any,
                 config: dict[str, Any] | None) -> dict[str, Any]:
        """The call as the tool gets it: injected arguments filled in."""
        injections = self._injections[call["name"]]
        if not injections:
            return {**call, "type": "tool_call"}
        args = injections.apply(call["args"], state, store, self.messages_key, call["name"])
        if injections.runtime is not None:
            args[injections.runtime] = tool_runtime(call, state, store, config,
                                                    list(self.tools.values()))
        return {**call, "args": args, "type": "tool_call"}

    def _run(self, index: int, call: dict[str, Any], kind: InputKind, state: Any,
             store: Any, config: dict[str, Any] | None) -> Outcome:
        tool = self.tools.get(call["name"])
        if tool is None:
            return self._invalid_tool(call)
        prepared = self._prepare(call, state, store, config)
        with interrupt_scope(_scope_key(call, index)):
            try:
                try:
                    result = tool.invoke(prepared, config)
                except ToolInvocationError as exc:
                    raise self._model_error(exc, call) from exc
                return normalize(result, call, kind, self.messages_key)
            except GraphInterrupt as exc:
                return exc  # the other calls go on; _combine raises them all
            except _always_raised():
                raise
            except Exception as exc:
                return self._handle(exc, call)

    async def _arun(self, index: int, call: dict[str, Any], kind: InputKind, state: Any,
                    store: Any, config: dict[str, Any] | None) -> Outcome:
        tool = self.tools.get(call["name"])
        if tool is None:
            return self._invalid_tool(call)
        prepared = self._prepare(call, state, store, config)
        # gather() runs each call in a task of its own, in a copy of this context, so
        # the scope set here is the call's alone.
        with interrupt_scope(_scope_key(call, index)):
            try:
                try:
                    result = await tool.ainvoke(prepared, config)
                except ToolInvocationError as exc:
                    raise self._model_error(exc, call) from exc
                return normalize(result, call, kind, self.messages_key)
            except GraphInterrupt as exc:
                return exc
            except _always_raised():
                raise
            except Exception as exc:
                return self._handle(exc, call)

    def _combine(self, outcomes: list[Outcome], kind: InputKind) -> Any:
        """The node's return value, or one ``GraphInterrupt`` with every call's
        interrupts in call order."""
        paused = [o for o in outcomes if isinstance(o, GraphInterrupt)]
        if len(paused) == 1:
            raise paused[0]
        if paused:
            raise GraphInterrupt([one for exc in paused for one in exc.interrupts])
        outputs: list[Output] = outcomes  # type: ignore[assignment]  # none paused
        return combine(outputs, kind, self.messages_key)

    def _model_error(self, exc: ToolInvocationError, call: dict[str, Any]) -> Exception:
        """The error as the model should read it: its own arguments, and no complaint
        about the state or store it cannot fix (as in LangGraph)."""
        hidden = self._injections[call["name"]].names()
        errors = [e for e in exc.errors if not e["loc"] or e["loc"][0] not in hidden]
        return ToolInvocationError(call["name"], call["args"], errors)

    def _invalid_tool(self, call: dict[str, Any]) -> ToolMessage:
        content = INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
            requested_tool=call["name"], available_tools=", ".join(self.tools)
        )
        return ToolMessage(
            content, name=call["name"], tool_call_id=call.get("id") or "", status="error"
        )

    def _handle(self, exc: Exception, call: dict[str, Any]) -> ToolMessage:
        """The error message for ``exc``, or ``exc`` raised again if it is not handled."""
        if not self._handled or not isinstance(exc, self._handled):
            raise exc
        return ToolMessage(
            error_content(self.handle_tool_errors, exc),
            name=call["name"],
            tool_call_id=call.get("id") or "",
            status="error",
        )


def _always_raised() -> tuple[type[BaseException], ...]:
    """What no ``handle_tool_errors`` catches: the consumer leaving, and a
    ``Command(graph=Command.PARENT)`` on its way up from a subgraph the tool ran."""
    from rillet.runtime._writes import ParentCommand

    return (StreamClosedError, ParentCommand)


def _scope_key(call: dict[str, Any], index: int) -> str:
    """The call's interrupt scope: its id, or its place when it has none (tool calls
    passed by hand), which a re-run of the same message finds again."""
    return call.get("id") or f"#{index}"


def _graph_store() -> Any:
    """The store of the running graph, or ``None`` (outside a run, or before
    ``rillet.config.get_store`` exists)."""
    try:
        from rillet.config import get_store  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    try:
        return get_store()
    except RuntimeError:  # OutsideRunError: no graph is running
        return None


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
