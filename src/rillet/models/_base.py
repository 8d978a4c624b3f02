"""``ChatModel``: the base every chat model implements with one streaming method.

A provider implements :meth:`ChatModel._stream` (and, when it has a native async
client, :meth:`ChatModel._astream`); the base gives it ``invoke``, ``ainvoke``,
``stream``, ``astream``, ``batch``, ``bind_tools`` and ``with_config``, and connects
every call to the running graph (``messages`` mode with the calling node's metadata,
``astream_events``) and to callback handlers. Nothing needs ``config`` passed by hand:
the run is found through the run context.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Sequence
from typing import Any, ClassVar, Self

from rillet.errors import StreamClosedError, UsageError
from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_messages,
    message_chunk_to_message,
)
from rillet.messages._merge import ChunkAccumulator
from rillet.models._call import ModelCall

ModelInput = str | Sequence[Any] | BaseMessage | dict[str, Any]


class ChatModel(ABC):
    """A chat model. Subclasses set :attr:`provider` and implement :meth:`_stream`.

    ``_stream`` receives the conversation as rillet messages, and as keyword arguments
    whatever ``bind_tools`` bound (``tools`` in OpenAI's format, ``tool_choice``) plus
    the call's own keyword arguments (``stop``, ...).
    """

    provider: ClassVar[str] = "unknown"
    """``ls_provider`` in ``messages`` metadata."""

    def __init__(
        self,
        *,
        model_name: str | None = None,
        temperature: float | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.model_name = model_name
        self.temperature = temperature
        self.tags: list[str] = list(tags or ())
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.callbacks: list[Any] = list(callbacks or ())
        self.name = name or type(self).__name__
        self.bound: dict[str, Any] = {}

    # ------------------------------------------------------- provider methods

    @abstractmethod
    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        """Yield the answer to ``messages`` as chunks, as the provider produces them.

        A provider that cannot stream yields its whole answer as one chunk.
        """

    async def _astream(
        self, messages: list[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async chunks. The default runs :meth:`_stream` on a worker thread, so a
        blocking provider never blocks the event loop."""
        async for chunk in iterate_in_thread(lambda: self._stream(messages, **kwargs)):
            yield chunk

    def _ls_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"ls_provider": self.provider}
        if self.model_name is not None:
            params["ls_model_name"] = self.model_name
        params["ls_model_type"] = "chat"
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        return params

    # ------------------------------------------------------------ public API

    def stream(
        self,
        input: ModelInput,
        config: dict[str, Any] | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """Yield the answer chunk by chunk (``AIMessageChunk``; merge them with ``+``)."""
        messages = convert_to_messages(_as_list(input))
        call = ModelCall(self, messages, config, callbacks)
        call.start()
        if not call.wants_final:
            with contextlib.closing(self._chunks(call, messages, kwargs)) as source:
                yield from source
            return
        merged = ChunkAccumulator()
        with contextlib.closing(self._chunks(call, messages, kwargs)) as source:
            for chunk in source:
                merged.add(chunk)
                yield chunk
        call.end(_final(merged, call.msg_id))

    def invoke(
        self,
        input: ModelInput,
        config: dict[str, Any] | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """The whole answer as one ``AIMessage``. Inside a graph run that streams
        ``messages``, its tokens still stream as they arrive."""
        messages = convert_to_messages(_as_list(input))
        call = ModelCall(self, messages, config, callbacks)
        call.start()
        merged = ChunkAccumulator()
        add = merged.add
        for chunk in self._chunks(call, messages, kwargs):
            add(chunk)
        message = _final(merged, call.msg_id)
        call.end(message)
        return message

    async def astream(
        self,
        input: ModelInput,
        config: dict[str, Any] | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Async :meth:`stream`."""
        messages = convert_to_messages(_as_list(input))
        call = ModelCall(self, messages, config, callbacks)
        await call.astart()
        merged = ChunkAccumulator() if call.wants_final else None
        async with contextlib.aclosing(self._achunks(call, messages, kwargs)) as source:
            async for chunk in source:
                if merged is not None:
                    merged.add(chunk)
                yield chunk
        if merged is not None:
            await call.aend(_final(merged, call.msg_id))

    async def ainvoke(
        self,
        input: ModelInput,
        config: dict[str, Any] | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """Async :meth:`invoke`."""
        messages = convert_to_messages(_as_list(input))
        call = ModelCall(self, messages, config, callbacks)
        await call.astart()
        merged = ChunkAccumulator()
        add = merged.add
        async for chunk in self._achunks(call, messages, kwargs):
            add(chunk)
        message = _final(merged, call.msg_id)
        await call.aend(message)
        return message

    def batch(
        self, inputs: Sequence[ModelInput], config: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[AIMessage]:
        """:meth:`invoke` each input, in order."""
        return [self.invoke(item, config, **kwargs) for item in inputs]

    async def abatch(
        self, inputs: Sequence[ModelInput], config: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[AIMessage]:
        """:meth:`ainvoke` the inputs concurrently; results in input order."""
        return list(await asyncio.gather(*(self.ainvoke(i, config, **kwargs) for i in inputs)))

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        """A copy of this model that offers ``tools`` on every call.

        ``tools`` are rillet ``Tool`` objects, plain functions (their JSON schema comes
        from the signature and docstring), or OpenAI-style tool dicts. ``tool_choice``
        is ``"auto"``, ``"required"``, ``"none"`` or a tool name.
        """
        from rillet.tools._schema import to_openai_tool

        clone = self._copy()
        clone.bound = {**self.bound, "tools": [to_openai_tool(t) for t in tools], **kwargs}
        if tool_choice is not None:
            clone.bound["tool_choice"] = tool_choice
        return clone

    def with_config(
        self,
        config: dict[str, Any] | None = None,
        *,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Self:
        """A copy of this model with more tags, metadata and callback handlers."""
        cfg = config or {}
        clone = self._copy()
        new_tags = [*(cfg.get("tags") or ()), *(tags or ())]
        clone.tags = [*self.tags, *(t for t in new_tags if t not in self.tags)]
        clone.metadata = {**self.metadata, **(cfg.get("metadata") or {}), **(metadata or {})}
        clone.callbacks = [*self.callbacks, *(cfg.get("callbacks") or ()), *(callbacks or ())]
        return clone

    def _copy(self) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    # ------------------------------------------------------------- internals

    def _chunks(
        self, call: ModelCall, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> Generator[AIMessageChunk, None, None]:
        on_chunk, msg_id = call.on_chunk, call.msg_id
        task = call.task
        root = task.run.settings if task is not None else None
        source = self._stream(messages, **{**self.bound, **kwargs})
        try:
            for chunk in source:
                if root is not None and (root.closed or task.abandoned):  # type: ignore[union-attr]
                    # The run was stopped: pull no more tokens (they are paid for).
                    raise StreamClosedError("the run was stopped")
                if chunk.id is None:
                    chunk.id = msg_id
                if on_chunk is not None:
                    on_chunk(chunk)
                yield chunk
        except StreamClosedError:
            raise
        except Exception as exc:
            call.error(exc)
            raise
        finally:
            # Left early: let the provider close its HTTP response or free its model now.
            close = getattr(source, "close", None)
            if close is not None:
                close()

    async def _achunks(
        self, call: ModelCall, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> AsyncGenerator[AIMessageChunk, None]:
        on_chunk, msg_id = call.on_chunk, call.msg_id
        bus = call.bus if getattr(call.bus, "wait_writable", None) is not None else None
        task = call.task
        root = task.run.settings if task is not None else None
        source = self._astream(messages, **{**self.bound, **kwargs})
        try:
            async for chunk in source:
                if root is not None and (root.closed or task.abandoned):  # type: ignore[union-attr]
                    raise StreamClosedError("the run was stopped")
                if chunk.id is None:
                    chunk.id = msg_id
                if on_chunk is not None:
                    on_chunk(chunk)
                    if bus is not None and bus.full:
                        await bus.wait_writable()
                yield chunk
        except StreamClosedError:
            raise
        except Exception as exc:
            await call.aerror(exc)
            raise
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


_THREAD_BUFFER = 256


def _final(merged: ChunkAccumulator, msg_id: str) -> AIMessage:
    if not merged:
        return AIMessage(content="", id=msg_id)
    message: AIMessage = message_chunk_to_message(merged.result())
    return message


def _as_list(input: ModelInput) -> Sequence[Any]:
    if isinstance(input, str | BaseMessage | dict):
        return [input]
    if not isinstance(input, Sequence):
        raise UsageError(
            f"A chat model takes a str, a message, a dict or a list of messages, got "
            f"{type(input).__name__}: {input!r}"
        )
    return input


async def iterate_in_thread(make: Any) -> AsyncIterator[Any]:
    """Iterate a blocking iterator on a worker thread, handing items to the loop.

    The thread runs at most a bounded number of items ahead. Once the consumer has
    gone (cancelled or closed early) the thread stops at its next item; nobody waits
    for it, so a provider stuck in a read cannot hold the consumer.
    """
    from rillet.runtime._workers import start_thread

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()
    room = threading.Semaphore(_THREAD_BUFFER)  # the producer runs at most this far ahead

    def hand(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: the consumer is gone
            stop.set()

    def produce() -> None:
        source = make()
        try:
            for item in source:
                room.acquire()
                if stop.is_set():
                    break
                hand("item", item)
        except BaseException as exc:
            hand("error", exc)
        else:
            hand("end", None)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    start_thread(produce)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "item":
                room.release()
                yield value
            elif kind == "error":
                raise value
            else:
                break
    finally:
        stop.set()
        room.release()  # wake a producer waiting for room, so it sees the stop
