"""``ToolNode``: parallel calls, error handling as in LangGraph, what propagates."""

from __future__ import annotations

import asyncio
import contextvars
import operator
import threading
import time
from typing import Annotated, Any, TypedDict

import pytest

from rillet.config import get_stream_writer
from rillet.errors import ConfigError, StreamClosedError, UsageError
from rillet.graph import START, StateGraph
from rillet.messages import AIMessage, ToolMessage
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, create_react_agent
from rillet.runtime._workers import parallel
from rillet.tools import tool


def calls(*items: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    tool_calls = [{"name": n, "args": a, "id": str(i)} for i, (n, a) in enumerate(items)]
    return {"messages": [AIMessage("", tool_calls=tool_calls)]}


@tool
def lookup(q: str) -> str:
    """Look something up."""
    time.sleep(0.05)
    return q


@tool
def fails(kind: str) -> str:
    """Raise the error named by kind."""
    errors: dict[str, Exception] = {
        "value": ValueError("bad value"),
        "key": KeyError("k"),
        "closed": StreamClosedError("the stream was closed by its consumer"),
    }
    raise errors[kind]


def contents(out: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(m.tool_call_id, m.status, m.content) for m in out["messages"]]


# ------------------------------------------------------------------ building


def test_duplicate_tool_names_are_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        ToolNode([lookup, fails, lookup])
    assert str(caught.value) == (
        "ToolNode got two tools named 'lookup': a model calls tools by name, so names "
        "must be unique (rename one with @tool('other_name'))"
    )


@pytest.mark.parametrize("tools", [None, lookup, "lookup", 3])
def test_tools_must_be_a_list(tools: Any) -> None:
    with pytest.raises(UsageError) as caught:
        ToolNode(tools)
    assert str(caught.value) == (
        f"ToolNode(tools=...) takes a list of tools (functions or Tool objects), got {tools!r}"
    )


def test_bad_handle_tool_errors_is_rejected_when_built() -> None:
    with pytest.raises(ConfigError, match=r"takes a bool, a str, an exception type"):
        ToolNode([lookup], handle_tool_errors=42)  # type: ignore[arg-type]

    def handler(e: int) -> str:
        return "?"

    with pytest.raises(ConfigError, match=r"annotate the handler's error with an exception"):
        ToolNode([lookup], handle_tool_errors=handler)


def test_tools_by_name_and_plain_functions() -> None:
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    node = ToolNode([double, lookup])
    assert list(node.tools_by_name) == ["double", "lookup"]
    assert contents(node.invoke(calls(("double", {"x": 4})))) == [("0", "success", "8")]


# ------------------------------------------------------------ error handling


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (True, [("0", "error", "Error: ValueError('bad value')\n Please fix your mistakes."),
                ("1", "error", "Error: KeyError('k')\n Please fix your mistakes.")]),
        ("Try another way.", [("0", "error", "Try another way."),
                              ("1", "error", "Try another way.")]),
        ((ValueError, KeyError),
         [("0", "error", "Error: ValueError('bad value')\n Please fix your mistakes."),
          ("1", "error", "Error: KeyError('k')\n Please fix your mistakes.")]),
        (lambda e: f"handled {type(e).__name__}",
         [("0", "error", "handled ValueError"), ("1", "error", "handled KeyError")]),
    ],
)
def test_handlers_that_catch_everything(handler: Any, expected: list[Any]) -> None:
    node = ToolNode([fails], handle_tool_errors=handler)
    assert contents(node.invoke(calls(("fails", {"kind": "value"}), ("fails", {"kind": "key"})))) \
        == expected


def test_a_handler_catches_only_what_its_annotation_names() -> None:
    def only_values(e: ValueError) -> str:
        return f"value problem: {e}"

    node = ToolNode([fails], handle_tool_errors=only_values)
    assert contents(node.invoke(calls(("fails", {"kind": "value"})))) == [
        ("0", "error", "value problem: bad value")
    ]
    with pytest.raises(KeyError):
        node.invoke(calls(("fails", {"kind": "key"})))
    typed = ToolNode([fails], handle_tool_errors=KeyError)
    with pytest.raises(ValueError, match="bad value"):
        typed.invoke(calls(("fails", {"kind": "value"})))


def test_default_handles_invalid_arguments_only() -> None:
    node = ToolNode([lookup, fails])
    out = node.invoke(calls(("lookup", {"q": 1}), ("lookup", {}), ("nope", {"x": 1})))
    assert contents(out) == [
        ("0", "error", "Error invoking tool 'lookup' with kwargs {'q': 1} with error:\n"
                       " q: Input should be a valid string\n Please fix the error and try again."),
        ("1", "error", "Error invoking tool 'lookup' with kwargs {} with error:\n"
                       " q: Field required\n Please fix the error and try again."),
        ("2", "error", "Error: nope is not a valid tool, try one of [lookup, fails]."),
    ]
    with pytest.raises(ValueError, match="bad value"):
        node.invoke(calls(("lookup", {"q": "fine"}), ("fails", {"kind": "value"})))


def test_unknown_tools_become_messages_even_without_handling() -> None:
    node = ToolNode([lookup], handle_tool_errors=False)
    assert contents(node.invoke(calls(("nope", {})))) == [
        ("0", "error", "Error: nope is not a valid tool, try one of [lookup].")
    ]
    with pytest.raises(ValueError, match="q: Field required"):
        node.invoke(calls(("lookup", {})))


@pytest.mark.parametrize("handler", [True, "sorry", (Exception,), lambda e: "sorry"])
def test_stream_closed_always_propagates(handler: Any) -> None:
    node = ToolNode([fails], handle_tool_errors=handler)
    with pytest.raises(StreamClosedError, match="closed by its consumer"):
        node.invoke(calls(("fails", {"kind": "closed"})))


async def test_stream_closed_and_cancellation_propagate_async() -> None:
    @tool
    async def cancelled() -> str:
        """Gets cancelled."""
        raise asyncio.CancelledError

    node = ToolNode([fails, cancelled], handle_tool_errors=True)
    with pytest.raises(StreamClosedError):
        await node.ainvoke(calls(("fails", {"kind": "closed"})))
    with pytest.raises(asyncio.CancelledError):
        await node.ainvoke(calls(("cancelled", {})))


def test_base_exceptions_propagate() -> None:
    @tool
    def interrupted() -> str:
        """Ctrl-C."""
        raise KeyboardInterrupt

    node = ToolNode([interrupted, lookup], handle_tool_errors=True)
    with pytest.raises(KeyboardInterrupt):
        node.invoke(calls(("lookup", {"q": "a"}), ("interrupted", {})))


# --------------------------------------------------------------- results


def test_results_become_content_as_in_langgraph() -> None:
    @tool
    def odd(kind: str) -> Any:
        """Odd results."""
        return {
            "set": {3, 1, 2},
            "bytes": b"\xff\x00",
            "nan": {"score": float("nan")},
            "blocks": [{"type": "text", "text": "hi"}],
            "message": ToolMessage(["a", "b"], tool_call_id="3"),
        }[kind]

    out = ToolNode([odd]).invoke(calls(
        ("odd", {"kind": "set"}), ("odd", {"kind": "bytes"}), ("odd", {"kind": "nan"}),
        ("odd", {"kind": "blocks"}), ("odd", {"kind": "message"}),
    ))
    assert [m.content for m in out["messages"]] == [
        "[1, 2, 3]", "/wA=", '{"score": null}', [{"type": "text", "text": "hi"}], '["a", "b"]'
    ]


def test_input_shapes() -> None:
    node = ToolNode([lookup])
    message = AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": "x"}, "id": "1"}])
    expected = ToolMessage("x", tool_call_id="1", name="lookup")
    assert node.invoke({"messages": [message]}) == {"messages": [expected]}
    assert node.invoke([message]) == [expected]
    direct = [{"name": "lookup", "args": {"q": "x"}, "id": "1", "type": "tool_call"}]
    assert node.invoke(direct) == {"messages": [expected]}
    with pytest.raises(ValueError, match="no AIMessage found in the input"):
        node.invoke({"messages": []})


# ---------------------------------------------------------------- parallel


def test_calls_run_in_parallel_each_in_its_own_context() -> None:
    seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")

    @tool
    def mark(tag: str) -> str:
        """Mark the context."""
        before = seen.get()
        seen.set(tag)
        together.wait()  # only passes when all three calls run at the same time
        return f"{before}->{seen.get()}"

    together = threading.Barrier(3, timeout=10)
    seen.set("caller")
    out = ToolNode([mark]).invoke(calls(("mark", {"tag": "a"}), ("mark", {"tag": "b"}),
                                        ("mark", {"tag": "c"})))
    assert [m.content for m in out["messages"]] == ["caller->a", "caller->b", "caller->c"]
    assert seen.get() == "caller"


async def test_ainvoke_runs_sync_tools_in_parallel() -> None:
    @tool
    def slow(q: str) -> str:
        """Look something up, slowly."""
        together.wait()  # only passes when all four calls run at the same time
        return q

    together = threading.Barrier(4, timeout=10)
    out = await ToolNode([slow]).ainvoke(calls(*[("slow", {"q": f"q{i}"}) for i in range(4)]))
    assert [m.content for m in out["messages"]] == ["q0", "q1", "q2", "q3"]


def test_tool_nodes_inside_busy_parallel_work_do_not_deadlock() -> None:
    """D2: 50 threads each run two ToolNodes in parallel (two calls each), far more
    blocking work than the pool has threads."""
    node = ToolNode([lookup])
    state = calls(("lookup", {"q": "a"}), ("lookup", {"q": "b"}))
    done: list[Any] = []

    def one_run() -> None:
        done.append(parallel([lambda: node.invoke(state), lambda: node.invoke(state)]))

    threads = [threading.Thread(target=one_run, daemon=True) for _ in range(50)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert len(done) == 50
    assert all([[m.content for m in o["messages"]] for o in r] == [["a", "b"]] * 2 for r in done)


class Messages(TypedDict):
    messages: Annotated[list[Any], operator.add]


def test_parallel_tool_nodes_in_50_concurrent_runs_finish() -> None:
    """D2's repro: two parallel ToolNodes, streamed from 50 threads at once."""
    message = AIMessage("", tool_calls=[
        {"name": "lookup", "args": {"q": f"q{i}"}, "id": str(i)} for i in range(2)
    ])
    graph = (
        StateGraph(Messages).add_node("left", ToolNode([lookup]))
        .add_node("right", ToolNode([lookup]))
        .add_edge(START, "left").add_edge(START, "right").compile()
    )
    done: list[Any] = []

    def one_run() -> None:
        done.append(list(graph.stream({"messages": [message]})))

    threads = [threading.Thread(target=one_run, daemon=True) for _ in range(50)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert len(done) == 50
    updates = done[0]
    assert sorted(node for update in updates for node in update) == ["left", "right"]
    assert [m.content for m in updates[0][next(iter(updates[0]))]["messages"]] == ["q0", "q1"]


def test_leaving_the_stream_does_not_call_the_model_again() -> None:
    """D5's repro: the ReAct agent in custom mode, left at the first item. The tool's
    StreamClosedError ends the run instead of becoming an error for the model."""

    @tool
    def get_items(place: str) -> str:
        """List items in a place."""
        try:
            for item in ["books", "pencils", "pictures"]:
                get_stream_writer()({"custom_tool_data": item})
                left.wait(10)  # the consumer has left before the next write
            return "books, pencils, pictures"
        finally:
            ended.set()

    left = threading.Event()
    ended = threading.Event()

    model = FakeChatModel([
        AIMessage("", tool_calls=[{"name": "get_items", "args": {"place": "office"}, "id": "1"}]),
        "In the office: books, pencils and pictures.",
    ])
    agent = create_react_agent(model, tools=ToolNode([get_items], handle_tool_errors=True))
    items = agent.stream({"messages": [("user", "what is in the office?")]}, stream_mode="custom")
    for item in items:
        assert item == {"custom_tool_data": "books"}
        break
    items.close()
    left.set()
    assert ended.wait(10)  # the tool's next write raised StreamClosedError
    assert len(model.calls) == 1
