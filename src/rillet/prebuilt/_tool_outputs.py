"""What ``ToolNode`` makes of its tools' results, as LangGraph's ``ToolNode`` does.

A tool returns a ``ToolMessage`` (its content made valid), a ``Command`` (checked to
answer its tool call, unless it goes to the parent graph), or a list of them (with
exactly one answer among them). Without any ``Command`` the node returns
``{"messages": [...]}`` (the bare list for a list input); with one, a list mixing
``{"messages": [message]}`` updates and the ``Command`` s, in call order, where the
parent-graph ``Command`` s made only of ``Send`` s are merged into one, last.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, TypeAlias

from rillet.messages import (
    REMOVE_ALL_MESSAGES,
    RemoveMessage,
    ToolMessage,
    convert_to_messages,
)
from rillet.tools._tool import tool_content
from rillet.types import Command, Send

InputKind: TypeAlias = Literal["list", "dict", "tool_calls"]
Output: TypeAlias = ToolMessage | Command[Any] | list[ToolMessage | Command[Any]]


def normalize(result: Any, call: dict[str, Any], kind: InputKind,
              messages_key: str) -> Output:
    """A tool's result, checked and ready to combine.

    :raises TypeError: for a result that is not a ``ToolMessage``, a ``Command`` or a
        list of them.
    :raises ValueError: for a ``Command`` that leaves its tool call unanswered, or
        whose update does not fit the node's input.
    """
    if isinstance(result, Command):
        return _check_command(result, call, kind, messages_key, require_answer=True)
    if isinstance(result, ToolMessage):
        return _with_content(result)
    if isinstance(result, list):
        if all(isinstance(r, ToolMessage | Command) for r in result):
            return _check_list(result, call, kind, messages_key)
        raise TypeError(
            f"Tool {call['name']} returned a list with invalid element types: expected "
            f"all Command or ToolMessage"
        )
    raise TypeError(f"Tool {call['name']} returned unexpected type: {type(result)}")


def combine(outputs: list[Output], kind: InputKind, messages_key: str) -> Any:
    """The node's return value from every call's output, in call order."""
    flat: list[ToolMessage | Command[Any]] = []
    for output in outputs:
        flat.extend(output if isinstance(output, list) else [output])
    if not any(isinstance(o, Command) for o in flat):
        return flat if kind == "list" else {messages_key: flat}
    combined: list[Any] = []
    sends: list[Send] = []
    for output in flat:
        if isinstance(output, ToolMessage):
            combined.append([output] if kind == "list" else {messages_key: [output]})
        elif _only_sends_to_parent(output):
            sends.extend(output.goto)  # type: ignore[arg-type]
        else:
            combined.append(output)
    if sends:
        combined.append(Command(graph=Command.PARENT, goto=sends))
    return combined


def _only_sends_to_parent(command: Command[Any]) -> bool:
    goto = command.goto
    return (
        command.graph == Command.PARENT
        and isinstance(goto, list)
        and all(isinstance(s, Send) for s in goto)
    )


def _with_content(message: ToolMessage) -> ToolMessage:
    content = tool_content(message.content)
    if content is not message.content:
        message.content = content
    return message


def _check_list(results: list[Any], call: dict[str, Any], kind: InputKind,
                messages_key: str) -> list[ToolMessage | Command[Any]]:
    answers = 0
    for item in results:
        if isinstance(item, ToolMessage):
            answers += item.tool_call_id == call["id"]
        elif isinstance(item.update, dict):
            answers += sum(
                isinstance(m, ToolMessage) and m.tool_call_id == call["id"]
                for m in item.update.get(messages_key, [])
            )
    if answers != 1:
        raise ValueError(
            f"Tool {call['name']} returned a list with {answers} messages bound to "
            f"tool_call_id {call['id']!r}; expected exactly one terminating ToolMessage."
        )
    return [
        _check_command(item, call, kind, messages_key, require_answer=False)
        if isinstance(item, Command) else _with_content(item)
        for item in results
    ]


def _check_command(command: Command[Any], call: dict[str, Any], kind: InputKind,
                   messages_key: str, *, require_answer: bool) -> Command[Any]:
    name = call["name"]
    if isinstance(command.update, dict):
        if kind == "list":
            raise ValueError(
                f"Tools can provide a dict in Command.update only when using dict with "
                f"'{messages_key}' key as ToolNode input, got: {command.update} for tool "
                f"'{name}'"
            )
        command = copy.deepcopy(command)
        messages = (command.update or {}).get(messages_key, [])
    elif isinstance(command.update, list):
        if kind != "list":
            raise ValueError(
                f"Tools can provide a list of messages in Command.update only when using "
                f"list of messages as ToolNode input, got: {command.update} for tool "
                f"'{name}'"
            )
        command = copy.deepcopy(command)
        messages = command.update
    else:
        return command
    messages = convert_to_messages(messages)
    if len(messages) == 1 and _removes_all(messages[0]):
        return command
    answered = False
    for message in messages:
        if isinstance(message, ToolMessage) and message.tool_call_id == call["id"]:
            message.name = name
            answered = True
    if require_answer and command.graph is None and not answered:
        example = (
            '`Command(update={"messages": [ToolMessage("Success", '
            'tool_call_id=tool_call_id), ...]}, ...)`'
            if kind == "dict"
            else '`Command(update=[ToolMessage("Success", tool_call_id=tool_call_id), '
            "...], ...)`"
        )
        raise ValueError(
            f"Expected to have a matching ToolMessage in Command.update for tool "
            f"'{name}', got: {messages}. Every tool call (LLM requesting to call a tool) "
            f"in the message history MUST have a corresponding ToolMessage. You can fix "
            f"it by modifying the tool to return {example}."
        )
    return command


def _removes_all(message: Any) -> bool:
    return isinstance(message, RemoveMessage) and message.id == REMOVE_ALL_MESSAGES
