"""What a task's result writes and where it routes: taking a node's return value
apart (dicts, ``Command``s, several updates), checking its keys and destinations,
conditional edges' choices, and applying writes to the state through the channels
(mixed into :class:`~rillet.runtime._loop.Loop` as :class:`Writes`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from rillet._constants import END
from rillet.channels import MISSING
from rillet.errors import InvalidRouteError, InvalidUpdateError
from rillet.runtime._steps import as_destinations, source_label
from rillet.types import Command, Send

if TYPE_CHECKING:
    from rillet.graph._branch import BranchSpec
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._context import RunContext, Task


class ParentCommand(Exception):
    """A ``Command(graph=Command.PARENT)`` travelling from a subgraph to its parent."""

    def __init__(self, command: Command[Any]) -> None:
        super().__init__(command)
        self.command = command


class Writes:
    """Task results and state writes: the part of :class:`~rillet.runtime._loop.Loop`
    that turns what a node returned into writes and routes, and applies writes."""

    __slots__ = ()

    # Fields of the Loop this is mixed into.
    graph: CompiledStateGraph
    run: RunContext
    values: dict[str, Any]

    if TYPE_CHECKING:
        def with_managed(self, values: dict[str, Any], step: int) -> dict[str, Any]: ...

    def finish(self, task: Task, result: Any) -> None:
        """Record what a task returned: its writes and where it routes."""
        update: Any = result
        goto: Sequence[Any] = ()
        if result.__class__ is dict:
            pass
        elif isinstance(result, Command):
            update, goto = self._unpack_command(task, result)
        elif isinstance(result, list | tuple) and result and all(
            isinstance(r, Command | dict) for r in result
        ):
            # Several updates (ToolNode with tools returning Commands): each is its own
            # write, in order, so two updates of one key both reach its reducer.
            writes: list[tuple[str, Any]] = []
            views: list[Any] = []
            all_goto: list[Any] = []
            for item in result:
                part: Any = item
                if isinstance(item, Command):
                    part, part_goto = self._unpack_command(task, item)
                    all_goto.extend(part_goto)
                writes.extend(self._writes_of(task, part))
                if part is not None:
                    views.append(part)
            task.result = views
            task.writes = writes
            self._set_goto(task, all_goto)
            return
        writes = self._writes_of(task, update)
        managed = self.graph.managed
        if managed and update.__class__ is dict and not managed.keys().isdisjoint(update):
            update = {k: v for k, v in update.items() if k not in managed}  # not written
        task.result = update
        task.writes = writes
        self._set_goto(task, goto)

    def _set_goto(self, task: Task, goto: Sequence[Any]) -> None:
        dest: list[Any] = list(task.node.edges)
        if goto:
            commanded = as_destinations(goto)
            self._check_destinations(task.node.name, commanded)
            dest.extend(commanded)
        task.goto = dest

    def _unpack_command(self, task: Task, command: Command[Any]) -> tuple[Any, Sequence[Any]]:
        if command.graph == Command.PARENT:
            if not self.run.ns:
                raise InvalidUpdateError(
                    f"Node {task.name!r} returned Command(graph=Command.PARENT) but runs in "
                    f"the root graph, which has no parent."
                )
            raise ParentCommand(Command(update=command.update, goto=command.goto))
        if command.graph is not None:
            raise InvalidUpdateError(
                f"Node {task.name!r} returned Command(graph={command.graph!r}): only None "
                f"(this graph) and Command.PARENT are supported."
            )
        goto = command.goto
        if isinstance(goto, str | Send):
            goto = (goto,)
        return command.update, goto

    def _writes_of(self, task: Task, update: Any) -> list[tuple[str, Any]]:
        if update is None:
            return []
        items = self.graph.schema.update_items(update)
        if items is None:
            raise InvalidUpdateError(
                f"Node {task.name!r} returned {_short(update)} ({type(update).__name__}); a "
                f"node must return a dict of state updates, a Command, or None."
            )
        channels = self.graph.channels
        if task.node.subgraph is not None:
            return [(k, v) for k, v in items if k in channels]
        for key, _ in items:
            if key not in channels:
                if key in self.graph.managed:  # as LangGraph: a write to one is ignored
                    return [(k, v) for k, v in items if k not in self.graph.managed]
                raise InvalidUpdateError(
                    f"Node {task.name!r} returned key {key!r}, which is not in the state "
                    f"{self.graph.schema.name} (keys: {', '.join(channels)})."
                )
        return items

    def add_branch_result(self, task: Task, branch: Any, result: Any) -> None:
        destinations = branch.resolve(result)
        self._check_destinations(task.name, destinations)
        task.goto.extend(destinations)

    def _check_destinations(self, source: str, destinations: Sequence[Any]) -> None:
        """Raise on the task's own thread, so the error names the node."""
        nodes = self.graph.nodes
        for dest in destinations:
            name = dest.node if isinstance(dest, Send) else dest
            if name != END and name not in nodes:
                raise InvalidRouteError(
                    f"{source_label(source)} routed to unknown node {name!r} "
                    f"(nodes: {', '.join(nodes)}, or END)"
                )

    def branch_view(self, task: Task, branch: BranchSpec) -> Any:
        """The state a conditional edge sees: the step's state plus this task's writes,
        read with the edge's schema."""
        values = dict(self.values)
        grouped: dict[str, tuple[list[Any], list[str]]] = {}
        for key, value in task.writes:
            grouped.setdefault(key, ([], []))[0].append(value)
            grouped[key][1].append(task.name)
        channels = self.graph.channels
        for key, (vals, writers) in grouped.items():
            values[key] = channels[key].update(values.get(key, MISSING), vals, writers)
        if self.graph.managed:
            values = self.with_managed(values, task.step)
        return branch.read(values)

    def apply_writes(self, writes: Sequence[tuple[str, Any]], writer: str) -> None:
        """Apply writes that come from outside a step (a resume's update)."""
        grouped: dict[str, tuple[list[Any], list[str]]] = {}
        for key, value in writes:
            grouped.setdefault(key, ([], []))[0].append(value)
            grouped[key][1].append(writer)
        self._apply(grouped)

    def command_writes(self, update: Any) -> list[tuple[str, Any]]:
        """The writes of a ``Command(update=...)`` given as the run's input."""
        writes = self._writes_of(cast("Task", _InputTask), update)
        self._check_keys(dict(writes), "Command(update=...)")
        return writes

    def _apply(self, grouped: Mapping[str, tuple[list[Any], list[str]]]) -> None:
        channels, values = self.graph.channels, self.values
        for key, (vals, writers) in grouped.items():
            try:
                values[key] = channels[key].update(values.get(key, MISSING), vals, writers)
            except Exception as exc:
                if not isinstance(exc, InvalidUpdateError):
                    who = ", ".join(repr(w) for w in dict.fromkeys(writers))
                    exc.add_note(f"While applying the write(s) of {who} to state key {key!r}")
                raise

    def _check_keys(self, updates: Mapping[str, Any], what: str) -> None:
        channels = self.graph.channels
        for key in updates:
            if key not in channels and key not in self.graph.managed:
                raise InvalidUpdateError(
                    f"{what.capitalize()} has key {key!r}, which is not in the state "
                    f"{self.graph.schema.name} (keys: {', '.join(channels)})."
                )


class _InputTask:
    """Stands for the run's input where task code expects a task (its updates)."""

    name = "__start__"

    class node:
        subgraph = None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
