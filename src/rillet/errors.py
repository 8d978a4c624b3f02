"""The errors rillet raises.

Every error is a :class:`RilletError`. The tree separates "you built the graph wrong"
(raised by ``compile()`` or the builder) from "the run failed"::

    RilletError
    ├── UsageError             an API called wrong: a bad argument type (also a TypeError)
    │   └── OutsideRunError    get_config()/get_stream_writer() called outside a run
    ├── ConfigError            a bad config or option value (also a ValueError)
    ├── GraphBuildError        a mistake in the graph, found at build or compile time
    ├── InvalidUpdateError     a node or the input produced an update the state cannot take
    ├── InvalidRouteError      a conditional edge or Command(goto=...) named no known node
    ├── GraphRecursionError    the run took more supersteps than ``recursion_limit``
    ├── StreamClosedError      the consumer left the stream; raised inside nodes that still write
    ├── ToolArgumentError      a tool was called with arguments that do not fit its schema
    ├── GraphvizNotFoundError  draw_png() needs Graphviz's ``dot``, which is not installed
    ├── ModelError             a model provider failed (connection, 401, 429, time-out, a
    │                          stream cut short); its message is the provider's
    ├── GraphInterrupt         a node paused the run with interrupt() (not a failure)
    ├── EmptyInputError        no input, and no saved state to continue (also a ValueError)
    └── CheckpointError        needs saved state that is not there: no checkpointer or
                               thread_id, an unknown checkpoint, nothing to resume

A node's own exception is never wrapped: it reaches the caller as itself, with a note
naming the node and task that raised it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CheckpointError",
    "ConfigError",
    "EmptyInputError",
    "GraphBuildError",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphvizNotFoundError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "ModelError",
    "OutsideRunError",
    "RilletError",
    "StreamClosedError",
    "ToolArgumentError",
    "UsageError",
]


class RilletError(Exception):
    """Base class of every error rillet raises itself."""


class UsageError(RilletError, TypeError):
    """An API was called wrong: an argument of the wrong type, a missing argument.

    A ``TypeError`` too, so code that catches Python's own error keeps working.
    """


class OutsideRunError(UsageError, RuntimeError):
    """A function that needs a running graph (``get_config()``, ``get_stream_writer()``)
    was called outside one. A ``RuntimeError`` too, as in LangGraph."""


class ConfigError(RilletError, ValueError):
    """A config or option has a value rillet cannot use: an unknown key, a negative
    limit, a policy that is not a policy. A ``ValueError`` too."""


class GraphBuildError(RilletError, ValueError):
    """The graph is built wrong: an unknown node, a missing entry point, a bad name.

    A ``ValueError`` too, so code written against LangGraph (which raises ``ValueError``
    for these mistakes) keeps catching it.
    """


class InvalidUpdateError(RilletError):
    """An update that the state cannot take: a non-dict return value, an unknown key,
    or two writes to a plain (reducer-less) key in one superstep."""


class InvalidRouteError(RilletError, ValueError):
    """A conditional edge or a ``Command(goto=...)`` chose a node that does not exist,
    or returned something that is not a destination."""


class GraphRecursionError(RilletError, RecursionError):
    """The run reached ``recursion_limit`` supersteps without finishing.

    Raise the limit with ``config={"recursion_limit": N}`` if the graph really needs
    more steps, or check the graph for a loop that never reaches ``END``.
    """


class StreamClosedError(RilletError):
    """The consumer stopped reading the stream (``break``, ``close()``, cancellation).

    Raised by a stream writer or a model inside a node that is still running, so the
    node stops promptly. The run ends quietly; the caller never sees this error.
    """


class ToolArgumentError(RilletError, ValueError):
    """A tool was called with arguments that do not fit its schema."""


class GraphvizNotFoundError(RilletError, RuntimeError):
    """Graphviz's ``dot`` program is not installed, so no PNG can be rendered."""


class ModelError(RilletError):
    """A chat model provider failed: the connection was refused or timed out, the
    server answered with an error (401 bad credentials, 429 rate limit, 5xx), or the
    stream ended before the answer did.

    ``str(error)`` carries the provider's own message. Tokens streamed before the
    failure have already reached the consumer.

    :ivar provider: the provider's name, e.g. ``"openai"``.
    :ivar status_code: the HTTP status, when there was one.
    :ivar retryable: whether trying again may succeed (connection errors, time-outs,
        429 and 5xx); the default ``RetryPolicy`` retries exactly these.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.retryable = retryable


class GraphInterrupt(RilletError):
    """A node paused the run with ``interrupt()``: ``interrupts`` holds what it asked.

    Not a failure: the run stops after the step, saved, and ``invoke`` returns the
    state with ``"__interrupt__"``. A node never needs to catch it.
    """

    def __init__(self, interrupts: Sequence[Any] = ()) -> None:
        super().__init__(tuple(interrupts))
        self.interrupts = tuple(interrupts)


class EmptyInputError(RilletError, ValueError):
    """A run was started with no input and there is no saved state to continue."""


class CheckpointError(RilletError, RuntimeError):
    """What was asked needs saved state that is not there: no checkpointer, no
    ``thread_id``, an unknown checkpoint, a resume with nothing to resume."""
