"""Injected tool arguments and unknown arguments, as LangChain and LangGraph 1.2.22 do.

Every expected value here was observed on LangGraph 1.2.22 / langchain-core 1.7.2
running the same tools (LangChain's schemas carry ``title`` keys that rillet's JSON
schemas leave out; the keys, types and ``required`` lists are the same).
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import AIMessage, ToolMessage
from rillet.prebuilt import InjectedState, InjectedStore, ToolNode
from rillet.tools import InjectedToolArg, InjectedToolCallId, tool


def ai(*calls: tuple[str, dict[str, Any], str]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": n, "args": a, "id": i} for n, a, i in calls])


def run_node(node: ToolNode, *calls: tuple[str, dict[str, Any], str],
             schema: Any = MessagesState, **extra: Any) -> list[Any]:
    """The ``updates`` stream of a one-node graph running ``node`` on ``calls``."""
    graph = StateGraph(schema).add_node("tools", node).add_edge(START, "tools").compile()
    return list(graph.stream({"messages": [ai(*calls)], **extra}))


def contents(updates: list[Any]) -> list[tuple[str, str, Any]]:
    return [(m.tool_call_id, m.status, m.content) for m in updates[0]["tools"]["messages"]]


@tool
def inj(
    q: str,
    state: Annotated[dict, InjectedState],
    foo: Annotated[str, InjectedState("foo")],
    store: Annotated[Any, InjectedStore()],
    tcid: Annotated[str, InjectedToolCallId],
    user: Annotated[str, InjectedToolArg],
) -> str:
    """Inj tool.

    Args:
        q: the query
    """
    return f"{q} {sorted(state)} {foo} {type(store).__name__} {tcid} {user}"


class FooState(MessagesState):
    foo: str


@tool
def inj2(
    q: str,
    state: Annotated[dict, InjectedState],
    foo: Annotated[str, InjectedState("foo")],
    tcid: Annotated[str, InjectedToolCallId],
) -> str:
    """Inj2."""
    return f"{q} {sorted(state)} {foo} {tcid}"


# ------------------------------------------------------------------ schemas


def test_injected_arguments_are_hidden_from_the_model_only() -> None:
    assert inj.args == {"q": {"description": "the query", "title": "Q", "type": "string"}}
    assert inj.tool_call_schema == {
        "type": "object",
        "properties": {"q": {"type": "string", "description": "the query"}},
        "required": ["q"],
    }
    assert inj.to_openai_tool()["function"]["parameters"] == inj.tool_call_schema
    # As LangChain's args_schema: every argument, all required.
    assert inj.args_schema == {
        "type": "object",
        "properties": {
            "q": {"type": "string", "description": "the query"},
            "state": {"type": "object"},
            "foo": {"type": "string"},
            "store": {},
            "tcid": {"type": "string"},
            "user": {"type": "string"},
        },
        "required": ["q", "state", "foo", "store", "tcid", "user"],
    }


def test_a_plain_function_with_injected_arguments_binds_without_them() -> None:
    from rillet.tools import to_openai_tool

    def lookup(q: str, user: Annotated[str, InjectedToolArg]) -> str:
        """Look up."""
        return q

    assert to_openai_tool(lookup)["function"]["parameters"] == {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]
    }


# ---------------------------------------------------------- invoking a tool


def test_invoking_a_tool_directly_takes_the_injected_arguments() -> None:
    call = {"name": "inj", "args": {"q": "x", "state": {"a": 1}, "foo": "F", "store": None,
                                    "user": "U"}, "id": "CID", "type": "tool_call"}
    assert inj.invoke(call) == ToolMessage("x ['a'] F NoneType CID U", name="inj",
                                           tool_call_id="CID")


def test_a_tool_call_id_argument_needs_a_tool_call() -> None:
    with pytest.raises(ValueError) as caught:
        inj2.invoke({"q": "x", "state": {}, "foo": "F"})
    assert str(caught.value) == (
        "When tool includes an InjectedToolCallId argument, tool must always be invoked "
        "with a full model ToolCall of the form: {'args': {...}, 'name': '...', "
        "'type': 'tool_call', 'tool_call_id': '...'}"
    )


def test_the_call_id_wins_over_one_in_the_arguments() -> None:
    call = {"name": "inj2", "args": {"q": "x", "state": {}, "foo": "F", "tcid": "forged"},
            "id": "real", "type": "tool_call"}
    assert inj2.invoke(call).content == "x [] F real"


def test_unknown_arguments_are_dropped() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    assert add.invoke({"a": 1, "b": 2, "c": 3}) == 3
    assert contents(run_node(ToolNode([add]), ("add", {"a": 1, "b": 2, "zz": 5}, "1"))) == [
        ("1", "success", "3")
    ]
    # The message shows what the model sent, unknown arguments included.
    assert contents(run_node(ToolNode([add]), ("add", {"a": 1, "zz": 5}, "1"))) == [
        ("1", "error", "Error invoking tool 'add' with kwargs {'a': 1, 'zz': 5} with error:\n"
                       " b: Field required\n Please fix the error and try again.")
    ]


# ------------------------------------------------------------- in ToolNode


def test_tool_node_injects_the_state_a_key_and_the_call_id() -> None:
    out = run_node(ToolNode([inj2]), ("inj2", {"q": "x"}, "c1"), schema=FooState, foo="FOO")
    assert [list(u) for u in out] == [["tools"]]
    (message,) = out[0]["tools"]["messages"]
    assert (message.content, message.name, message.tool_call_id) == (
        "x ['foo', 'messages'] FOO c1", "inj2", "c1"
    )


def test_a_model_cannot_forge_injected_arguments() -> None:
    forged = {"q": "x", "foo": "model", "tcid": "model", "state": {}}
    out = run_node(ToolNode([inj2]), ("inj2", forged, "c1"), schema=FooState, foo="FOO")
    assert contents(out) == [("c1", "success", "x ['foo', 'messages'] FOO c1")]

    @tool
    def ua(q: str, user: Annotated[str, InjectedToolArg]) -> str:
        """Ua."""
        return user

    # ToolNode does not fill an InjectedToolArg, and drops the model's value for it.
    for args in ({"q": "x"}, {"q": "x", "user": "u"}):
        assert contents(run_node(ToolNode([ua]), ("ua", args, "c1"))) == [
            ("c1", "error", f"Error invoking tool 'ua' with kwargs {args!r} with error:\n"
                            " user: Field required\n Please fix the error and try again.")
        ]


@tool
def foo_t(q: str, foo: Annotated[str, InjectedState("foo")]) -> str:
    """F."""
    return foo


@tool
def whole(q: str, state: Annotated[dict, InjectedState]) -> str:
    """W."""
    return repr(sorted(state))


@tool
def opt(q: str, foo: Annotated[str | None, InjectedState("foo")] = None) -> str:
    """O."""
    return repr(foo)


@tool
def msgs(q: str, messages: Annotated[list, InjectedState("messages")]) -> str:
    """M."""
    return str(len(messages))


NODE = ToolNode([foo_t, whole, opt, msgs])


def test_state_injection_from_each_input_shape() -> None:
    assert NODE.invoke([ai(("whole", {"q": "x"}, "1"))]) == [
        ToolMessage("['messages']", name="whole", tool_call_id="1")
    ]
    assert NODE.invoke([ai(("msgs", {"q": "x"}, "1"))]) == [
        ToolMessage("1", name="msgs", tool_call_id="1")
    ]
    assert NODE.invoke({"messages": [ai(("opt", {"q": "x"}, "1"))]}) == {
        "messages": [ToolMessage("None", name="opt", tool_call_id="1")]
    }
    sent = {"__type": "tool_call_with_context", "state": {"messages": [], "zz": 1},
            "tool_call": {"name": "whole", "args": {"q": "x"}, "id": "9", "type": "tool_call"}}
    assert NODE.invoke(sent) == {
        "messages": [ToolMessage("['messages', 'zz']", name="whole", tool_call_id="9")]
    }


def test_state_injection_errors_propagate() -> None:
    with pytest.raises(ValueError) as caught:
        NODE.invoke([ai(("foo_t", {"q": "x"}, "1"))])
    assert str(caught.value) == (
        "Invalid input to ToolNode. Tool foo_t requires graph state dict as input. "
        "State should contain fields foo."
    )
    with pytest.raises(KeyError, match="foo"):
        ToolNode([foo_t], handle_tool_errors=True).invoke(
            {"messages": [ai(("foo_t", {"q": "x"}, "1"))]}
        )


def test_argument_errors_leave_the_state_out() -> None:
    out = NODE.invoke({"messages": [ai(("whole", {"q": 5}, "1"))]})
    assert contents([{"tools": out}]) == [
        ("1", "error", "Error invoking tool 'whole' with kwargs {'q': 5} with error:\n"
                       " q: Input should be a valid string\n Please fix the error and try again.")
    ]


def test_a_store_argument_without_a_store_fails_the_run() -> None:
    @tool
    def st(q: str, store: Annotated[Any, InjectedStore()]) -> str:
        """St."""
        return type(store).__name__

    with pytest.raises(ValueError) as caught:
        run_node(ToolNode([st], handle_tool_errors=True), ("st", {"q": "x"}, "c1"))
    assert str(caught.value) == (
        "Cannot inject store into tools with InjectedStore annotations - please compile "
        "your graph with a store."
    )
