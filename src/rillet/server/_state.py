"""A thread's checkpointed state as the API shows it (``ThreadState``, ``Thread`` fields)."""

from __future__ import annotations

from typing import Any

from rillet.graph import CompiledStateGraph
from rillet.server._json import plain
from rillet.types import Interrupt, StateSnapshot

__all__ = ["snapshot_to_state", "thread_config", "thread_fields_after_run", "with_checkpoints"]


def thread_config(thread_id: str, checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run config of a thread, at ``checkpoint`` (``checkpoint_id``, ``checkpoint_ns``)."""
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint:
        for key in ("checkpoint_id", "checkpoint_ns"):
            if checkpoint.get(key):
                configurable[key] = checkpoint[key]
    return {"configurable": configurable}


def _interrupt(item: Interrupt) -> dict[str, Any]:
    return {"id": item.id, "value": plain(item.value)}


def _checkpoint(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    out = {"checkpoint_id": conf.get("checkpoint_id"), "thread_id": conf.get("thread_id"),
           "checkpoint_ns": conf.get("checkpoint_ns", "")}
    if conf.get("checkpoint_map"):
        out["checkpoint_map"] = conf["checkpoint_map"]
    return out


def _task_with_checkpoint(task: Any) -> Any:
    """A checkpoint item's task whose ``state`` is a subgraph's config, with that
    config's ``configurable`` as ``checkpoint`` instead (as LangGraph's server)."""
    state = task.get("state") if isinstance(task, dict) else None
    if not isinstance(state, dict) or not state.get("configurable"):
        return task
    rest = {key: value for key, value in task.items() if key != "state"}
    return {**rest, "checkpoint": state["configurable"]}


def with_checkpoints(item: Any) -> Any:
    """A ``debug`` item of type ``checkpoint`` with ``checkpoint`` and
    ``parent_checkpoint`` added to its payload, and its subgraph tasks' ``state``
    given as ``checkpoint``, as LangGraph's server does (Studio reads them); other
    items unchanged."""
    if not isinstance(item, dict) or item.get("type") != "checkpoint":
        return item
    payload = item.get("payload")
    if not isinstance(payload, dict):
        return item
    tasks = payload.get("tasks")
    if isinstance(tasks, list):
        payload = {**payload, "tasks": [_task_with_checkpoint(task) for task in tasks]}
    return {**item, "payload": {**payload, "checkpoint": _checkpoint(payload.get("config")),
                                "parent_checkpoint": _checkpoint(payload.get("parent_config"))}}


def snapshot_to_state(snapshot: StateSnapshot) -> dict[str, Any]:
    """``ThreadState``: values, next, tasks, metadata, checkpoints, interrupts."""
    checkpoint = _checkpoint(snapshot.config)
    parent = _checkpoint(snapshot.parent_config)
    tasks = []
    for task in snapshot.tasks:
        state = task.state
        tasks.append({
            "id": task.id, "name": task.name, "path": plain(list(task.path)),
            "error": None if task.error is None else str(task.error),
            "interrupts": [_interrupt(i) for i in task.interrupts],
            "checkpoint": _checkpoint(state) if isinstance(state, dict) else None,
            "state": snapshot_to_state(state) if isinstance(state, StateSnapshot) else None,
            "result": plain(task.result),
        })
    return {
        "values": plain(snapshot.values),
        "next": list(snapshot.next),
        "tasks": tasks,
        "metadata": plain(snapshot.metadata),
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [_interrupt(i) for i in snapshot.interrupts],
        "checkpoint_id": checkpoint and checkpoint["checkpoint_id"],
        "parent_checkpoint_id": parent and parent["checkpoint_id"],
    }


async def thread_fields_after_run(
    graph: CompiledStateGraph, thread_id: str, run_status: str
) -> dict[str, Any]:
    """The thread's ``values``, ``interrupts`` and ``status`` once a run has ended:
    ``error`` after a failed run, ``interrupted`` while tasks wait (an ``interrupt()``
    or ``interrupt_before``/``after``), else ``idle``."""
    snapshot = await graph.aget_state(thread_config(thread_id))
    interrupts = {t.id: [_interrupt(i) for i in t.interrupts] for t in snapshot.tasks
                  if t.interrupts}
    if run_status == "error":
        status = "error"
    elif snapshot.next:
        status = "interrupted"
    else:
        status = "idle"
    values = plain(snapshot.values) if snapshot.created_at is not None else None
    return {"values": values, "interrupts": interrupts, "status": status,
            "state_updated_at": snapshot.created_at}
