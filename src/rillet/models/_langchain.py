"""Bridge for LangChain chat models: their tokens reach a rillet run's streams.

A ``langchain_core`` chat model called inside a node (``invoke``, ``ainvoke``,
``stream``..., alone or inside a LangChain chain) streams its tokens into
``messages`` mode and its ``on_chat_model_*`` events into ``astream_events``, with
the node's metadata, as rillet's own models do. rillet never imports
``langchain_core`` itself: the run calls :func:`activate` when the user's code has.

How: LangChain asks each *configure hook* (``register_configure_hook``) for a
callback handler every time it sets up a run. Ours answers through
:class:`_HandlerSlot`, which stands in for the ``ContextVar`` the hook API expects
and derives its value from rillet's own ``current_task`` context variable: the
handler while a task of a run that streams ``messages`` or events is running on this
thread or asyncio task, ``None`` otherwise. rillet already sets ``current_task`` in
every thread and asyncio task it runs a node in (subgraphs included), so nothing
else has to be set; and no value can outlive a run, as a real ``ContextVar`` set at
the start of ``invoke()`` would in the caller's context. Outside a run, and in runs
that stream neither, LangChain sees no handler at all and behaves as it always does.

The handler is a ``_StreamingCallbackHandler`` (it has ``tap_output_iter`` and
``tap_output_aiter``), which is what makes LangChain's ``invoke`` call the model's
streaming API, so an ``invoke`` inside a node streams token by token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Final, cast
from uuid import UUID

from rillet._constants import TAG_IN_NODE, TAG_NOSTREAM
from rillet.messages import AIMessageChunk, BaseMessage, message_chunk_to_message, to_message
from rillet.runtime._context import Task, current_task
from rillet.stream._events import MessageEvent, RunEvent

if TYPE_CHECKING:
    from contextvars import ContextVar

    from langchain_core.callbacks import BaseCallbackHandler

__all__ = ["activate"]

#: The model's LangSmith keys that ``messages`` metadata carries, as for rillet's models.
_LS_KEYS: Final = frozenset(
    {"ls_provider", "ls_model_name", "ls_model_type", "ls_temperature", "ls_integration"}
)

_HANDLER_NAME: Final = "RilletStreamHandler"

_lock = threading.Lock()
_slot: _HandlerSlot | None = None


def activate() -> None:
    """Connect LangChain chat models called inside rillet runs to the run's streams.

    Idempotent; after the first call it costs one global read. Imports
    ``langchain_core``, so the caller checks that the user's code already has.
    """
    global _slot
    if _slot is not None:
        return
    with _lock:
        if _slot is not None:
            return
        from langchain_core.tracers.context import register_configure_hook

        slot = _HandlerSlot(_handler_class()())
        # The hook only ever calls ``.get()`` on what it is given.
        register_configure_hook(cast("ContextVar[Any]", slot), inheritable=True)
        logging.getLogger("langchain_core.callbacks.manager").addFilter(_quiet_closed_stream)
        _slot = slot


def _quiet_closed_stream(record: logging.LogRecord) -> bool:
    """Drop LangChain's warning about our handler raising StreamClosedError.

    That error is how a node stops once the consumer has left the stream (``break``):
    the normal end of an early exit, not something to log.
    """
    args = record.args
    return not (
        isinstance(args, tuple)
        and len(args) == 3
        and args[0] == _HANDLER_NAME
        and str(args[2]).startswith("StreamClosedError(")
    )


class _HandlerSlot:
    """A read-only ``ContextVar`` look-alike: the handler inside a streaming run."""

    __slots__ = ("handler",)

    def __init__(self, handler: BaseCallbackHandler) -> None:
        self.handler = handler

    def get(self, default: Any = None) -> Any:
        task = current_task.get()
        if task is not None and (task.run.want_messages or task.run.want_events):
            return self.handler
        return default


class _ModelRun:
    """What the handler keeps about one LangChain chat model call."""

    __slots__ = ("events", "inputs", "messages", "metadata", "name", "tags", "task")

    def __init__(
        self,
        task: Task,
        name: str,
        tags: list[str],
        metadata: dict[str, Any],
        messages: bool,
        events: bool,
    ) -> None:
        self.task = task
        self.name = name
        self.tags = tags
        self.metadata = metadata
        self.messages = messages
        self.events = events
        self.inputs: list[list[BaseMessage]] = []

    def event(self, event: str, run_id: UUID, data: dict[str, Any]) -> None:
        task = self.task
        task.run.put(
            RunEvent(
                task.run.ns,
                event,
                self.name,
                str(run_id),
                task.child_parent_ids(),
                self.tags,
                self.metadata,
                data,
            )
        )


def _start(
    serialized: dict[str, Any] | None,
    messages: list[list[Any]],
    tags: list[str] | None,
    metadata: dict[str, Any] | None,
    name: str | None,
) -> _ModelRun | None:
    """The bookkeeping of a model call that starts inside a streaming run, else None."""
    task = current_task.get()
    if task is None:
        return None
    # LangChain's sequences tag each step; LangGraph leaves those tags out too.
    own_tags = [t for t in tags or () if not t.startswith("seq:step:")]
    want_messages = task.run.want_messages and TAG_NOSTREAM not in own_tags
    want_events = task.run.want_events
    if not (want_messages or want_events):
        return None
    # The call's own metadata and the four model keys; not LangChain's tracing keys.
    extra = {
        k: v
        for k, v in (metadata or {}).items()
        if k in _LS_KEYS or not k.startswith(("ls_", "lc_"))
    }
    meta = task.message_metadata(extra, own_tags)
    serialized = serialized or {}
    path = serialized.get("id")
    model_name = (
        name
        or serialized.get("name")
        or (path[-1] if isinstance(path, list) and path else None)
        or "ChatModel"
    )
    run = _ModelRun(task, model_name, [TAG_IN_NODE, *meta.get("tags", ())], meta, want_messages,
                    want_events)
    if want_events:
        run.inputs = [[_converted(m) for m in batch] for batch in messages]
    return run


def _converted(message: Any) -> Any:
    """``message`` as a rillet message; as it is if it has no rillet form (a
    LangChain ``FunctionMessage``): the model call must not fail over an event."""
    try:
        return message_chunk_to_message(to_message(message))
    except (TypeError, ValueError):
        return message


def _handler_class() -> type[BaseCallbackHandler]:
    """The handler class, defined on first use: it subclasses LangChain's."""
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult

    class RilletStreamHandler(BaseCallbackHandler):
        """Forwards a LangChain chat model's tokens and events to the rillet run."""

        # In the caller's thread or coroutine, so chunks stay in order and a full bus
        # slows the model down; errors raised here (the consumer has left) must reach
        # the model's caller, to stop the node.
        run_inline = True
        raise_error = True

        def __init__(self) -> None:
            self.runs: dict[UUID, _ModelRun] = {}

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
        ) -> None:
            run = _start(serialized, messages, tags, metadata, kwargs.get("name"))
            if run is None:
                return
            self.runs[run_id] = run
            if run.events:
                run.event("on_chat_model_start", run_id, {"input": {"messages": run.inputs}})

        def on_llm_new_token(
            self,
            token: str | list[str | dict[str, Any]],
            *,
            chunk: Any = None,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            tags: list[str] | None = None,
            **kwargs: Any,
        ) -> None:
            run = self.runs.get(run_id)
            if run is None or not isinstance(chunk, ChatGenerationChunk):
                return
            try:
                message = to_message(chunk.message)
            except (TypeError, ValueError):
                return
            if not isinstance(message, AIMessageChunk):
                return
            if run.messages:
                task = run.task
                task.run.put(MessageEvent(task.run.ns, message, run.metadata))
            if run.events:
                run.event("on_chat_model_stream", run_id, {"chunk": message})

        def on_llm_end(
            self,
            response: LLMResult,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            tags: list[str] | None = None,
            **kwargs: Any,
        ) -> None:
            run = self.runs.pop(run_id, None)
            if run is None:
                return
            outputs = [
                _converted(generation.message)
                for batch in response.generations
                for generation in batch
                if isinstance(generation, ChatGeneration)
            ]
            if run.messages:
                # Streamed token by token: the node returning it must not stream it again.
                seen = run.task.run.settings.seen_message_ids
                seen.update(m.id for m in outputs if getattr(m, "id", None) is not None)
            if run.events:
                output = outputs[0] if len(outputs) == 1 else outputs
                data = {"output": output, "input": {"messages": run.inputs}}
                run.event("on_chat_model_end", run_id, data)

        def on_llm_error(
            self,
            error: BaseException,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            tags: list[str] | None = None,
            **kwargs: Any,
        ) -> None:
            self.runs.pop(run_id, None)

        # These two make LangChain treat the handler as a streaming one: a model's
        # ``invoke`` then calls its streaming API and reports every token.
        def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
            return output

        def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
            return output

    return RilletStreamHandler
