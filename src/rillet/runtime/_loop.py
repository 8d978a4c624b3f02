"""The superstep algorithm, written once, with no I/O and no threads.

A run alternates between *planning* (which tasks run in the next superstep),
*executing* them, and *committing* (applying every task's writes in task order). The
loop owns all of it, including each task's lifecycle (calling the node, retries,
``Command`` handling, branches, what is emitted): :meth:`Loop.run` and
:meth:`Loop.task_steps` are generators that yield :mod:`._effects` (call this, sleep,
run these tasks) and a driver, sync or async, only executes what they ask for (the
sans-I/O pattern of h11). What the world sees goes through the observers
(:mod:`._observe`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rillet._constants import END, PULL, PUSH, START
from rillet.channels import MISSING
from rillet.errors import (
    GraphInterrupt,
    GraphRecursionError,
    InvalidRouteError,
    InvalidUpdateError,
    StreamClosedError,
)
from rillet.runtime._bridges import activate_bridges
from rillet.runtime._cache import match_cached, store_call, stored
from rillet.runtime._context import RunContext, Task
from rillet.runtime._effects import Call, Effect, Failure, RunTasks, Sleep
from rillet.runtime._observe import RunObserver, observers_for
from rillet.runtime._runtime import run_runtime
from rillet.types import Command, Send

if TYPE_CHECKING:
    from rillet.graph._branch import BranchSpec
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._persist import Persister
    from rillet.types import RetryPolicy

TaskSteps = Generator[Call | Sleep, Any, None]
#: What :meth:`Loop.attempts` returns for a task that paused or failed.
STOPPED: Any = object()


class ParentCommand(Exception):
    """A ``Command(graph=Command.PARENT)`` travelling from a subgraph to its parent."""

    def __init__(self, command: Command[Any]) -> None:
        super().__init__(command)
        self.command = command


@dataclass(slots=True)
class RunSnapshot:
    """The loop's state between two steps: enough to continue the run elsewhere."""

    step: int
    values: dict[str, Any]
    pending_nodes: dict[str, list[str]]
    pending_sends: list[Send]
    barriers: dict[str, set[str]]


class Loop:
    """The state of one graph run between supersteps."""

    #: Whether the ``values`` stream starts with the state before the first step.
    announce_values = True

    __slots__ = (
        "_barriers",
        "_current",
        "_pending_nodes",
        "_pending_sends",
        "error",
        "graph",
        "limit",
        "nested",
        "observers",
        "persist",
        "run",
        "step",
        "step_limit",
        "values",
    )

    def __init__(
        self,
        graph: CompiledStateGraph,
        run: RunContext,
        limit: int,
        *,
        nested: bool = False,
        observers: tuple[RunObserver, ...] | None = None,
        persist: Persister | None = None,
    ) -> None:
        self.graph = graph
        self.run = run
        run.loop = self
        self.limit = limit
        self.nested = nested
        #: Saves the run as it goes (a graph with a checkpointer), or ``None``.
        self.persist = persist
        self.step = 0
        #: A step past this one raises GraphRecursionError: ``recursion_limit`` steps
        #: after the input, or (as LangGraph counts) two more after a resumed checkpoint.
        self.step_limit = limit
        self.values: dict[str, Any] = graph.initial_values()
        #: Join barriers, keyed by the join's name: the sources seen so far.
        self._barriers: dict[str, set[str]] = {}
        self._pending_nodes: dict[str, list[str]] = {}
        self._pending_sends: list[Send] = []
        #: What triggered the step in progress (between ``next_tasks`` and ``commit``).
        self._current: tuple[dict[str, list[str]], list[Send]] | None = None
        self.observers = observers_for(run) if observers is None else observers
        #: The error that ended the run inside the loop (a failed START branch).
        self.error: BaseException | None = None

    # ------------------------------------------------------------- the run

    def run_steps(self, input: Any) -> Generator[Effect, Any, Any]:
        """The whole run: apply the input, then plan, run and commit steps until
        nothing is left. Returns the output; on a failure inside the loop, sets
        :attr:`error` and returns."""
        persist = self.persist
        if persist is not None:
            how = yield from persist.begin(self, input)
            if how == "continue":
                self._begin_observers(input)
                if persist.fork:
                    self.step += 1
                    yield from persist.save(self, "fork")
                else:
                    self.announce_resume()
                return (yield from self.resume_steps())
            if how == "input":
                input = persist.saved.input if persist.saved is not None else input
            elif persist.checkpoint_id is not None:
                self.step += 2  # a new input on a thread: numbering goes on
            if how != "input" and persist.durability != "exit":
                yield from persist.save(self, "input", input=input, step=self.step - 1)
        self.start(input)
        start_values = self.with_managed(self.values, self.step) if self.graph.managed \
            else self.values
        for branch in self.graph.start_branches:
            outcome = yield self._branch_call(branch, branch.read(start_values), None)
            if outcome.__class__ is Failure:
                error = outcome.error
                if not isinstance(error, StreamClosedError):
                    error.add_note(f"During the conditional edge {branch.name!r} from START")
                self.error = error
                return {}
            self._route(START, branch.resolve(outcome))
        if persist is not None:
            if persist.durability != "exit":
                yield from persist.save(self, "loop")
            else:
                persist.skip_save(self)
        return (yield from self.resume_steps())

    def start(self, input: Any) -> None:
        """Apply the input and queue what START leads to."""
        graph = self.graph
        if not self.nested:
            activate_bridges()
        updates = graph.builder.input_schema.input_updates(input)
        if not self.nested:
            self._check_keys(updates, "the graph input")
        keys = graph.input_keys
        if len(updates) != len(keys) or not keys.issuperset(updates):
            # An input schema keeps only its own keys (LangGraph's input filtering).
            updates = {k: v for k, v in updates.items() if k in keys}
        self._apply({k: ([v], [START]) for k, v in updates.items()})
        self._begin_observers(input)
        self.step_limit = self.step + self.limit
        for target in self.graph.start_edges:
            if target != END:
                self._pending_nodes.setdefault(target, []).append(f"branch:to:{target}")

    def announce_resume(self) -> None:
        """Tell the observers which saved checkpoint the run continues from."""
        saved = self.persist.saved if self.persist is not None else None
        if saved is not None and self.observers:
            for observer in self.observers:
                observer.checkpoint_resumed(self, saved)

    def _begin_observers(self, input: Any) -> None:
        for observer in self.observers:
            observer.run_started(self, input)

    def end(self) -> Any:
        """The run's output."""
        output = self.output()
        for observer in self.observers:
            observer.run_finished(self, output)
        return output

    # ------------------------------------------------------------- planning

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
            observer.step_started(self, tasks)
        return tasks

    # ------------------------------------------------------- task lifecycle

    def task_steps(self, task: Task) -> TaskSteps:
        """One task from start to end: call the node (with its retry policy), take
        its result apart, run its conditional edges. Never raises what the node
        raised: a failure is recorded on ``task.error``."""
        observers = self.observers
        for observer in observers:
            observer.task_started(self, task)
        node = task.node
        outcome = yield from self.attempts(task)
        if outcome is STOPPED:
            return
        try:
            self.finish(task, outcome)
        except BaseException as exc:
            self.fail(task, exc)
            return
        for branch in node.branches:
            choice = yield self._branch_call(branch, self.branch_view(task, branch), task)
            if choice.__class__ is Failure:
                self.fail(task, choice.error)
                return
            try:
                self.add_branch_result(task, branch, choice)
            except BaseException as exc:
                self.fail(task, exc)
                return
        task.done = True
        for observer in observers:
            observer.task_finished(self, task)
        if task.cache_key is not None:
            stored(task, (yield store_call(self, task)))

    def attempts(self, task: Task, *, call: bool = False) -> Generator[Call | Sleep, Any, Any]:
        """Call ``task``'s function until it returns or its retry policy gives up:
        its result, or :data:`STOPPED` when it paused (on ``task.interrupts``) or
        failed (recorded by :meth:`fail`). A functional-API ``call`` has no result
        item when it pauses (its caller's has the interrupts) and cannot take a
        parent's ``Command``."""
        attempt = 0
        while True:
            outcome = yield node_call(task)
            if outcome.__class__ is not Failure:
                return outcome
            error = outcome.error
            if isinstance(error, GraphInterrupt):
                task.interrupts = error.interrupts  # a pause, not a failure
                task.paused = True
                if not call:
                    for observer in self.observers:
                        observer.task_interrupted(self, task)
                return STOPPED
            if not call and isinstance(error, ParentCommand):
                # Command(graph=PARENT) from a graph run inside this task (a subgraph
                # node, or a graph the node invoked by hand): it is this task's result.
                return error.command
            attempt += 1
            policy = _retry_policy(task.node.retry_policies, error, attempt)
            if policy is None:
                self.fail(task, error)
                return STOPPED
            yield Sleep(policy.interval(attempt))
            task.attempt, task._runtime = attempt + 1, None  # a new Runtime per attempt

    def _branch_call(self, branch: BranchSpec, view: Any, task: Task | None) -> Call:
        kwargs: dict[str, Any] | None = None
        if branch.wants_config:
            kwargs = {"config": task.config if task is not None else {}}
        if branch.wants_runtime:
            # A node's edges share its task's Runtime; START's get the run's.
            runtime = task.runtime if task is not None else run_runtime(self.run)
            kwargs = {**(kwargs or {}), "runtime": runtime}
        return Call(branch.path, (view,), kwargs, is_async=branch.is_async)

    # ---------------------------------------------------------- task results

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
            commanded = _as_destinations(goto)
            self._check_destinations(task.node.name, commanded)
            dest.extend(commanded)
        task.goto = dest

    def fail(self, task: Task, error: BaseException) -> None:
        """Record a task's error (with a note naming the task)."""
        task.error = error
        if isinstance(error, ParentCommand | StreamClosedError):
            return  # control flow, not a failure of this node
        note = f"During task with name {task.name!r} and id {task.id!r}"
        prefix = f"During task with name {task.name!r} "
        if not any(n.startswith(prefix) for n in getattr(error, "__notes__", ())):
            error.add_note(note)
        for observer in self.observers:
            with contextlib.suppress(StreamClosedError):  # the consumer already left
                observer.task_failed(self, task, error)

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
                    f"{_who(source)} routed to unknown node {name!r} "
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

    def with_managed(self, values: dict[str, Any], step: int) -> dict[str, Any]:
        """``values`` plus the managed keys (``rillet.managed``) as read in ``step``."""
        limit = self.step_limit
        return {**values, **{k: m.get(step, limit) for k, m in self.graph.managed.items()}}

    # ---------------------------------------------------------------- commit

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
            observer.step_committed(self, tasks, bool(grouped))
        return []

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

    def route_from_start(self, goto: Any) -> None:
        """A resume's ``Command(goto=...)``: those run in the next step."""
        self._route(START, _as_destinations((goto,) if isinstance(goto, str | Send) else goto))

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

    # ------------------------------------------------------------- snapshot

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

    def resume_steps(self) -> Generator[Effect, Any, Any]:
        """Like :meth:`run_steps`, from a restored snapshot instead of an input."""
        limit = self.run.config.get("max_concurrency")
        persist = self.persist
        tasks = self.next_tasks()
        while tasks:
            if persist is not None:
                if persist.should_stop_before(tasks):
                    self._unbegin()
                    return self.stop(())
                persist.prepare(tasks)
            todo = [t for t in tasks if not t.done and not t.paused]
            if todo and self.graph.cached:
                todo = yield from match_cached(self, todo)
            if todo:
                outcome = yield RunTasks(todo, limit)
                if outcome.__class__ is Failure:
                    if persist is not None and not isinstance(outcome.error, StreamClosedError):
                        yield from persist.save_step_writes(self, tasks)
                    self.error = outcome.error
                    return {}
            if any(t.paused for t in tasks):
                if persist is not None:
                    yield from persist.save_step_writes(self, tasks)
                return self.stop(tuple(i for t in tasks for i in t.interrupts), tasks)
            self.commit(tasks)
            if persist is not None:
                if persist.durability != "exit":
                    yield from persist.save(self, "loop", tasks)
                else:
                    persist.skip_save(self)
                if persist.should_stop_after(tasks):
                    if persist.durability == "exit":
                        yield from persist.save(self, "loop", tasks)
                    return self.stop(())
            tasks = self.next_tasks()
        if persist is not None and persist.durability == "exit":
            yield from persist.save(self, "loop")
        return self.end()

    def _unbegin(self) -> None:
        """Undo :meth:`next_tasks`: the step did not run (``interrupt_before``)."""
        if self._current is not None:
            self._pending_nodes, self._pending_sends = self._current
            self._current = None
            self.step -= 1

    def stop(self, interrupts: tuple[Any, ...], tasks: Sequence[Task] = ()) -> Any:
        """End the run paused: ``interrupt()`` calls, or ``interrupt_before``/``after``.
        A subgraph pauses its parent's task; the root returns its state with
        ``"__interrupt__"`` (and, as LangGraph shows it, the writes of the step's tasks
        that finished, which are saved and applied when the run goes on)."""
        values = self.values
        done = [w for t in tasks if t.done for w in t.writes]
        if done:
            self.values = dict(values)
            self.apply_writes(done, "__pending__")
        try:
            for observer in self.observers:
                observer.run_interrupted(self, interrupts)
            output = self.output()
        finally:
            self.values = values
        if self.nested:
            self.error = GraphInterrupt(interrupts)
            return {}
        if interrupts:
            output = self.graph.schema.with_interrupts(output, list(interrupts))
        return output

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
        channels = self.graph.channels
        for key in updates:
            if key not in channels and key not in self.graph.managed:
                raise InvalidUpdateError(
                    f"{what.capitalize()} has key {key!r}, which is not in the state "
                    f"{self.graph.schema.name} (keys: {', '.join(channels)})."
                )

    def output(self) -> Any:
        """What the run returns: the output schema's keys (by default the state's), as
        a new dict in the order the schema declares them; or the value of a state
        that is one value."""
        return self.graph.schema.view(self.values, self.graph.output_keys)

    def state_values(self) -> Any:
        """Every key with a value (``values`` items, snapshots): the state's, then
        the other schemas' keys, as a new dict (or the one value, as ``output``)."""
        return self.graph.schema.view(self.values, self.graph.channels)

    def interrupted_values(self) -> Any:
        """The values the ``values`` item of a paused run shows (v1 adds
        ``"__interrupt__"`` to them)."""
        return self.state_values()


class _InputTask:
    """Stands for the run's input where task code expects a task (its updates)."""

    name = "__start__"

    class node:
        subgraph = None


def _as_destinations(goto: Sequence[Any]) -> list[Any]:
    out = []
    for item in goto:
        if not isinstance(item, str | Send):
            raise InvalidRouteError(
                f"Command(goto=...) takes node names and Send objects, got {item!r}"
            )
        out.append(item)
    return out


def _who(source: str) -> str:
    return "The graph's START edge" if source == START else f"Node {source!r}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _join_name(sources: Sequence[str], target: str) -> str:
    return f"join:{'+'.join(sources)}:{target}"


def node_call(task: Task) -> Call:
    """The call of ``task``'s node, with its injected arguments."""
    node = task.node
    if node.subgraph is not None:
        return Call(node.fn, (task.input,), afn=node.subgraph.ainvoke)
    kwargs: dict[str, Any] | None = None
    if node.afn is not None:
        return Call(node.fn, (task.input,), {"config": task.config}, afn=node.afn)
    if node.injects:
        kwargs = {}
        if node.wants_config:
            kwargs["config"] = task.config
        if node.wants_writer:
            kwargs["writer"] = task.writer
        if node.wants_store:
            kwargs["store"] = task.run.settings.store
        if node.wants_runtime:
            kwargs["runtime"] = task.runtime
    return Call(node.fn, (task.input,), kwargs, is_async=node.is_async)


def _retry_policy(retry: Any, error: BaseException, attempt: int) -> RetryPolicy | None:
    """The policy that retries ``error`` after ``attempt`` failed attempts, if any."""
    if retry is None or not isinstance(error, Exception):
        return None
    if isinstance(error, StreamClosedError | ParentCommand | GraphInterrupt):
        return None
    policies = retry if isinstance(retry, list | tuple) else (retry,)
    for policy in policies:
        if policy.should_retry(error):
            return policy if attempt < policy.max_attempts else None
    return None
