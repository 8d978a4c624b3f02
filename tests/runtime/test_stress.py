"""Many concurrent runs with random shapes, failures and early exits (bounded: seconds).

A fixed seed draws a few graphs (2-4 parallel nodes, each sync or async, joined into
one last node) and a few hundred runs over them: ``invoke``, ``ainvoke``, ``stream``
and ``astream``; some with a node that raises; some left early (``break`` at a random
item, ``close``/``aclose``, cancelling the consumer's task, ``asyncio.wait_for`` with
a short timeout). Sync runs go on eight threads while async runs go on one event
loop, all at once. Every run carries its tag in its state and in
``config["configurable"]``, and every item it yields carries the tag, so an item that
reaches the wrong consumer is seen.
"""

from __future__ import annotations

import asyncio
import operator
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from rillet.graph import START, StateGraph
from tests.runtime._hang import within

SEED = 20251121
RUNS = 320
RUN_BOUND = 10.0  # seconds one run may take before it counts as stuck


class St(TypedDict):
    tag: str
    log: Annotated[list[str], operator.add]


class Boom(Exception):
    """The error a node is told to raise."""


class Mixed(AssertionError):
    """A node saw another run's state."""


def make_node(name: str, is_async: bool) -> Callable[..., Any]:
    def check(state: St, config: dict[str, Any]) -> dict[str, Any]:
        plan: dict[str, Any] = config["configurable"]
        if state["tag"] != plan["tag"]:
            raise Mixed(f"{name} of run {plan['tag']} saw the state of run {state['tag']}")
        return plan

    if is_async:

        async def anode(state: St, config: dict[str, Any], writer: Any) -> dict[str, Any]:
            plan = check(state, config)
            for i in range(plan["writes"][name]):
                writer((plan["tag"], name, i))
                await asyncio.sleep(0)
            if plan["fail"] == name:
                raise Boom(f"{plan['tag']}:{name}")
            return {"log": [f"{plan['tag']}:{name}"]}

        anode.__name__ = name
        return anode

    def node(state: St, config: dict[str, Any], writer: Any) -> dict[str, Any]:
        plan = check(state, config)
        for i in range(plan["writes"][name]):
            writer((plan["tag"], name, i))
        if plan["fail"] == name:
            raise Boom(f"{plan['tag']}:{name}")
        return {"log": [f"{plan['tag']}:{name}"]}

    node.__name__ = name
    return node


@dataclass
class Shape:
    graph: Any
    parallel: list[str]  # the parallel nodes, in name order


def draw_shape(rng: random.Random) -> Shape:
    names = [f"p{i}" for i in range(rng.randint(2, 4))]
    builder = StateGraph(St)
    for name in names:
        builder.add_node(name, make_node(name, rng.random() < 0.5))
        builder.add_edge(START, name)
    builder.add_node("end", make_node("end", rng.random() < 0.5))
    builder.add_edge(names, "end")
    return Shape(builder.compile(), names)


@dataclass
class Plan:
    tag: str
    shape: Shape
    api: str  # invoke, ainvoke, stream, astream
    exit: str  # none, break, close, cancel, timeout
    at: int  # leave after this many items
    fail: str | None
    writes: dict[str, int]

    @property
    def config(self) -> dict[str, Any]:
        configurable = {"tag": self.tag, "fail": self.fail, "writes": self.writes}
        return {"configurable": configurable}

    @property
    def input(self) -> dict[str, Any]:
        return {"tag": self.tag, "log": []}

    def expected_output(self) -> dict[str, Any]:
        log = [f"{self.tag}:{name}" for name in self.shape.parallel]
        return {"tag": self.tag, "log": [*log, f"{self.tag}:end"]}

    def expected_items(self) -> list[Any]:
        tag, out = self.tag, self.expected_output()
        items: list[Any] = [("values", {"tag": tag, "log": []})]
        for name in [*self.shape.parallel, "end"]:
            items += [("custom", (tag, name, i)) for i in range(self.writes[name])]
            items.append(("updates", {name: {"log": [f"{tag}:{name}"]}}))
        items.append(("values", {"tag": tag, "log": out["log"][:-1]}))
        items.append(("values", out))
        return items


EXITS = {
    "invoke": ["none"],
    "ainvoke": ["none", "timeout"],
    "stream": ["none", "break", "close"],
    "astream": ["none", "break", "close", "cancel", "timeout"],
}


def draw_plans(rng: random.Random) -> list[Plan]:
    shapes = [draw_shape(rng) for _ in range(3)]
    plans = []
    for n in range(RUNS):
        shape = rng.choice(shapes)
        api = rng.choice(list(EXITS))
        writes = {name: rng.randint(0, 30) for name in [*shape.parallel, "end"]}
        fail = rng.choice([*shape.parallel, "end"]) if rng.random() < 0.25 else None
        plans.append(
            Plan(f"r{n}", shape, api, rng.choice(EXITS[api]), rng.randint(1, 40), fail, writes)
        )
    return plans


# ----------------------------------------------------------------- running


@dataclass
class Outcome:
    items: list[Any]
    output: Any = None
    error: BaseException | None = None
    stuck: bool = False
    seconds: float = 0.0


MODES = ["custom", "updates", "values"]


def run_sync(plan: Plan) -> Outcome:
    graph, outcome = plan.shape.graph, Outcome([])
    start = time.monotonic()
    try:
        if plan.api == "invoke":
            outcome.output = graph.invoke(plan.input, plan.config)
        else:
            stream = graph.stream(plan.input, plan.config, stream_mode=MODES)
            for item in stream:
                outcome.items.append(item)
                if plan.exit != "none" and len(outcome.items) == plan.at:
                    if plan.exit == "close":
                        stream.close()
                    break
    except Exception as exc:
        outcome.error = exc
    outcome.seconds = time.monotonic() - start
    return outcome


async def run_async(plan: Plan) -> Outcome:
    graph, outcome = plan.shape.graph, Outcome([])
    start = time.monotonic()
    timeout = 0.001 * (plan.at % 5)

    async def consume(left: asyncio.Event | None = None) -> None:
        stream = graph.astream(plan.input, plan.config, stream_mode=MODES)
        try:
            async for item in stream:
                outcome.items.append(item)
                if plan.exit in ("break", "close", "cancel") and len(outcome.items) == plan.at:
                    if plan.exit == "cancel":
                        assert left is not None
                        left.set()
                        await asyncio.Event().wait()  # until cancelled
                    break
        finally:
            if plan.exit != "break":  # break leaves the generator to the collector
                await stream.aclose()

    async def body() -> None:
        if plan.api == "ainvoke":
            call = graph.ainvoke(plan.input, plan.config)
            if plan.exit == "timeout":
                try:
                    outcome.output = await asyncio.wait_for(call, timeout)
                except TimeoutError:
                    outcome.output = "timed out"
            else:
                outcome.output = await call
        elif plan.exit == "timeout":
            try:
                await asyncio.wait_for(consume(), timeout)
            except TimeoutError:
                outcome.output = "timed out"
        elif plan.exit == "cancel":
            left = asyncio.Event()
            task = asyncio.ensure_future(consume(left))
            waiter = asyncio.ensure_future(left.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                outcome.output = "cancelled"
        else:
            await consume()

    try:
        await asyncio.wait_for(body(), RUN_BOUND)
    except TimeoutError:
        outcome.stuck = True
    except Exception as exc:
        outcome.error = exc
    outcome.seconds = time.monotonic() - start
    return outcome


def run_all(plans: list[Plan]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    sync_plans = [p for p in plans if p.api in ("invoke", "stream")]
    async_plans = [p for p in plans if p.api in ("ainvoke", "astream")]
    lock = threading.Lock()

    def sync_worker() -> None:
        while True:
            with lock:
                if not sync_plans:
                    return
                plan = sync_plans.pop()
            outcomes[plan.tag] = run_sync(plan)

    async def async_main() -> None:
        gate = asyncio.Semaphore(16)

        async def one(plan: Plan) -> None:
            async with gate:
                outcomes[plan.tag] = await run_async(plan)

        await asyncio.gather(*(one(p) for p in async_plans))

    threads = [threading.Thread(target=sync_worker, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    within(120, lambda: asyncio.run(async_main()))
    deadline = time.monotonic() + 120
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return outcomes


# ----------------------------------------------------------------- checking


def tag_of(item: Any) -> set[str]:
    mode, payload = item
    if mode == "custom":
        return {payload[0]}
    if mode == "values":
        return {payload["tag"], *(entry.split(":")[0] for entry in payload["log"])}
    (update,) = payload.values()
    return {entry.split(":")[0] for entry in update["log"]}


def problems_of(plan: Plan, outcome: Outcome) -> list[str]:
    """What is wrong with one run's outcome (nothing, for a good run)."""
    wrong = []
    if outcome.stuck or outcome.seconds > RUN_BOUND:
        return [f"stuck for {outcome.seconds:.1f} s"]
    foreign = [item for item in outcome.items if tag_of(item) != {plan.tag}]
    if foreign:
        wrong.append(f"items of other runs: {foreign[:3]}")
    if isinstance(outcome.error, Mixed):
        return [*wrong, str(outcome.error)]
    expected_items = sorted(plan.expected_items(), key=repr)
    if plan.fail is not None and outcome.error is not None:
        error = outcome.error
        if (type(error), str(error)) != (Boom, f"{plan.tag}:{plan.fail}"):
            wrong.append(f"raised {error!r}, not Boom('{plan.tag}:{plan.fail}')")
        elif not error.__notes__[0].startswith(f"During task with name {plan.fail!r} "):
            wrong.append(f"notes {error.__notes__}")
        if outcome.output is not None:
            wrong.append(f"an output despite the failure: {outcome.output}")
        return wrong
    if outcome.error is not None:
        return [*wrong, f"raised {outcome.error!r}"]
    if plan.fail is not None and plan.exit == "none":
        return [*wrong, "the failure was not raised"]
    if plan.fail is not None and outcome.output not in (None, "timed out", "cancelled"):
        return [*wrong, f"an output despite the failure: {outcome.output}"]
    if plan.api in ("invoke", "ainvoke"):
        if outcome.output not in (plan.expected_output(), "timed out"):
            wrong.append(f"output {outcome.output}")
        return wrong
    got = sorted(outcome.items, key=repr)
    if plan.exit == "none" and got != expected_items:
        wrong.append(f"items {got} != {expected_items}")
    if plan.exit in ("break", "close", "cancel"):
        complete = plan.fail is None and len(expected_items) <= plan.at
        count = len(outcome.items)
        cut_short = count < plan.at and plan.fail is not None  # the failure came first
        if count != (len(expected_items) if complete else plan.at) and not cut_short:
            wrong.append(f"{count} items for a leave after {plan.at}")
    if any(item not in plan.expected_items() for item in outcome.items):
        wrong.append(f"unexpected items in {outcome.items}")
    return wrong


def test_hundreds_of_random_runs_end_with_their_own_items_and_errors(no_leaked_threads) -> None:
    plans = draw_plans(random.Random(SEED))
    assert {p.api for p in plans} == set(EXITS)
    outcomes = run_all(plans)
    missing = [p.tag for p in plans if p.tag not in outcomes]
    assert missing == [], f"runs that never ended: {missing}"
    problems = {}
    for plan in plans:
        wrong = problems_of(plan, outcomes[plan.tag])
        if wrong:
            problems[plan.tag] = (plan.api, plan.exit, plan.fail, wrong)
    assert problems == {}
    failed = sum(1 for p in plans if outcomes[p.tag].error is not None)
    assert failed > 0  # the failures were really exercised
    deadline = time.monotonic() + 5  # a sync run's event loop closes as the run ends
    for thread in threading.enumerate():
        if thread.name == "rillet-loop":
            thread.join(max(0.0, deadline - time.monotonic()))
    names = [t.name for t in threading.enumerate()]
    leftover = {name: names.count(name) for name in names if name in ("rillet-run", "rillet-loop")}
    assert leftover == {}
