"""The reliability probe's defects, one test each (shared/reviews/reliability-probe.md).

D1-D16 are the hangs, wrong results and unbounded resources (D4 and D17 are
OpenAI's, tested in tests/models); U1, U7, U8 and C1 are the errors. Each test is the
probe's repro, made exact and bounded: anything that could hang runs under
:func:`~tests.runtime._hang.within` (or in a subprocess), and what happens while a
node runs is pinned with handshakes, never with sleeps. The last sections pin the
runtime's lockstep with its consumer, the events' ``seq``/``run`` stamps and
deterministic task ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import operator
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Optional, TypedDict

import pytest

from rillet.config import get_stream_writer
from rillet.errors import GraphBuildError
from rillet.graph import END, START, MessagesState, StateGraph
from rillet.messages import AIMessage, AIMessageChunk, BaseMessage
from rillet.models import ChatModel, FakeChatModel
from rillet.prebuilt import ToolNode, create_react_agent
from rillet.stream._events import CustomEvent, UpdatesEvent, ValuesEvent
from rillet.tools import tool
from rillet.types import Command, Send
from tests.conftest import scrub
from tests.runtime._hang import HANDSHAKE_TIMEOUT, run_python, wait, within

BOUND = 20.0  # seconds a bounded run may take before it counts as hung


class X(TypedDict):
    x: int


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


class Msgs(TypedDict):
    messages: Annotated[list[Any], operator.add]


def task_note(name: str) -> str:
    return f"During task with name {name!r} and id '<id>'"


def run_async(main: Any) -> Any:
    """``asyncio.run(main())``, bounded."""
    return within(BOUND, lambda: asyncio.run(main()))


def collect(api: str, graph: Any, inp: Any, **kwargs: Any) -> list[Any]:
    """Every item of a whole ``stream`` or ``astream`` run, bounded."""
    if api == "sync":
        return within(BOUND, lambda: list(graph.stream(inp, **kwargs)))

    async def main() -> list[Any]:
        return [item async for item in graph.astream(inp, **kwargs)]

    return run_async(main)


def result_of(api: str, graph: Any, inp: Any, config: Any = None) -> Any:
    """``invoke`` or ``ainvoke``, bounded."""
    if api == "sync":
        return within(BOUND, graph.invoke, inp, config)

    async def main() -> Any:
        return await graph.ainvoke(inp, config)

    return run_async(main)


def first_items(api: str, graph: Any, inp: Any, n: int = 1, **kwargs: Any) -> list[Any]:
    """The first ``n`` items, then leave the loop (``break``), bounded."""
    if api == "sync":

        def consume() -> list[Any]:
            got = []
            for item in graph.stream(inp, **kwargs):
                got.append(item)
                if len(got) == n:
                    break
            return got

        return within(BOUND, consume)

    async def main() -> list[Any]:
        got = []
        async with contextlib.aclosing(graph.astream(inp, **kwargs)) as items:
            async for item in items:
                got.append(item)
                if len(got) == n:
                    break
        return got

    return run_async(main)


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ------------------------------------------------- D1: StopIteration from a node


def empty_next(state: X) -> dict[str, Any]:
    return {"x": next(iter([]))}  # an everyday bug: next() on an empty iterator


STOP_GRAPH = StateGraph(X).add_node("node", empty_next).add_edge(START, "node").compile()


def test_d1_invoke_raises_a_nodes_stop_iteration_as_itself() -> None:
    with pytest.raises(StopIteration) as info:
        within(BOUND, STOP_GRAPH.invoke, {"x": 0})
    assert scrub(info.value.__notes__) == [task_note("node")]


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
def test_d1_async_apis_raise_a_sync_nodes_stop_iteration_as_runtime_error(method: str) -> None:
    async def main() -> Any:
        if method == "ainvoke":
            return await asyncio.wait_for(STOP_GRAPH.ainvoke({"x": 0}), BOUND)
        return [item async for item in STOP_GRAPH.astream({"x": 0})]

    with pytest.raises(RuntimeError) as info:
        run_async(main)
    error = info.value
    assert str(error) == "StopIteration raised by the node: StopIteration()"
    assert type(error.__cause__) is StopIteration
    assert scrub(error.__notes__) == [task_note("node")]


@tool
def find_hit(q: str) -> str:
    """Find the first hit for q."""
    return next(h for h in ["a", "b"] if h == q)


TOOL_STOP_GRAPH = (
    StateGraph(Msgs).add_node("tools", ToolNode([find_hit])).add_edge(START, "tools").compile()
)
FIND_CALL = AIMessage("", tool_calls=[{"name": "find_hit", "args": {"q": "zzz"}, "id": "1"}])


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
def test_d1_a_sync_tools_stop_iteration_reaches_async_callers(method: str) -> None:
    async def main() -> Any:
        inp = {"messages": [FIND_CALL]}
        if method == "ainvoke":
            return await asyncio.wait_for(TOOL_STOP_GRAPH.ainvoke(inp), BOUND)
        return [item async for item in TOOL_STOP_GRAPH.astream(inp)]

    with pytest.raises(RuntimeError) as info:
        run_async(main)
    assert type(info.value.__cause__) is StopIteration
    assert scrub(info.value.__notes__) == [task_note("tools")]


# ------------------------------------------ D2: ToolNodes inside the worker pool


@tool
def lookup(q: str) -> str:
    """Look something up."""
    time.sleep(0.01)  # a little work, so that the pool is really busy
    return q


def two_calls(prefix: str = "q") -> AIMessage:
    calls = [{"name": "lookup", "args": {"q": f"{prefix}{i}"}, "id": str(i)} for i in range(2)]
    return AIMessage("", tool_calls=calls)


def tool_results(update: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m.content, m.tool_call_id) for m in update["messages"]]


def test_d2_fifty_concurrent_streams_with_parallel_tool_nodes_all_finish() -> None:
    graph = (
        StateGraph(Msgs)
        .add_node("left", ToolNode([lookup]))
        .add_node("right", ToolNode([lookup]))
        .add_edge(START, "left")
        .add_edge(START, "right")
        .compile()
    )
    results: dict[int, list[Any]] = {}

    def run(i: int) -> None:
        results[i] = list(graph.stream({"messages": [two_calls()]}))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(50)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert sorted(results) == list(range(50)), f"{50 - len(results)} of 50 runs are stuck"
    for items in results.values():
        shaped = sorted(
            (node, tool_results(update)) for item in items for node, update in item.items()
        )
        assert shaped == [
            ("left", [("q0", "0"), ("q1", "1")]),
            ("right", [("q0", "0"), ("q1", "1")]),
        ]


def fan_arg(i: int) -> dict[str, Any]:
    return {"messages": [two_calls(f"t{i}.")]}


@pytest.mark.parametrize("method", ["invoke", "stream", "ainvoke"])
def test_d2_send_fan_out_of_64_tool_nodes_with_two_calls_each_finishes(method: str) -> None:
    graph = (
        StateGraph(Msgs)
        .add_node("tools", ToolNode([lookup]))
        .add_conditional_edges(START, lambda s: [Send("tools", fan_arg(i)) for i in range(64)])
        .compile()
    )
    if method == "invoke":
        out = within(60, graph.invoke, {"messages": []})
    elif method == "stream":
        out = within(60, lambda: list(graph.stream({"messages": []}, stream_mode="values"))[-1])
    else:
        out = within(60, lambda: asyncio.run(graph.ainvoke({"messages": []})))
    assert tool_results(out) == [(f"t{i}.{j}", str(j)) for i in range(64) for j in range(2)]


# ------------------------------ D3: one event loop per sync run, shared by its nodes


@pytest.mark.parametrize("method", ["invoke", "stream", "ainvoke"])
def test_d3_a_semaphore_shared_by_parallel_async_nodes_works(method: str) -> None:
    class Out(TypedDict):
        out: Annotated[list[int], operator.add]

    limit = asyncio.Semaphore(2)  # "at most 2 LLM calls at once", fresh for this run
    inside = {"now": 0, "peak": 0}

    async def call_llm(arg: int) -> dict[str, Any]:
        async with limit:
            inside["now"] += 1
            inside["peak"] = max(inside["peak"], inside["now"])
            await asyncio.sleep(0.01)
            inside["now"] -= 1
        return {"out": [arg]}

    graph = (
        StateGraph(Out)
        .add_node("call_llm", call_llm)
        .add_conditional_edges(START, lambda s: [Send("call_llm", i) for i in range(6)])
        .compile()
    )
    if method == "invoke":
        assert within(BOUND, graph.invoke, {"out": []}) == {"out": [0, 1, 2, 3, 4, 5]}
    elif method == "stream":
        items = within(BOUND, lambda: list(graph.stream({"out": []})))
        assert sorted(item["call_llm"]["out"][0] for item in items) == [0, 1, 2, 3, 4, 5]
    else:
        assert run_async(lambda: graph.ainvoke({"out": []})) == {"out": [0, 1, 2, 3, 4, 5]}
    assert 1 <= inside["peak"] <= 2


# -------------------------------------- D5: after break, nothing else starts


def test_d5_custom_mode_break_starts_no_later_node(api: str) -> None:
    started: list[str] = []
    release, a_done = threading.Event(), threading.Event()

    def a(state: X, writer: Any) -> dict[str, Any]:
        started.append("a")
        try:
            writer("hello")
            release.wait(HANDSHAKE_TIMEOUT)
        finally:
            a_done.set()
        return {"x": 1}

    def b(state: X) -> dict[str, Any]:
        started.append("b")  # e.g. sends an e-mail
        return {"x": 2}

    def c(state: X) -> dict[str, Any]:
        started.append("c")  # e.g. a paid LLM call
        return {"x": 3}

    graph = StateGraph(X).add_sequence([a, b, c]).add_edge(START, "a").compile()
    assert first_items(api, graph, {"x": 0}, stream_mode="custom") == ["hello"]
    assert not a_done.is_set()  # the break did not wait for a
    release.set()
    wait(a_done, "a ends once released")
    assert started == ["a"]


def test_d5_values_mode_break_on_the_input_starts_nothing(api: str) -> None:
    started: list[str] = []

    def a(state: X) -> None:
        started.append("a")

    graph = StateGraph(X).add_node("a", a).add_edge(START, "a").compile()
    assert first_items(api, graph, {"x": 0}, stream_mode="values") == [{"x": 0}]
    assert started == []


def test_d5_messages_mode_break_starts_no_later_node(api: str) -> None:
    started: list[str] = []
    llm_done = threading.Event()
    model = FakeChatModel(["one two three four"])

    def llm(state: MessagesState) -> dict[str, Any]:
        started.append("llm")
        try:
            return {"messages": [model.invoke(state["messages"])]}
        finally:
            llm_done.set()

    def side_effect(state: MessagesState) -> None:
        started.append("side effect")

    graph = (
        StateGraph(MessagesState)
        .add_sequence([llm, ("side effect", side_effect)])
        .add_edge(START, "llm")
        .compile()
    )
    items = first_items(api, graph, {"messages": [("user", "hi")]}, stream_mode="messages")
    assert [chunk.content for chunk, _ in items] == ["one"]
    wait(llm_done, "the model call ends")
    assert started == ["llm"]


def test_d5_react_agent_in_custom_mode_does_not_call_the_model_after_break(api: str) -> None:
    release, done = threading.Event(), threading.Event()
    seen: list[str] = []

    @tool
    def get_items(place: str) -> str:
        """List items in a place."""
        writer = get_stream_writer()
        try:
            writer({"custom_tool_data": "books"})
            release.wait(HANDSHAKE_TIMEOUT)
            writer({"custom_tool_data": "pencils"})
        except BaseException as exc:
            seen.append(type(exc).__name__)
            raise
        finally:
            done.set()
        return "books, pencils"

    model = FakeChatModel(
        [
            AIMessage(
                "", tool_calls=[{"name": "get_items", "args": {"place": "office"}, "id": "1"}]
            ),
            "In the office: books and pencils.",
        ]
    )
    agent = create_react_agent(model, tools=[get_items])
    inp = {"messages": [("user", "what is in the office?")]}
    assert first_items(api, agent, inp, stream_mode="custom") == [{"custom_tool_data": "books"}]
    release.set()
    wait(done, "the tool ends")
    assert seen == ["StreamClosedError"]
    assert len(model.calls) == 1  # the model is not called (and billed) again


# ------------------------------------- D6: break cancels async nodes, also in stream()


def test_d6_break_cancels_a_running_async_node(api: str) -> None:
    log: list[str] = []
    cancelled = threading.Event()

    async def slow(state: X, writer: Any) -> dict[str, Any]:
        writer("started")
        try:
            await asyncio.sleep(60)
            log.append("finished (not cancelled)")
        except asyncio.CancelledError:
            log.append("cancelled")
            cancelled.set()
            raise
        return {"x": 1}

    graph = StateGraph(X).add_node(slow).add_edge(START, "slow").compile()
    items = first_items(api, graph, {"x": 0}, stream_mode=["custom", "updates"])
    assert items == [("custom", "started")]
    wait(cancelled, "the async node is cancelled")
    assert log == ["cancelled"]


# ------------------- D7: leaving does not wait for a sync node blocked in a call


def blocked_graph() -> tuple[Any, dict[str, Any]]:
    state: dict[str, Any] = {
        "gate": threading.Event(),
        "entered": threading.Event(),
        "finished": threading.Event(),
        "started": [],
    }

    def blocked(s: X, writer: Any) -> dict[str, Any]:
        state["started"].append("blocked")
        writer("one item")
        state["entered"].set()
        try:
            state["gate"].wait(HANDSHAKE_TIMEOUT)  # a lock, a socket read ...
        finally:
            state["finished"].set()
        return {"x": 1}

    def after(s: X) -> None:
        state["started"].append("after")

    graph = StateGraph(X).add_sequence([blocked, after]).add_edge(START, "blocked").compile()
    return graph, state


def test_d7_stream_break_returns_while_a_sync_node_is_blocked() -> None:
    graph, state = blocked_graph()
    assert first_items("sync", graph, {"x": 0}, stream_mode="custom") == ["one item"]
    assert not state["finished"].is_set()  # break returned; the node is still blocked
    state["gate"].set()
    wait(state["finished"], "the node ends once released")
    assert state["started"] == ["blocked"]


def test_d7_wait_for_timeout_around_astream_returns_while_a_sync_node_is_blocked() -> None:
    graph, state = blocked_graph()

    async def main() -> tuple[Any, bool]:
        items = graph.astream({"x": 0}, stream_mode="custom")
        first = await anext(items)

        async def rest() -> None:
            async for _ in items:
                pass

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(rest(), 0.05)
        still_blocked = not state["finished"].is_set()
        await items.aclose()
        return first, still_blocked

    assert run_async(main) == ("one item", True)
    state["gate"].set()
    wait(state["finished"], "the node ends once released")
    assert state["started"] == ["blocked"]


# -------------------- D8: a model inside a node stops pulling tokens after break


class GatedLLM(ChatModel):
    """50 tokens; every token after the first waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.produced = 0
        self.closed = False
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        try:
            for i in range(50):
                if i:
                    self.waiting.set()
                    self.gate.wait(HANDSHAKE_TIMEOUT)
                self.produced += 1
                yield AIMessageChunk(f" tok{i}")
        except GeneratorExit:
            self.closed = True
            raise


@pytest.mark.parametrize("modes", [["custom", "updates"], ["custom", "messages"]])
def test_d8_a_model_stops_pulling_tokens_after_break(api: str, modes: list[str]) -> None:
    llm = GatedLLM()
    done = threading.Event()

    def agent(state: MessagesState, writer: Any) -> dict[str, Any]:
        try:
            writer({"status": "calling the model"})
            return {"messages": [llm.invoke(state["messages"])]}
        finally:
            done.set()

    graph = StateGraph(MessagesState).add_node(agent).add_edge(START, "agent").compile()
    inp = {"messages": [("user", "hi")]}

    def leave_when_the_model_waits(item: Any) -> Any:
        wait(llm.waiting, "the model produced its first token")
        return item

    if api == "sync":

        def consume() -> Any:
            for item in graph.stream(inp, stream_mode=modes):
                return leave_when_the_model_waits(item)
            return None

        first = within(BOUND, consume)
    else:

        async def main() -> Any:
            async with contextlib.aclosing(graph.astream(inp, stream_mode=modes)) as it:
                async for item in it:
                    return await asyncio.to_thread(leave_when_the_model_waits, item)
            return None

        first = run_async(main)
    assert first == ("custom", {"status": "calling the model"})
    llm.gate.set()  # the provider could now stream every token at once
    wait(done, "the node ends")
    assert (llm.produced, llm.closed) == (2, True)


# --------------------- D9: a held stream left with break does not block process exit


def test_d9_process_exits_after_break_out_of_a_held_stream() -> None:
    done = run_python(
        """
        from typing import TypedDict
        from rillet.graph import START, StateGraph

        class S(TypedDict):
            x: int

        def chatty(state, writer):
            for i in range(100_000):
                writer(i)
            return {}

        g = (StateGraph(S).add_node("a", chatty).add_node("b", chatty)
             .add_edge(START, "a").add_edge(START, "b").compile())
        stream = g.stream({"x": 0}, stream_mode="custom")
        for item in stream:
            if item == 3:
                break
        it = g.stream({"x": 0}, stream_mode="custom")
        next(it)
        print("end of script", flush=True)
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "end of script\n", "")


# ------------- D10: a held astream, left with break, does not run on in the background


def test_d10_held_astream_after_break_runs_no_further_and_is_cancelled_when_collected() -> None:
    steps = {"n": 0, "done": False}
    started: list[str] = []
    cancelled = threading.Event()

    async def node(state: X, writer: Any) -> dict[str, Any]:
        try:
            for i in range(5000):
                writer(i)
                steps["n"] += 1
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        steps["done"] = True
        return {}

    def after(state: X) -> None:
        started.append("after")

    graph = StateGraph(X).add_sequence([node, after]).add_edge(START, "node").compile()

    async def main() -> tuple[bool, bool, list[str], bool]:
        agen = graph.astream({"x": 0}, stream_mode="custom")
        async for _ in agen:
            break
        for _ in range(3000):  # the caller goes on with other async work
            await asyncio.sleep(0)
        held_back = steps["n"] <= 1100
        finished = bool(steps["done"])
        del agen
        gc.collect()
        for _ in range(50):
            await asyncio.sleep(0)
        return held_back, finished, list(started), cancelled.is_set()

    assert run_async(main) == (True, False, [], True)


# ------------------------------- D11: astream's bound holds for async writers too


def test_d11_async_writer_that_awaits_is_held_to_the_bus_bound() -> None:
    produced = {"n": 0}

    async def producer(state: X, writer: Any) -> dict[str, Any]:
        for i in range(20_000):
            writer(i)
            produced["n"] += 1
            await asyncio.sleep(0)
        return {}

    graph = StateGraph(X).add_node(producer).add_edge(START, "producer").compile()

    async def main() -> tuple[int, int]:
        consumed = ahead = 0
        async for _ in graph.astream({"x": 0}, stream_mode="custom"):
            consumed += 1
            ahead = max(ahead, produced["n"] - consumed)
            if consumed % 100 == 0:
                await asyncio.sleep(0.001)  # a slow consumer (websocket, UI)
        return consumed, ahead

    consumed, ahead = within(60, lambda: asyncio.run(main()))
    assert consumed == 20_000
    assert ahead <= 1100


# ------------------------ D12: a subgraph invoked with invoke() inside an async node


def test_d12_async_node_invoking_a_chatty_subgraph_under_astream_completes() -> None:
    async def inner(state: X, writer: Any) -> dict[str, Any]:
        for i in range(2000):
            writer(i)
        return {"x": 1}

    sub = StateGraph(X).add_node(inner).add_edge(START, "inner").compile()

    async def outer(state: X) -> dict[str, Any]:
        return sub.invoke(state)

    graph = StateGraph(X).add_node(outer).add_edge(START, "outer").compile()
    items = collect("async", graph, {"x": 0}, stream_mode="custom", subgraphs=True)
    assert scrub(items) == [(("outer:<id>",), i) for i in range(2000)]


@pytest.mark.parametrize("api", ["sync", "async"])
def test_d12_an_async_subgraph_node_under_an_async_node_invoking_it_by_hand(api: str) -> None:
    """The inner node awaits, so its coroutine needs a loop while the outer async node
    blocks the run's loop in ``sub.invoke()``: under ``stream()`` that loop is the run's
    loop thread, which must not be asked to wait for itself."""

    async def inner(state: X, writer: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        for i in range(2000):
            writer(i)
        return {"x": 1}

    sub = StateGraph(X).add_node(inner).add_edge(START, "inner").compile()

    async def outer(state: X) -> dict[str, Any]:
        return sub.invoke(state)

    graph = StateGraph(X).add_node(outer).add_edge(START, "outer").compile()
    items = collect(api, graph, {"x": 0}, stream_mode="custom", subgraphs=True)
    assert scrub(items) == [(("outer:<id>",), i) for i in range(2000)]
    assert result_of(api, graph, {"x": 0}) == {"x": 1}


# --------------------------------------------------- D13: edges to END from START/joins


def noop(state: Any) -> dict[str, Any]:
    return {}


def test_d13_start_to_end_returns_the_input(api: str) -> None:
    graph = StateGraph(X).add_edge(START, END).compile()
    assert result_of(api, graph, {"x": 1}) == {"x": 1}
    assert collect(api, graph, {"x": 1}, stream_mode="updates") == []
    assert collect(api, graph, {"x": 1}, stream_mode="values") == [{"x": 1}]


def test_d13_start_to_a_and_to_end_gives_as_result(api: str) -> None:
    graph = (
        StateGraph(X)
        .add_node("a", lambda s: {"x": 2})
        .add_edge(START, "a")
        .add_edge(START, END)
        .compile()
    )
    assert result_of(api, graph, {"x": 1}) == {"x": 2}
    assert collect(api, graph, {"x": 1}, stream_mode="updates") == [{"a": {"x": 2}}]


def test_d13_join_to_end_gives_both_writes(api: str) -> None:
    graph = (
        StateGraph(Log)
        .add_node("a", lambda s: {"log": ["a"]})
        .add_node("b", lambda s: {"log": ["b"]})
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], END)
        .compile()
    )
    assert result_of(api, graph, {"log": []}) == {"log": ["a", "b"]}


# --------------------------------------------------- D14: a join naming a node twice


def test_d14_join_with_a_duplicated_source_is_rejected_at_compile() -> None:
    builder = (
        StateGraph(Log)
        .add_node("a", lambda s: {"log": ["a"]})
        .add_node("b", lambda s: {"log": ["b"]})
        .add_edge(START, "a")
        .add_edge(["a", "a"], "b")
    )
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    assert str(info.value) == (
        "Edge ['a', 'a'] -> 'b' names 'a' twice: a join waits for each of its nodes once, "
        "so list each node once"
    )


# --------------------------------------------- D15: Optional[T] = None takes null


def test_d15_optional_tool_argument_accepts_none() -> None:
    @tool
    def search(query: str, limit: Optional[int] = None) -> str:  # noqa: UP045 - the probe's spelling
        """Search the catalogue."""
        return f"{query}:{limit}"

    assert search.invoke({"query": "socks"}) == "socks:None"
    assert search.invoke({"query": "socks", "limit": 3}) == "socks:3"
    assert search.invoke({"query": "socks", "limit": None}) == "socks:None"


# ------------------- D16: Command.PARENT from a subgraph invoked by hand in a node


def handoff(state: Log) -> Command[Any]:
    return Command(graph=Command.PARENT, goto="other", update={"log": ["handoff"]})


HANDOFF_SUB = StateGraph(Log).add_node(handoff).add_edge(START, "handoff").compile()


def call_sub(state: Log) -> Any:
    return HANDOFF_SUB.invoke(state)


@pytest.mark.parametrize("destinations", [("other",), None], ids=["declared", "undeclared"])
def test_d16_parent_command_from_a_hand_invoked_subgraph_routes_in_the_parent(
    api: str, destinations: tuple[str, ...] | None
) -> None:
    graph = (
        StateGraph(Log)
        .add_node("agent", call_sub, destinations=destinations)
        .add_node("other", lambda s: {"log": ["other ran"]})
        .add_edge(START, "agent")
        .compile()
    )
    assert result_of(api, graph, {"log": []}) == {"log": ["handoff", "other ran"]}
    assert collect(api, graph, {"log": []}, stream_mode="updates") == [
        {"agent": {"log": ["handoff"]}},
        {"other": {"log": ["other ran"]}},
    ]


# ----------------------------------------------------- lockstep with the consumer


def recording_chain(started: list[str], done: threading.Event | None = None) -> Any:
    def make(name: str) -> Any:
        def node(state: X, writer: Any) -> dict[str, Any]:
            started.append(name)
            writer(f"from {name}")
            if done is not None and name == "a":
                done.set()
            return {"x": state["x"] + 1}

        node.__name__ = name
        return node

    builder = StateGraph(X).add_sequence([make("a"), make("b"), make("c")])
    return builder.add_edge(START, "a").compile()


def test_lockstep_break_after_the_first_update_starts_nothing_more(api: str) -> None:
    started: list[str] = []
    graph = recording_chain(started)
    assert first_items(api, graph, {"x": 0}, stream_mode="updates") == [{"a": {"x": 1}}]
    assert started == ["a"]


def test_lockstep_break_on_a_custom_item_starts_nothing_more(api: str) -> None:
    started: list[str] = []
    a_done = threading.Event()
    graph = recording_chain(started, a_done)
    assert first_items(api, graph, {"x": 0}, stream_mode="custom") == ["from a"]
    wait(a_done, "a ends")
    assert started == ["a"]


# ---------------------------------------------------------------------- errors


class Both(TypedDict):
    items: Annotated[list[str], operator.add]
    other: int


def test_u1_a_reducer_error_names_the_key_and_the_node(api: str) -> None:
    graph = (
        StateGraph(Both)
        .add_node("good", lambda s: {"other": 1})
        .add_node("bad", lambda s: {"items": "oops, a str"})
        .add_edge(START, "good")
        .add_edge(START, "bad")
        .compile()
    )
    for run in (result_of, collect):
        with pytest.raises(TypeError) as info:
            run(api, graph, {"items": [], "other": 0})
        assert str(info.value) == 'can only concatenate list (not "str") to list'
        assert info.value.__notes__ == ["While applying the write(s) of 'bad' to state key 'items'"]


class Flagged(Exception):
    """An error that tells the test when the runtime has recorded it: the runtime
    adds its task note right after it sets the task's error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.recorded = threading.Event()
        self.on_record: Any = None

    def add_note(self, note: str) -> None:
        super().add_note(note)
        self.recorded.set()
        on_record, self.on_record = self.on_record, None  # once: a second note may follow
        if on_record is not None:
            on_record()


class AFailed(Flagged):
    pass


class BFailed(Flagged):
    pass


def also_failed(other: Flagged) -> str:
    name = "a" if isinstance(other, AFailed) else "b"
    return f"Also failed in the same step: {name!r} ({type(other).__name__}: {other})"


def test_u7_ainvoke_raises_the_first_failure_and_names_the_second() -> None:
    a_err, b_err = AFailed("a failed"), BFailed("b failed")
    c_log: list[str] = []

    handshake: dict[str, asyncio.Future[None]] = {}

    async def a(state: X) -> None:
        await handshake["b ready"]
        raise a_err

    async def b(state: X) -> None:
        recorded = asyncio.get_running_loop().create_future()
        a_err.on_record = lambda: recorded.set_result(None)
        handshake["b ready"].set_result(None)
        await recorded  # a has failed (and its failure is recorded)
        raise b_err

    async def c(state: X) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            c_log.append("cancelled")
            raise

    graph = StateGraph(X)
    for node in (a, b, c):
        graph.add_node(node).add_edge(START, node.__name__)

    async def main() -> Any:
        handshake["b ready"] = asyncio.get_running_loop().create_future()
        return await graph.compile().ainvoke({"x": 0})

    with pytest.raises(AFailed) as info:
        run_async(main)
    assert info.value is a_err
    assert scrub(a_err.__notes__) == [task_note("a"), also_failed(b_err)]
    assert c_log == ["cancelled"]


def test_u7_astream_raises_the_first_failure_and_names_the_second() -> None:
    a_err, b_err = AFailed("a failed"), BFailed("b failed")

    handshake: dict[str, asyncio.Future[None]] = {}

    async def a(state: X) -> None:
        await handshake["b ready"]
        raise a_err

    async def b(state: X) -> None:
        recorded = asyncio.get_running_loop().create_future()
        a_err.on_record = lambda: recorded.set_result(None)
        handshake["b ready"].set_result(None)
        await recorded  # a has failed (and its failure is recorded)
        raise b_err

    graph = StateGraph(X)
    for node in (a, b):
        graph.add_node(node).add_edge(START, node.__name__)
    compiled = graph.compile()

    async def main() -> list[Any]:
        handshake["b ready"] = asyncio.get_running_loop().create_future()
        return [item async for item in compiled.astream({"x": 0})]

    with pytest.raises(AFailed) as info:
        run_async(main)
    assert info.value is a_err
    assert scrub(a_err.__notes__) == [task_note("a"), also_failed(b_err)]


def test_u7_stream_raises_one_failure_naming_the_other_without_waiting_for_a_slow_sibling() -> None:
    a_err, b_err = AFailed("a failed"), BFailed("b failed")
    c_wrote, c_gate, c_done = threading.Event(), threading.Event(), threading.Event()

    def a(state: X) -> None:
        wait(c_wrote, "c wrote")
        raise a_err

    def b(state: X) -> None:
        wait(a_err.recorded, "a failed")
        raise b_err

    def c(state: X, writer: Any) -> None:
        try:
            writer("c waiting")
            c_wrote.set()
            c_gate.wait(HANDSHAKE_TIMEOUT)
        finally:
            c_done.set()

    graph = StateGraph(X)
    for node in (a, b, c):
        graph.add_node(node).add_edge(START, node.__name__)
    compiled = graph.compile()

    def consume() -> list[Any]:
        got = []
        for item in compiled.stream({"x": 0}, stream_mode="custom"):
            got.append(item)
            wait(b_err.recorded, "b failed")  # both have failed before the driver looks
        return got

    with pytest.raises(Flagged) as info:
        within(BOUND, consume)
    assert not c_done.is_set()  # raised while c still runs
    raised = info.value
    other = b_err if raised is a_err else a_err
    assert raised in (a_err, b_err)
    name = "a" if raised is a_err else "b"
    assert scrub(raised.__notes__) == [task_note(name), also_failed(other)]
    c_gate.set()
    wait(c_done, "c ends once released")


def test_u7_invoke_raises_the_first_failure_without_waiting_for_a_slow_sibling() -> None:
    a_err = AFailed("a failed")
    c_gate, c_done = threading.Event(), threading.Event()

    def a(state: X) -> None:
        raise a_err

    def b(state: X) -> None:
        return None

    def c(state: X) -> None:
        try:
            c_gate.wait(HANDSHAKE_TIMEOUT)
        finally:
            c_done.set()

    graph = StateGraph(X)
    for node in (a, b, c):
        graph.add_node(node).add_edge(START, node.__name__)
    compiled = graph.compile()
    try:
        with pytest.raises(AFailed) as info:
            within(HANDSHAKE_TIMEOUT / 2, compiled.invoke, {"x": 0})
        assert not c_done.is_set()  # raised while c still runs
        assert scrub(info.value.__notes__) == [task_note("a")]
    finally:
        c_gate.set()
    wait(c_done, "c ends once released")


def test_u8_stream_turns_a_nodes_stop_iteration_into_runtime_error_with_the_note() -> None:
    with pytest.raises(RuntimeError) as info:
        collect("sync", STOP_GRAPH, {"x": 0})
    assert type(info.value.__cause__) is StopIteration
    assert scrub(info.value.__notes__) == [task_note("node")]


def test_c1_a_reused_exception_gets_one_note_however_many_runs(api: str) -> None:
    error = ValueError("cached")

    def node(state: X) -> None:
        raise error

    graph = StateGraph(X).add_node(node).add_edge(START, "node").compile()
    for _ in range(3):
        with pytest.raises(ValueError):
            result_of(api, graph, {"x": 0})
        with pytest.raises(ValueError):
            collect(api, graph, {"x": 0})
    assert scrub(error.__notes__) == [task_note("node")]


# ---------------------------------------------------------- events and identity

RUN_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_every_event_the_consumer_sees_is_stamped_with_seq_and_run(api: str) -> None:
    def a(state: X, writer: Any) -> dict[str, Any]:
        writer("one")
        writer("two")
        return {"x": 1}

    graph = StateGraph(X).add_node(a).add_edge(START, "a").compile()
    table = {CustomEvent: lambda ev: ev, UpdatesEvent: lambda ev: ev, ValuesEvent: lambda ev: ev}
    modes = frozenset({"custom", "updates", "values"})
    config = {"run_id": RUN_ID}
    if api == "sync":
        events = within(BOUND, lambda: list(graph._stream({"x": 0}, config, modes, False, table)))
    else:

        async def main() -> list[Any]:
            return [ev async for ev in graph._astream({"x": 0}, config, modes, False, table)]

        events = run_async(main)
    assert [ev.to_dict() for ev in events] == [
        {"kind": "values", "ns": (), "run": RUN_ID, "seq": 0, "values": {"x": 0},
         "interrupts": ()},
        {"kind": "custom", "ns": (), "run": RUN_ID, "seq": 1, "data": "one"},
        {"kind": "custom", "ns": (), "run": RUN_ID, "seq": 2, "data": "two"},
        {"kind": "updates", "ns": (), "run": RUN_ID, "seq": 3, "node": "a", "update": {"x": 1}},
        {"kind": "values", "ns": (), "run": RUN_ID, "seq": 4, "values": {"x": 1},
         "interrupts": ()},
    ]


def test_task_ids_are_deterministic_given_a_run_id(api: str) -> None:
    graph = (
        StateGraph(Log)
        .add_node("a", lambda s: {"log": ["a"]})
        .add_node("b", lambda s: {"log": ["b"]})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )

    def task_ids(config: dict[str, Any] | None) -> list[tuple[str, str]]:
        items = collect(api, graph, {"log": []}, config=config, stream_mode="tasks")
        return [(item["name"], item["id"]) for item in items]

    fixed = {"run_id": RUN_ID}
    first, second = task_ids(fixed), task_ids(fixed)
    assert first == second
    assert [name for name, _ in first] == ["a", "a", "b", "b"]  # start and result of each
    assert len({task_id for _, task_id in first}) == 2
    other = task_ids({"run_id": str(uuid.uuid4())})
    assert {i for _, i in other}.isdisjoint({i for _, i in first})
    assert task_ids(None) != task_ids(None)


async def test_an_async_start_branch_does_not_block_the_event_loop() -> None:
    """The START router waits for an event only another task of this loop sets: if the
    loop were blocked while the router runs, the run could never finish."""
    from typing import TypedDict as _TypedDict

    from rillet.graph import START as _START
    from rillet.graph import StateGraph as _StateGraph

    class XS(_TypedDict):
        x: int

    gate = asyncio.Event()

    async def route(state: XS) -> str:
        await gate.wait()
        return "node"

    async def opener() -> None:
        gate.set()

    graph = (
        _StateGraph(XS)
        .add_node("node", lambda s: {"x": s["x"] + 1})
        .add_conditional_edges(_START, route, ["node"])
        .compile()
    )
    run = asyncio.ensure_future(graph.ainvoke({"x": 0}))
    await asyncio.wait_for(opener(), 5)
    assert await asyncio.wait_for(run, 5) == {"x": 1}
