"""What runs next, between supersteps: the pending triggers, ``Send`` packets and join
barriers of a run, planning a step from them, committing a step into them, and the
snapshot they make (the :class:`~rillet.runtime._loop.Loop`'s bookkeeping, mixed into
it as :class:`Steps`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rillet._constants import END, PULL, PUSH, START
from rillet.errors import GraphRecursionError, InvalidRouteError
from rillet.runtime._context import Task
from rillet.types import Send

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._context import RunContext
    from rillet.runtime._observe import RunObserver


@dataclass(slots=True)
class RunSnapshot:
    """The loop's state between two steps: enough to continue the run elsewhere."""

    step: int
    values: dict[str, Any]
    pending_nodes: dict[str, list[str]]
    pending_sends: list[Send]
    barriers: dict[str, set[str]]


class Steps:
    """Planning, beginning, committing and snapshotting steps: the part of
    :class:`~rillet.runtime._loop.Loop` that keeps what is pending between them."""

    # The fields a step changes (``Loop.__init__`` sets them).
    __slots__ = ("_barriers", "_current", "_pending_nodes", "_pending_sends", "step", "values")

    step: int
    values: dict[str, Any]
    #: Join barriers, keyed by the join's name: the sources seen so far.
    _barriers: dict[str, set[str]]
    _pending_nodes: dict[str, list[str]]
    _pending_sends: list[Send]
    #: What triggered the step in progress (between ``next_tasks`` and ``commit``).
    _current: tuple[dict[str, list[str]], list[Send]] | None
    # Fields of the Loop this is mixed into.
    graph: CompiledStateGraph
    run: RunContext
    limit: int
    step_limit: int
    observers: tuple[RunObserver, ...]

    if TYPE_CHECKING:
        def _apply(self, grouped: Mapping[str, tuple[list[Any], list[str]]]) -> None: ...

    def plan(self) -> list[Task]:
        """The tasks of the next step, without changing anything."""
        pending, sends = self._pending_nodes, self._pending_sends
        if not pending and not sends:
            return []
        if self.graph.deferred:
            pending = self._ready(pending, sends)
        run, step, nodes = self.run, self.step + 1, self.graph.nodes
        writer = run.make_writer()
        values = self.values
        if self.graph.managed:
            values = self.with_managed(values, step)
        tasks: list[Task] = []
        # LangGraph's order: pull tasks by node name, then Send tasks in send order.
        for name in sorted(pending):
            node = nodes[name]
            if node.subgraph is not None:
                task_input: Any = self.graph.read_all(self.values)
            else:
                try:
                    task_input = node.read(values)
                except Exception as exc:
                    exc.add_note(f"While reading the state as the input of node {name!r}")
                    raise
            path = (PULL, name)
            tasks.append(Task(run, node, step, task_input, tuple(pending[name]), path, writer))
        for index, send in enumerate(sends):
            node = nodes[send.node]
            tasks.append(Task(run, node, step, send.arg, (PUSH,), (PUSH, index, False), writer))
        return tasks

    def _ready(
        self, pending: dict[str, list[str]], sends: list[Send]
    ) -> dict[str, list[str]]:
        """The pending nodes that run next: a ``defer=True`` node waits until nothing
        else is left to run."""
        nodes = self.graph.nodes
        ready = {n: t for n, t in pending.items() if not nodes[n].defer}
        return ready if ready or sends else pending

    def next_tasks(self) -> list[Task]:
        """Plan the next step and begin it: count it, check the recursion limit,
        tell the observers."""
        tasks = self.plan()
        if not tasks:
            return tasks
        self._current = (self._pending_nodes, self._pending_sends)
        if self.graph.deferred:  # a deferred node held back stays pending
            ran = {t.name for t in tasks if t.path[0] == PULL}
            self._pending_nodes = {
                n: t for n, t in self._pending_nodes.items() if n not in ran
            }
        else:
            self._pending_nodes = {}
        self._pending_sends = []
        self.step += 1
        if self.step > self.step_limit:
            raise GraphRecursionError(
                f"Recursion limit of {self.limit} reached without hitting a stop condition. "
                f"You can increase the limit by setting the `recursion_limit` config key, "
                f"e.g. graph.invoke(input, {{'recursion_limit': {self.limit * 2}}}), or check "
                f"the graph for a loop that never reaches END."
            )
        for observer in self.observers:
            observer.step_started(self, tasks)  # type: ignore[arg-type]  # self: a Loop
        return tasks

    def with_managed(self, values: dict[str, Any], step: int) -> dict[str, Any]:
        """``values`` plus the managed keys (``rillet.managed``) as read in ``step``."""
        limit = self.step_limit
        return {**values, **{k: m.get(step, limit) for k, m in self.graph.managed.items()}}

    def commit(self, tasks: Sequence[Task]) -> list[Task]:
        """Apply the step's writes in task order, route, begin the next step."""
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
        joins = self.graph.joins
        for task in tasks:
            self._route(task.node.name, task.goto)
            for join in task.node.joins:
                sources, target = joins[join]
                key = _join_name(sources, target)
                seen = self._barriers.setdefault(key, set())
                seen.add(task.node.name)
                if seen.issuperset(sources):
                    del self._barriers[key]
                    if target != END:
                        self._pending_nodes.setdefault(target, []).append(key)
        for triggers in self._pending_nodes.values():
            if triggers and triggers[0].startswith("join:"):
                triggers.insert(0, f"branch:to:{triggers[-1].rsplit(':', 1)[1]}")
        self._current = None
        for observer in self.observers:
            observer.step_committed(self, tasks, bool(grouped))  # type: ignore[arg-type]  # (Loop)
        return []

    def route_from_start(self, goto: Any) -> None:
        """A resume's ``Command(goto=...)``: those run in the next step."""
        self._route(START, as_destinations((goto,) if isinstance(goto, str | Send) else goto))

    def _route(self, source: str, destinations: Sequence[Any]) -> None:
        nodes = self.graph.nodes
        for dest in destinations:
            if isinstance(dest, Send):
                if dest.node not in nodes:
                    raise InvalidRouteError(
                        f"{source_label(source)} sent Send({dest.node!r}, ...) to unknown node "
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
                    f"{source_label(source)} routed to unknown node {dest!r} "
                    f"(nodes: {', '.join(nodes)}, or END)"
                )

    def snapshot(self) -> RunSnapshot:
        """The run's state between steps (copies, safe to keep). Taken while a step
        runs, it is the state before that step: the step's triggers still pending."""
        step, pending, sends = self.step, self._pending_nodes, self._pending_sends
        if self._current is not None:
            step -= 1
            pending, sends = self._current
        return RunSnapshot(
            step,
            dict(self.values),
            {k: list(v) for k, v in pending.items()},
            list(sends),
            {k: set(v) for k, v in self._barriers.items()},
        )

    def restore(self, snapshot: RunSnapshot) -> None:
        """Continue from ``snapshot`` (taken by :meth:`snapshot`, maybe elsewhere)."""
        self.step = snapshot.step
        self.values = dict(snapshot.values)
        self._pending_nodes = {k: list(v) for k, v in snapshot.pending_nodes.items()}
        self._pending_sends = list(snapshot.pending_sends)
        self._barriers = {k: set(v) for k, v in snapshot.barriers.items()}
        self._current = None

    def _unbegin(self) -> None:
        """Undo :meth:`next_tasks`: the step did not run (``interrupt_before``)."""
        if self._current is not None:
            self._pending_nodes, self._pending_sends = self._current
            self._current = None
            self.step -= 1


def as_destinations(goto: Sequence[Any]) -> list[Any]:
    """A ``Command(goto=...)``'s destinations, checked to be names and ``Send``s."""
    out = []
    for item in goto:
        if not isinstance(item, str | Send):
            raise InvalidRouteError(
                f"Command(goto=...) takes node names and Send objects, got {item!r}"
            )
        out.append(item)
    return out


def source_label(source: str) -> str:
    """What an error message calls the source of a route."""
    return "The graph's START edge" if source == START else f"Node {source!r}"


def _join_name(sources: Sequence[str], target: str) -> str:
    return f"join:{'+'.join(sources)}:{target}"
