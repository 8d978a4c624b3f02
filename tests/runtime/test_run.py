"""Running graphs with invoke/ainvoke and stream/astream: the superstep runtime.

Most tests run under both drivers (the ``driver`` fixture): the sync one
(``invoke``/``stream``, threads for parallel tasks) and the async one
(``ainvoke``/``astream``). Expected outputs follow LangGraph 1.2.22 as recorded in
/work/ref/REFERENCE.md, except where rillet deliberately differs.

Parallel tasks of one step finish in any order, and ``updates`` items come in
completion order (as in LangGraph), so those items are compared sorted.
"""

import asyncio
import operator
import re
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypedDict

import pytest

from rillet.config import get_config, get_stream_writer
from rillet.errors import GraphRecursionError, InvalidRouteError, InvalidUpdateError
from rillet.graph import END, START, StateGraph
from rillet.types import Command, RetryPolicy, Send

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def scrub(value: Any) -> Any:
    """``value`` with every task id (random, as in LangGraph) replaced by ``<id>``."""
    if isinstance(value, str):
        return re.sub(UUID, "<id>", value)
    if isinstance(value, tuple | list):
        return type(value)(scrub(v) for v in value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------- drivers


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def invoke(driver: str, graph: Any, inp: Any, config: dict[str, Any] | None = None) -> Any:
    if driver == "sync":
        return graph.invoke(inp, config)
    return asyncio.run(graph.ainvoke(inp, config))


def drain(
    driver: str,
    graph: Any,
    inp: Any,
    into: list[Any],
    config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Append every streamed item to ``into``; the run's error, if any, propagates."""
    if driver == "sync":
        for item in graph.stream(inp, config, **kwargs):
            into.append(item)
        return

    async def consume() -> None:
        async for item in graph.astream(inp, config, **kwargs):
            into.append(item)

    asyncio.run(consume())


def stream(
    driver: str, graph: Any, inp: Any, config: dict[str, Any] | None = None, **kwargs: Any
) -> list[Any]:
    items: list[Any] = []
    drain(driver, graph, inp, items, config, **kwargs)
    return items


def unordered(items: list[Any]) -> list[Any]:
    return sorted(items, key=repr)


# ----------------------------------------------------------------------- states


class Topic(TypedDict):
    topic: str
    joke: str


class V(TypedDict):
    v: int


class Log(TypedDict):
    x: str
    log: Annotated[list[str], operator.add]


class Str(TypedDict):
    v: str


def logger(name: str) -> Callable[[Any], dict[str, Any]]:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    node.__name__ = name
    return node


def saw(state: Log) -> dict[str, Any]:
    return {"log": ["c"], "x": "c saw " + ",".join(state["log"])}


def increment(state: V) -> dict[str, Any]:
    return {"v": state["v"] + 1}


def chain(n: int) -> Any:
    """START -> n0 -> n1 -> ... -> n{n-1}, each adding 1 to v."""
    builder = StateGraph(V)
    for i in range(n):
        builder.add_node(f"n{i}", increment)
        builder.add_edge(START if i == 0 else f"n{i - 1}", f"n{i}")
    return builder.compile()


# ------------------------------------------------------------------ linear runs


def refine_topic(state: Topic) -> dict[str, Any]:
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: Topic) -> dict[str, Any]:
    return {"joke": f"This is a joke about {state['topic']}"}


JOKE_GRAPH = (
    StateGraph(Topic)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .add_edge("generate_joke", END)
    .compile()
)


def test_linear_chain_updates(driver: str) -> None:
    assert stream(driver, JOKE_GRAPH, {"topic": "ice cream"}) == [
        {"refine_topic": {"topic": "ice cream and cats"}},
        {"generate_joke": {"joke": "This is a joke about ice cream and cats"}},
    ]


def test_linear_chain_values(driver: str) -> None:
    assert stream(driver, JOKE_GRAPH, {"topic": "ice cream"}, stream_mode="values") == [
        {"topic": "ice cream"},
        {"topic": "ice cream and cats"},
        {"topic": "ice cream and cats", "joke": "This is a joke about ice cream and cats"},
    ]


def test_linear_chain_invoke(driver: str) -> None:
    assert invoke(driver, JOKE_GRAPH, {"topic": "ice cream"}) == {
        "topic": "ice cream and cats",
        "joke": "This is a joke about ice cream and cats",
    }


def test_invoke_with_another_stream_mode_returns_the_items(driver: str) -> None:
    if driver == "sync":
        items = JOKE_GRAPH.invoke({"topic": "t"}, stream_mode="updates")
    else:
        items = asyncio.run(JOKE_GRAPH.ainvoke({"topic": "t"}, stream_mode="updates"))
    assert items == [
        {"refine_topic": {"topic": "t and cats"}},
        {"generate_joke": {"joke": "This is a joke about t and cats"}},
    ]


async def async_increment(state: V) -> dict[str, Any]:
    return {"v": state["v"] + 10}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_sync_and_async_nodes_under_both_drivers(driver: str, kind: str) -> None:
    fn = increment if kind == "sync" else async_increment
    graph = (
        StateGraph(V)
        .add_node("first", fn)
        .add_node("second", fn)
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile()
    )
    step = 1 if kind == "sync" else 10
    assert stream(driver, graph, {"v": 0}) == [
        {"first": {"v": step}},
        {"second": {"v": 2 * step}},
    ]
    assert invoke(driver, graph, {"v": 0}) == {"v": 2 * step}


def test_graph_can_be_run_many_times_and_concurrently() -> None:
    async def many() -> list[Any]:
        return list(await asyncio.gather(*(chain(3).ainvoke({"v": i}) for i in range(20))))

    assert asyncio.run(many()) == [{"v": i + 3} for i in range(20)]
    graph = chain(3)
    assert [graph.invoke({"v": i}) for i in range(3)] == [{"v": 3}, {"v": 4}, {"v": 5}]


# ------------------------------------------------------------ fan-out / fan-in


def fan_in(join: bool, uneven: bool = False) -> Any:
    """START -> a, b; (a -> a2 when uneven); then c after both, by a join list or by
    two separate edges. Nodes added in the order LangGraph's probe 4 added them."""
    builder = StateGraph(Log).add_node("a", logger("a"))
    if uneven:
        builder.add_node("a2", logger("a2")).add_edge("a", "a2")
    builder.add_node("b", logger("b")).add_node("c", saw)
    builder.add_edge(START, "a").add_edge(START, "b")
    last = "a2" if uneven else "a"
    if join:
        builder.add_edge([last, "b"], "c")
    else:
        builder.add_edge(last, "c").add_edge("b", "c")
    return builder.compile()


@pytest.mark.parametrize("join", [True, False], ids=["join_list", "separate_edges"])
def test_fan_out_fan_in_runs_c_once(driver: str, join: bool) -> None:
    graph = fan_in(join)
    items = stream(driver, graph, {"x": "", "log": []})
    assert unordered(items[:2]) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]
    assert items[2:] == [{"c": {"log": ["c"], "x": "c saw a,b"}}]
    assert stream(driver, graph, {"x": "", "log": []}, stream_mode="values") == [
        {"x": "", "log": []},
        {"x": "", "log": ["a", "b"]},
        {"x": "c saw a,b", "log": ["a", "b", "c"]},
    ]
    assert invoke(driver, graph, {"x": "", "log": []}) == {
        "x": "c saw a,b",
        "log": ["a", "b", "c"],
    }


def test_uneven_branches_with_a_join_run_c_once(driver: str) -> None:
    items = stream(driver, fan_in(join=True, uneven=True), {"x": "", "log": []})
    assert unordered(items[:2]) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]
    assert items[2:] == [
        {"a2": {"log": ["a2"]}},
        {"c": {"log": ["c"], "x": "c saw a,b,a2"}},
    ]


def test_uneven_branches_with_separate_edges_run_c_twice(driver: str) -> None:
    graph = fan_in(join=False, uneven=True)
    items = stream(driver, graph, {"x": "", "log": []})
    assert unordered(items[:2]) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]
    assert unordered(items[2:4]) == [
        {"a2": {"log": ["a2"]}},
        {"c": {"log": ["c"], "x": "c saw a,b"}},
    ]
    assert items[4:] == [{"c": {"log": ["c"], "x": "c saw a,b,a2,c"}}]
    assert invoke(driver, graph, {"x": "", "log": []}) == {
        "x": "c saw a,b,a2,c",
        "log": ["a", "b", "a2", "c", "c"],
    }


def test_a_join_fires_again_when_its_sources_run_again(driver: str) -> None:
    class Loop(TypedDict):
        log: Annotated[list[str], operator.add]

    def again(state: Loop) -> str:
        return "start" if state["log"].count("c") < 2 else END

    graph = (
        StateGraph(Loop)
        .add_node("start", logger("start"))
        .add_node("a", logger("a"))
        .add_node("b", logger("b"))
        .add_node("c", logger("c"))
        .add_edge(START, "start")
        .add_edge("start", "a")
        .add_edge("start", "b")
        .add_edge(["a", "b"], "c")
        .add_conditional_edges("c", again, ["start", END])
        .compile()
    )
    assert invoke(driver, graph, {"log": []}) == {
        "log": ["start", "a", "b", "c", "start", "a", "b", "c"]
    }


# ------------------------------------------------------------ conditional edges


def branchy(route: Callable[..., Any], path_map: Any = None, nodes: str = "abc") -> Any:
    builder = StateGraph(Log)
    for name in nodes:
        builder.add_node(name, logger(name))
    builder.add_edge(START, "a").add_conditional_edges("a", route, path_map)
    return builder.compile()


def to_b(state: Log) -> str:
    return "b"


def to_b_and_c(state: Log) -> list[str]:
    return ["b", "c"]


def to_end(state: Log) -> str:
    return END


def to_literal(state: Log) -> Literal["b", "c"]:
    return "c"


def test_conditional_edge_returning_a_name(driver: str) -> None:
    assert stream(driver, branchy(to_b), {"x": ""}) == [
        {"a": {"log": ["a"]}},
        {"b": {"log": ["b"]}},
    ]


def test_conditional_edge_returning_a_list_of_names(driver: str) -> None:
    graph = branchy(to_b_and_c)
    items = stream(driver, graph, {"x": ""})
    assert items[0] == {"a": {"log": ["a"]}}
    assert unordered(items[1:]) == [{"b": {"log": ["b"]}}, {"c": {"log": ["c"]}}]
    assert invoke(driver, graph, {"x": ""}) == {"x": "", "log": ["a", "b", "c"]}


def test_conditional_edge_returning_end(driver: str) -> None:
    assert stream(driver, branchy(to_end), {"x": ""}) == [{"a": {"log": ["a"]}}]


def test_conditional_edge_with_a_path_map_dict(driver: str) -> None:
    graph = branchy(lambda s: "go" if not s["x"] else "stop", {"go": "b", "stop": END}, "ab")
    assert stream(driver, graph, {"x": ""}) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]
    assert stream(driver, graph, {"x": "stop"}) == [{"a": {"log": ["a"]}}]


def test_conditional_edge_with_a_path_map_list(driver: str) -> None:
    graph = branchy(to_b, ["b", "c"])
    assert stream(driver, graph, {"x": ""}) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]


def test_conditional_edge_with_a_literal_annotation(driver: str) -> None:
    graph = branchy(to_literal)
    assert stream(driver, graph, {"x": ""}) == [{"a": {"log": ["a"]}}, {"c": {"log": ["c"]}}]


def test_conditional_edge_sees_the_state_with_its_nodes_update(driver: str) -> None:
    seen: list[Any] = []

    def route(state: Log) -> str:
        seen.append(dict(state))
        return END

    invoke(driver, branchy(route, ["b", END], "ab"), {"x": "in"})
    assert seen == [{"x": "in", "log": ["a"]}]


def test_async_path_function(driver: str) -> None:
    async def route(state: Log) -> str:
        return "b"

    assert stream(driver, branchy(route, ["b"], "ab"), {"x": ""}) == [
        {"a": {"log": ["a"]}},
        {"b": {"log": ["b"]}},
    ]


def test_path_function_result_missing_from_the_path_map(driver: str) -> None:
    graph = branchy(lambda s: "zz", {"go": "b"}, "ab")
    with pytest.raises(
        InvalidRouteError, match=r"returned 'zz', which is not a key of its path_map"
    ):
        invoke(driver, graph, {"x": ""})


def test_path_function_returning_an_unknown_node(driver: str) -> None:
    # LangGraph logs and ignores this; rillet raises a clear error.
    graph = branchy(lambda s: "zz", None, "ab")
    with pytest.raises(InvalidRouteError, match=r"Node 'a' routed to unknown node 'zz'"):
        invoke(driver, graph, {"x": ""})


def test_conditional_entry_point(driver: str) -> None:
    graph = (
        StateGraph(Log)
        .add_node("a", logger("a"))
        .add_node("b", logger("b"))
        .add_conditional_edges(START, lambda s: s["x"], ["a", "b"])
        .compile()
    )
    assert stream(driver, graph, {"x": "b"}) == [{"b": {"log": ["b"]}}]


# ----------------------------------------------------------------- Send (map)


class MR(TypedDict):
    results: Annotated[list[int], operator.add]


def gen(state: dict[str, int]) -> dict[str, Any]:
    return {"results": [state["x"] * 10]}


def fanout(state: MR) -> list[Send]:
    return [Send("gen", {"x": i}) for i in range(3)]


def start_node(state: MR) -> dict[str, Any]:
    return {}


MAP_REDUCE = (
    StateGraph(MR)
    .add_node("start_node", start_node)
    .add_node("gen", gen)
    .add_edge(START, "start_node")
    .add_conditional_edges("start_node", fanout, ["gen"])
    .add_edge("gen", END)
    .compile()
)


def test_send_map_reduce_updates(driver: str) -> None:
    items = stream(driver, MAP_REDUCE, {"results": []})
    assert items[0] == {"start_node": None}
    assert unordered(items[1:]) == [
        {"gen": {"results": [0]}},
        {"gen": {"results": [10]}},
        {"gen": {"results": [20]}},
    ]


def test_send_map_reduce_values_are_reduced_in_send_order(driver: str) -> None:
    assert stream(driver, MAP_REDUCE, {"results": []}, stream_mode="values") == [
        {"results": []},
        {"results": [0, 10, 20]},
    ]
    assert invoke(driver, MAP_REDUCE, {"results": []}) == {"results": [0, 10, 20]}


def test_send_from_a_start_conditional_edge(driver: str) -> None:
    graph = StateGraph(MR).add_node("gen", gen).add_conditional_edges(START, fanout, ["gen"])
    items = stream(driver, graph.compile(), {"results": []})
    assert unordered(items) == [
        {"gen": {"results": [0]}},
        {"gen": {"results": [10]}},
        {"gen": {"results": [20]}},
    ]


def test_send_to_an_unknown_node(driver: str) -> None:
    graph = (
        StateGraph(MR)
        .add_node("gen", gen)
        .add_conditional_edges(START, lambda s: [Send("nope", {})])
        .compile()
    )
    with pytest.raises(InvalidRouteError, match=r"Send\('nope', \.\.\.\) to unknown node 'nope'"):
        invoke(driver, graph, {"results": []})


# ---------------------------------------------------------------------- Command


def cmd_node(state: Str) -> Command[Literal["target"]]:
    return Command(goto="target", update={"v": "from cmd"})


def target(state: Str) -> dict[str, Any]:
    return {"v": state["v"] + "+target"}


def test_command_goto_and_update(driver: str) -> None:
    graph = (
        StateGraph(Str).add_node(cmd_node).add_node(target).add_edge(START, "cmd_node").compile()
    )
    assert stream(driver, graph, {"v": ""}) == [
        {"cmd_node": {"v": "from cmd"}},
        {"target": {"v": "from cmd+target"}},
    ]
    assert stream(driver, graph, {"v": ""}, stream_mode="values") == [
        {"v": ""},
        {"v": "from cmd"},
        {"v": "from cmd+target"},
    ]


def test_command_goto_only(driver: str) -> None:
    def cmd_goto_only(state: Str) -> Command[Any]:
        return Command(goto="target")

    graph = (
        StateGraph(Str)
        .add_node(cmd_goto_only, destinations=("target",))
        .add_node(target)
        .add_edge(START, "cmd_goto_only")
        .compile()
    )
    assert stream(driver, graph, {"v": "in"}) == [
        {"cmd_goto_only": None},
        {"target": {"v": "in+target"}},
    ]


def test_command_goto_sends(driver: str) -> None:
    class Lst(TypedDict):
        v: Annotated[list[str], operator.add]

    def cmd_send(state: Lst) -> Command[Literal["target"]]:
        return Command(
            goto=[Send("target", {"v": ["s1"]}), Send("target", {"v": ["s2"]})],
            update={"v": ["u"]},
        )

    def list_target(state: Lst) -> dict[str, Any]:
        return {"v": [f"t:{state['v']}"]}

    graph = (
        StateGraph(Lst)
        .add_node(cmd_send)
        .add_node("target", list_target)
        .add_edge(START, "cmd_send")
        .compile()
    )
    items = stream(driver, graph, {"v": []})
    assert items[0] == {"cmd_send": {"v": ["u"]}}
    assert unordered(items[1:]) == [
        {"target": {"v": ["t:['s1']"]}},
        {"target": {"v": ["t:['s2']"]}},
    ]
    assert invoke(driver, graph, {"v": []}) == {"v": ["u", "t:['s1']", "t:['s2']"]}


def test_command_goto_and_an_edge_both_run(driver: str) -> None:
    def both(state: Log) -> Command[Literal["b"]]:
        return Command(goto="b", update={"log": ["a"]})

    graph = (
        StateGraph(Log)
        .add_node("a", both)
        .add_node("b", logger("b"))
        .add_node("c", logger("c"))
        .add_edge(START, "a")
        .add_edge("a", "c")
        .compile()
    )
    assert invoke(driver, graph, {"x": ""}) == {"x": "", "log": ["a", "b", "c"]}


def test_command_goto_unknown_node(driver: str) -> None:
    def lost(state: Str) -> Command[Any]:
        return Command(goto="nowhere")

    graph = StateGraph(Str).add_node(lost).add_edge(START, "lost").compile()
    with pytest.raises(InvalidRouteError, match=r"Node 'lost' routed to unknown node 'nowhere'"):
        invoke(driver, graph, {"v": ""})


class Shared(TypedDict):
    v: Annotated[list[str], operator.add]


def child(state: Shared) -> Command[Any]:
    return Command(graph=Command.PARENT, goto="after", update={"v": ["child"]})


def after(state: Shared) -> dict[str, Any]:
    return {"v": ["after"]}


def test_command_parent_from_a_subgraph_node_goes_to_the_parent_graph(driver: str) -> None:
    sub = StateGraph(Shared).add_node(child).add_edge(START, "child").compile()
    graph = (
        StateGraph(Shared)
        .add_node("sub", sub, destinations=("after",))
        .add_node(after)
        .add_edge(START, "sub")
        .compile()
    )
    # LangGraph 1.2.22 gives exactly these items for this graph.
    assert stream(driver, graph, {"v": []}) == [
        {"sub": {"v": ["child"]}},
        {"after": {"v": ["after"]}},
    ]
    assert stream(driver, graph, {"v": []}, stream_mode="values") == [
        {"v": []},
        {"v": ["child"]},
        {"v": ["child", "after"]},
    ]
    assert invoke(driver, graph, {"v": []}) == {"v": ["child", "after"]}


def test_command_parent_in_the_root_graph(driver: str) -> None:
    graph = (
        StateGraph(Shared)
        .add_node(child)
        .add_node(after)
        .add_edge(START, "child")
        .add_edge("child", "after")
        .compile()
    )
    with pytest.raises(
        InvalidUpdateError,
        match=r"Node 'child' returned Command\(graph=Command.PARENT\) but runs in the root graph",
    ):
        invoke(driver, graph, {"v": []})


# --------------------------------------------------------- empty / bad returns


@pytest.mark.parametrize("returned", [None, {}])
def test_node_returning_nothing(driver: str, returned: Any) -> None:
    graph = StateGraph(Str).add_node("quiet", lambda s: returned).add_edge(START, "quiet")
    compiled = graph.compile()
    assert stream(driver, compiled, {"v": "in"}) == [{"quiet": None}]
    # no values item for a step that wrote nothing
    assert stream(driver, compiled, {"v": "in"}, stream_mode="values") == [{"v": "in"}]
    tasks = stream(driver, compiled, {"v": "in"}, stream_mode="tasks")
    assert scrub(tasks) == [
        {"id": "<id>", "name": "quiet", "input": {"v": "in"}, "triggers": ("branch:to:quiet",)},
        {"id": "<id>", "name": "quiet", "error": None, "result": {}, "interrupts": []},
    ]
    assert invoke(driver, compiled, {"v": "in"}) == {"v": "in"}


def test_parallel_writes_to_a_plain_key(driver: str) -> None:
    graph = (
        StateGraph(Str)
        .add_node("w1", lambda s: {"v": "one"})
        .add_node("w2", lambda s: {"v": "two"})
        .add_edge(START, "w1")
        .add_edge(START, "w2")
        .compile()
    )
    items: list[Any] = []
    with pytest.raises(
        InvalidUpdateError, match=r"At key 'v': 2 nodes wrote to it in the same step \('w1', 'w2'\)"
    ):
        drain(driver, graph, {"v": ""}, items)
    # raised only after both nodes' updates were streamed, as in LangGraph
    assert unordered(items) == [{"w1": {"v": "one"}}, {"w2": {"v": "two"}}]
    with pytest.raises(InvalidUpdateError, match=r"At key 'v'.*'w1', 'w2'"):
        invoke(driver, graph, {"v": ""})


@pytest.mark.parametrize(("returned", "shown"), [(5, "5"), ("abc", "'abc'"), ([1, 2], r"\[1, 2\]")])
def test_node_returning_a_non_dict(driver: str, returned: Any, shown: str) -> None:
    def ok(state: Str) -> dict[str, Any]:
        return {"v": "ok"}

    graph = (
        StateGraph(Str)
        .add_node(ok)
        .add_node("bad", lambda s: returned)
        .add_edge(START, "ok")
        .add_edge("ok", "bad")
        .compile()
    )
    items: list[Any] = []
    with pytest.raises(InvalidUpdateError, match=rf"Node 'bad' returned {shown}") as info:
        drain(driver, graph, {"v": ""}, items)
    assert items == [{"ok": {"v": "ok"}}]
    assert any("During task with name 'bad'" in note for note in info.value.__notes__)


# ------------------------------------------------------------- node exceptions


def test_a_node_exception_reaches_the_caller_as_itself(driver: str) -> None:
    raised: list[BaseException] = []

    def the_node(state: V) -> dict[str, Any]:
        error = ValueError("boom!")
        raised.append(error)
        raise error

    graph = (
        StateGraph(V)
        .add_node("first", increment)
        .add_node(the_node)
        .add_edge(START, "first")
        .add_edge("first", "the_node")
        .compile()
    )
    items: list[Any] = []
    with pytest.raises(ValueError, match=r"^boom!") as info:
        drain(driver, graph, {"v": 0}, items)
    assert info.value is raised[0]
    assert type(info.value) is ValueError
    assert info.value.args == ("boom!",)
    assert any("During task with name 'the_node'" in n for n in info.value.__notes__)
    assert items == [{"first": {"v": 1}}]

    raised.clear()
    with pytest.raises(ValueError, match=r"^boom!") as info:
        invoke(driver, graph, {"v": 0})
    assert info.value is raised[0]
    assert any("During task with name 'the_node'" in n for n in info.value.__notes__)


def test_a_node_exception_in_tasks_mode(driver: str) -> None:
    def boom(state: V) -> dict[str, Any]:
        raise KeyError("missing")

    graph = StateGraph(V).add_node(boom).add_edge(START, "boom").compile()
    items: list[Any] = []
    with pytest.raises(KeyError) as info:
        drain(driver, graph, {"v": 0}, items, stream_mode="tasks")
    assert scrub(items) == [
        {"id": "<id>", "name": "boom", "input": {"v": 0}, "triggers": ("branch:to:boom",)},
        {"id": "<id>", "name": "boom", "error": info.value, "result": {}, "interrupts": []},
    ]


# ------------------------------------------------------------- recursion limit


def test_graph_recursion_error_is_a_recursion_error() -> None:
    assert issubclass(GraphRecursionError, RecursionError)


def test_recursion_limit_on_a_loop(driver: str) -> None:
    def loop(state: V) -> dict[str, Any]:
        return {"v": state["v"] + 1}

    graph = (
        StateGraph(V)
        .add_node(loop)
        .add_edge(START, "loop")
        .add_conditional_edges("loop", lambda s: "loop", ["loop"])
        .compile()
    )
    items: list[Any] = []
    with pytest.raises(GraphRecursionError, match=r"Recursion limit of 3 reached.*recursion_limit"):
        drain(driver, graph, {"v": 0}, items, {"recursion_limit": 3})
    assert items == [{"loop": {"v": 1}}, {"loop": {"v": 2}}, {"loop": {"v": 3}}]


def test_limit_equal_to_the_number_of_steps_succeeds(driver: str) -> None:
    assert invoke(driver, chain(5), {"v": 0}, {"recursion_limit": 5}) == {"v": 5}
    assert len(stream(driver, chain(5), {"v": 0}, {"recursion_limit": 5})) == 5


def test_limit_one_below_the_number_of_steps_fails_after_the_allowed_steps(driver: str) -> None:
    items: list[Any] = []
    with pytest.raises(GraphRecursionError, match="Recursion limit of 4 reached"):
        drain(driver, chain(5), {"v": 0}, items, {"recursion_limit": 4})
    assert items == [{f"n{i}": {"v": i + 1}} for i in range(4)]
    with pytest.raises(RecursionError):
        invoke(driver, chain(5), {"v": 0}, {"recursion_limit": 4})


def test_default_recursion_limit_is_25(driver: str) -> None:
    assert invoke(driver, chain(25), {"v": 0}) == {"v": 25}
    items: list[Any] = []
    with pytest.raises(GraphRecursionError, match="Recursion limit of 25 reached"):
        drain(driver, chain(30), {"v": 0}, items)
    assert len(items) == 25
    assert items[-1] == {"n24": {"v": 25}}


def test_recursion_limit_none_means_the_default(driver: str) -> None:
    assert invoke(driver, chain(2), {"v": 0}, {"recursion_limit": None}) == {"v": 2}


@pytest.mark.parametrize(
    ("limit", "error", "words"),
    [
        (0, ValueError, "recursion_limit must be at least 1"),
        (-1, ValueError, "recursion_limit must be at least 1"),
        ("x", TypeError, "recursion_limit must be an int"),
        (True, TypeError, "recursion_limit must be an int"),
    ],
)
def test_invalid_recursion_limit_raises_at_the_call(
    limit: Any, error: type[Exception], words: str
) -> None:
    calls: list[Any] = []

    def spy(state: V) -> None:
        calls.append(state)

    graph = StateGraph(V).add_node(spy).add_edge(START, "spy").compile()
    config = {"recursion_limit": limit}
    with pytest.raises(error, match=words):
        graph.stream({"v": 0}, config)  # not iterated: the call itself raises
    with pytest.raises(error, match=words):
        graph.astream({"v": 0}, config)
    with pytest.raises(error, match=words):
        graph.invoke({"v": 0}, config)
    with pytest.raises(error, match=words):
        asyncio.run(graph.ainvoke({"v": 0}, config))
    assert calls == []


# -------------------------------------------------------- stream modes, config


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("bogus", "Unknown stream mode 'bogus'"),
        (["updates", "bogus"], "Unknown stream mode 'bogus'"),
        ([], r"stream_mode=\[\] asks for nothing"),
    ],
)
def test_bad_stream_mode_raises_at_the_call(mode: Any, words: str) -> None:
    calls: list[Any] = []
    graph = StateGraph(V).add_node("spy", calls.append).add_edge(START, "spy").compile()
    with pytest.raises(ValueError, match=words):
        graph.stream({"v": 0}, stream_mode=mode)
    with pytest.raises(ValueError, match=words):
        graph.astream({"v": 0}, stream_mode=mode)
    with pytest.raises(ValueError, match=words):
        graph.invoke({"v": 0}, stream_mode=mode)
    assert calls == []


def test_unknown_config_key_raises_at_the_call() -> None:
    calls: list[Any] = []
    graph = StateGraph(V).add_node("spy", calls.append).add_edge(START, "spy").compile()
    words = r"Unknown config key\(s\) \['thread_id'\].*config\['configurable'\]"
    with pytest.raises(ValueError, match=words):
        graph.stream({"v": 0}, {"thread_id": "t1"})
    with pytest.raises(ValueError, match=words):
        graph.astream({"v": 0}, {"thread_id": "t1"})
    with pytest.raises(ValueError, match=words):
        graph.invoke({"v": 0}, {"thread_id": "t1"})
    with pytest.raises(ValueError, match=words):
        asyncio.run(graph.ainvoke({"v": 0}, {"thread_id": "t1"}))
    assert calls == []


def test_stream_mode_none_means_updates(driver: str) -> None:
    assert stream(driver, chain(1), {"v": 0}, stream_mode=None) == [{"n0": {"v": 1}}]


# ---------------------------------------------------------------- RetryPolicy


def flaky_graph(fails: int, policy: RetryPolicy, attempts: list[int]) -> Any:
    def flaky(state: V) -> dict[str, Any]:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= fails:
            raise ValueError(f"attempt {len(attempts)} failed")
        return {"v": len(attempts)}

    return StateGraph(V).add_node(flaky, retry=policy).add_edge(START, "flaky").compile()


NO_WAIT = {"retry_on": ValueError, "initial_interval": 0, "jitter": False}


def test_retry_policy_retries_until_the_node_succeeds(driver: str) -> None:
    attempts: list[int] = []
    graph = flaky_graph(2, RetryPolicy(**NO_WAIT), attempts)
    assert stream(driver, graph, {"v": 0}) == [{"flaky": {"v": 3}}]
    assert attempts == [1, 2, 3]


def test_retry_policy_gives_up_after_max_attempts(driver: str) -> None:
    attempts: list[int] = []
    graph = flaky_graph(10, RetryPolicy(max_attempts=4, **NO_WAIT), attempts)
    with pytest.raises(ValueError, match=r"^attempt 4 failed") as info:
        invoke(driver, graph, {"v": 0})
    assert attempts == [1, 2, 3, 4]
    assert any("During task with name 'flaky'" in n for n in info.value.__notes__)


def test_retry_policy_does_not_retry_other_errors(driver: str) -> None:
    attempts: list[int] = []

    def wrong(state: V) -> dict[str, Any]:
        attempts.append(1)
        raise TypeError("not retried")

    graph = (
        StateGraph(V)
        .add_node(wrong, retry_policy=RetryPolicy(**NO_WAIT))
        .add_edge(START, "wrong")
        .compile()
    )
    with pytest.raises(TypeError, match="not retried"):
        invoke(driver, graph, {"v": 0})
    assert attempts == [1]


def test_without_a_retry_policy_a_node_runs_once(driver: str) -> None:
    attempts: list[int] = []

    def divide(state: V) -> dict[str, Any]:
        attempts.append(1)
        return {"v": 1 // state["v"]}

    graph = StateGraph(V).add_node(divide).add_edge(START, "divide").compile()
    with pytest.raises(ZeroDivisionError):
        invoke(driver, graph, {"v": 0})
    assert attempts == [1]


# ---------------------------------------------------------------- concurrency


def wide(n: int, node: Callable[[str], Any]) -> Any:
    """START -> w0..w{n-1} in parallel, each appending its name to log."""
    builder = StateGraph(Log)
    for i in range(n):
        builder.add_node(f"w{i}", node(f"w{i}")).add_edge(START, f"w{i}")
    return builder.compile()


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_every_task_runs_under_max_concurrency(driver: str, limit: int) -> None:
    graph = wide(5, logger)
    assert invoke(driver, graph, {"x": ""}, {"max_concurrency": limit}) == {
        "x": "",
        "log": ["w0", "w1", "w2", "w3", "w4"],
    }


def test_parallel_sync_nodes_run_at_the_same_time(driver: str) -> None:
    barrier = threading.Barrier(4, timeout=5)  # passes only if all four run together

    def node(name: str) -> Callable[[Any], dict[str, Any]]:
        def run(state: Any) -> dict[str, Any]:
            barrier.wait()
            return {"log": [name]}

        return run

    assert invoke(driver, wide(4, node), {"x": ""})["log"] == ["w0", "w1", "w2", "w3"]


def test_max_concurrency_bounds_running_sync_nodes(driver: str) -> None:
    lock = threading.Lock()
    running = 0
    peak = 0
    # Two tasks must be inside at once to pass (so the limit is used), and the
    # counter shows no third one got in. With threads, an unbounded scheduler is
    # caught when a third thread enters in time (the asyncio test below is exact).
    barrier = threading.Barrier(2, timeout=5)

    def node(name: str) -> Callable[[Any], dict[str, Any]]:
        def run(state: Any) -> dict[str, Any]:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            barrier.wait()
            barrier.wait()  # a second round keeps the pair inside a little longer
            with lock:
                running -= 1
            return {"log": [name]}

        return run

    result = invoke(driver, wide(4, node), {"x": ""}, {"max_concurrency": 2})
    assert result == {"x": "", "log": ["w0", "w1", "w2", "w3"]}
    assert peak == 2


def test_max_concurrency_bounds_running_async_nodes() -> None:
    running = 0
    peak = 0

    async def main() -> Any:
        pair_in = asyncio.Event()

        def node(name: str) -> Callable[[Any], Any]:
            async def run(state: Any) -> dict[str, Any]:
                nonlocal running, peak
                running += 1
                peak = max(peak, running)
                if running == 2:
                    pair_in.set()
                await asyncio.wait_for(pair_in.wait(), 10)  # two are in at once
                # Yield to the event loop (no timed wait): a task the limit failed
                # to hold back, already scheduled, would get in now.
                await asyncio.sleep(0)
                running -= 1
                return {"log": [name]}

            return run

        return await wide(4, node).ainvoke({"x": ""}, {"max_concurrency": 2})

    assert asyncio.run(main()) == {"x": "", "log": ["w0", "w1", "w2", "w3"]}
    assert peak == 2


@pytest.mark.parametrize("limit", [0, -1, 1.5, "2"])
def test_invalid_max_concurrency(limit: Any) -> None:
    with pytest.raises(ValueError, match="max_concurrency must be a positive int"):
        chain(1).stream({"v": 0}, {"max_concurrency": limit})


# --------------------------------------------------------------------- config


def test_config_is_injected_into_a_node(driver: str) -> None:
    seen: list[Any] = []

    def show_cfg(state: V, config: dict[str, Any]) -> None:
        seen.append((config, get_config()))

    graph = StateGraph(V).add_node(show_cfg).add_edge(START, "show_cfg").compile()
    run_config = {
        "metadata": {"user": "u1"},
        "configurable": {"thread_id": "t1", "model": "m"},
        "tags": ["t_run"],
    }
    invoke(driver, graph, {"v": 0}, run_config)
    [(config, from_get_config)] = seen
    assert from_get_config == config
    metadata = dict(config["metadata"])
    ns = metadata.pop("langgraph_checkpoint_ns")
    assert re.fullmatch(rf"show_cfg:{UUID}", ns)
    assert metadata == {
        "user": "u1",
        "thread_id": "t1",  # as LangGraph: scalar ``configurable`` ids are copied in
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "show_cfg",
        "langgraph_triggers": ("branch:to:show_cfg",),
        "langgraph_path": ("__pregel_pull", "show_cfg"),
    }
    assert next(iter(config["metadata"])) == "user"  # user keys first, as in LangGraph
    assert config["configurable"]["thread_id"] == "t1"
    assert config["configurable"]["model"] == "m"
    assert config["configurable"]["checkpoint_ns"] == ns
    assert config["tags"] == ["t_run"]
    assert run_config["metadata"] == {"user": "u1"}  # the caller's dicts are not touched


def test_config_metadata_follows_the_step_and_triggers(driver: str) -> None:
    seen: list[dict[str, Any]] = []

    def record(name: str) -> Callable[..., dict[str, Any]]:
        def node(state: Log, config: dict[str, Any]) -> dict[str, Any]:
            seen.append(config["metadata"])
            return {"log": [name]}

        return node

    graph = (
        StateGraph(Log)
        .add_node("a", record("a"))
        .add_node("b", record("b"))
        .add_node("c", record("c"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], "c")
        .compile()
    )
    invoke(driver, graph, {"x": ""})
    summary = sorted(
        (m["langgraph_step"], m["langgraph_node"], m["langgraph_triggers"], m["langgraph_path"])
        for m in seen
    )
    assert summary == [
        (1, "a", ("branch:to:a",), ("__pregel_pull", "a")),
        (1, "b", ("branch:to:b",), ("__pregel_pull", "b")),
        (2, "c", ("branch:to:c", "join:a+b:c"), ("__pregel_pull", "c")),
    ]


def test_send_tasks_have_push_paths(driver: str) -> None:
    seen: list[Any] = []

    def gen_cfg(state: dict[str, int], config: dict[str, Any]) -> dict[str, Any]:
        meta = config["metadata"]
        seen.append((state["x"], meta["langgraph_triggers"], meta["langgraph_path"]))
        return {"results": [state["x"]]}

    graph = (
        StateGraph(MR)
        .add_node("gen", gen_cfg)
        .add_conditional_edges(START, fanout, ["gen"])
        .compile()
    )
    invoke(driver, graph, {"results": []})
    assert sorted(seen) == [
        (0, ("__pregel_push",), ("__pregel_push", 0, False)),
        (1, ("__pregel_push",), ("__pregel_push", 1, False)),
        (2, ("__pregel_push",), ("__pregel_push", 2, False)),
    ]


def test_config_metadata_inside_a_subgraph_node(driver: str) -> None:
    # LangGraph: {..., 'langgraph_checkpoint_ns': 'outer:<id>|show_cfg:<id>',
    #             'checkpoint_ns': 'outer:<id>'}
    seen: list[dict[str, Any]] = []

    def show_cfg(state: V, config: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(config["metadata"]))
        return {"v": 1}

    inner = StateGraph(V).add_node(show_cfg).add_edge(START, "show_cfg").compile()
    outer = StateGraph(V).add_node("outer", inner).add_edge(START, "outer").compile()
    invoke(driver, outer, {"v": 0})
    assert scrub(seen) == [
        {
            "ls_integration": "langgraph",
            "langgraph_step": 1,
            "langgraph_node": "show_cfg",
            "langgraph_triggers": ("branch:to:show_cfg",),
            "langgraph_path": ("__pregel_pull", "show_cfg"),
            "langgraph_checkpoint_ns": "outer:<id>|show_cfg:<id>",
            "checkpoint_ns": "outer:<id>",
        }
    ]


def test_path_function_may_take_config(driver: str) -> None:
    def route(state: Log, config: dict[str, Any]) -> str:
        return config["configurable"]["go"]

    graph = branchy(route, ["b", "c"])
    assert stream(driver, graph, {"x": ""}, {"configurable": {"go": "c"}}) == [
        {"a": {"log": ["a"]}},
        {"c": {"log": ["c"]}},
    ]


def test_get_config_and_get_stream_writer_outside_a_run() -> None:
    with pytest.raises(RuntimeError, match=r"get_config\(\) was called outside a running graph"):
        get_config()
    with pytest.raises(
        RuntimeError, match=r"get_stream_writer\(\) was called outside a running graph"
    ):
        get_stream_writer()


def test_get_stream_writer_inside_a_node(driver: str) -> None:
    def talk(state: V) -> dict[str, Any]:
        get_stream_writer()({"said": state["v"]})
        return {"v": 1}

    graph = StateGraph(V).add_node(talk).add_edge(START, "talk").compile()
    assert stream(driver, graph, {"v": 0}, stream_mode=["custom", "updates"]) == [
        ("custom", {"said": 0}),
        ("updates", {"talk": {"v": 1}}),
    ]
    assert invoke(driver, graph, {"v": 0}) == {"v": 1}  # a no-op writer without custom


# ------------------------------------------------------------ triggers (tasks)


def task_starts(items: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(t["name"], t["input"], t["triggers"]) for t in items if "triggers" in t]


def test_triggers_of_start_edges_and_joins(driver: str) -> None:
    items = stream(driver, fan_in(join=True), {"x": "", "log": []}, stream_mode="tasks")
    starts = task_starts(items)
    assert unordered(starts[:2]) == [
        ("a", {"x": "", "log": []}, ("branch:to:a",)),
        ("b", {"x": "", "log": []}, ("branch:to:b",)),
    ]
    assert starts[2:] == [("c", {"x": "", "log": ["a", "b"]}, ("branch:to:c", "join:a+b:c"))]


def test_triggers_of_separate_edges(driver: str) -> None:
    items = stream(driver, fan_in(join=False), {"x": "", "log": []}, stream_mode="tasks")
    assert task_starts(items)[2:] == [("c", {"x": "", "log": ["a", "b"]}, ("branch:to:c",))]


def test_triggers_of_sends_and_commands(driver: str) -> None:
    items = stream(driver, MAP_REDUCE, {"results": []}, stream_mode="tasks")
    assert task_starts(items) == [
        ("start_node", {"results": []}, ("branch:to:start_node",)),
        ("gen", {"x": 0}, ("__pregel_push",)),
        ("gen", {"x": 1}, ("__pregel_push",)),
        ("gen", {"x": 2}, ("__pregel_push",)),
    ]
    graph = StateGraph(Str).add_node(cmd_node).add_node(target).add_edge(START, "cmd_node")
    items = stream(driver, graph.compile(), {"v": ""}, stream_mode="tasks")
    assert task_starts(items) == [
        ("cmd_node", {"v": ""}, ("branch:to:cmd_node",)),
        ("target", {"v": "from cmd"}, ("branch:to:target",)),
    ]


def test_task_ids_pair_start_and_result(driver: str) -> None:
    items = stream(driver, JOKE_GRAPH, {"topic": "t"}, stream_mode="tasks")
    assert [item["id"] for item in items][::2] == [item["id"] for item in items][1::2]
    assert all(re.fullmatch(UUID, item["id"]) for item in items)
    assert len({item["id"] for item in items}) == 2


# ------------------------------------------------------------------- subgraphs


class SubState(TypedDict):
    foo: str
    bar: str


class ParentState(TypedDict):
    foo: str


def sub_1(state: SubState) -> dict[str, Any]:
    return {"bar": "bar"}


def sub_2(state: SubState) -> dict[str, Any]:
    return {"foo": state["foo"] + state["bar"]}


SUBGRAPH = (
    StateGraph(SubState)
    .add_node(sub_1)
    .add_node(sub_2)
    .add_edge(START, "sub_1")
    .add_edge("sub_1", "sub_2")
    .compile()
)


def node_1(state: ParentState) -> dict[str, Any]:
    return {"foo": "hi! " + state["foo"]}


PARENT = (
    StateGraph(ParentState)
    .add_node(node_1)
    .add_node("node_2", SUBGRAPH)
    .add_edge(START, "node_1")
    .add_edge("node_1", "node_2")
    .compile()
)


def test_subgraph_node_output_is_filtered_to_the_parent_keys(driver: str) -> None:
    assert stream(driver, PARENT, {"foo": "foo"}) == [
        {"node_1": {"foo": "hi! foo"}},
        {"node_2": {"foo": "hi! foobar"}},
    ]
    assert stream(driver, PARENT, {"foo": "foo"}, stream_mode="values") == [
        {"foo": "foo"},
        {"foo": "hi! foo"},
        {"foo": "hi! foobar"},
    ]
    assert invoke(driver, PARENT, {"foo": "foo"}) == {"foo": "hi! foobar"}


def test_subgraph_node_with_subgraphs_true(driver: str) -> None:
    items = stream(driver, PARENT, {"foo": "foo"}, subgraphs=True)
    assert scrub(items) == [
        ((), {"node_1": {"foo": "hi! foo"}}),
        (("node_2:<id>",), {"sub_1": {"bar": "bar"}}),
        (("node_2:<id>",), {"sub_2": {"foo": "hi! foobar"}}),
        ((), {"node_2": {"foo": "hi! foobar"}}),
    ]


def test_subgraph_node_input_is_filtered_to_the_subgraph_keys(driver: str) -> None:
    class Wide(TypedDict):
        foo: str
        other: int

    seen: list[Any] = []

    def peek(state: SubState) -> dict[str, Any]:
        seen.append(dict(state))
        return {"foo": "sub", "bar": "b"}

    sub = StateGraph(SubState).add_node(peek).add_edge(START, "peek").compile()
    graph = StateGraph(Wide).add_node("sub", sub).add_edge(START, "sub").compile()
    assert invoke(driver, graph, {"foo": "f", "other": 1}) == {"foo": "sub", "other": 1}
    assert seen == [{"foo": "f"}]


def call_sub(state: ParentState) -> dict[str, Any]:
    return {"foo": SUBGRAPH.invoke({"foo": state["foo"]})["foo"]}


async def acall_sub(state: ParentState) -> dict[str, Any]:
    return {"foo": (await SUBGRAPH.ainvoke({"foo": state["foo"]}))["foo"]}


@pytest.mark.parametrize("fn", [call_sub, acall_sub], ids=["sync_node", "async_node"])
def test_subgraph_invoked_by_hand_inside_a_node(driver: str, fn: Any) -> None:
    graph = StateGraph(ParentState).add_node("call_sub", fn).add_edge(START, "call_sub")
    compiled = graph.compile()
    assert stream(driver, compiled, {"foo": "x"}) == [{"call_sub": {"foo": "xbar"}}]
    assert invoke(driver, compiled, {"foo": "x"}) == {"foo": "xbar"}
    assert scrub(stream(driver, compiled, {"foo": "x"}, subgraphs=True)) == [
        (("call_sub:<id>",), {"sub_1": {"bar": "bar"}}),
        (("call_sub:<id>",), {"sub_2": {"foo": "xbar"}}),
        ((), {"call_sub": {"foo": "xbar"}}),
    ]


def test_subgraph_namespace_holds_the_parent_task_id(driver: str) -> None:
    items = stream(driver, PARENT, {"foo": "foo"}, stream_mode="tasks", subgraphs=True)
    node_2_ids = {i["id"] for ns, i in items if ns == () and i["name"] == "node_2"}
    sub_namespaces = {ns for ns, _ in items if ns != ()}
    assert sub_namespaces == {(f"node_2:{task_id}",) for task_id in node_2_ids}
