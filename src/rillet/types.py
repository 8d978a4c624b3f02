"""Public value types: what nodes return and what the stream API accepts."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeAlias, TypeVar

from rillet.errors import ConfigError, UsageError
from rillet.stream._parts import (
    CheckpointPayload,
    CheckpointStreamPart,
    CheckpointTask,
    CustomStreamPart,
    DebugPayload,
    DebugStreamPart,
    MessagesStreamPart,
    StreamPart,
    TaskPayload,
    TaskResultPayload,
    TasksStreamPart,
    UpdatesStreamPart,
    ValuesStreamPart,
)

__all__ = [
    "CachePolicy",
    "CheckpointPayload",
    "CheckpointStreamPart",
    "CheckpointTask",
    "Command",
    "CustomStreamPart",
    "DebugPayload",
    "DebugStreamPart",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "MessagesStreamPart",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StreamMode",
    "StreamPart",
    "StreamWriter",
    "TaskPayload",
    "TaskResultPayload",
    "TasksStreamPart",
    "UpdatesStreamPart",
    "ValuesStreamPart",
    "interrupt",
]

StreamMode: TypeAlias = Literal[
    "values", "updates", "custom", "messages", "debug", "tasks", "checkpoints"
]
"""What a stream yields: see the table in the README."""

StreamWriter: TypeAlias = Callable[[Any], None]
"""A node's ``writer`` parameter: call it with anything to stream it in ``custom`` mode."""

Durability: TypeAlias = Literal["sync", "async", "exit"]
"""When a run with a checkpointer saves: after every step before the next starts
(``"sync"``), after every step (``"async"``, the default), or only when the run ends,
is interrupted or fails (``"exit"``)."""

N = TypeVar("N", bound=str)
OutputT = TypeVar("OutputT")


@dataclass(slots=True)
class Overwrite:
    """Write ``value`` to a key with a reducer as it is, bypassing the reducer:
    ``return {"messages": Overwrite(["only this"])}``.

    The dict forms ``{"__overwrite__": value}`` and ``{"value": value, "type":
    "__overwrite__"}`` (an ``Overwrite`` after JSON) do the same. A key takes one
    ``Overwrite`` per step; other writes of the step after it are dropped, as in
    LangGraph.
    """

    value: Any
    type: Literal["__overwrite__"] = "__overwrite__"


class Send:
    """Run ``node`` with ``arg`` as its input in the next superstep.

    Return a list of these from a conditional edge for map-reduce: each ``Send`` becomes
    its own task, so one node can run several times in parallel with different inputs.
    """

    __slots__ = ("arg", "node")

    def __init__(self, node: str, arg: Any) -> None:
        if not isinstance(node, str):
            raise TypeError(f"Send(node, arg): node must be a node name (str), got {node!r}")
        self.node = node
        self.arg = arg

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Send) and (self.node, self.arg) == (other.node, other.arg)

    def __hash__(self) -> int:
        return hash(self.node)


@dataclass(frozen=True, slots=True)
class Command(Generic[N]):
    """Returned from a node to update the state and choose where to go next.

    - ``update``: an update, as a node would return it.
    - ``goto``: a node name, a ``Send``, or a sequence of them; those run next, in
      addition to the node's edges.
    - ``graph``: ``None`` for the graph the node is in, ``Command.PARENT`` for the graph
      that runs this one as a subgraph.
    """

    graph: str | None = None
    update: Any | None = None
    resume: Any | None = None
    goto: Send | Sequence[Send | str] | str = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("graph", self.graph),
                ("update", self.update),
                ("resume", self.resume),
                ("goto", self.goto),
            )
            if value
        )
        return f"Command({parts})"


def default_retry_on(exc: Exception) -> bool:
    """Retry errors that are usually transient: connection, time-out and 5xx errors."""
    retryable = getattr(exc, "retryable", None)
    if isinstance(retryable, bool):
        return retryable
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(
        exc,
        ValueError | TypeError | ArithmeticError | ImportError | LookupError | NameError
        | SyntaxError | RuntimeError | ReferenceError | StopIteration | StopAsyncIteration
        | OSError,
    ):
        return False
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status >= 500
    return True


def _is_exception_type(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, Exception)


def _check_retry_on(value: object) -> Any:
    """``retry_on`` as given, a list made a tuple; anything else is a UsageError, so a
    bad policy fails when it is made rather than when the node first fails."""
    if _is_exception_type(value):
        return value
    if isinstance(value, list | tuple):
        if value and all(_is_exception_type(v) for v in value):
            return tuple(value)
    elif callable(value) and not isinstance(value, type):
        return value
    raise UsageError(
        "RetryPolicy.retry_on must be an exception class, a list of exception classes, or "
        f"a function (exception) -> bool, got {type(value).__name__}: {value!r}"
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry a node that raised: pass as ``add_node(..., retry=RetryPolicy())``,
    or a list of policies, of which the first whose ``retry_on`` matches the error
    applies.

    :raises UsageError: for a value of the wrong type (``max_attempts="3"``,
        ``retry_on="ConnectionError"``).
    :raises ConfigError: for ``max_attempts < 1``, a negative interval or a
        ``backoff_factor`` below 1.
    """

    initial_interval: float = 0.5
    """Seconds before the first retry."""
    backoff_factor: float = 2.0
    """Multiplier of the interval after each retry."""
    max_interval: float = 128.0
    """Upper bound of the interval, in seconds."""
    max_attempts: int = 3
    """Attempts in all, the first one included."""
    jitter: bool = True
    """Add up to one second of random jitter to each interval."""
    retry_on: type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool] = field(
        default=default_retry_on
    )
    """Exception types to retry, or a predicate; the default retries transient errors."""

    def __post_init__(self) -> None:
        for name in ("initial_interval", "backoff_factor", "max_interval"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise UsageError(
                    f"RetryPolicy.{name} must be a number of seconds, got "
                    f"{type(value).__name__}: {value!r}"
                )
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool):
            raise UsageError(
                f"RetryPolicy.max_attempts must be an int, got "
                f"{type(self.max_attempts).__name__}: {self.max_attempts!r}"
            )
        if not isinstance(self.jitter, bool):
            raise UsageError(
                f"RetryPolicy.jitter must be True or False, got {self.jitter!r}"
            )
        if self.max_attempts < 1:
            raise ConfigError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if self.initial_interval < 0 or self.max_interval < 0 or self.backoff_factor < 1:
            raise ConfigError(
                "RetryPolicy intervals must be >= 0 and backoff_factor >= 1, got "
                f"{self.initial_interval}, {self.max_interval}, {self.backoff_factor}"
            )
        # A list is kept as a tuple, so that the frozen policy stays hashable.
        object.__setattr__(self, "retry_on", _check_retry_on(self.retry_on))

    def should_retry(self, exc: Exception) -> bool:
        """Whether ``exc`` is one this policy retries."""
        retry_on = self.retry_on
        if isinstance(retry_on, type):
            return isinstance(exc, retry_on)
        if isinstance(retry_on, Sequence):
            return isinstance(exc, tuple(retry_on))
        return bool(retry_on(exc))

    def interval(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        base = min(self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1))
        return base + (random.uniform(0, 1) if self.jitter else 0.0)


def _default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    from rillet.runtime._cache import default_cache_key

    return default_cache_key(*args, **kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy:
    """Cache a node's (or a ``@task``'s) result: ``add_node(..., cache_policy=
    CachePolicy(ttl=60))``, with ``compile(cache=InMemoryCache())``. A policy on a
    graph compiled without a cache is ignored, as in LangGraph.

    :raises UsageError: for a ``key_func`` that is not callable or a ``ttl`` that is
        not a number of seconds.
    """

    key_func: Callable[..., str | bytes] = _default_cache_key
    """The node's input (a task's arguments) -> the key, ``str`` or ``bytes``. The
    default encodes the input with dict keys sorted, so equal inputs share a key."""
    ttl: int | float | None = None
    """Seconds an entry lives after it is written; ``None``: until cleared."""

    def __post_init__(self) -> None:
        if not callable(self.key_func):
            raise UsageError(
                f"CachePolicy.key_func must be a function (input) -> str | bytes, got "
                f"{type(self.key_func).__name__}: {self.key_func!r}"
            )
        ttl = self.ttl
        if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool)):
            raise UsageError(
                f"CachePolicy.ttl must be a number of seconds or None, got "
                f"{type(ttl).__name__}: {ttl!r}"
            )


@dataclass(frozen=True, slots=True)
class Interrupt:
    """A pause asked for by :func:`interrupt` (or ``interrupt_before``/``after``):
    ``value`` is what the node showed the human, ``id`` names it in
    ``Command(resume={id: answer})``."""

    value: Any
    id: str
    response_schema: Any = None


def interrupt(value: Any) -> Any:
    """Pause the run and show ``value`` to a human; return their answer once the run
    is resumed with ``Command(resume=answer)``.

    The node runs again from its start on resume: each ``interrupt()`` call it made
    before returns its stored answer, in order. Needs a checkpointer to resume.

    :raises OutsideRunError: outside a running graph.
    """
    from rillet.runtime._interrupts import interrupt_here

    return interrupt_here(value)


class PregelTask(NamedTuple):
    """A task of a saved step, as :class:`StateSnapshot` shows it."""

    id: str
    name: str
    path: tuple[Any, ...] = ()
    error: Any = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any = None


class StateSnapshot(NamedTuple):
    """A thread's state at one checkpoint (``get_state``, ``get_state_history``)."""

    values: Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()


@dataclass(frozen=True)
class GraphOutput(Generic[OutputT]):
    """What ``invoke(..., version="v2")`` returns: the run's output (``value``, built as
    the output schema's class) and the interrupts it paused with (``interrupts``,
    empty when it ran to the end)."""

    value: OutputT
    interrupts: tuple[Interrupt, ...] = ()

    def __getitem__(self, key: str) -> Any:
        """v1-style access (deprecated): ``result["__interrupt__"]``, ``result[key]``."""
        _warn_item_access("result[key]")
        if key == "__interrupt__":
            return self.interrupts
        value: Any = self.value
        if isinstance(value, dict):
            return value[key]
        if key in _field_names(value):
            return getattr(value, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        _warn_item_access("key in result")
        if key == "__interrupt__":
            return bool(self.interrupts)
        value: Any = self.value
        if isinstance(value, dict):
            return key in value
        return key in _field_names(value)


def _field_names(value: Any) -> Sequence[str]:
    """The fields of a dataclass or pydantic model ``GraphOutput.value``."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return [f.name for f in dataclasses.fields(value)]
    return list(getattr(type(value), "model_fields", ()))


def _warn_item_access(how: str) -> None:
    import warnings

    warnings.warn(
        f"GraphOutput: `{how}` is the v1 way to read a result; use `result.value` for the "
        "output and `result.interrupts` for the interrupts.",
        DeprecationWarning,
        stacklevel=3,
    )
