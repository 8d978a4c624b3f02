"""``Loop`` on its own: the sans-I/O superstep algorithm driven by hand.

No driver, no threads, no event loop: a tiny driver in this file sends back the result
of each ``Call`` and records every ``RunTasks`` and ``Sleep`` the loop asks for, so
the tests pin what the loop plans, how it carries a step's failure, and that a run
cut between two steps (``snapshot``/``restore``/``resume_steps``) ends as an uncut
one does.
"""

from __future__ import annotations

import operator
from collections.abc import Generator
from typing import Annotated, Any, TypedDict

import pytest

from rillet._constants import PULL, PUSH
from rillet.graph import END, START, StateGraph
from rillet.runtime._context import RootRun, RunContext, Task
from rillet.runtime._effects import Call, Effect, Failure, RunTasks, Sleep
from rillet.runtime._loop import Loop
from rillet.runtime._steps import RunSnapshot
from rillet.types import RetryPolicy, Send
from tests.conftest import scrub


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Any:
    def node(state: Log) -> dict[str, Any]:
        return {"log": [name]}

    node.__name__ = name
    return node


def new_loop(graph: Any, config: dict[str, Any] | None = None, limit: int = 25) -> Loop:
    root = RootRun(frozenset(), False, None)
    return Loop(graph, RunContext(root, dict(config or {}), ()), limit)


def describe(task: Task) -> tuple[Any, ...]:
    return (task.name, task.step, task.input, task.triggers, task.path)


class HandDriver:
    """Executes what a loop asks, one task after the other, and records it."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.steps: list[list[tuple[Any, ...]]] = []
        self.limits: list[int | None] = []
        self.sleeps: list[float] = []
        self.calls: list[str] = []

    def call(self, effect: Call | Sleep) -> Any:
        if isinstance(effect, Sleep):
            self.sleeps.append(effect.seconds)
            return None
        self.calls.append(getattr(effect.fn, "__name__", repr(effect.fn)))
        try:
            return effect.fn(*effect.args, **(effect.kwargs or {}))
        except BaseException as exc:  # sent back as a value, never thrown in
            return Failure(exc)

    def run_task(self, task: Task) -> None:
        steps = self.loop.task_steps(task)
        send: Any = None
        while True:
            try:
                effect = steps.send(send)
            except StopIteration:
                return
            send = self.call(effect)

    def handle(self, effect: Effect) -> Any:
        """Execute one effect of the run; the value to send back."""
        if isinstance(effect, RunTasks):
            self.steps.append([describe(t) for t in effect.tasks])
            self.limits.append(effect.limit)
            for task in effect.tasks:
                self.run_task(task)
            for task in effect.tasks:
                if task.error is not None:
                    raise task.error
            return None
        return self.call(effect)

    def drive(self, steps: Generator[Effect, Any, dict[str, Any]]) -> dict[str, Any]:
        send: Any = None
        while True:
            try:
                effect = steps.send(send)
            except StopIteration as stop:
                if self.loop.error is not None:
                    raise self.loop.error from None
                output: dict[str, Any] = stop.value
                return output
            send = self.handle(effect)


def diamond() -> Any:
    """START -> a, START -> b -> b2; join [a, b2] -> c -> END."""
    return (
        StateGraph(Log)
        .add_node("a", logger("a"))
        .add_node("b", logger("b"))
        .add_node("b2", logger("b2"))
        .add_node("c", logger("c"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge("b", "b2")
        .add_edge(["a", "b2"], "c")
        .add_edge("c", END)
        .compile()
    )


# ---------------------------------------------------------------- planning


def test_run_steps_yields_each_steps_tasks_in_langgraph_order() -> None:
    loop = new_loop(diamond(), {"max_concurrency": 3})
    driver = HandDriver(loop)
    assert driver.drive(loop.run_steps({"log": []})) == {"log": ["a", "b", "b2", "c"]}
    assert driver.steps == [
        [
            ("a", 1, {"log": []}, ("branch:to:a",), (PULL, "a")),
            ("b", 1, {"log": []}, ("branch:to:b",), (PULL, "b")),
        ],
        [("b2", 2, {"log": ["a", "b"]}, ("branch:to:b2",), (PULL, "b2"))],
        [
            (
                "c",
                3,
                {"log": ["a", "b", "b2"]},
                ("branch:to:c", "join:a+b2:c"),
                (PULL, "c"),
            )
        ],
    ]
    assert driver.limits == [3, 3, 3]
    assert loop.step == 3


def test_sends_become_push_tasks_after_the_pull_tasks() -> None:
    class Fan(TypedDict):
        log: Annotated[list[str], operator.add]

    def fan(state: Fan) -> list[Send]:
        return [Send("work", "x"), Send("work", "y")]

    def work(arg: str) -> dict[str, Any]:
        return {"log": [f"work {arg}"]}

    graph = (
        StateGraph(Fan)
        .add_node("a", logger("a"))
        .add_node("work", work)
        .add_edge(START, "a")
        .add_conditional_edges(START, fan)
        .compile()
    )
    loop = new_loop(graph)
    driver = HandDriver(loop)
    assert driver.drive(loop.run_steps({"log": []})) == {"log": ["a", "work x", "work y"]}
    assert driver.calls == ["fan", "a", "work", "work"]  # the START branch runs first
    assert driver.steps == [
        [
            ("a", 1, {"log": []}, ("branch:to:a",), (PULL, "a")),
            ("work", 1, "x", (PUSH,), (PUSH, 0, False)),
            ("work", 1, "y", (PUSH,), (PUSH, 1, False)),
        ]
    ]


def test_plan_has_no_side_effects() -> None:
    loop = new_loop(diamond())
    loop.start({"log": ["in"]})
    before = loop.snapshot()
    first, second = loop.plan(), loop.plan()
    assert [describe(t) for t in first] == [describe(t) for t in second]
    assert [describe(t) for t in first] == [
        ("a", 1, {"log": ["in"]}, ("branch:to:a",), (PULL, "a")),
        ("b", 1, {"log": ["in"]}, ("branch:to:b",), (PULL, "b")),
    ]
    assert loop.step == 0
    assert loop.snapshot() == before
    tasks = loop.next_tasks()  # beginning the step is what changes the loop
    assert [describe(t) for t in tasks] == [describe(t) for t in first]
    assert loop.step == 1
    assert loop.plan() == []


def test_a_recursion_limit_is_raised_when_the_step_begins() -> None:
    loop = new_loop(diamond(), limit=2)
    driver = HandDriver(loop)
    with pytest.raises(Exception, match="Recursion limit of 2 reached") as info:
        driver.drive(loop.run_steps({"log": []}))
    assert type(info.value).__name__ == "GraphRecursionError"
    assert [len(s) for s in driver.steps] == [2, 1]


# ------------------------------------------------------- task lifecycle


def test_a_failure_is_sent_back_as_a_value_and_lands_on_the_task() -> None:
    def bad(state: Log) -> dict[str, Any]:
        return {"log": [next(iter([]))]}  # StopIteration must not end the loop's generator

    graph = StateGraph(Log).add_node(bad).add_edge(START, "bad").compile()
    loop = new_loop(graph)
    steps = loop.run_steps({"log": []})
    effect = next(steps)
    assert isinstance(effect, RunTasks)
    (task,) = effect.tasks
    lifecycle = loop.task_steps(task)
    call = next(lifecycle)
    assert isinstance(call, Call)
    assert call.fn is graph.nodes["bad"].fn
    assert call.args == ({"log": []},)
    error = HandDriver(loop).call(call).error
    with pytest.raises(StopIteration):
        lifecycle.send(Failure(error))  # the task ended: nothing more to do
    assert task.error is error
    assert scrub(error.__notes__) == ["During task with name 'bad' and id '<id>'"]
    assert (task.writes, task.goto) == ([], [])


def test_a_retried_task_asks_the_driver_to_sleep_then_calls_again() -> None:
    attempts: list[int] = []

    def flaky(state: Log) -> dict[str, Any]:
        attempts.append(len(attempts))
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return {"log": ["ok"]}

    policy = RetryPolicy(initial_interval=0.25, backoff_factor=2.0, jitter=False)
    graph = StateGraph(Log).add_node(flaky, retry=policy).add_edge(START, "flaky").compile()
    loop = new_loop(graph)
    driver = HandDriver(loop)
    assert driver.drive(loop.run_steps({"log": []})) == {"log": ["ok"]}
    assert driver.sleeps == [0.25, 0.5]
    assert attempts == [0, 1, 2]


def test_branch_calls_see_the_tasks_own_writes() -> None:
    seen: list[Any] = []

    def route(state: Log) -> str:
        seen.append(state)
        return "c"

    graph = (
        StateGraph(Log)
        .add_node("a", logger("a"))
        .add_node("c", logger("c"))
        .add_edge(START, "a")
        .add_conditional_edges("a", route, ["c"])
        .compile()
    )
    loop = new_loop(graph)
    driver = HandDriver(loop)
    assert driver.drive(loop.run_steps({"log": ["in"]})) == {"log": ["in", "a", "c"]}
    assert seen == [{"log": ["in", "a"]}]
    assert driver.calls == ["a", "route", "c"]


# --------------------------------------------------------- snapshot / resume


def cut_after_first_commit(graph: Any, inp: Any) -> tuple[RunSnapshot, HandDriver]:
    """Run step 1, let the loop commit it, snapshot, and abandon this loop."""
    loop = new_loop(graph)
    driver = HandDriver(loop)
    steps = loop.run_steps(inp)
    effect = next(steps)
    assert isinstance(effect, RunTasks)
    driver.handle(effect)
    after = steps.send(None)  # the loop commits step 1 and hands out step 2
    assert isinstance(after, RunTasks)
    snapshot = loop.snapshot()
    steps.close()
    return snapshot, driver


def test_snapshot_after_a_commit_holds_values_step_and_barriers_by_join_name() -> None:
    snapshot, _ = cut_after_first_commit(diamond(), {"log": []})
    assert snapshot.values == {"log": ["a", "b"]}
    assert snapshot.barriers == {"join:a+b2:c": {"a"}}
    assert snapshot.step == 1
    assert snapshot.pending_nodes == {"b2": ["branch:to:b2"]}
    assert snapshot.pending_sends == []


def test_restore_and_resume_gives_the_uncut_runs_output() -> None:
    graph = diamond()
    uncut = new_loop(graph)
    uncut_driver = HandDriver(uncut)
    expected = uncut_driver.drive(uncut.run_steps({"log": []}))
    assert expected == {"log": ["a", "b", "b2", "c"]}

    snapshot, first_driver = cut_after_first_commit(graph, {"log": []})
    fresh = new_loop(graph)
    fresh.restore(snapshot)
    resumed_driver = HandDriver(fresh)
    assert resumed_driver.drive(fresh.resume_steps()) == expected
    assert first_driver.steps + resumed_driver.steps == uncut_driver.steps
    assert fresh.step == uncut.step


def test_a_snapshot_is_a_copy() -> None:
    loop = new_loop(diamond())
    loop.start({"log": []})
    snapshot = loop.snapshot()
    snapshot.values["log"] = ["changed"]
    snapshot.pending_nodes["a"].append("changed")
    assert loop.snapshot() == RunSnapshot(
        0, {"log": []}, {"a": ["branch:to:a"], "b": ["branch:to:b"]}, [], {}
    )
