"""The observer seam: what the loop tells the world about a run.

The loop calls its observers at four points: ``step_started`` (the tasks of a step,
before any runs), ``task_finished`` (a task's writes and routes are known),
``task_failed`` and ``step_committed`` (the step's writes are applied). Stream output
is one observer; a checkpointer is another. A run with nothing requested has no
observer at all, so the hooks cost nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rillet._constants import ROOT
from rillet.runtime._context import current_task, with_run_ids
from rillet.stream._events import (
    CachedUpdatesEvent,
    RunEvent,
    TaskResultEvent,
    TaskStartEvent,
    UpdatesEvent,
    ValuesEvent,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rillet.graph._node import NodeSpec
    from rillet.runtime._context import RunContext, Task
    from rillet.runtime._loop import Loop


class RunObserver:
    """Base observer: every hook does nothing."""

    def run_started(self, loop: Loop, input: Any) -> None:
        """The input has been applied (``loop.values`` holds it)."""

    def step_started(self, loop: Loop, tasks: Sequence[Task]) -> None:
        """The tasks of step ``loop.step`` are about to run."""

    def task_started(self, loop: Loop, task: Task) -> None:
        """``task``'s node is about to be called (on the task's thread)."""

    def task_finished(self, loop: Loop, task: Task) -> None:
        """``task`` returned; ``task.writes`` and ``task.goto`` are final."""

    def task_failed(self, loop: Loop, task: Task, error: BaseException) -> None:
        """``task`` raised ``error`` (already noted with the task's name)."""

    def task_cached(self, loop: Loop, task: Task) -> None:
        """``task`` took its writes from the cache: its node did not run."""

    def step_committed(self, loop: Loop, tasks: Sequence[Task], changed: bool) -> None:
        """The step's writes are applied; ``changed`` if any key was written."""

    def run_finished(self, loop: Loop, output: dict[str, Any]) -> None:
        """The run ended with ``output``."""

    def task_interrupted(self, loop: Loop, task: Task) -> None:
        """``task`` paused with ``interrupt()`` (``task.interrupts``)."""

    def run_interrupted(self, loop: Loop, interrupts: tuple[Any, ...]) -> None:
        """The run stopped paused: ``interrupts`` (empty for interrupt_before/after)."""

    def checkpoint_saved(self, loop: Loop, record: Any, state: dict[str, Any]) -> None:
        """A checkpoint of the run was saved."""

    def checkpoint_resumed(self, loop: Loop, saved: Any) -> None:
        """The run continues from ``saved`` (a ``Saved``), a checkpoint of its thread."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class StreamObserver(RunObserver):
    """Puts the events of the requested stream modes on the run's bus."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        #: The graph run's own ``astream_events`` chain: its tags and metadata, whether
        #: it sends ``on_chain_stream`` per node, and its input (for a nested chain's end).
        self.chain: tuple[list[str], dict[str, Any]] | None = None
        self.chain_chunks = False
        self.chain_input: Any = None
        if run.want_events:
            self.chain = chain_identity(run, current_task.get())
            # As LangGraph: a graph run inside a node (invoked, not streamed) sends no
            # chunks; the root's chunks are its stream items when modes were asked for
            # (astream_events(stream_mode=...), made by the formatter).
            self.chain_chunks = not run.ns and run.settings.modes == _EVENTS_ONLY

    def run_started(self, loop: Loop, input: Any) -> None:
        run = self.run
        if run.want_events:
            self.chain_input = input
            self._graph_event(loop, "on_chain_start", {"input": input})
        if run.want_values and loop.announce_values:
            run.put(ValuesEvent(run.ns, loop.state_values(), loop.graph.output_object))

    def step_started(self, loop: Loop, tasks: Sequence[Task]) -> None:
        run = self.run
        if run.want_messages:
            from rillet.runtime._messages import mark_input_seen

            for task in tasks:
                mark_input_seen(task)
        if run.want_tasks or run.want_debug:
            for task in tasks:
                run.put(
                    TaskStartEvent(
                        run.ns, task.step, _now(), task.id, task.name, task.input, task.triggers
                    )
                )

    def task_started(self, loop: Loop, task: Task) -> None:
        if self.run.want_events:
            self._task_event(task, "on_chain_start", {"input": task.input})

    def task_finished(self, loop: Loop, task: Task) -> None:
        run = self.run
        node = task.node
        writes = task.writes
        if run.want_messages:
            # As LangGraph: a node's messages come before its update.
            from rillet.runtime._messages import emit_output_messages

            emit_output_messages(task, writes)
        if run.want_events:  # as LangGraph: the node's end comes before its update
            view = update_view(task.result, writes, node)
            self._task_event(task, "on_chain_stream", {"chunk": view})
            self._task_event(task, "on_chain_end", {"output": view, "input": task.input})
            if self.chain_chunks:
                self._graph_event(loop, "on_chain_stream", {"chunk": {node.name: view}})
        if run.want_updates:
            view = update_view(task.result, writes, node)
            if loop.nested:
                view = _shown(loop, view)
            run.put(UpdatesEvent(run.ns, node.name, view))
        if run.want_tasks or run.want_debug:
            result = dict(writes)
            if node.functional:
                result.pop("__previous__", None)  # what an entrypoint saves is its own
            run.put(TaskResultEvent(run.ns, task.step, _now(), task.id, node.name, None, result))

    def task_cached(self, loop: Loop, task: Task) -> None:
        # As LangGraph: an update marked cached, and no task result (nothing ran).
        run = self.run
        if run.want_updates:
            run.put(CachedUpdatesEvent(run.ns, task.name, _shown(loop, task.result)))

    def task_failed(self, loop: Loop, task: Task, error: BaseException) -> None:
        run = self.run
        if run.want_tasks or run.want_debug:
            run.put(TaskResultEvent(run.ns, task.step, _now(), task.id, task.name, error, {}))

    def step_committed(self, loop: Loop, tasks: Sequence[Task], changed: bool) -> None:
        run = self.run
        if run.want_values and changed:
            run.put(ValuesEvent(run.ns, loop.state_values(), loop.graph.output_object))

    def run_interrupted(self, loop: Loop, interrupts: tuple[Any, ...]) -> None:
        run = self.run
        if run.want_updates and (interrupts or not loop.nested):
            # a subgraph's interrupt_before/after shows as its parent's pause only
            run.put(UpdatesEvent(run.ns, "__interrupt__", interrupts))
        if run.want_values and interrupts:
            run.put(ValuesEvent(run.ns, loop.interrupted_values(), loop.graph.output_object,
                               tuple(interrupts)))

    def task_interrupted(self, loop: Loop, task: Task) -> None:
        run = self.run
        if run.want_tasks or run.want_debug:
            run.put(TaskResultEvent(run.ns, task.step, _now(), task.id, task.name, None, {},
                                    task.interrupts))

    def checkpoint_saved(self, loop: Loop, record: Any, state: dict[str, Any]) -> None:
        run = self.run
        if run.want_checkpoints or run.want_debug:
            from rillet.checkpoint._views import checkpoint_event

            run.put(checkpoint_event(loop, record, state))

    def checkpoint_resumed(self, loop: Loop, saved: Any) -> None:
        run = self.run
        if run.want_checkpoints or run.want_debug:
            from rillet.checkpoint._views import resumed_checkpoint_event

            run.put(resumed_checkpoint_event(loop, saved))

    def run_finished(self, loop: Loop, output: dict[str, Any]) -> None:
        if self.run.want_events:
            data = {"output": output}
            if self.run.ns:  # as LangGraph: a nested chain's end repeats its input
                data["input"] = self.chain_input
            self._graph_event(loop, "on_chain_end", data)

    def _graph_event(self, loop: Loop, event: str, data: dict[str, Any]) -> None:
        run = self.run
        assert self.chain is not None
        tags, metadata = self.chain
        run.put(
            RunEvent(
                run.ns, event, loop.graph.name, run.run_id, run.parent_ids[:-1], list(tags),
                dict(metadata), data,
            )
        )

    def _task_event(self, task: Task, event: str, data: dict[str, Any]) -> None:
        run = self.run
        run.put(
            RunEvent(
                run.ns, event, task.name, task.id, run.parent_ids, task.event_tags,
                task.metadata, data,
            )
        )


_EVENTS_ONLY = frozenset({"events"})


def chain_identity(run: RunContext, parent: Task | None) -> tuple[list[str], dict[str, Any]]:
    """Tags and metadata of a graph run's own ``astream_events`` chain, as LangGraph
    gives them: the root's are the config's (with the run's ids copied in); a graph
    run inside a node has its node's (a subgraph node's chain is the first step of a
    sequence: ``seq:step:1``)."""
    tags = list(run.config.get("tags") or ())
    if run.ns and parent is not None:
        if parent.node.subgraph is not None:
            tags = ["seq:step:1", *tags]
        metadata = dict(parent.metadata)
        metadata["checkpoint_ns"] = parent.checkpoint_ns
        return tags, metadata
    return tags, root_metadata(run.config)


def root_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a root run's chain: the config's, the run's scalar ids copied
    from ``configurable``, and ``ls_integration``."""
    metadata = with_run_ids(config)
    metadata.setdefault("ls_integration", "langgraph")
    return metadata


def _shown(loop: Loop, view: Any) -> Any:
    if loop.nested and loop.graph.hidden_keys and isinstance(view, dict):
        # As LangGraph: a graph run inside a node shows only its output keys.
        hidden = loop.graph.hidden_keys
        view = {k: v for k, v in view.items() if k not in hidden} or None
    return view


def observers_for(run: RunContext) -> tuple[RunObserver, ...]:
    """The observers a run needs: none when it streams nothing."""
    if run.put.__name__ == "_drop" and not run.want_messages:
        return ()
    return (StreamObserver(run),)


def update_view(update: Any, writes: list[tuple[str, Any]], node: NodeSpec) -> Any:
    """What ``updates`` mode shows for a task: what the node returned, or ``None``."""
    if not writes:
        return None
    if node.functional:
        return update
    if writes[0][0] == ROOT:
        return writes[0][1]  # a state that is one value: its update, as LangGraph shows
    if node.subgraph is not None:
        return dict(writes)
    if update.__class__ is list:
        return update  # several updates, as ToolNode gives them
    if not isinstance(update, dict):
        return dict(writes)
    return update
