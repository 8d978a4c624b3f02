"""The superstep algorithm, written once, with no I/O and no threads.

A run alternates between *planning* (which tasks run in the next superstep),
*executing* them, and *committing* (applying every task's writes in task order). The
loop owns all of it, including each task's lifecycle (calling the node, retries,
``Command`` handling, branches, what is emitted): :meth:`Loop.run` and
:meth:`Loop.task_steps` are generators that yield :mod:`._effects` (call this, sleep,
run these tasks) and a driver, sync or async, only executes what they ask for (the
sans-I/O pattern of h11). What the world sees goes through the observers
(:mod:`._observe`). Two parts of the loop live in modules of their own and are mixed
into :class:`Loop`: what is pending between steps, planning and committing them
(:mod:`._steps`), and what a task's result writes and where it routes (:mod:`._writes`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from rillet._constants import END, START
from rillet.errors import GraphInterrupt, StreamClosedError
from rillet.runtime._bridges import activate_bridges
from rillet.runtime._cache import match_cached, store_call, stored
from rillet.runtime._context import RunContext, Task
from rillet.runtime._effects import Call, Effect, Failure, RunTasks, Sleep
from rillet.runtime._observe import RunObserver, observers_for
from rillet.runtime._runtime import run_runtime
from rillet.runtime._steps import Steps
from rillet.runtime._writes import ParentCommand, Writes
from rillet.types import Send

if TYPE_CHECKING:
    from rillet.graph._branch import BranchSpec
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._persist import Persister
    from rillet.types import RetryPolicy

TaskSteps = Generator[Call | Sleep, Any, None]
#: What :meth:`Loop.attempts` returns for a task that paused or failed.
STOPPED: Any = object()


class Loop(Steps, Writes):
    """The state of one graph run between supersteps."""

    #: Whether the ``values`` stream starts with the state before the first step.
    announce_values = True

    # With the fields of :class:`Steps`: the step, the values, what is pending.
    __slots__ = (
        "error",
        "graph",
        "limit",
        "nested",
        "observers",
        "persist",
        "run",
        "step_limit",
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

    # ------------------------------------------------------------- the steps

    def resume_steps(self) -> Generator[Effect, Any, Any]:
        """Like :meth:`run_steps`, from a restored snapshot instead of an input."""
        try:
            return (yield from self._steps())
        finally:
            if self.persist is not None:
                self.persist.remember()  # however the run ended

    def _steps(self) -> Generator[Effect, Any, Any]:
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
                if persist.drain is not None and persist.drain():
                    if persist.durability == "exit":
                        yield from persist.save(self, "loop", tasks)
                    return self.output()  # the next step is left to a later run
            tasks = self.next_tasks()
        if persist is not None and persist.durability == "exit":
            yield from persist.save(self, "loop")
        return self.end()

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
