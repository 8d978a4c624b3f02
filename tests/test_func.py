"""The functional API beyond LangGraph's outputs (those are pinned by the ``func``
scenario in tests/checkpoint/test_langgraph_scenarios.py)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.checkpoint.sqlite import SqliteSaver
from rillet.errors import OutsideRunError, UsageError
from rillet.func import entrypoint, task
from rillet.types import Command, interrupt


def thread(name: str) -> dict:
    return {"configurable": {"thread_id": name}}


@task
def ask(question: str) -> str:
    return f"{question}:{interrupt(question)}"


@task
def inc(i: int) -> int:
    return i + 1


def test_parallel_tasks_interrupting_show_every_interrupt_with_its_own_id() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def both(_: int) -> list:
        futures = [ask("a"), ask("b")]
        return [f.result() for f in futures]

    first = both.invoke(1, thread("t"))
    pending = first["__interrupt__"]
    assert [i.value for i in pending] == ["a", "b"]
    assert pending[0].id != pending[1].id
    state = both.get_state(thread("t"))
    assert [i.value for i in state.interrupts] == ["a", "b"]
    again = both.invoke(Command(resume={pending[0].id: "A"}), thread("t"))
    assert again == {"__interrupt__": [pending[1]]}
    assert both.invoke(Command(resume={pending[1].id: "B"}), thread("t")) == ["a:A", "b:B"]


def test_thousands_of_task_updates_stream_without_blocking_and_early_exit_stops() -> None:
    @entrypoint()
    def many(n: int) -> int:
        return sum(f.result() for f in [inc(i) for i in range(n)])

    items = list(many.stream(3000))
    assert len(items) == 3001
    assert items[-1] == {"many": 4501500}
    for _ in many.stream(3000):
        break  # the run stops; nothing hangs

    async def consume() -> int:
        return len([u async for u in many.astream(3000)])

    assert asyncio.run(asyncio.wait_for(consume(), 60)) == 3001


def test_tasks_calling_tasks_and_tasks_inside_graph_nodes() -> None:
    from typing import TypedDict

    from rillet.graph import START, StateGraph

    @task
    def outer(x: int) -> int:
        return inc(x).result() * 10

    @entrypoint()
    def nest(x: int) -> int:
        return outer(x).result()

    assert list(nest.stream(1)) == [{"inc": 2}, {"outer": 20}, {"nest": 20}]

    class S(TypedDict):
        n: int

    def node(state: S) -> dict:
        return {"n": outer(state["n"]).result()}

    g = StateGraph(S)
    g.add_node("node", node)
    g.add_edge(START, "node")
    assert g.compile().invoke({"n": 2}) == {"n": 30}


def test_finished_tasks_survive_a_failure_on_sqlite_under_ainvoke(tmp_path) -> None:
    calls: list[str] = []
    fail = {"on": True}

    @task
    async def fetch(x: int) -> int:
        calls.append(f"fetch{x}")
        return x * 2

    @task
    def risky(x: int) -> int:
        calls.append("risky")
        if fail["on"]:
            raise ValueError("boom")
        return -x

    conn = sqlite3.connect(tmp_path / "t.db", check_same_thread=False)

    @entrypoint(checkpointer=SqliteSaver(conn))
    async def flow(x: int) -> list:
        a, b = await asyncio.gather(fetch(x), fetch(x + 1))
        return [a, b, await risky(a)]

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(flow.ainvoke(1, thread("s")))
    state = flow.get_state(thread("s"))
    assert state.next == ("flow",)
    assert [t.error for t in state.tasks] == ["ValueError('boom')"]
    fail["on"] = False
    reopened = SqliteSaver(sqlite3.connect(tmp_path / "t.db", check_same_thread=False))
    flow2 = entrypoint(checkpointer=reopened)(flow.func)
    assert asyncio.run(flow2.ainvoke(None, thread("s"))) == [2, 4, -2]
    assert sorted(calls) == ["fetch1", "fetch2", "risky", "risky"]


def test_bad_use_gets_clear_errors() -> None:
    with pytest.raises(OutsideRunError, match="called outside a running graph"):
        inc(1)
    assert inc.func(1) == 2
    with pytest.raises(UsageError, match="cannot fill"):
        @entrypoint()
        def two_inputs(a: int, b: int) -> int:
            return a + b
    with pytest.raises(UsageError, match=r"write @entrypoint\(\)"):
        @entrypoint
        def bare(a: int) -> int:
            return a
    with pytest.raises(UsageError, match="cache_policy"):
        task(cache_policy=object())
    with pytest.raises(UsageError, match="checkpointer"):
        entrypoint(checkpointer=object())


KILLED = '''
import os, signal, sys
from rillet.checkpoint.sqlite import SqliteSaver
from rillet.func import entrypoint, task

@task
def fetch(x):
    with open(sys.argv[2], "a") as log:
        log.write(f"fetch{x}\\n")
    return x * 10

@task
def crash(x):
    if sys.argv[3] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 1

with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    @entrypoint(checkpointer=saver)
    def flow(x):
        a = fetch(x).result()
        return [a, crash(a).result()]

    cfg = {"configurable": {"thread_id": "k"}}
    if sys.argv[3] == "kill":
        flow.invoke(1, cfg)
    else:
        print(flow.get_state(cfg).next, flow.invoke(None, cfg))
'''


def test_a_killed_process_leaves_finished_tasks_saved(tmp_path) -> None:
    import os
    import subprocess
    import sys

    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    db, log = str(tmp_path / "k.db"), tmp_path / "calls.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, str(script), db, str(log), "kill"], env=env,
                            timeout=60, capture_output=True, text=True)
    assert killed.returncode == -9
    resumed = subprocess.run([sys.executable, str(script), db, str(log), "resume"], env=env,
                             timeout=60, capture_output=True, text=True)
    assert (resumed.returncode, resumed.stderr) == (0, "")
    assert resumed.stdout == "('flow',) [10, 11]\n"
    assert log.read_text() == "fetch1\n"  # not run again


def test_retry_policy_of_a_task_and_durability_exit() -> None:
    from rillet.types import RetryPolicy

    attempts: list[int] = []

    @task(retry_policy=RetryPolicy(max_attempts=3, initial_interval=0, jitter=False))
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return x

    saver = InMemorySaver()

    @entrypoint(checkpointer=saver)
    def flow(x: int) -> int:
        return flaky(x).result()

    assert flow.invoke(5, thread("r"), durability="exit") == 5
    assert attempts == [5, 5, 5]
    history = list(flow.get_state_history(thread("r")))
    assert [(h.metadata["source"], h.metadata["step"], h.values) for h in history] == [
        ("loop", 0, 5)
    ]


def test_cancelling_astream_with_tasks_in_flight_cancels_them_and_loses_nothing() -> None:
    calls: list[str] = []
    cancelled: list[int] = []

    async def scenario() -> None:
        started, release = asyncio.Event(), asyncio.Event()
        running: list[int] = []

        @task
        async def quick(i: int) -> int:
            calls.append(f"quick{i}")
            return i * 10

        @task
        async def slow(i: int) -> int:
            calls.append(f"slow{i}")
            running.append(i)
            if len(running) == 3:
                started.set()
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancelled.append(i)
                raise
            return i

        @entrypoint(checkpointer=InMemorySaver())
        async def main(n: int) -> int:
            first = await quick(1)
            return first + sum(await asyncio.gather(*[slow(i) for i in range(n)]))

        async def consume() -> list:
            return [item async for item in main.astream(3, thread("cancel"))]

        consumer = asyncio.create_task(consume())
        await asyncio.wait_for(started.wait(), 30)
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(consumer, 30)
        assert sorted(cancelled) == [0, 1, 2]  # every task in flight was cancelled
        assert main.get_state(thread("cancel")).next == ("main",)
        running.clear()
        release.set()
        # the finished task's saved result is used, the cancelled ones run again
        assert await asyncio.wait_for(main.ainvoke(None, thread("cancel")), 30) == 13

    asyncio.run(scenario())
    assert calls == ["quick1", "slow0", "slow1", "slow2", "slow0", "slow1", "slow2"]
