"""One model call's links to the world: ``messages`` mode, ``astream_events`` and
callback handlers. Built once per call; the per-chunk work is one closure call."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rillet._constants import TAG_IN_NODE, TAG_NOSTREAM
from rillet.callbacks._handler import afire, fire, handlers_for, overrides
from rillet.messages import AIMessage, AIMessageChunk, BaseMessage
from rillet.runtime._context import Task, current_task
from rillet.stream._events import MessageEvent, RunEvent

if TYPE_CHECKING:
    from rillet.models._base import ChatModel


class ModelCall:
    """The bookkeeping of one ``invoke``/``stream`` call of a chat model."""

    __slots__ = (
        "_events",
        "_messages",
        "_streams_messages",
        "bus",
        "handlers",
        "metadata",
        "model",
        "msg_id",
        "on_chunk",
        "parent_run_id",
        "run_id",
        "tags",
        "task",
        "token_handlers",
        "wants_final",
    )

    def __init__(
        self,
        model: ChatModel,
        messages: list[BaseMessage],
        config: dict[str, Any] | None,
        callbacks: Sequence[Any] | None,
    ) -> None:
        cfg = config or {}
        self.model = model
        self._messages = messages
        self.run_id = uuid.uuid4()
        self.msg_id = f"run-{self.run_id}"
        task: Task | None = current_task.get()
        self.task = task
        run_tags = (task.run.config.get("tags") or ()) if task is not None else ()
        # Tags are deduplicated by value (handlers by identity).
        self.tags = list(dict.fromkeys([*run_tags, *model.tags, *(cfg.get("tags") or ())]))
        run_callbacks = task.run.config.get("callbacks") if task is not None else None
        self.handlers = handlers_for(
            run_callbacks, model.callbacks, cfg.get("callbacks"), callbacks
        )
        self.token_handlers = [h for h in self.handlers if overrides(h, "on_llm_new_token")]
        extra = {
            **model.metadata,
            **(cfg.get("metadata") or {}),
            "ls_integration": "langchain_chat_model",
            **model._ls_params(),
        }
        if task is not None:
            self.metadata = task.message_metadata(extra, self.tags)
            self.parent_run_id: uuid.UUID | None = uuid.UUID(task.id)
        else:
            self.metadata = {**extra, "tags": list(self.tags)}
            self.parent_run_id = None
        self.bus: Any = None
        self._events = task is not None and task.run.want_events
        stream_messages = (
            task is not None and task.run.want_messages and TAG_NOSTREAM not in self.tags
        )
        self._streams_messages = stream_messages
        self.on_chunk = self._make_on_chunk(stream_messages)
        self.wants_final = bool(self.handlers) or self._events or stream_messages

    def _make_on_chunk(self, stream_messages: bool) -> Callable[[AIMessageChunk], None] | None:
        steps: list[Callable[[AIMessageChunk], None]] = []
        task = self.task
        if stream_messages and task is not None:
            put, ns, metadata = task.run.put, task.run.ns, self.metadata
            self.bus = bus = task.run.settings.bus
            if hasattr(bus, "make_put"):
                steps.append(bus.make_put(MessageEvent, ns, metadata))
            else:

                def emit(chunk: AIMessageChunk) -> None:
                    put(MessageEvent(ns, chunk, metadata))

                steps.append(emit)
        if self._events:
            steps.append(lambda chunk: self._event("on_chat_model_stream", {"chunk": chunk}))
        if self.token_handlers:
            handlers, run_id, parent, tags = (
                self.token_handlers, self.run_id, self.parent_run_id, self.tags,
            )

            def tokens(chunk: AIMessageChunk) -> None:
                fire(handlers, "on_llm_new_token", chunk.text, chunk=chunk, run_id=run_id,
                     parent_run_id=parent, tags=tags)

            steps.append(tokens)
        if not steps:
            return None
        if len(steps) == 1:
            return steps[0]

        def all_steps(chunk: AIMessageChunk) -> None:
            for step in steps:
                step(chunk)

        return all_steps

    def _event(self, event: str, data: dict[str, Any]) -> None:
        task = self.task
        assert task is not None
        task.run.put(
            RunEvent(
                task.run.ns,
                event,
                self.model.name,
                str(self.run_id),
                (*task.run.parent_ids, task.id),
                [TAG_IN_NODE, *self.tags],
                self.metadata,
                data,
            )
        )

    def _handler_kwargs(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags}

    # ----------------------------------------------------------- lifecycle

    def _start_args(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        serialized = {"name": self.model.name, "kwargs": self.model._ls_params()}
        return (serialized, [self._messages]), {**self._handler_kwargs(), "metadata": self.metadata}

    def start(self) -> None:
        if self._events:
            self._event("on_chat_model_start", {"input": {"messages": [self._messages]}})
        if self.handlers:
            args, kwargs = self._start_args()
            fire(self.handlers, "on_chat_model_start", *args, **kwargs)

    async def astart(self) -> None:
        if self._events:
            self._event("on_chat_model_start", {"input": {"messages": [self._messages]}})
        if self.handlers:
            args, kwargs = self._start_args()
            await afire(self.handlers, "on_chat_model_start", *args, **kwargs)

    def _finish(self, message: AIMessage) -> None:
        if self._streams_messages and self.task is not None:
            # Streamed token by token: the node returning it must not stream it again.
            self.task.run.settings.seen_message_ids.add(message.id or self.msg_id)
        if self._events:
            self._event(
                "on_chat_model_end",
                {"output": message, "input": {"messages": [self._messages]}},
            )

    def end(self, message: AIMessage) -> None:
        self._finish(message)
        if self.handlers:
            fire(self.handlers, "on_llm_end", message, **self._handler_kwargs())

    async def aend(self, message: AIMessage) -> None:
        self._finish(message)
        if self.handlers:
            await afire(self.handlers, "on_llm_end", message, **self._handler_kwargs())

    def error(self, exc: BaseException) -> None:
        if self.handlers:
            fire(self.handlers, "on_llm_error", exc, **self._handler_kwargs())

    async def aerror(self, exc: BaseException) -> None:
        if self.handlers:
            await afire(self.handlers, "on_llm_error", exc, **self._handler_kwargs())
