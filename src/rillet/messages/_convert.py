"""Turning message-likes into messages, and messages into OpenAI request dicts.

Wherever rillet takes messages it also takes what users write by hand:

- a message object (returned as it is);
- a string, for a user message;
- a ``(role, content)`` pair, role one of ``user``/``human``, ``assistant``/``ai``,
  ``system``, ``developer``;
- an OpenAI Chat Completions dict, ``{"role": ..., "content": ..., "name"?,
  "tool_calls"? (assistant, OpenAI's shape or LangChain's), "tool_call_id" (tool)}``,
  or a dict from :meth:`BaseMessage.to_dict` (``"type"`` in place of ``"role"``).
  Keys a message has no field for go to ``additional_kwargs``, as in LangChain;
- a message object of another library with LangChain's fields, found by duck typing
  (a ``type`` such as ``"human"``, ``"ai"`` or ``"AIMessageChunk"``, and ``content``):
  LangChain's own messages, which a node may return into a rillet state. Its dicts
  and lists are copied one level deep, so that changing one message leaves the
  other as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, TypeAlias

from rillet.messages._ai import AIMessage, AIMessageChunk, message_chunk_to_message
from rillet.messages._base import (
    BaseMessage,
    Content,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from rillet.messages._tool import (
    InvalidToolCall,
    ToolCall,
    ToolMessage,
    normalize_tool_calls,
    parse_openai_tool_calls,
)

__all__ = [
    "AnyMessage",
    "MessageLikeRepresentation",
    "MessageObject",
    "convert_to_messages",
    "to_message",
    "to_openai_dict",
    "to_openai_dicts",
]


class MessageObject(Protocol):
    """A message of another library with LangChain's fields (a LangChain message)."""

    @property
    def type(self) -> str: ...

    @property
    def content(self) -> Any: ...


MessageLikeRepresentation: TypeAlias = (
    BaseMessage | str | tuple[str, Content] | list[str] | dict[str, Any] | MessageObject
)
"""Anything :func:`to_message` turns into a message."""

AnyMessage: TypeAlias = (
    AIMessage | AIMessageChunk | HumanMessage | SystemMessage | ToolMessage | RemoveMessage
)
"""Any of the message classes, for annotating state: ``list[AnyMessage]``."""

_ACCEPTED = (
    "a message object, a string, a (role, content) pair, a dict with 'role' "
    "(or 'type') and 'content', or a LangChain message"
)
_ROLE_NAMES = "'user', 'human', 'assistant', 'ai', 'system', 'developer', 'tool'"
# role (or to_dict() type) -> message kind
_KINDS: Final = {
    "user": "human",
    "human": "human",
    "assistant": "ai",
    "ai": "ai",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "remove": "remove",
    "AIMessageChunk": "AIMessageChunk",
}
_COMMON_KEYS: Final = frozenset({"content", "name", "id", "additional_kwargs", "response_metadata"})
_AI_KEYS: Final = frozenset({"tool_calls", "invalid_tool_calls", "usage_metadata"})
_CHUNK_KEYS: Final = _AI_KEYS | {"tool_call_chunks", "chunk_position"}
_TOOL_KEYS: Final = frozenset({"tool_call_id", "artifact", "status"})
_KIND_KEYS: Final = {
    "human": _COMMON_KEYS,
    "system": _COMMON_KEYS,
    "ai": _COMMON_KEYS | _AI_KEYS,
    "AIMessageChunk": _COMMON_KEYS | _CHUNK_KEYS,
    "tool": _COMMON_KEYS | _TOOL_KEYS,
    "remove": _COMMON_KEYS,
}
_ALL_FIELD_KEYS: Final = _COMMON_KEYS | _CHUNK_KEYS | _TOOL_KEYS
_DEVELOPER: Final = {"__openai_role__": "developer"}
# A foreign message's ``type`` -> message kind. LangChain's chunks of non-AI messages
# become whole messages: rillet streams AI chunks only.
_OBJECT_KINDS: Final = {
    "human": "human",
    "ai": "ai",
    "system": "system",
    "tool": "tool",
    "remove": "remove",
    "AIMessageChunk": "AIMessageChunk",
    "HumanMessageChunk": "human",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
}


def to_message(item: MessageLikeRepresentation) -> BaseMessage:
    """Return the message that ``item`` stands for (see the module docstring).

    :raises TypeError: if ``item`` is of a type that cannot stand for a message.
    :raises ValueError: if ``item`` has the right type but the wrong shape (an
        unknown role, a dict without content, a tool message without its call id).
    """
    if isinstance(item, BaseMessage):
        return item
    if isinstance(item, str):
        return HumanMessage(item)
    if isinstance(item, dict):
        return _from_dict(item)
    if isinstance(item, tuple | list):
        return _from_pair(item)
    message = _from_object(item)
    if message is not None:
        return message
    raise TypeError(
        f"cannot make a message from {item.__class__.__name__} {item!r}: expected {_ACCEPTED}"
    )


def convert_to_messages(items: Iterable[MessageLikeRepresentation]) -> list[BaseMessage]:
    """Return a list with :func:`to_message` applied to each item.

    :raises TypeError, ValueError: as :func:`to_message`, with a note saying which
        item was wrong.
    """
    if isinstance(items, str | dict | BaseMessage) or _object_kind(items) is not None:
        raise TypeError(
            f"convert_to_messages takes a list of messages, got one "
            f"{items.__class__.__name__}; wrap it in a list or call to_message"
        )
    messages = []
    for position, item in enumerate(items):
        try:
            messages.append(to_message(item))
        except (TypeError, ValueError) as exc:
            exc.add_note(f"(in item {position} of the messages)")
            raise
    return messages


def _from_pair(pair: tuple[Any, ...] | list[Any]) -> BaseMessage:
    if len(pair) != 2 or not isinstance(pair[0], str):
        raise ValueError(
            f"a message given as a sequence must be a (role, content) pair, "
            f"got {pair!r}; role is one of {_ROLE_NAMES}"
        )
    role, content = pair
    kind = _KINDS.get(role)
    if kind == "tool":
        raise ValueError(
            "a ('tool', content) pair cannot say which tool call it answers: use "
            "ToolMessage(content, tool_call_id=...) or "
            "{'role': 'tool', 'content': ..., 'tool_call_id': ...}"
        )
    if kind not in ("human", "ai", "system"):
        raise ValueError(
            f"unknown message role {role!r} in {pair!r}; expected one of {_ROLE_NAMES}"
        )
    content = "" if content is None else content
    if kind == "human":
        return HumanMessage(content)
    if kind == "ai":
        return AIMessage(content)
    return SystemMessage(
        content, additional_kwargs=dict(_DEVELOPER) if role == "developer" else None
    )


def _object_kind(item: object) -> str | None:
    """The message kind of a foreign message object, or ``None`` if it is not one."""
    type_name = getattr(item, "type", None)
    if not isinstance(type_name, str) or not hasattr(item, "content"):
        return None
    kind = _OBJECT_KINDS.get(type_name)
    if kind is None and type_name in ("chat", "ChatMessageChunk"):
        role = getattr(item, "role", None)  # LangChain's ChatMessage: any role
        kind = _KINDS.get(role) if isinstance(role, str) else None
        if kind not in ("human", "ai", "system"):
            return None
    return kind


def _from_object(item: object) -> BaseMessage | None:
    """Copy a foreign message object (LangChain's) into a rillet message."""
    kind = _object_kind(item)
    if kind is None:
        return None
    fields: dict[str, Any] = {}
    for key in _KIND_KEYS[kind]:
        value = getattr(item, key, None)
        if value is not None:
            fields[key] = value
    additional_kwargs = dict(fields.get("additional_kwargs") or ())
    if getattr(item, "role", None) == "developer":
        additional_kwargs.update(_DEVELOPER)
    if isinstance(fields.get("usage_metadata"), dict):
        fields["usage_metadata"] = dict(fields["usage_metadata"])
    content = fields.get("content")
    if isinstance(content, list):
        content = list(content)
    common: dict[str, Any] = {
        "additional_kwargs": additional_kwargs or None,
        "response_metadata": dict(fields.get("response_metadata") or ()) or None,
        "name": fields.get("name"),
        "id": fields.get("id"),
    }
    data = {"type": getattr(item, "type", None), **fields}
    return _make_message(kind, data, "" if content is None else content, fields, common)


def _from_dict(data: dict[str, Any]) -> BaseMessage:
    role_key = "role" if "role" in data else "type"
    role = data.get(role_key)
    kind = _KINDS.get(role) if isinstance(role, str) else None
    if kind is None:
        if role_key not in data:
            raise ValueError(f"a message dict needs a 'role' (or 'type') key, got {data!r}")
        raise ValueError(
            f"unknown message role {role!r} in {data!r}; expected one of {_ROLE_NAMES}"
        )
    fields: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    allowed = _KIND_KEYS[kind]
    for key, value in data.items():
        if key == role_key:
            continue
        if key in allowed:
            fields[key] = value
        elif key in _ALL_FIELD_KEYS:
            raise ValueError(f"{key!r} does not belong in a {role!r} message dict: {data!r}")
        else:
            extras[key] = value
    additional_kwargs = {**extras, **_dict_field(fields, "additional_kwargs")}
    if role == "developer":
        additional_kwargs.update(_DEVELOPER)
    if "content" not in fields and not (kind == "remove" or fields.get("tool_calls")):
        raise ValueError(f"a {role!r} message dict needs a 'content' key, got {data!r}")
    content = fields.get("content")
    common: dict[str, Any] = {
        "additional_kwargs": additional_kwargs or None,
        "response_metadata": _dict_field(fields, "response_metadata") or None,
        "name": fields.get("name"),
        "id": fields.get("id"),
    }
    return _make_message(kind, data, "" if content is None else content, fields, common)


def _make_message(
    kind: str, data: dict[str, Any], content: Any, fields: dict[str, Any], common: dict[str, Any]
) -> BaseMessage:
    if kind == "human":
        return HumanMessage(content, **common)
    if kind == "system":
        return SystemMessage(content, **common)
    if kind == "remove":
        if not isinstance(common["id"], str):
            raise ValueError(f"a 'remove' message dict needs the 'id' to remove: {data!r}")
        return RemoveMessage(common["id"])
    if kind == "tool":
        if fields.get("tool_call_id") is None:
            raise ValueError(
                f"a 'tool' message dict needs a 'tool_call_id' naming the tool call it "
                f"answers, got {data!r}"
            )
        return ToolMessage(
            content,
            tool_call_id=fields["tool_call_id"],
            artifact=fields.get("artifact"),
            status=fields.get("status") or "success",
            **common,
        )
    tool_calls, invalid = _read_tool_calls(fields.get("tool_calls"))
    invalid += fields.get("invalid_tool_calls") or []
    if kind == "ai":
        return AIMessage(
            content,
            tool_calls=tool_calls,
            invalid_tool_calls=invalid,
            usage_metadata=fields.get("usage_metadata"),
            **common,
        )
    return AIMessageChunk(
        content,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=fields.get("usage_metadata"),
        tool_call_chunks=fields.get("tool_call_chunks"),
        chunk_position=fields.get("chunk_position"),
        **common,
    )


def _dict_field(fields: dict[str, Any], key: str) -> dict[str, Any]:
    value = fields.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"a message dict's {key!r} must be a dict, got {value!r}")
    return value


def _read_tool_calls(raw: object) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Read ``tool_calls`` in OpenAI's shape or LangChain's, in any mix."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise TypeError(f"a message dict's 'tool_calls' must be a list, got {raw!r}")
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in raw:
        if not isinstance(call, Mapping):
            raise TypeError(f"each tool call must be a dict, got {call!r}")
        if "function" in call:
            parsed, bad = parse_openai_tool_calls([call])
            calls += parsed
            invalid += bad
        else:
            calls += normalize_tool_calls([call])
    return calls, invalid


def to_openai_dict(message: MessageLikeRepresentation) -> dict[str, Any]:
    """Return ``message`` as an OpenAI Chat Completions request message.

    Assistant tool calls get JSON-encoded ``arguments`` (an invalid call keeps its
    raw string), and the assistant's empty content becomes ``None`` beside them;
    a tool message carries its ``tool_call_id``; a ``developer`` system message
    keeps that role. Ids and ``additional_kwargs`` are not sent.

    :raises TypeError: for a message with no OpenAI form (``RemoveMessage``).
    """
    msg = message_chunk_to_message(to_message(message))
    content = _openai_content(msg.content)
    result: dict[str, Any]
    if isinstance(msg, HumanMessage):
        result = {"role": "user", "content": content}
    elif isinstance(msg, SystemMessage):
        developer = msg.additional_kwargs.get("__openai_role__") == "developer"
        result = {"role": "developer" if developer else "system", "content": content}
    elif isinstance(msg, AIMessage):
        result = {"role": "assistant", "content": content}
        tool_calls = [
            _openai_tool_call(c["id"], c["name"], _dumps(c["args"])) for c in msg.tool_calls
        ]
        tool_calls += [
            _openai_tool_call(c["id"], c["name"], c["args"]) for c in msg.invalid_tool_calls
        ]
        if tool_calls:
            result["content"] = content or None
            result["tool_calls"] = tool_calls
    elif isinstance(msg, ToolMessage):
        return {"role": "tool", "content": content, "tool_call_id": msg.tool_call_id}
    else:
        raise TypeError(
            f"{msg.__class__.__name__} has no OpenAI Chat Completions form; "
            "only user, system, assistant and tool messages do"
        )
    if msg.name is not None:
        result["name"] = msg.name
    return result


def to_openai_dicts(messages: Iterable[MessageLikeRepresentation]) -> list[dict[str, Any]]:
    """Return :func:`to_openai_dict` of each message, for a Chat Completions request."""
    return [to_openai_dict(m) for m in convert_to_messages(messages)]


def _openai_content(content: Content) -> Content:
    if isinstance(content, str):
        return content
    # OpenAI takes content parts, not bare strings.
    return [{"type": "text", "text": part} if isinstance(part, str) else part for part in content]


def _openai_tool_call(
    call_id: str | None, name: str | None, arguments: str | None
) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _dumps(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)
