"""The superstep algorithm, written once, with no I/O and no threads.

A run alternates between *planning* (which tasks run in the next superstep),
*executing* them (the drivers' job: threads or asyncio tasks), and *committing*
(applying every task's writes in task order, then emitting ``values``). Tasks finish
on their own threads, so :meth:`Loop.finish` and :meth:`Loop.fail` only touch the
task and emit events; :meth:`Loop.commit` runs on the driver's thread once all tasks
of the step are done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rillet._constants import END, PULL, PUSH, START
from rillet._objects import object_updates
from rillet.channels import MISSING
from rillet.errors import GraphRecursionError, InvalidRouteError, InvalidUpdateError
from rillet.runtime._bridges import activate_bridges
from rillet.runtime._context import RunContext, Task
from rillet.stream._events import (
    RunEvent,
    TaskResultEvent,
    TaskStartEvent,
    UpdatesEvent,
    ValuesEvent,
)
from rillet.types import Command, Send

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.graph._node import NodeSpec


class ParentCommand(Exception):
    """A ``Command(graph=Command.PARENT)`` travelling from a subgraph to its parent."""

    def __init__(self, command: Command[Any]) -> None:
        super().__init__(command)
        self.command = command


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Loop:
    """The state of one graph run between supersteps."""

    __slots__ = (
        "_barriers",
        "_pending_nodes",
        "_pending_sends",
        "graph",
        "limit",
        "run",
        "step",
        "values",
    )

    def __init__(self, graph: CompiledStateGraph, run: RunContext, limit: int) -> None:
        self.graph = graph
        self.run = run
        self.limit = limit
        self.step = 0
        self.values: dict[str, Any] = graph.schema.initial_values()
        self._barriers: list[set[str]] = [set() for _ in graph.joins]
        self._pending_nodes: dict[str, list[str]] = {}
        self._pending_sends: list[Send] = []

    # ------------------------------------------------------------------ start

    def start(self, input: Any, *, nested: bool = False) -> list[Task]:
        """Apply the input; return the tasks of step 1."""
        schema = self.graph.schema
        if not nested:
            activate_bridges()
        if self.run.want_events:
            self._graph_event("on_chain_start", {"input": input})
        updates = schema.input_updates(input)
        if nested:
            updates = {k: v for k, v in updates.items() if k in schema.channels}
        else:
            self._check_keys(updates, "the graph input")
        self._apply({k: ([v], [START]) for k, v in updates.items()})
        if self.run.want_values:
            self.run.put(ValuesEvent(self.run.ns, self.output()))
        for target in self.graph.start_edges:
            self._pending_nodes.setdefault(target, []).append(f"branch:to:{target}")
        for branch in self.graph.start_branches:
            result = self.graph.call_branch_sync(branch, dict(self.values), None)
            self._route(START, branch.resolve(result))
        return self._plan()

    def end(self) -> dict[str, Any]:
        """The run's output (emitting the graph's end event)."""
        output = self.output()
        if self.run.want_events:
            self._graph_event("on_chain_end", {"output": output})
        return output

    def _graph_event(self, event: str, data: dict[str, Any]) -> None:
        run = self.run
        run.put(
            RunEvent(
                run.ns,
                event,
                self.graph.name,
                run.run_id,
                run.parent_ids[:-1],
                list(run.config.get("tags") or ()),
                dict(run.config.get("metadata") or ()),
                data,
            )
        )

    def task_started(self, task: Task) -> None:
        """Emit a task's start event (``astream_events``), on the task's thread."""
        if self.run.want_events:
            self._task_event(task, "on_chain_start", {"input": task.input})

    def _task_event(self, task: Task, event: str, data: dict[str, Any]) -> None:
        run = self.run
        run.put(
            RunEvent(
                run.ns, event, task.name, task.id, run.parent_ids, task.event_tags,
                task.metadata, data,
            )
        )

    # ------------------------------------------------------------- planning

    def _plan(self) -> list[Task]:
        pending, sends = self._pending_nodes, self._pending_sends
        if not pending and not sends:
            return []
        self._pending_nodes, self._pending_sends = {}, []
        self.step += 1
        if self.step > self.limit:
            raise GraphRecursionError(
                f"Recursion limit of {self.limit} reached without hitting a stop condition. "
                f"You can increase the limit by setting the `recursion_limit` config key, "
                f"e.g. graph.invoke(input, {{'recursion_limit': {self.limit * 2}}}), or check "
                f"the graph for a loop that never reaches END."
            )
        run, step, nodes = self.run, self.step, self.graph.nodes
        writer = run.make_writer()
        to_input = self.graph.schema.to_node_input
        tasks: list[Task] = []
        state_input: Any = MISSING
        # LangGraph's order: pull tasks by node name, then Send tasks in send order.
        for name in sorted(pending):
            triggers = pending[name]
            node = nodes[name]
            if node.subgraph is not None:
                task_input: Any = dict(self.values)
            else:
                if state_input is MISSING or len(pending) > 1:
                    state_input = to_input(dict(self.values))
                task_input = state_input
            tasks.append(
                Task(run, node, step, task_input, tuple(triggers), (PULL, name), writer)
            )
        for index, send in enumerate(sends):
            node = nodes[send.node]
            tasks.append(
                Task(run, node, step, send.arg, (PUSH,), (PUSH, index, False), writer)
            )
        if run.want_messages:
            from rillet.runtime._messages import mark_input_seen

            for task in tasks:
                mark_input_seen(task)
        if run.want_tasks or run.want_debug:
            for task in tasks:
                run.put(
                    TaskStartEvent(
                        run.ns, step, _now(), task.id, task.name, task.input, task.triggers
                    )
                )
        return tasks

    # ---------------------------------------------------------- task results

    def finish(self, task: Task, result: Any) -> None:
        """Record what a task returned (on the task's thread); emit its update."""
        node = task.node
        update: Any = result
        goto: Sequence[Any] = ()
        if isinstance(result, Command):
            update, goto = self._unpack_command(task, result)
        elif isinstance(result, list | tuple) and result and all(
            isinstance(r, Command) for r in result
        ):
            merged: dict[str, Any] = {}
            all_goto: list[Any] = []
            for command in result:
                part, part_goto = self._unpack_command(task, command)
                merged.update(part or {})
                all_goto.extend(part_goto)
            update, goto = merged or None, all_goto
        writes = self._writes_of(task, update)
        task.result = update
        task.writes = writes
        dest: list[Any] = list(node.edges)
        if goto:
            commanded = _as_destinations(goto)
            self._check_destinations(node.name, commanded)
            dest.extend(commanded)
        task.goto = dest
        run = self.run
        if run.want_updates:
            run.put(UpdatesEvent(run.ns, node.name, _update_view(update, writes, node)))
        if run.want_events:
            view = _update_view(update, writes, node)
            self._task_event(task, "on_chain_stream", {"chunk": view})
            self._task_event(task, "on_chain_end", {"output": view, "input": task.input})
            self._graph_event("on_chain_stream", {"chunk": {node.name: view}})
        if run.want_messages:
            from rillet.runtime._messages import emit_output_messages

            emit_output_messages(task, writes)
        if run.want_tasks or run.want_debug:
            run.put(
                TaskResultEvent(
                    run.ns, task.step, _now(), task.id, node.name, None, dict(writes)
                )
            )

    def fail(self, task: Task, error: BaseException) -> None:
        """Record a task's error and emit its result event."""
        task.error = error
        run = self.run
        if run.want_tasks or run.want_debug:
            run.put(
                TaskResultEvent(
                    run.ns, task.step, _now(), task.id, task.name, error, {}
                )
            )

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
        if isinstance(update, Mapping):
            items = list(update.items())
        elif isinstance(update, list | tuple) and all(
            isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in update
        ):
            items = list(update)
        elif self.graph.schema.kind != "typeddict" and isinstance(update, self.graph.schema.cls):
            items = list(object_updates(update).items())
        else:
            raise InvalidUpdateError(
                f"Node {task.name!r} returned {_short(update)} ({type(update).__name__}); a "
                f"node must return a dict of state updates, a Command, or None."
            )
        channels = self.graph.schema.channels
        if task.node.subgraph is not None:
            return [(k, v) for k, v in items if k in channels]
        for key, _ in items:
            if key not in channels:
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
                    f"{_who(source)} routed to unknown node {name!r} "
                    f"(nodes: {', '.join(nodes)}, or END)"
                )

    def branch_view(self, task: Task) -> Any:
        """The state a conditional edge sees: the step's state plus this task's writes."""
        values = dict(self.values)
        grouped: dict[str, tuple[list[Any], list[str]]] = {}
        for key, value in task.writes:
            grouped.setdefault(key, ([], []))[0].append(value)
            grouped[key][1].append(task.name)
        channels = self.graph.schema.channels
        for key, (vals, writers) in grouped.items():
            values[key] = channels[key].update(values.get(key, MISSING), vals, writers)
        return self.graph.schema.to_node_input(values)

    # ---------------------------------------------------------------- commit

    def commit(self, tasks: Sequence[Task]) -> list[Task]:
        """Apply the step's writes in task order, emit ``values``, plan the next step."""
        grouped: dict[str, tuple[list[Any], list[str]]] = {}
        for task in tasks:
            name = task.node.name
            for key, value in task.writes:
                entry = grouped.get(key)
                if entry is None:
                    grouped[key] = ([value], [name])
                else:
                    entry[0].append(value)
                    entry[1].append(name)
        self._apply(grouped)
        run = self.run
        if run.want_values and grouped:
            run.put(ValuesEvent(run.ns, self.output()))
        for task in tasks:
            self._route(task.node.name, task.goto)
            for join in task.node.joins:
                seen = self._barriers[join]
                seen.add(task.node.name)
                sources, target = self.graph.joins[join]
                if len(seen) == len(sources):
                    seen.clear()
                    self._pending_nodes.setdefault(target, []).append(
                        f"join:{'+'.join(sources)}:{target}"
                    )
        for triggers in self._pending_nodes.values():
            if triggers and triggers[0].startswith("join:"):
                triggers.insert(0, f"branch:to:{triggers[-1].rsplit(':', 1)[1]}")
        return self._plan()

    def _apply(self, grouped: Mapping[str, tuple[list[Any], list[str]]]) -> None:
        channels, values = self.graph.schema.channels, self.values
        for key, (vals, writers) in grouped.items():
            values[key] = channels[key].update(values.get(key, MISSING), vals, writers)

    def _route(self, source: str, destinations: Sequence[Any]) -> None:
        nodes = self.graph.nodes
        for dest in destinations:
            if isinstance(dest, Send):
                if dest.node not in nodes:
                    raise InvalidRouteError(
                        f"{_who(source)} sent Send({dest.node!r}, ...) to unknown node "
                        f"{dest.node!r} (nodes: {', '.join(nodes)})"
                    )
                self._pending_sends.append(dest)
            elif dest == END:
                continue
            elif dest in nodes:
                triggers = self._pending_nodes.setdefault(dest, [])
                trigger = f"branch:to:{dest}"
                if trigger not in triggers:
                    triggers.append(trigger)
            else:
                raise InvalidRouteError(
                    f"{_who(source)} routed to unknown node {dest!r} "
                    f"(nodes: {', '.join(nodes)}, or END)"
                )

    def _check_keys(self, updates: Mapping[str, Any], what: str) -> None:
        channels = self.graph.schema.channels
        for key in updates:
            if key not in channels:
                raise InvalidUpdateError(
                    f"{what.capitalize()} has key {key!r}, which is not in the state "
                    f"{self.graph.schema.name} (keys: {', '.join(channels)})."
                )

    def output(self) -> dict[str, Any]:
        """The state as a new dict, keys in the order the schema declares them."""
        values = self.values
        return {k: values[k] for k in self.graph.schema.channels if k in values}


def _as_destinations(goto: Sequence[Any]) -> list[Any]:
    out = []
    for item in goto:
        if not isinstance(item, str | Send):
            raise InvalidRouteError(
                f"Command(goto=...) takes node names and Send objects, got {item!r}"
            )
        out.append(item)
    return out


def _update_view(update: Any, writes: list[tuple[str, Any]], node: NodeSpec) -> Any:
    """What ``updates`` mode shows for a task: what the node returned, or ``None``."""
    if not writes:
        return None
    if node.subgraph is not None or not isinstance(update, dict):
        return dict(writes)
    return update


def _who(source: str) -> str:
    return "The graph's START edge" if source == START else f"Node {source!r}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
