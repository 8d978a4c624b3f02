"""Messages: what users, models, tools and the system say, as LangChain shapes them.

Message classes mirror ``langchain_core.messages`` (same names, fields, ``repr``
and merging rules) so that code moves over by changing its imports. Everything
here is plain Python with no third-party imports.

- Messages: :class:`SystemMessage`, :class:`HumanMessage`, :class:`AIMessage`,
  :class:`ToolMessage`, :class:`RemoveMessage`; streamed pieces are
  :class:`AIMessageChunk`, merged with ``+`` or, for many, :func:`merge_chunks`.
- Tool calls: :class:`ToolCall`, :class:`ToolCallChunk`, :class:`InvalidToolCall`
  dicts, made with :func:`tool_call`, :func:`tool_call_chunk`,
  :func:`invalid_tool_call`.
- Conversion: :func:`to_message` and :func:`convert_to_messages` accept strings,
  ``(role, content)`` pairs and OpenAI-style dicts; :func:`to_openai_dict` and
  :func:`to_openai_dicts` produce Chat Completions request messages.
- State: :func:`add_messages`, the reducer for a list of messages in graph state.
"""

from rillet.messages._add import Messages, add_messages
from rillet.messages._ai import AIMessage, AIMessageChunk, UsageMetadata, message_chunk_to_message
from rillet.messages._base import (
    REMOVE_ALL_MESSAGES,
    BaseMessage,
    BaseMessageChunk,
    Content,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from rillet.messages._convert import (
    AnyMessage,
    MessageLikeRepresentation,
    convert_to_messages,
    to_message,
    to_openai_dict,
    to_openai_dicts,
)
from rillet.messages._json import parse_partial_json
from rillet.messages._merge import add_usage, merge_chunks
from rillet.messages._tool import (
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "BaseMessageChunk",
    "Content",
    "HumanMessage",
    "InvalidToolCall",
    "MessageLikeRepresentation",
    "Messages",
    "RemoveMessage",
    "SystemMessage",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "UsageMetadata",
    "add_messages",
    "add_usage",
    "convert_to_messages",
    "invalid_tool_call",
    "merge_chunks",
    "message_chunk_to_message",
    "parse_partial_json",
    "to_message",
    "to_openai_dict",
    "to_openai_dicts",
    "tool_call",
    "tool_call_chunk",
]
