"""The errors rillet raises.

Every error is a :class:`RilletError`. The tree separates "you built the graph wrong"
(raised by ``compile()`` or the builder) from "the run failed"::

    RilletError
    ├── GraphBuildError        a mistake in the graph, found at build or compile time
    ├── InvalidUpdateError     a node or the input produced an update the state cannot take
    ├── InvalidRouteError      a conditional edge or Command(goto=...) named no known node
    ├── GraphRecursionError    the run took more supersteps than ``recursion_limit``
    ├── StreamClosedError      the consumer left the stream; raised inside nodes that still write
    └── (model errors come with the model layer)

A node's own exception is never wrapped: it reaches the caller as itself, with a note
naming the node and task that raised it.
"""

from __future__ import annotations

__all__ = [
    "GraphBuildError",
    "GraphRecursionError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "RilletError",
    "StreamClosedError",
]


class RilletError(Exception):
    """Base class of every error rillet raises itself."""


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
