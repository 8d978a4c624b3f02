"""The fence of a run a worker may have lost: nothing it does is written once its lease
may have run out.

A worker stalled past its lease (SIGSTOP, a swapped-out machine, a long GC pause) wakes
up in the middle of a run another worker has taken over, and may even have finished.
Its renewal would tell it so, but the run's task goes on in the same instant, and its
next checkpoint would become the thread's latest (undoing the finished run's state),
its events would land in the log after the run's ``end``, its next node would run once
more. So the run's task carries a *fence* (:data:`FENCE`, a context variable its child
tasks inherit): a check, made before each connection it takes from the pool and each
append to its log, that raises :class:`LeaseLost` once the worker's own clock says the
lease it last confirmed has run out. The run then stops as one whose database is away
(nothing recorded; the worker's renewal abandons it, or renews it if it still owns it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["FENCE", "LeaseLost", "check"]

#: In a run's task on a worker: raises :class:`LeaseLost` if the run may be lost.
FENCE: ContextVar[Callable[[], None] | None] = ContextVar("rillet_fence", default=None)


class LeaseLost(Exception):
    """The worker's lease of the run has run out (it may be another worker's now)."""


def check() -> None:
    """Raise :class:`LeaseLost` if this task is a run whose lease has run out."""
    fence = FENCE.get()
    if fence is not None:
        fence()
