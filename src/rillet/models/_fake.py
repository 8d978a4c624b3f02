"""``FakeChatModel``: a scripted chat model for tests, shipped with the library."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from rillet.errors import UsageError
from rillet.messages import AIMessage, AIMessageChunk, BaseMessage, tool_call_chunk
from rillet.models._base import ChatModel

_WORD = re.compile(r"\s*\S+|\s+$")


class FakeChatModel(ChatModel):
    """Answers each call with the next of ``responses``.

    A string response streams one word per chunk, each word with its leading
    whitespace (``"hello world"`` -> ``"hello"``, ``" world"``). An ``AIMessage`` with
    ``tool_calls`` streams its text the same way, then each tool call as tool-call
    chunks (name and id first, then the JSON arguments piece by piece).

    :raises rillet.errors.UsageError: if ``responses`` is not a list (or another
        sequence) of strings and ``AIMessage`` s.
    :raises IndexError: when called more times than there are responses.
    """

    provider = "fake"

    def __init__(
        self,
        responses: Sequence[str | AIMessage],
        *,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        model_name: str = "fake-chat-model",
    ) -> None:
        super().__init__(model_name=model_name, tags=tags, metadata=metadata, callbacks=callbacks)
        if isinstance(responses, str | AIMessage):  # a str would be one response per character
            raise UsageError(
                f"FakeChatModel takes a list of responses, got one {type(responses).__name__}; "
                f"write FakeChatModel([{responses!r}])"
            )
        if not isinstance(responses, Sequence):
            raise UsageError(f"FakeChatModel takes a list of responses, got {responses!r}")
        for response in responses:
            if not isinstance(response, str | AIMessage):
                raise UsageError(
                    f"FakeChatModel responses must be strings or AIMessages, got {response!r}"
                )
        self.responses = list(responses)
        self.calls: list[list[BaseMessage]] = []
        self._lock = threading.Lock()

    def _next(self, messages: list[BaseMessage]) -> str | AIMessage:
        with self._lock:
            index = len(self.calls)
            if index >= len(self.responses):
                raise IndexError(
                    f"FakeChatModel has no response left: it was given "
                    f"{len(self.responses)} and this is call {index + 1}"
                )
            self.calls.append(messages)
            return self.responses[index]

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        return _chunks(self._next(messages))

    async def _astream(
        self, messages: list[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        for chunk in _chunks(self._next(messages)):
            yield chunk


def _chunks(response: str | AIMessage) -> Iterator[AIMessageChunk]:
    text = response if isinstance(response, str) else response.text
    msg_id = None if isinstance(response, str) else response.id
    for word in _WORD.findall(text):
        yield AIMessageChunk(content=word, id=msg_id)
    if isinstance(response, AIMessage):
        for index, call in enumerate(response.tool_calls):
            yield AIMessageChunk(
                content="",
                id=msg_id,
                tool_call_chunks=[
                    tool_call_chunk(name=call["name"], args="", id=call["id"], index=index)
                ],
            )
            for piece in _WORD.findall(json.dumps(call["args"])):
                yield AIMessageChunk(
                    content="",
                    id=msg_id,
                    tool_call_chunks=[tool_call_chunk(name=None, args=piece, id=None, index=index)],
                )
