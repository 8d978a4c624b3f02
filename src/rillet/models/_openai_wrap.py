"""``wrap_openai``: a raw ``openai`` client whose ``chat.completions.create`` rillet traces.

The caller still gets the SDK's own objects; inside a graph run each delta also
reaches ``messages`` mode as an ``AIMessageChunk`` with the calling node's metadata.
Needs ``pip install 'rillet[openai]'``. The SDK's chunks are read by
:mod:`rillet.models._openai`'s ``_DeltaReader``, as ``OpenAIChatModel`` reads them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import Any, TypeVar, cast

try:
    import openai
except ImportError as exc:  # pragma: no cover - exercised with openai hidden
    raise ImportError(
        "OpenAIChatModel and wrap_openai need the openai package: pip install 'rillet[openai]'"
    ) from exc

from rillet.messages import AIMessageChunk, BaseMessage, convert_to_messages
from rillet.models._base import ChatModel
from rillet.models._openai import _PROVIDER, _completion_message, _DeltaReader

__all__ = ["wrap_openai"]

_Client = TypeVar("_Client", openai.OpenAI, openai.AsyncOpenAI)


def wrap_openai(
    client: _Client, *, tags: Sequence[str] | None = None, metadata: dict[str, Any] | None = None
) -> _Client:
    """Return ``client`` with its ``chat.completions.create`` traced by rillet.

    The wrapper behaves like the client (every other attribute is the client's), and
    ``create`` returns what the SDK returns: with ``stream=True`` an iterator (async
    for ``AsyncOpenAI``) of the SDK's own chunks; otherwise the ``ChatCompletion``.
    Inside a graph run each delta also reaches ``messages`` mode as an
    ``AIMessageChunk`` with the node's metadata (and ``tags``/``metadata`` given
    here), as it arrives; callbacks and ``astream_events`` see a chat model call.
    The SDK's errors reach the caller unchanged, as they would from the client.
    Wrapping a wrapped client returns it as it is (its tokens must not stream twice).
    """
    if isinstance(client, _Delegate):
        return client
    return cast(_Client, _Delegate(client, _traced_chat(client.chat, tags, metadata)))


class _Delegate:
    """Answers ``name`` with ``override`` and every other attribute from ``target``."""

    def __init__(self, target: Any, override: Any, name: str = "chat") -> None:
        self._target, self._override, self._name = target, override, name

    def __getattr__(self, attr: str) -> Any:
        if attr == self._name:
            return self._override
        return getattr(self._target, attr)

    def __repr__(self) -> str:
        return f"wrap_openai({self._target!r})"


def _traced_chat(
    chat: Any, tags: Sequence[str] | None, metadata: dict[str, Any] | None
) -> _Delegate:
    completions = chat.completions
    is_async = isinstance(completions, openai.resources.chat.AsyncCompletions)
    traced = _AsyncCompletions if is_async else _Completions
    return _Delegate(chat, traced(completions, tags, metadata), "completions")


class _Completions:
    def __init__(self, sdk: Any, tags: Sequence[str] | None, meta: dict[str, Any] | None) -> None:
        self._sdk, self._tags, self._meta = sdk, tags, meta

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._sdk, attr)

    def _model(self, request: dict[str, Any]) -> tuple[_TracedCall, list[BaseMessage]]:
        request["messages"] = list(request.get("messages") or ())
        try:
            messages = convert_to_messages(request["messages"])
        except (TypeError, ValueError):  # tracing must never break the user's call
            messages = []
        return _TracedCall(self._sdk.create, request, self._tags, self._meta), messages

    def create(self, **request: Any) -> Any:
        model, messages = self._model(request)
        if not request.get("stream"):
            model.invoke(messages)
            return model.raw
        return _TracedStream(model, messages)


class _AsyncCompletions(_Completions):
    async def create(self, **request: Any) -> Any:
        model, messages = self._model(request)
        if not request.get("stream"):
            await model.ainvoke(messages)
            return model.raw
        stream = _AsyncTracedStream(model, messages)
        await stream.prime()
        return stream


class _TracedCall(ChatModel):
    """One ``create`` call of a wrapped client, seen by the run as a chat model call.

    ``raw`` is the SDK object behind the chunk yielded last.
    """

    provider = _PROVIDER

    def __init__(
        self, create: Callable[..., Any], request: dict[str, Any],
        tags: Sequence[str] | None, metadata: dict[str, Any] | None,
    ) -> None:  # fmt: skip
        temperature = request.get("temperature")
        if not isinstance(temperature, int | float):  # absent, or the SDK's NOT_GIVEN
            temperature = None
        super().__init__(
            model_name=request.get("model"), temperature=temperature, tags=tags,
            metadata=metadata, name="ChatOpenAI",
        )  # fmt: skip
        self._create, self._request = create, request
        self.raw: Any = None
        self.sdk_stream: Any = None

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        result = self._create(**self._request)
        if not isinstance(result, openai.Stream):
            self.raw = result
            yield _completion_message(result)
            return
        self.sdk_stream, reader = result, _DeltaReader()
        with result:
            for chunk in result:
                self.raw = chunk
                yield reader.read(chunk)

    async def _astream(
        self, messages: list[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        result = await self._create(**self._request)
        if not isinstance(result, openai.AsyncStream):
            self.raw = result
            yield _completion_message(result)
            return
        self.sdk_stream, reader = result, _DeltaReader()
        async with result:
            async for chunk in result:
                self.raw = chunk
                yield reader.read(chunk)


class _TracedStream:
    """The SDK's chunks, each sent to the run before it is handed to the caller.

    The first chunk is read at once, so that ``create`` raises the SDK's errors
    where the SDK would.
    """

    def __init__(self, model: _TracedCall, messages: list[BaseMessage]) -> None:
        self._model = model
        self._chunks = cast(Generator[AIMessageChunk, None, None], model.stream(messages))
        self._first = [model.raw] if next(self._chunks, None) is not None else []

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._first:
            return self._first.pop()
        next(self._chunks)
        return self._model.raw

    def __getattr__(self, attr: str) -> Any:  # ``response`` and the like
        return getattr(self._model.sdk_stream, attr)

    def close(self) -> None:
        self._chunks.close()

    def __enter__(self) -> _TracedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _AsyncTracedStream:
    """Async :class:`_TracedStream`; ``await prime()`` reads the first chunk."""

    def __init__(self, model: _TracedCall, messages: list[BaseMessage]) -> None:
        self._model = model
        self._chunks = cast(AsyncGenerator[AIMessageChunk, None], model.astream(messages))
        self._first: list[Any] = []

    async def prime(self) -> None:
        if await anext(self._chunks, None) is not None:
            self._first.append(self._model.raw)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        if self._first:
            return self._first.pop()
        await anext(self._chunks)
        return self._model.raw

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._model.sdk_stream, attr)

    async def close(self) -> None:
        await self._chunks.aclose()
        # Closing the outer async generator does not close the ones it iterates (they
        # are finalized later, by the event loop), so close the response here.
        if self._model.sdk_stream is not None:
            await self._model.sdk_stream.close()

    aclose = close

    async def __aenter__(self) -> _AsyncTracedStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
