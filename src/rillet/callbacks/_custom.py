"""``dispatch_custom_event``: named events from inside a run, for ``astream_events``
(``on_custom_event``) and for callback handlers."""

from __future__ import annotations

from typing import Any

from rillet.callbacks._handler import afire, fire
from rillet.runtime._context import Task, current_task
from rillet.stream._events import RunEvent


def _target(name: str, config: dict[str, Any] | None) -> tuple[Task | None, list[Any]]:
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"dispatch_custom_event(name, data): name must be a non-empty str, got {name!r}"
        )
    task = current_task.get()
    handlers = list((config or {}).get("callbacks") or ())
    if task is not None:
        for handler in task.run.config.get("callbacks") or ():
            if not any(handler is h for h in handlers):
                handlers.append(handler)
    elif config is None:
        raise RuntimeError(
            "dispatch_custom_event() was called outside a running graph: call it inside a "
            "node, a tool or a model called from one, or pass config={'callbacks': [...]}."
        )
    return task, handlers


def _emit(task: Task | None, name: str, data: Any) -> None:
    if task is not None and task.run.want_events:
        task.run.put(
            RunEvent(
                task.run.ns,
                "on_custom_event",
                name,
                task.id,
                task.run.parent_ids,
                task.event_tags,
                task.message_metadata(),
                data,
            )
        )


def dispatch_custom_event(name: str, data: Any, *, config: dict[str, Any] | None = None) -> None:
    """Send a named custom event: ``astream_events`` yields it as ``on_custom_event``
    and callback handlers get ``on_custom_event(name, data, ...)``.

    :raises RuntimeError: outside a running graph when no ``config`` is given.
    """
    task, handlers = _target(name, config)
    _emit(task, name, data)
    if handlers:
        fire(handlers, "on_custom_event", name, data, **_handler_kwargs(task))


async def adispatch_custom_event(
    name: str, data: Any, *, config: dict[str, Any] | None = None
) -> None:
    """Async :func:`dispatch_custom_event` (awaits async handlers)."""
    task, handlers = _target(name, config)
    _emit(task, name, data)
    if handlers:
        await afire(handlers, "on_custom_event", name, data, **_handler_kwargs(task))


def _handler_kwargs(task: Task | None) -> dict[str, Any]:
    import uuid

    if task is None:
        return {"run_id": uuid.uuid4(), "tags": [], "metadata": {}}
    return {
        "run_id": uuid.UUID(task.id),
        "tags": list(task.event_tags),
        "metadata": task.message_metadata(),
    }
