"""``Runtime``: what a node sees of its run, as one typed object (LangGraph's shape).

A ``Runtime`` is built only when something asks for it (a node, entrypoint or task
with a ``runtime`` parameter, or ``get_runtime()``), once per task, so runs that never
ask pay nothing. The run's ``context`` is turned into the graph's ``context_schema``
once, when the run starts (:func:`coerce_context`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rillet.errors import UsageError

if TYPE_CHECKING:
    from rillet.runtime._context import RunContext, Task

ContextT = TypeVar("ContextT")


def _no_op_writer(_: Any) -> None:
    """The writer of a ``Runtime`` made by hand."""


def _no_op_heartbeat() -> None:
    """rillet has no server to report liveness to: a heartbeat does nothing."""


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where the current task runs: read-only ids of its thread, run and task."""

    checkpoint_id: str | None
    """The checkpoint the task's step starts from (``None`` without a checkpointer)."""
    checkpoint_ns: str
    task_id: str
    thread_id: str | None = None
    run_id: str | None = None
    """``config["run_id"]`` when the caller gave one."""
    node_attempt: int = 1
    """The attempt of the node's retry policy this is (1-indexed)."""
    node_first_attempt_time: float | None = None
    """LangGraph's timestamp of the first attempt; rillet does not record it."""

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """The run as a node sees it: the run's ``context`` (an instance of the graph's
    ``context_schema``), the graph's ``store``, the ``stream_writer`` of ``custom``
    mode, and ``previous`` (an entrypoint's last return; ``None`` in a StateGraph).

    Declare a parameter named ``runtime`` to receive it (``def node(state, runtime:
    Runtime[Ctx])``), or call :func:`get_runtime` anywhere below a node.
    """

    context: ContextT = field(default=None)  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_op_writer
    heartbeat: Callable[[], None] = _no_op_heartbeat
    previous: Any = None
    execution_info: ExecutionInfo | None = None
    server_info: Any = None
    """Set by LangGraph Server only: always ``None`` in rillet."""
    control: Any = None
    """LangGraph's drain control for servers: always ``None`` in rillet."""

    def override(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **overrides)


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The :class:`Runtime` of the node running now: the same object a ``runtime``
    parameter of that node receives. ``context_schema`` only types the result.

    :raises OutsideRunError: outside a running graph (also a ``RuntimeError``).
    """
    from rillet.runtime._context import running_task

    task = running_task("get_runtime()", "a node, an entrypoint or a task, or a function "
                        "called from one")
    return task.runtime


def make_runtime(task: Task) -> Runtime[Any]:
    """The ``Runtime`` of ``task`` (built on first request, then kept on the task)."""
    run = task.run
    configurable = run.config.get("configurable") or {}
    persist = run.persist
    calls = task.calls
    previous = calls.root.previous if calls is not None else None
    info = ExecutionInfo(
        checkpoint_id=persist.checkpoint_id if persist is not None else None,
        checkpoint_ns=task.checkpoint_ns,
        task_id=task.id,
        thread_id=configurable.get("thread_id"),
        run_id=_str_or_none(run.config.get("run_id")),
        node_attempt=getattr(task, "attempt", 1),
    )
    return Runtime(context=run.context, store=run.settings.store, stream_writer=task.writer,
                   previous=previous, execution_info=info)


def run_runtime(run: RunContext) -> Runtime[Any]:
    """The ``Runtime`` of code that runs outside any task (a conditional edge from
    START): the run's context, store and writer."""
    return Runtime(context=run.context, store=run.settings.store,
                   stream_writer=run.make_writer())


def coerce_context(schema: Any, context: Any) -> Any:
    """The run's ``context`` as the graph's ``context_schema``: as in LangGraph, a dict
    becomes an instance of a dataclass or pydantic model schema; anything else (and
    any context of a TypedDict schema, or of a graph without one) is kept as given.

    :raises UsageError: if a dict does not fit a dataclass schema (also a
        ``TypeError``, as LangGraph raises). A pydantic schema raises its own
        ``ValidationError``, with a note naming the schema.
    """
    if schema is None or not isinstance(context, Mapping):
        return context
    if dataclasses.is_dataclass(schema) and isinstance(schema, type):
        try:
            return schema(**context)
        except TypeError as exc:
            raise UsageError(
                f"context={dict(context)!r} does not fit context_schema "
                f"{schema.__name__}: {exc}. Pass the fields {schema.__name__} declares "
                f"({', '.join(f.name for f in dataclasses.fields(schema))})."
            ) from exc
    if hasattr(schema, "model_validate") and hasattr(schema, "model_fields"):
        try:
            return schema(**context)
        except Exception as exc:
            exc.add_note(f"While turning context= into context_schema {schema.__name__}")
            raise
    return context


def _str_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None
