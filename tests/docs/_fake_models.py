"""LangChain's ``GenericFakeChatModel`` for the doc-page scenarios, built on rillet's
``ChatModel``: what ``langchain_core.language_models.fake_chat_models`` is rewritten to.

It answers each call with the next of ``messages`` (an iterator of strings and
``AIMessage`` s) and streams the text the way LangChain's does: split on each whitespace
character, the whitespace kept as its own chunk, the last chunk marked
``chunk_position="last"``. Like LangChain's it has no ``bind_tools`` of its own (a
scenario subclasses it to return itself).

One difference: rillet's models always stream, so an answer's tool calls go out as
tool-call chunks. LangChain's model returns them whole from a plain ``invoke`` but drops
them when it streams, which it does when the graph streams in ``messages`` mode; the
scenarios use tool-calling answers only outside ``messages`` mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rillet.messages import AIMessage, AIMessageChunk, BaseMessage
from rillet.models import ChatModel


class GenericFakeChatModel(ChatModel):
    provider = "genericfakechatmodel"

    def __init__(self, *, messages: Iterator[AIMessage | str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.messages = messages

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # as LangChain's BaseChatModel.bind_tools

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        message = next(self.messages)
        message = AIMessage(content=message) if isinstance(message, str) else message
        if message.content:
            pieces = re.split(r"(\s)", message.content)
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1 and not message.additional_kwargs
                yield AIMessageChunk(
                    content=piece, id=message.id, chunk_position="last" if last else None
                )
        elif message.tool_calls:
            # LangChain's model, called without streaming (invoke outside ``messages``
            # mode), returns the message whole, tool calls included.
            yield AIMessageChunk(content="", id=message.id)
        if message.tool_calls:
            from rillet.messages import tool_call_chunk

            for index, call in enumerate(message.tool_calls):
                yield AIMessageChunk(
                    content="",
                    id=message.id,
                    tool_call_chunks=[
                        tool_call_chunk(
                            name=call["name"], args=_json(call["args"]), id=call["id"], index=index
                        )
                    ],
                )


def _json(args: Any) -> str:
    import json

    return json.dumps(args)
