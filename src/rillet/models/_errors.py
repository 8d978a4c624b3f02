"""Translating provider failures into :class:`~rillet.errors.ModelError`, for every provider.

A provider wraps the code that talks to its SDK in :func:`provider_errors`; what the SDK
or its HTTP library raises leaves as a ``ModelError`` chained to the original
(``raise ModelError(...) from exc``), and anything else (a bug, a cancellation, a
rillet error) passes through untouched::

    OpenAI SDK                              ModelError
    ├── APIStatusError (401, 429, 5xx)  ->  status_code, retryable for 408/429/5xx
    ├── APIConnectionError              ->  retryable (refused, reset, cut short)
    │   └── APITimeoutError             ->  retryable
    └── APIError (error event in stream)->  not retryable
    httpx / httpx2 / httpcore errors    ->  retryable (a transport failed)
    httpx HTTPStatusError               ->  status_code, retryable for 408/429/5xx
    ConnectionError, TimeoutError       ->  retryable
    json.JSONDecodeError                ->  not retryable (the server sent garbage)

Nothing here imports a provider SDK: an error can only come from an SDK that is
already imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rillet.errors import ModelError, RilletError

__all__ = [
    "describe_request",
    "is_retryable_status",
    "provider_errors",
    "stream_cut_short",
    "translate_error",
]

_HTTP_LIBRARIES = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "h11"})


def is_retryable_status(status_code: int) -> bool:
    """Whether a request that got this HTTP status may succeed when tried again."""
    return status_code in (408, 429) or status_code >= 500


def translate_error(exc: BaseException, *, provider: str) -> ModelError | None:
    """The ``ModelError`` that reports ``exc``, or ``None`` when ``exc`` is no provider
    failure (a bug in the caller, a cancellation, an error rillet raised itself)."""
    if isinstance(exc, RilletError) or not isinstance(exc, Exception):
        return None
    error = _from_openai(exc, provider)
    if error is not None:
        return error
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and _from_http_library(exc):  # httpx's raise_for_status()
        retryable = is_retryable_status(status)
        return ModelError(str(exc), provider=provider, status_code=status, retryable=retryable)
    if _from_http_library(exc) or isinstance(exc, ConnectionError | TimeoutError):
        return ModelError(_describe(exc), provider=provider, retryable=True)
    if isinstance(exc, json.JSONDecodeError):
        return ModelError(f"the server sent something that is not JSON ({exc})", provider=provider)
    return None


@contextmanager
def provider_errors(provider: str) -> Iterator[None]:
    """Raise what the block raises as a ``ModelError`` when it is a provider failure.

    Safe around a ``yield`` in a generator: closing the generator early
    (``GeneratorExit``) and cancellation pass through.
    """
    try:
        yield
    except Exception as exc:
        error = translate_error(exc, provider=provider)
        if error is None:
            raise
        raise error from exc


def stream_cut_short(provider: str, detail: str) -> ModelError:
    """The error for a stream that ended before the answer did (retryable)."""
    return ModelError(
        f"the stream ended before the answer did ({detail})", provider=provider, retryable=True
    )


def _from_openai(exc: Exception, provider: str) -> ModelError | None:
    if sys.modules.get("openai") is None:  # the error cannot come from an SDK not imported
        return None
    import openai

    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        where, said = describe_request(exc.request), _body_message(exc.body, exc.message)
        message = f"HTTP {code} from {where}: {said}"
        if code == 401:
            message += " (check the api_key, or the OPENAI_API_KEY environment variable)"
        return ModelError(
            message, provider=provider, status_code=code, retryable=is_retryable_status(code)
        )
    if isinstance(exc, openai.APIConnectionError):  # APITimeoutError included
        cause = exc.__cause__ or exc.__context__
        detail = f": {_describe(cause)}" if cause is not None else ""
        return ModelError(
            f"{exc.message.rstrip('.')} ({describe_request(exc.request)}){detail}",
            provider=provider,
            retryable=True,
        )
    if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
        return ModelError(_body_message(exc.body, exc.message), provider=provider)
    if isinstance(exc, openai.OpenAIError):  # e.g. no API key configured
        return ModelError(str(exc), provider=provider)
    return None


def _from_http_library(exc: BaseException) -> bool:
    return any(cls.__module__.partition(".")[0] in _HTTP_LIBRARIES for cls in type(exc).__mro__)


def _body_message(body: object, fallback: str) -> str:
    """The server's own words: OpenAI's ``{"message": ...}`` (the SDK has already
    taken it out of ``{"error": ...}``), FastAPI's ``{"detail": ...}``, or the text."""
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()
    return fallback


def describe_request(request: Any) -> str:
    """``"POST https://..."``, or ``"the server"`` when ``request`` is unknown."""
    try:
        return f"{request.method} {request.url}"
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError for an unset request
        return "the server"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
