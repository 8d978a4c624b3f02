"""Reach the running graph from inside a node, a tool or a model."""

from __future__ import annotations

from typing import Any

from rillet.runtime._context import running_task
from rillet.types import StreamWriter

__all__ = ["get_config", "get_store", "get_stream_writer"]


def get_stream_writer() -> StreamWriter:
    """The stream writer of the node running now: call it with anything to stream it
    in ``custom`` mode (a no-op when ``custom`` was not requested).

    :raises UsageError: outside a running graph (also a ``RuntimeError``).
    """
    task = running_task("get_stream_writer()")
    return task.writer


def get_config() -> dict[str, Any]:
    """The config of the node running now, with ``metadata`` holding the
    ``langgraph_*`` keys.

    :raises UsageError: outside a running graph (also a ``RuntimeError``).
    """
    task = running_task("get_config()")
    return task.config


def get_store() -> Any:
    """The store of the running graph (``compile(store=...)``), or ``None`` when the
    graph has none.

    :raises UsageError: outside a running graph (also a ``RuntimeError``).
    """
    task = running_task("get_store()")
    return task.run.settings.store
