"""Tool calls (what a model asks a tool to do) and ToolMessage (what the tool said).

A model streams a tool call as :class:`ToolCallChunk` pieces whose ``args`` is a
fragment of a JSON string; merged by ``index``, the pieces become a
:class:`ToolCall` with ``args`` parsed into a dict, or an :class:`InvalidToolCall`
that keeps the raw string and says why it could not be parsed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

from rillet.messages._base import _BASE_REPR, BaseMessage, Content, _ReprSpec
from rillet.messages._json import parse_partial_json

__all__ = [
    "InvalidToolCall",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "invalid_tool_call",
    "tool_call",
    "tool_call_chunk",
]


class ToolCall(TypedDict):
    """A request from the model to call a tool: ``{"name", "args", "id", "type"}``."""

    name: str
    args: dict[str, Any]
    id: str | None
    type: NotRequired[Literal["tool_call"]]


class ToolCallChunk(TypedDict):
    """A piece of a streamed tool call; ``args`` is a fragment of a JSON string.

    Pieces with the same (non-None) ``index`` are merged by concatenating their
    strings.
    """

    name: str | None
    args: str | None
    id: str | None
    index: int | None
    type: NotRequired[Literal["tool_call_chunk"]]


class InvalidToolCall(TypedDict):
    """A tool call whose arguments could not be parsed; ``error`` says why."""

    name: str | None
    args: str | None
    id: str | None
    error: str | None
    type: NotRequired[Literal["invalid_tool_call"]]


def tool_call(*, name: str, args: dict[str, Any], id: str | None) -> ToolCall:
    """Return a :class:`ToolCall` dict."""
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


def tool_call_chunk(
    *,
    name: str | None = None,
    args: str | None = None,
    id: str | None = None,
    index: int | None = None,
) -> ToolCallChunk:
    """Return a :class:`ToolCallChunk` dict."""
    return {"name": name, "args": args, "id": id, "index": index, "type": "tool_call_chunk"}


def invalid_tool_call(
    *,
    name: str | None = None,
    args: str | None = None,
    id: str | None = None,
    error: str | None = None,
) -> InvalidToolCall:
    """Return an :class:`InvalidToolCall` dict."""
    return {"name": name, "args": args, "id": id, "error": error, "type": "invalid_tool_call"}


_HIDDEN_IN_TOOL_REPR = frozenset({"additional_kwargs", "response_metadata"})


class ToolMessage(BaseMessage):
    """What a tool returned, answering the tool call whose id is ``tool_call_id``.

    ``artifact`` holds output meant for the program, not the model; ``status`` is
    ``"success"`` or ``"error"``. Content that is neither a string nor a list is
    turned into a string, as LangChain does.
    """

    __slots__ = ("artifact", "status", "tool_call_id")
    type: ClassVar[str] = "tool"
    _fields: ClassVar[tuple[str, ...]] = (
        *BaseMessage._fields,
        "tool_call_id",
        "artifact",
        "status",
    )
    # LangChain hides additional_kwargs and response_metadata from a tool message's repr.
    _repr_spec: ClassVar[_ReprSpec] = (
        *(spec for spec in _BASE_REPR if spec[0] not in _HIDDEN_IN_TOOL_REPR),
        ("tool_call_id", None),
        ("artifact", None),
        ("status", "success"),
    )

    tool_call_id: str
    artifact: Any
    status: Literal["success", "error"]

    def __init__(
        self,
        content: Content,
        *,
        tool_call_id: str,
        artifact: Any = None,
        status: Literal["success", "error"] = "success",
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        if status not in ("success", "error"):
            raise ValueError(f"ToolMessage status must be 'success' or 'error', got {status!r}")
        super().__init__(
            _coerce_tool_content(content),
            additional_kwargs=additional_kwargs,
            response_metadata=response_metadata,
            name=name,
            id=id,
        )
        self.tool_call_id = _coerce_tool_call_id(tool_call_id)
        self.artifact = artifact
        self.status = status


def _coerce_tool_content(content: object) -> Content:
    if isinstance(content, str | list):
        return content
    if isinstance(content, tuple):
        return list(content)
    return str(content)


def _coerce_tool_call_id(tool_call_id: object) -> str:
    if isinstance(tool_call_id, str):
        return tool_call_id
    if isinstance(tool_call_id, uuid.UUID | int | float):
        return str(tool_call_id)
    raise TypeError(f"ToolMessage tool_call_id must be a str, got {tool_call_id!r}")


def normalize_tool_calls(tool_calls: Iterable[Mapping[str, Any]]) -> list[ToolCall]:
    """Return fresh ToolCall dicts with ``type`` set and ``id`` defaulting to None.

    :raises ValueError: if a tool call has no ``name`` or no ``args``.
    """
    result: list[ToolCall] = []
    for position, call in enumerate(tool_calls):
        try:
            result.append(tool_call(name=call["name"], args=call["args"], id=call.get("id")))
        except (KeyError, TypeError):
            raise ValueError(
                f"tool call {position} must be a dict with 'name' and 'args' "
                f"(and optionally 'id'), got {call!r}"
            ) from None
    return result


def normalize_invalid_tool_calls(calls: Iterable[Mapping[str, Any]]) -> list[InvalidToolCall]:
    """Return fresh InvalidToolCall dicts with every key present."""
    return [
        invalid_tool_call(
            name=c.get("name"), args=c.get("args"), id=c.get("id"), error=c.get("error")
        )
        for c in calls
    ]


def normalize_tool_call_chunks(chunks: Iterable[Mapping[str, Any]]) -> list[ToolCallChunk]:
    """Return fresh ToolCallChunk dicts with every key present."""
    return [
        tool_call_chunk(
            name=c.get("name"), args=c.get("args"), id=c.get("id"), index=c.get("index")
        )
        for c in chunks
    ]


def parse_tool_call_chunks(
    chunks: Iterable[ToolCallChunk], *, partial: bool
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Turn merged tool-call chunks into tool calls, putting unparsable ones aside.

    With ``partial`` the arguments may be a cut-off JSON document (mid-stream);
    without it they must be complete JSON. Empty arguments mean ``{}``.
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for chunk in chunks:
        name, raw, call_id = chunk["name"], chunk["args"], chunk["id"]
        args, error = _parse_args(name, raw, partial=partial)
        if error is None:
            calls.append(tool_call(name=name or "", args=args, id=call_id))
        else:
            invalid.append(invalid_tool_call(name=name, args=raw, id=call_id, error=error))
    return calls, invalid


def parse_openai_tool_calls(
    raw_calls: Iterable[Mapping[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse OpenAI-shaped ``{"id", "type": "function", "function": {...}}`` calls.

    :raises ValueError: if a call has no ``function`` dict with a ``name``.
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for position, raw in enumerate(raw_calls):
        function = raw.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise ValueError(
                f"OpenAI tool call {position} must have a 'function' dict with a 'name' "
                f"and JSON 'arguments', got {raw!r}"
            )
        name, arguments, call_id = function["name"], function.get("arguments"), raw.get("id")
        if isinstance(arguments, dict):
            calls.append(tool_call(name=name, args=arguments, id=call_id))
            continue
        args, error = _parse_args(name, arguments, partial=False)
        if error is None:
            calls.append(tool_call(name=name, args=args, id=call_id))
        else:
            invalid.append(invalid_tool_call(name=name, args=arguments, id=call_id, error=error))
    return calls, invalid


def openai_tool_call_chunks(raw_calls: Iterable[Mapping[str, Any]]) -> list[ToolCallChunk]:
    """Read OpenAI-shaped streamed tool-call deltas as ToolCallChunks."""
    chunks = []
    for raw in raw_calls:
        function = raw.get("function") or {}
        chunks.append(
            tool_call_chunk(
                name=function.get("name"),
                args=function.get("arguments"),
                id=raw.get("id"),
                index=raw.get("index"),
            )
        )
    return chunks


def _parse_args(
    name: str | None, raw: str | None, *, partial: bool
) -> tuple[dict[str, Any], str | None]:
    """Return ``(args, None)``, or ``({}, error)`` when ``raw`` is not a JSON object."""
    if raw is None:
        return {}, None
    if not isinstance(raw, str):
        return {}, f"arguments of tool call {name!r} must be a JSON string, got {raw!r}"
    if not raw.strip():
        return {}, None
    try:
        args = parse_partial_json(raw) if partial else json.loads(raw, strict=False)
    except (ValueError, RecursionError) as exc:
        return {}, f"arguments of tool call {name!r} are not valid JSON ({exc}): {raw!r}"
    if not isinstance(args, dict):
        return {}, f"arguments of tool call {name!r} must be a JSON object, got: {raw!r}"
    return args, None
