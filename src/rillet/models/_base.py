"""``ChatModel``: the base every chat model implements with one streaming method.

A provider implements :meth:`ChatModel._stream` (and, when it has a native async
client, :meth:`ChatModel._astream`); the base gives it ``invoke``, ``ainvoke``,
``stream``, ``astream`` and ``batch``, and streams every chunk into the running
graph's ``messages`` mode with the calling node's metadata. Nothing needs ``config``
passed by hand: the run is found through the run context.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, ClassVar, Self

from rillet._constants import TAG_NOSTREAM
from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_messages,
    merge_chunks,
    message_chunk_to_message,
)
from rillet.runtime._context import Task, current_task
from rillet.stream._events import MessageEvent

ModelInput = str | Sequence[Any] | BaseMessage


class ChatModel(ABC):
    """A chat model. Subclasses set :attr:`provider` and implement :meth:`_stream`."""

    provider: ClassVar[str] = "unknown"
    """``ls_provider`` in ``messages`` metadata."""

    def __init__(
        self,
        *,
        model_name: str | None = None,
        temperature: float | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model_name = model_name
        self.temperature = temperature
        self.tags: list[str] = list(tags or ())
        self.metadata: dict[str, Any] = dict(metadata or {})

    # ------------------------------------------------------- provider methods

    @abstractmethod
    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        """Yield the answer to ``messages`` as chunks, as the provider produces them."""

    async def _astream(
        self, messages: list[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async chunks. The default runs :meth:`_stream` on a worker thread, so a
        blocking provider never blocks the event loop."""
        async for chunk in _iterate_in_thread(lambda: self._stream(messages, **kwargs)):
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
        self, input: ModelInput, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Yield the answer chunk by chunk (``AIMessageChunk``; merge them with ``+``)."""
        messages = convert_to_messages(_as_list(input))
        call = _Call(self, config)
        emit = call.emit
        for chunk in self._stream(messages, **kwargs):
            if chunk.id is None:
                chunk.id = call.run_id
            if emit is not None:
                emit(chunk)
            yield chunk
        call.done()

    async def astream(
        self, input: ModelInput, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async :meth:`stream`."""
        messages = convert_to_messages(_as_list(input))
        call = _Call(self, config)
        emit = call.emit
        bus = call.bus
        async for chunk in self._astream(messages, **kwargs):
            if chunk.id is None:
                chunk.id = call.run_id
            if emit is not None:
                emit(chunk)
                if bus is not None and getattr(bus, "full", False):
                    await bus.wait_writable()
            yield chunk
        call.done()

    def invoke(
        self, input: ModelInput, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> AIMessage:
        """The whole answer as one ``AIMessage`` (still streamed in ``messages`` mode
        when called inside a graph run)."""
        return message_chunk_to_message(merge_chunks(list(self.stream(input, config, **kwargs))))

    async def ainvoke(
        self, input: ModelInput, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> AIMessage:
        """Async :meth:`invoke`."""
        chunks = [chunk async for chunk in self.astream(input, config, **kwargs)]
        return message_chunk_to_message(merge_chunks(chunks))

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

    def with_config(
        self,
        *,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Self:
        """A copy of this model with more tags and metadata."""
        clone = self._copy()
        clone.tags = [*self.tags, *(t for t in tags or () if t not in self.tags)]
        clone.metadata = {**self.metadata, **(metadata or {})}
        return clone

    def _copy(self) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone


class _Call:
    """One model call's link to the run: the ``messages`` emitter, if any."""

    __slots__ = ("bus", "emit", "run_id", "task")

    def __init__(self, model: ChatModel, config: dict[str, Any] | None) -> None:
        self.run_id = f"run-{uuid.uuid4()}"
        self.emit: Any = None
        self.bus: Any = None
        task: Task | None = current_task.get()
        self.task = task
        if task is None or not task.run.want_messages:
            return
        call_tags = (config or {}).get("tags") or ()
        tags = [*model.tags, *(t for t in call_tags if t not in model.tags)]
        if TAG_NOSTREAM in tags:
            return
        extra = {**model.metadata, **((config or {}).get("metadata") or {}), **model._ls_params()}
        metadata = task.message_metadata(extra, tags)
        put, ns = task.run.put, task.run.ns
        self.bus = task.run.settings.bus

        def emit(chunk: AIMessageChunk) -> None:
            put(MessageEvent(ns, chunk, metadata))

        self.emit = emit

    def done(self) -> None:
        if self.emit is not None and self.task is not None:
            self.task.run.settings.seen_message_ids.add(self.run_id)


def _as_list(input: ModelInput) -> Sequence[Any]:
    if isinstance(input, str | BaseMessage | dict):
        return [input]
    return input


async def _iterate_in_thread(make: Any) -> AsyncIterator[Any]:
    """Iterate a blocking iterator on a worker thread, handing items to the loop.

    The thread stops at its next item once the consumer has gone (cancelled or
    closed early), and is waited for, so no thread outlives the iteration.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in make():
                if stop.is_set():
                    break
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
        except BaseException as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

    from rillet.runtime._sync import shared_pool

    future = asyncio.wrap_future(shared_pool().submit(produce))
    try:
        while True:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                break
    finally:
        stop.set()
        await asyncio.wait([future])
