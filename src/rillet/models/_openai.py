"""OpenAI Chat Completions: ``OpenAIChatModel``, and the reading of the SDK's answers.

``OpenAIChatModel`` speaks to any OpenAI-compatible endpoint through the official
``openai`` SDK (``pip install 'rillet[openai]'``) and streams each delta into the run
as an ``AIMessageChunk``, with the calling node's metadata in ``messages`` mode.
``_DeltaReader`` and ``_completion_message``, which turn the SDK's chunks and
completions into ``AIMessageChunk``s, are shared with ``wrap_openai``; it lives in
:mod:`rillet.models._openai_wrap` and is re-exported here.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar

try:
    import openai
except ImportError as exc:  # pragma: no cover - exercised with openai hidden
    raise ImportError(
        "OpenAIChatModel and wrap_openai need the openai package: pip install 'rillet[openai]'"
    ) from exc
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice

from rillet.errors import ModelError, UsageError
from rillet.messages import (
    AIMessageChunk,
    BaseMessage,
    ToolCallChunk,
    UsageMetadata,
    to_openai_dicts,
    tool_call_chunk,
)
from rillet.models._base import ChatModel
from rillet.models._errors import describe_request, provider_errors, stream_cut_short

if TYPE_CHECKING:
    from rillet.models._openai_wrap import wrap_openai

__all__ = ["OpenAIChatModel", "wrap_openai"]

_PROVIDER: Final = "openai"
# Local OpenAI-compatible servers ignore the key, but the SDK refuses to run without one.
_PLACEHOLDER_API_KEY: Final = "not-needed"
_TOOL_CHOICE_KEYWORDS: Final = frozenset({"auto", "required", "none"})
_EVENT_STREAM: Final = "text/event-stream"


class OpenAIChatModel(ChatModel):
    """A chat model served by OpenAI, or by any server that speaks its Chat Completions
    API (vLLM, llama.cpp, Ollama, ...: set ``base_url``).

    ``api_key`` defaults to ``OPENAI_API_KEY``; with a ``base_url`` and no key at all a
    placeholder is sent, so local servers work. ``client``/``async_client`` replace
    the SDK clients otherwise made on first use (the async one once per event loop,
    since its connections belong to the loop that opened them). ``model_kwargs``
    (``seed``, ``top_p``, ...) go into every request, as do a call's keyword arguments
    (``stop``, ...) and what :meth:`bind_tools` bound.

    ``timeout`` is in seconds, for each phase of a request (connect, each read of
    the stream, ...), or an ``openai.Timeout``; ``None`` means :attr:`default_timeout`:
    10 s to connect and 60 s for every other phase, so a stream silent for a minute
    fails (a reasoning model that thinks longer before its first token needs more).
    Each of the ``1 + max_retries`` attempts gets the whole time-out.

    :raises rillet.errors.ModelError: from ``invoke``/``stream`` and their async
        twins, when the server cannot be reached, answers with an error, or the
        stream ends before the answer does (after the tokens already received).
    """

    provider = _PROVIDER
    # A model may take a while before its first token (a long prompt, a busy server),
    # but a server silent for a minute is stuck; the SDK's own default is 600 s per
    # read, tried 3 times, which holds a node for half an hour.
    default_timeout: ClassVar[openai.Timeout] = openai.Timeout(60.0, connect=10.0)
    """The ``timeout`` of a model made with ``timeout=None``."""

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        timeout: float | openai.Timeout | None = None,
        max_retries: int = 2,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream_usage: bool = True,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        name: str | None = None,
        **model_kwargs: Any,
    ) -> None:
        super().__init__(
            model_name=model, temperature=temperature, tags=tags, metadata=metadata,
            callbacks=callbacks, name=name,
        )  # fmt: skip
        self.model = model
        self.base_url = base_url
        self.api_key = api_key
        self.organization = organization
        self.timeout = self.default_timeout if timeout is None else _timeout(timeout)
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.stream_usage = stream_usage
        self.model_kwargs = model_kwargs
        self._client = client
        self._async_client = async_client
        # One client per event loop: a client's pooled connections belong to the loop
        # that opened them, and fail ("Event loop is closed") in any other.
        self._loop_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, openai.AsyncOpenAI
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        """The sync SDK client (made on first use)."""
        if self._client is None:
            self._client = openai.OpenAI(**self._client_options())
        return self._client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The async SDK client of the running event loop (made on first use in each
        loop), or the ``async_client`` given to the constructor.

        :raises rillet.errors.UsageError: if no event loop is running.
        """
        if self._async_client is not None:
            return self._async_client
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise UsageError(
                "OpenAIChatModel.async_client belongs to an event loop: read it inside "
                "async code (each running loop gets its own client)"
            ) from None
        with self._lock:
            for gone in [old for old in self._loop_clients if old.is_closed()]:
                del self._loop_clients[gone]
            client = self._loop_clients.get(loop)
            if client is None:
                client = self._loop_clients[loop] = openai.AsyncOpenAI(
                    # The SDK's own wrapper of this HTTP client, collected after its
                    # loop closed, schedules its closing on whichever loop runs then,
                    # where it fails with "Task exception was never retrieved".
                    http_client=openai.DefaultAsyncHttpxClient(timeout=self.timeout),
                    **self._client_options(),
                )
            return client

    def _client_options(self) -> dict[str, Any]:
        api_key = self.api_key or os.environ.get("OPENAI_API_KEY")
        if api_key is None and (self.base_url or os.environ.get("OPENAI_BASE_URL")):
            api_key = _PLACEHOLDER_API_KEY
        options: dict[str, Any] = {
            "api_key": api_key, "base_url": self.base_url,
            "organization": self.organization, "max_retries": self.max_retries,
            "timeout": self.timeout,
        }  # fmt: skip
        return options

    def _request(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> dict[str, Any]:
        stream_usage = kwargs.pop("stream_usage", self.stream_usage)
        tool_choice = kwargs.pop("tool_choice", None)
        kwargs.pop("stream", None)  # always streamed
        request = {**self.model_kwargs, "model": self.model_name}
        request["messages"] = to_openai_dicts(messages)
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        request.update(kwargs)
        if not request.get("tools"):  # OpenAI rejects an empty list of tools
            request.pop("tools", None)
        if tool_choice is not None:
            request["tool_choice"] = _tool_choice(tool_choice)
        if stream_usage:
            request["stream_options"] = {"include_usage": True}
        return request

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        request = self._request(messages, kwargs)
        reader = _DeltaReader()
        with provider_errors(self.provider):
            stream = self.client.chat.completions.create(**request, stream=True)
            with stream:  # closes the response when the consumer leaves early
                for chunk in stream:
                    yield reader.read(chunk)
        reader.check_finished(stream.response)

    async def _astream(
        self, messages: list[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        request = self._request(messages, kwargs)
        reader = _DeltaReader()
        with provider_errors(self.provider):
            stream = await self.async_client.chat.completions.create(**request, stream=True)
            async with stream:
                async for chunk in stream:
                    yield reader.read(chunk)
        reader.check_finished(stream.response)


def _timeout(timeout: float | openai.Timeout) -> openai.Timeout:
    if isinstance(timeout, openai.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise UsageError(
            f"OpenAIChatModel's timeout is a number of seconds or an openai.Timeout, "
            f"got {timeout!r}"
        )
    return openai.Timeout(float(timeout))


def _tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, dict) or choice in _TOOL_CHOICE_KEYWORDS:
        return choice
    if choice == "any":  # LangChain's word for "required"
        return "required"
    return {"type": "function", "function": {"name": choice}}


# ------------------------------------------------------------ reading the answer


class _DeltaReader:
    """Turns one stream's chunks into ``AIMessageChunk``s, remembering what it needs
    to tell a finished answer from a cut-off one."""

    __slots__ = ("_calls", "finished")

    def __init__(self) -> None:
        self.finished = False
        # index -> (id, name) of each tool call, as first sent
        self._calls: dict[int, tuple[str | None, str | None]] = {}

    def read(self, chunk: ChatCompletionChunk) -> AIMessageChunk:
        try:
            return self._read(chunk)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ModelError(
                f"the server sent a chunk that is not a chat completion chunk: {chunk!r}",
                provider=_PROVIDER,
            ) from exc

    def _read(self, chunk: ChatCompletionChunk) -> AIMessageChunk:
        usage = _usage(chunk.usage)
        if not chunk.choices:  # the usage chunk, after the last choice
            return AIMessageChunk("", usage_metadata=usage)
        choice = _first_choice(chunk.choices)
        if choice is None:  # a delta of another choice (n > 1): only the first is read
            return AIMessageChunk("", usage_metadata=usage)
        delta = choice.delta
        metadata: dict[str, Any] = {}
        if choice.finish_reason:
            self.finished = True
            metadata = _finish_metadata(chunk, choice.finish_reason)
        return AIMessageChunk(
            delta.content or "",
            additional_kwargs={"refusal": delta.refusal} if delta.refusal else None,
            response_metadata=metadata,
            usage_metadata=usage,
            tool_call_chunks=[self._tool_call(call) for call in delta.tool_calls or ()],
        )

    def _tool_call(self, call: Any) -> ToolCallChunk:
        function = call.function
        call_id, name = call.id, function.name if function is not None else None
        first_id, first_name = self._calls.get(call.index, (None, None))
        self._calls[call.index] = (first_id or call_id, first_name or name)
        # Some servers (llama-cpp-python) repeat the id and name in every delta;
        # merged, the names would concatenate ("get_weatherget_weather").
        return tool_call_chunk(
            name=None if first_name and name == first_name else name,
            args=function.arguments if function is not None else None,
            id=None if first_id and call_id == first_id else call_id,
            index=call.index,
        )

    def check_finished(self, response: Any) -> None:
        """:raises ModelError: if no choice said why it finished: not retryable when
        ``response`` (the SDK's ``httpx`` response) is no event stream, retryable
        (a stream cut short) when it is."""
        if self.finished:
            return
        content_type = response.headers.get("content-type") or "no content-type"
        if content_type.partition(";")[0].strip().lower() == _EVENT_STREAM:
            raise stream_cut_short(_PROVIDER, "no finish_reason was received")
        raise ModelError(
            f"the server did not answer with an event stream (content-type {content_type}, "
            f"from {describe_request(response.request)}): check that base_url ends in /v1, "
            f"where OpenAI-compatible servers serve the API, or whether a proxy or a "
            f"captive portal answered instead",
            provider=_PROVIDER,
        )


_Choice = TypeVar("_Choice", ChunkChoice, Choice)


def _first_choice(choices: Sequence[_Choice]) -> _Choice | None:
    """The choice with index 0 (with ``n > 1`` a chunk may carry others, in any order;
    a server that sends no index sends one choice)."""
    return next((c for c in choices if getattr(c, "index", None) in (0, None)), None)


def _finish_metadata(response: ChatCompletionChunk | ChatCompletion, reason: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"finish_reason": reason, "model_name": response.model}
    if response.system_fingerprint:
        metadata["system_fingerprint"] = response.system_fingerprint
    return metadata


def _usage(usage: CompletionUsage | None) -> UsageMetadata | None:
    if usage is None:
        return None
    result = UsageMetadata(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )
    prompt, completion = usage.prompt_tokens_details, usage.completion_tokens_details
    if prompt and (details := _known(audio=prompt.audio_tokens, cache_read=prompt.cached_tokens)):
        result["input_token_details"] = details
    if completion and (
        details := _known(audio=completion.audio_tokens, reasoning=completion.reasoning_tokens)
    ):
        result["output_token_details"] = details
    return result


def _known(**counts: int | None) -> dict[str, int]:
    return {name: count for name, count in counts.items() if count is not None}


def _completion_message(completion: ChatCompletion) -> AIMessageChunk:
    """A whole (non-streamed) answer as one chunk."""
    usage = _usage(completion.usage)
    choice = _first_choice(completion.choices)
    if choice is None:
        return AIMessageChunk("", usage_metadata=usage)
    message = choice.message
    calls = [
        tool_call_chunk(name=c.function.name, args=c.function.arguments, id=c.id, index=i)
        for i, c in enumerate(message.tool_calls or ())
        if c.type == "function"
    ]
    return AIMessageChunk(
        message.content or "",
        response_metadata=_finish_metadata(completion, choice.finish_reason),
        usage_metadata=usage,
        tool_call_chunks=calls,
    )


def __getattr__(name: str) -> Any:
    # _openai_wrap imports this module, so wrap_openai is imported on first use, not
    # at import time (rillet.models maps it here).
    if name == "wrap_openai":
        from rillet.models._openai_wrap import wrap_openai

        return wrap_openai
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
