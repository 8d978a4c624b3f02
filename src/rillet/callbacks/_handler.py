"""``CallbackHandler`` and the dispatch of one model call's callbacks."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

logger = logging.getLogger("rillet.callbacks")


class CallbackHandler:
    """Receives the events of model calls and custom events.

    Override the methods you need, as ``def`` or ``async def``. Handlers passed to a
    model call (``callbacks=[...]`` or ``config={"callbacks": [...]}``) see that call;
    handlers in a graph run's config see every model call in the run, at any depth.
    A handler that raises is logged and skipped, unless ``raise_error`` is true.
    """

    raise_error: bool = False

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chat model call starts with ``messages`` (one list per prompt)."""

    def on_llm_new_token(
        self,
        token: str,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A new token: ``token`` is its text, ``chunk`` the ``AIMessageChunk``."""

    def on_llm_end(
        self,
        response: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The call finished; ``response`` is the whole ``AIMessage``."""

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The call failed with ``error`` (raised to the caller after this)."""

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``dispatch_custom_event(name, data)`` was called."""


def overrides(handler: Any, method: str) -> bool:
    """Whether ``handler`` implements ``method`` (so calling it is worth a call)."""
    fn = getattr(type(handler), method, None)
    if fn is None:
        return callable(getattr(handler, method, None))
    return fn is not getattr(CallbackHandler, method, None)


def handlers_for(*sources: Sequence[Any] | None) -> list[Any]:
    """The handlers of several sources, in order, each once."""
    out: list[Any] = []
    for source in sources:
        for handler in source or ():
            if not any(handler is h for h in out):
                out.append(handler)
    return out


def _failed(handler: Any, method: str, exc: Exception) -> None:
    """A handler raised: re-raise if it asked for that, else log and go on."""
    if getattr(handler, "raise_error", False):
        raise exc
    logger.warning(
        "Callback %s.%s failed", type(handler).__name__, method, exc_info=exc
    )


def fire(handlers: Sequence[Any], method: str, *args: Any, **kwargs: Any) -> None:
    """Call ``method`` on each handler from sync code."""
    for handler in handlers:
        fn = getattr(handler, method, None)
        if fn is None:
            continue
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                from rillet.runtime._workers import run_coroutine

                run_coroutine(result)
        except Exception as exc:
            _failed(handler, method, exc)


async def afire(handlers: Sequence[Any], method: str, *args: Any, **kwargs: Any) -> None:
    """Call ``method`` on each handler from async code (awaiting async handlers)."""
    for handler in handlers:
        fn = getattr(handler, method, None)
        if fn is None:
            continue
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            _failed(handler, method, exc)
