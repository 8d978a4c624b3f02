"""What the model said: AIMessage, and AIMessageChunk for each streamed piece of it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, NotRequired, TypedDict, TypeGuard, overload

from rillet.messages._base import (
    _ALWAYS,
    _BASE_REPR,
    BaseMessage,
    BaseMessageChunk,
    Content,
    _ReprSpec,
    check_content,
)
from rillet.messages._merge import merge_chunks
from rillet.messages._tool import (
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    normalize_invalid_tool_calls,
    normalize_tool_call_chunks,
    normalize_tool_calls,
    openai_tool_call_chunks,
    parse_openai_tool_calls,
    parse_tool_call_chunks,
    tool_call_chunk,
)

__all__ = ["AIMessage", "AIMessageChunk", "UsageMetadata", "message_chunk_to_message"]


class UsageMetadata(TypedDict):
    """Token counts for one model call; the detail dicts are optional."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: NotRequired[dict[str, int]]
    output_token_details: NotRequired[dict[str, int]]


class AIMessage(BaseMessage):
    """A model's reply: text ``content`` and the ``tool_calls`` it asks for.

    ``tool_calls`` holds ``{"name", "args", "id", "type": "tool_call"}`` dicts;
    ``invalid_tool_calls`` the calls whose arguments were not a JSON object.
    """

    __slots__ = ("invalid_tool_calls", "tool_calls", "usage_metadata")
    type: ClassVar[str] = "ai"
    _fields: ClassVar[tuple[str, ...]] = (
        *BaseMessage._fields,
        "tool_calls",
        "invalid_tool_calls",
        "usage_metadata",
    )
    _repr_spec: ClassVar[_ReprSpec] = (
        *_BASE_REPR,
        ("tool_calls", _ALWAYS),
        ("invalid_tool_calls", _ALWAYS),
        ("usage_metadata", None),
    )

    tool_calls: list[ToolCall]
    invalid_tool_calls: list[InvalidToolCall]
    usage_metadata: UsageMetadata | None

    def __init__(
        self,
        content: Content,
        *,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
        tool_calls: Sequence[ToolCall | Mapping[str, Any]] | None = None,
        invalid_tool_calls: Sequence[InvalidToolCall | Mapping[str, Any]] | None = None,
        usage_metadata: UsageMetadata | None = None,
    ) -> None:
        super().__init__(
            content,
            additional_kwargs=additional_kwargs,
            response_metadata=response_metadata,
            name=name,
            id=id,
        )
        self.usage_metadata = usage_metadata
        self.tool_calls = normalize_tool_calls(tool_calls) if tool_calls else []
        self.invalid_tool_calls = (
            normalize_invalid_tool_calls(invalid_tool_calls) if invalid_tool_calls else []
        )
        if not (tool_calls or invalid_tool_calls) and additional_kwargs:
            _read_legacy_tool_calls(self)

    def pretty_repr(self) -> str:
        """Return the message formatted for reading, tool calls included."""
        lines = [super().pretty_repr().strip()]
        if self.tool_calls:
            lines.append("Tool Calls:")
            for call in self.tool_calls:
                lines.extend(_pretty_tool_call(call))
        if self.invalid_tool_calls:
            lines.append("Invalid Tool Calls:")
            for bad in self.invalid_tool_calls:
                lines.extend(_pretty_tool_call(bad))
        return "\n".join(lines).strip()


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """One streamed piece of a model's reply; ``a + b`` merges two pieces.

    ``tool_call_chunks`` carries the streamed tool calls (``args`` as JSON string
    fragments); ``tool_calls`` and ``invalid_tool_calls`` are derived from them,
    parsing cut-off JSON as far as it goes. ``chunk_position="last"`` marks the
    final piece. Use :func:`rillet.messages.merge_chunks` to merge many pieces.
    """

    __slots__ = ("chunk_position", "tool_call_chunks")
    type: ClassVar[str] = "AIMessageChunk"
    _fields: ClassVar[tuple[str, ...]] = (
        *AIMessage._fields,
        "tool_call_chunks",
        "chunk_position",
    )
    _repr_spec: ClassVar[_ReprSpec] = (
        *AIMessage._repr_spec,
        ("tool_call_chunks", _ALWAYS),
        ("chunk_position", None),
    )

    tool_call_chunks: list[ToolCallChunk]
    chunk_position: Literal["last"] | None

    def __init__(
        self,
        content: Content,
        *,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
        tool_calls: Sequence[ToolCall | Mapping[str, Any]] | None = None,
        invalid_tool_calls: Sequence[InvalidToolCall | Mapping[str, Any]] | None = None,
        usage_metadata: UsageMetadata | None = None,
        tool_call_chunks: Sequence[ToolCallChunk | Mapping[str, Any]] | None = None,
        chunk_position: Literal["last"] | None = None,
    ) -> None:
        # Inlined rather than calling super().__init__: a run builds one chunk per
        # token, and this path must stay near a microsecond.
        if content.__class__ is not str:
            content = check_content(content, "AIMessageChunk")
        self.content = content
        self.additional_kwargs = {} if additional_kwargs is None else additional_kwargs
        self.response_metadata = {} if response_metadata is None else response_metadata
        self.name = name
        self.id = id
        self.usage_metadata = usage_metadata
        self.chunk_position = chunk_position
        if tool_call_chunks or tool_calls or invalid_tool_calls or additional_kwargs:
            _init_chunk_tool_calls(self, tool_calls, invalid_tool_calls, tool_call_chunks)
        else:
            self.tool_call_chunks = []
            self.tool_calls = []
            self.invalid_tool_calls = []

    def __add__(self, other: AIMessageChunk | Sequence[AIMessageChunk]) -> AIMessageChunk:
        if isinstance(other, AIMessageChunk):
            return merge_chunks((self, other))
        if isinstance(other, list | tuple) and all(isinstance(o, AIMessageChunk) for o in other):
            chunks: list[AIMessageChunk] = [self, *other]
            return merge_chunks(chunks)
        return NotImplemented


@overload
def message_chunk_to_message(chunk: AIMessageChunk) -> AIMessage: ...
@overload
def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage: ...
def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """Return the complete message that a merged chunk stands for.

    An :class:`AIMessageChunk` becomes an :class:`AIMessage`; its tool-call
    arguments must now be complete JSON objects, and those that are not go to
    ``invalid_tool_calls`` with an error naming the tool and the bad JSON. Any
    other message is returned as it is.
    """
    if not isinstance(chunk, AIMessageChunk):
        return chunk
    if chunk.tool_call_chunks:
        tool_calls, invalid = parse_tool_call_chunks(chunk.tool_call_chunks, partial=False)
    else:
        tool_calls, invalid = chunk.tool_calls, chunk.invalid_tool_calls
    return AIMessage(
        chunk.content,
        # Copied so that the message and the chunk do not share mutable state.
        additional_kwargs=dict(chunk.additional_kwargs),
        response_metadata=dict(chunk.response_metadata),
        name=chunk.name,
        id=chunk.id,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=chunk.usage_metadata,
    )


def _init_chunk_tool_calls(
    chunk: AIMessageChunk,
    tool_calls: Sequence[Mapping[str, Any]] | None,
    invalid_tool_calls: Sequence[Mapping[str, Any]] | None,
    tool_call_chunks: Sequence[Mapping[str, Any]] | None,
) -> None:
    """Fill the chunk's three tool-call lists so that they agree.

    Tool-call chunks win: the calls are parsed from them. Given only calls, the
    chunks are made from the calls (LangChain does the same, with ``index=None``).
    """
    if not (tool_call_chunks or tool_calls or invalid_tool_calls):
        raw = chunk.additional_kwargs.get("tool_calls")
        # Older code streams OpenAI's deltas in additional_kwargs only.
        tool_call_chunks = openai_tool_call_chunks(raw) if _is_dict_list(raw) else None
    if tool_call_chunks:
        chunks = normalize_tool_call_chunks(tool_call_chunks)
        chunk.tool_call_chunks = chunks
        chunk.tool_calls, chunk.invalid_tool_calls = parse_tool_call_chunks(chunks, partial=True)
        return
    calls = normalize_tool_calls(tool_calls) if tool_calls else []
    invalid = normalize_invalid_tool_calls(invalid_tool_calls) if invalid_tool_calls else []
    chunk.tool_calls = calls
    chunk.invalid_tool_calls = invalid
    chunk.tool_call_chunks = [
        tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"]) for c in calls
    ] + [tool_call_chunk(name=c["name"], args=c["args"], id=c["id"]) for c in invalid]


def _read_legacy_tool_calls(message: AIMessage) -> None:
    """Take tool calls from OpenAI-shaped ``additional_kwargs["tool_calls"]``.

    Older LangChain code builds messages that way; like LangChain, a list that
    does not have OpenAI's shape is left alone.
    """
    raw = message.additional_kwargs.get("tool_calls")
    if not _is_dict_list(raw):
        return
    with contextlib.suppress(ValueError):  # not OpenAI's shape after all
        message.tool_calls, message.invalid_tool_calls = parse_openai_tool_calls(raw)


def _is_dict_list(value: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _pretty_tool_call(call: ToolCall | InvalidToolCall) -> list[str]:
    lines = [f"  {call.get('name', 'Tool')} ({call.get('id')})", f" Call ID: {call.get('id')}"]
    if error := call.get("error"):
        lines.append(f"  Error: {error}")
    lines.append("  Args:")
    args = call.get("args")
    if isinstance(args, str):
        lines.append(f"    {args}")
    elif isinstance(args, dict):
        lines.extend(f"    {key}: {value}" for key, value in args.items())
    return lines
