"""``interrupt()``: a node pauses for a human, and gets the answer when resumed.

A task keeps the answers it has received (``Task.resume``, saved with the task's
pending writes), keyed by interrupt id. The n-th ``interrupt()`` call of a task (within
one *scope*) always has the same id, so when the node runs again from its start each
earlier call finds its answer and only the first unanswered one pauses.

Ids are distinct for every pending interrupt, also when several run at once inside one
task: a scope (a ``ToolNode`` tool call, say) gives its calls their own sequence.
LangGraph gives every interrupt of one task the same id, which makes a resume map
ambiguous (langgraph#6626).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from rillet.errors import GraphInterrupt, OutsideRunError
from rillet.runtime._context import current_task
from rillet.types import Interrupt

_scope: ContextVar[str] = ContextVar("rillet_interrupt_scope", default="")
_counts_lock = threading.Lock()


@contextlib.contextmanager
def interrupt_scope(key: str) -> Iterator[None]:
    """Give the ``interrupt()`` calls made inside the block their own id sequence
    (``ToolNode`` uses one per tool call, so parallel tools get distinct ids)."""
    token = _scope.set(key)
    try:
        yield
    finally:
        _scope.reset(token)


def interrupt_id(checkpoint_ns: str, scope: str, index: int) -> str:
    """The 32-hex id of the ``index``-th interrupt of a task's ``scope``."""
    key = f"{checkpoint_ns}|{scope}|{index}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def interrupt_here(value: Any) -> Any:
    task = current_task.get()
    if task is None:
        raise OutsideRunError(
            "interrupt() was called outside a running graph: call it inside a node, or a "
            "tool or function called from one."
        )
    scope = _scope.get()
    with _counts_lock:
        counts = task.interrupt_counts
        if counts is None:
            counts = task.interrupt_counts = {}
        index = counts.get(scope, 0)
        counts[scope] = index + 1
    iid = interrupt_id(task.checkpoint_ns, scope, index)
    answers = task.resume
    if answers is not None and iid in answers:
        return answers[iid]
    fresh = task.run.settings.resume_map
    if fresh is not None and iid in fresh:
        answer = fresh[iid]
        if task.resume is None:
            task.resume = {}
        task.resume[iid] = answer
        return answer
    raise GraphInterrupt((Interrupt(value, iid),))
