"""Provider failures become ``ModelError`` (``raise ... from exc``), sync and async,
after the tokens streamed before them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import openai
import pytest

from rillet.errors import ModelError, StreamClosedError, UsageError
from rillet.models import OpenAIChatModel
from rillet.models._errors import provider_errors, translate_error
from tests.models.servers import (
    Gate,
    Reply,
    ScriptedServer,
    error,
    free_port,
    sse,
    stream_chunks,
    text_chunks,
)

URL = "POST http://127.0.0.1:{port}/v1/chat/completions"


def model_for(server: ScriptedServer, **kwargs: Any) -> OpenAIChatModel:
    return OpenAIChatModel(base_url=server.base_url, max_retries=0, **kwargs)


def assert_error(
    error: Exception | None, message: str, *, status_code: int | None, retryable: bool
) -> ModelError:
    assert isinstance(error, ModelError)
    assert (str(error), error.provider, error.status_code, error.retryable) == (
        message,
        "openai",
        status_code,
        retryable,
    )
    return error


async def test_rate_limit(use_async: bool) -> None:
    with ScriptedServer(error(429, "Rate limit reached for gpt-4o-mini")) as server:
        chunks, exc = await stream_chunks(model_for(server), use_async)
    assert chunks == []
    err = assert_error(
        exc,
        f"HTTP 429 from {URL.format(port=server.port)}: Rate limit reached for gpt-4o-mini",
        status_code=429,
        retryable=True,
    )
    assert isinstance(err.__cause__, openai.RateLimitError)


async def test_server_error(use_async: bool) -> None:
    with ScriptedServer(error(500, "The server had an error", "server_error")) as server:
        _, exc = await stream_chunks(model_for(server), use_async)
    err = assert_error(
        exc,
        f"HTTP 500 from {URL.format(port=server.port)}: The server had an error",
        status_code=500,
        retryable=True,
    )
    assert isinstance(err.__cause__, openai.InternalServerError)


async def test_bad_request_is_not_retryable(use_async: bool) -> None:
    with ScriptedServer(error(400, "Unknown model 'nope'")) as server:
        _, exc = await stream_chunks(model_for(server), use_async)
    assert_error(
        exc,
        f"HTTP 400 from {URL.format(port=server.port)}: Unknown model 'nope'",
        status_code=400,
        retryable=False,
    )


async def test_bad_credentials(use_async: bool) -> None:
    with ScriptedServer(error(401, "Incorrect API key provided: sk-wrong.")) as server:
        _, exc = await stream_chunks(model_for(server, api_key="sk-wrong"), use_async)
    err = assert_error(
        exc,
        f"HTTP 401 from {URL.format(port=server.port)}: Incorrect API key provided: "
        "sk-wrong. (check the api_key, or the OPENAI_API_KEY environment variable)",
        status_code=401,
        retryable=False,
    )
    assert isinstance(err.__cause__, openai.AuthenticationError)


async def test_connection_cut_mid_stream_keeps_the_tokens(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("Hel", "lo")[:3], ending="reset")) as server:
        chunks, exc = await stream_chunks(model_for(server), use_async)
    assert [c.content for c in chunks] == ["", "Hel", "lo"]
    err = assert_error(
        exc,
        f"Connection error ({URL.format(port=server.port)}): RemoteProtocolError: peer closed "
        "connection without sending complete message body (incomplete chunked read)",
        status_code=None,
        retryable=True,
    )
    assert isinstance(err.__cause__, openai.APIConnectionError)


async def test_stream_ending_without_finish_reason_keeps_the_tokens(use_async: bool) -> None:
    # A body that just stops (no [DONE], no finish_reason) is no error to the SDK.
    with ScriptedServer(sse(*text_chunks("Hel", "lo")[:3], ending="eof")) as server:
        chunks, exc = await stream_chunks(model_for(server), use_async)
    assert [c.content for c in chunks] == ["", "Hel", "lo"]
    assert_error(
        exc,
        "the stream ended before the answer did (no finish_reason was received)",
        status_code=None,
        retryable=True,
    )


async def test_malformed_stream(use_async: bool) -> None:
    with ScriptedServer(sse(text_chunks("Hel")[0], "{not json")) as server:
        chunks, exc = await stream_chunks(model_for(server), use_async)
    assert [c.content for c in chunks] == [""]
    assert isinstance(exc, ModelError) and not exc.retryable
    assert str(exc).startswith("the server sent something that is not JSON (Expecting")
    assert isinstance(exc.__cause__, json.JSONDecodeError)


async def test_error_event_inside_a_stream(use_async: bool) -> None:
    event = {"error": {"message": "The model is overloaded", "type": "server_error"}}
    with ScriptedServer(sse(text_chunks("Hel")[0], event)) as server:
        _, exc = await stream_chunks(model_for(server), use_async)
    assert_error(exc, "The model is overloaded", status_code=None, retryable=False)


async def test_timeout(use_async: bool) -> None:
    # The only timing-dependent test: the server never answers, the client gives up.
    with ScriptedServer(Reply(hang=True)) as server:
        _, exc = await stream_chunks(model_for(server, timeout=0.5), use_async)
    assert isinstance(exc, ModelError)
    assert (exc.status_code, exc.retryable) == (None, True)
    # httpx2 says "ReadTimeout: timed out" in sync code, a bare "ReadTimeout" in async.
    assert str(exc).startswith(f"Request timed out ({URL.format(port=server.port)}): ReadTimeout")
    assert isinstance(exc.__cause__, openai.APITimeoutError)


async def test_connection_refused(use_async: bool) -> None:
    port = free_port()
    model = OpenAIChatModel(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    _, exc = await stream_chunks(model, use_async)
    assert isinstance(exc, ModelError)
    assert (exc.status_code, exc.retryable) == (None, True)
    assert str(exc).startswith(f"Connection error ({URL.format(port=port)}): ConnectError: ")
    assert isinstance(exc.__cause__, openai.APIConnectionError)


async def test_missing_api_key(monkeypatch: pytest.MonkeyPatch, use_async: bool) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    _, exc = await stream_chunks(OpenAIChatModel(), use_async)
    assert isinstance(exc, ModelError) and not exc.retryable
    assert "OPENAI_API_KEY" in str(exc)


def test_placeholder_key_for_a_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer(sse(*text_chunks("ok"))) as server:
        assert OpenAIChatModel(base_url=server.base_url).invoke("hi").content == "ok"
    assert OpenAIChatModel(base_url=server.base_url).client.api_key == "not-needed"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert OpenAIChatModel(base_url=server.base_url).client.api_key == "sk-env"
    assert OpenAIChatModel(base_url=server.base_url, api_key="k").client.api_key == "k"


def test_callbacks_hear_the_error() -> None:
    from rillet.callbacks import CallbackHandler

    class Recorder(CallbackHandler):
        def __init__(self) -> None:
            self.errors: list[BaseException] = []

        def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
            self.errors.append(error)

    recorder = Recorder()
    with ScriptedServer(error(429, "slow down")) as server, pytest.raises(ModelError):
        model_for(server, callbacks=[recorder]).invoke("hi")
    assert [type(e) for e in recorder.errors] == [ModelError]


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (httpx2.ConnectError("refused"), True),
        (httpx2.RemoteProtocolError("peer closed connection"), True),
        (ConnectionResetError("reset"), True),
        (TimeoutError("slow"), True),
    ],
)
def test_transport_errors_outside_the_sdk(exc: Exception, retryable: bool) -> None:
    err = translate_error(exc, provider="local")
    assert err is not None
    assert (str(err), err.provider, err.retryable) == (
        f"{type(exc).__name__}: {exc}",
        "local",
        retryable,
    )


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (503, True)])
def test_http_status_errors_outside_the_sdk(status: int, retryable: bool) -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/api/chat")
    response = httpx2.Response(status, request=request)
    with pytest.raises(ModelError) as info, provider_errors("local"):
        response.raise_for_status()
    assert (info.value.status_code, info.value.retryable) == (status, retryable)
    assert str(info.value).startswith(f"Server error '{status}" if retryable else "Client error")
    assert isinstance(info.value.__cause__, httpx2.HTTPStatusError)


@pytest.mark.parametrize(
    "exc", [KeyError("bug"), StreamClosedError("gone"), ModelError("x", provider="p")]
)
def test_other_errors_pass_through(exc: Exception) -> None:
    assert translate_error(exc, provider="openai") is None
    with pytest.raises(type(exc)) as info, provider_errors("openai"):
        raise exc
    assert info.value is exc


def test_default_timeout() -> None:
    model = OpenAIChatModel(base_url="http://127.0.0.1:9/v1")
    expected = openai.Timeout(60.0, connect=10.0)
    assert (OpenAIChatModel.default_timeout, model.timeout, model.client.timeout) == (
        expected,
        expected,
        expected,
    )
    assert asyncio.run(_async_timeout(model)) == expected
    assert OpenAIChatModel(timeout=5).timeout == openai.Timeout(5.0)


async def _async_timeout(model: OpenAIChatModel) -> Any:
    return model.async_client.timeout


async def test_the_default_timeout_is_used(
    monkeypatch: pytest.MonkeyPatch, use_async: bool
) -> None:
    # A server that accepts the request and never answers, with a short default.
    monkeypatch.setattr(OpenAIChatModel, "default_timeout", openai.Timeout(0.5))
    with ScriptedServer(Reply(hang=True)) as server:
        _, exc = await stream_chunks(model_for(server), use_async)
    assert isinstance(exc, ModelError)
    assert (exc.status_code, exc.retryable) == (None, True)
    assert str(exc).startswith(f"Request timed out ({URL.format(port=server.port)}): ReadTimeout")


async def test_a_stream_that_falls_silent_times_out(use_async: bool) -> None:
    gate = Gate()  # never opened while the client waits
    with ScriptedServer(sse(*text_chunks("Hel")[:2], gate)) as server:
        chunks, exc = await stream_chunks(model_for(server, timeout=0.5), use_async)
    assert [c.content for c in chunks] == ["", "Hel"]
    assert isinstance(exc, ModelError)
    assert (exc.status_code, exc.retryable) == (None, True)
    assert str(exc).startswith(f"Request timed out ({URL.format(port=server.port)}): ReadTimeout")


@pytest.mark.parametrize("timeout", ["60", True, [1]])
def test_a_bad_timeout(timeout: Any) -> None:
    with pytest.raises(UsageError) as info:
        OpenAIChatModel(timeout=timeout)
    assert str(info.value) == (
        f"OpenAIChatModel's timeout is a number of seconds or an openai.Timeout, got {timeout!r}"
    )


async def test_an_html_page_is_no_event_stream(use_async: bool) -> None:
    # A captive portal, or a base_url without /v1 on a server that serves a web page.
    page = Reply(body="<html><body>Log in</body></html>", content_type="text/html; charset=utf-8")
    with ScriptedServer(page) as server:
        chunks, exc = await stream_chunks(model_for(server), use_async)
    assert chunks == []
    assert_error(
        exc,
        "the server did not answer with an event stream (content-type text/html; "
        f"charset=utf-8, from {URL.format(port=server.port)}): check that base_url ends "
        "in /v1, where OpenAI-compatible servers serve the API, or whether a proxy or a "
        "captive portal answered instead",
        status_code=None,
        retryable=False,
    )
