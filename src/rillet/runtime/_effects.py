"""What the loop asks a driver to do (the sans-I/O protocol of :mod:`._loop`).

The loop's generators yield these; a driver executes each one and sends back its
result, or a :class:`Failure` holding the exception (never thrown into the
generator, so a user's ``StopIteration`` cannot end a generator by accident).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rillet.runtime._context import Task


class Call:
    """Call user code: ``fn(*args, **kwargs)``; ``afn`` is its async twin, when the
    object has one (``ainvoke``); ``is_async`` when ``fn`` returns an awaitable."""

    __slots__ = ("afn", "args", "fn", "is_async", "kwargs")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None = None,
        *,
        is_async: bool = False,
        afn: Callable[..., Any] | None = None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async
        self.afn = afn


class Sleep:
    """Wait before a retry."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class RunTasks:
    """Run a step's tasks (each through :meth:`Loop.task_steps`), concurrently when
    there are several; send back nothing. The driver applies the failure policy:
    the first task that fails stops the others."""

    __slots__ = ("limit", "tasks")

    def __init__(self, tasks: Sequence[Task], limit: int | None) -> None:
        self.tasks = tasks
        self.limit = limit


class Failure:
    """The exception user code raised, sent back to the loop as a value."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


Effect = Call | Sleep | RunTasks
