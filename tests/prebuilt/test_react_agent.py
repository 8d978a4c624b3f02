"""The prebuilt ReAct agent, ``ToolNode`` and ``tools_condition``; seed 004."""

from __future__ import annotations

from typing import Any

import pytest

from rillet.config import get_stream_writer
from rillet.errors import UsageError
from rillet.graph import END, START, MessagesState, StateGraph
from rillet.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, create_react_agent, tools_condition
from rillet.tools import tool
from tests.conftest import scrub


def call(name: str, args: dict[str, Any], id: str = "call_1") -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": id}])


@tool
async def get_items_custom(place: str) -> str:
    """Use this tool to list items one might find in a place you're asked about."""
    writer = get_stream_writer()
    items = ["books", "penciles", "pictures"]
    for chunk in items:
        writer({"custom_tool_data": chunk})
    return ", ".join(items)


@pytest.mark.parametrize("use_async", [False, True])
async def test_seed_004_custom_data_from_a_tool(use_async: bool) -> None:
    llm = FakeChatModel([call("get_items_custom", {"place": "office"}), "books and more"])
    agent = create_react_agent(llm, tools=[get_items_custom])
    inputs = {"messages": [{"role": "user", "content": "what items are in the office?"}]}
    if use_async:
        chunks = [c async for c in agent.astream(inputs, stream_mode="custom")]
    else:
        chunks = list(agent.stream(inputs, stream_mode="custom"))
    assert chunks == [
        {"custom_tool_data": "books"},
        {"custom_tool_data": "penciles"},
        {"custom_tool_data": "pictures"},
    ]


async def test_seed_004_llm_tokens_from_inside_a_tool() -> None:
    llm = FakeChatModel(
        [
            call("get_items", {"place": "bedroom"}),
            "Bed, pillow, lamp",
            "In the bedroom: a bed, a pillow and a lamp.",
        ]
    )

    @tool
    async def get_items(place: str, config: dict) -> str:
        """Use this tool to list items one might find in a place you're asked about."""
        response = await llm.ainvoke(
            [{"role": "user", "content": f"Items in the {place}? List at least 3."}], config
        )
        return response.content

    agent = create_react_agent(llm, tools=[get_items])
    inputs = {"messages": [{"role": "user", "content": "what items are in the bedroom?"}]}
    from_tools = []
    async for msg, metadata in agent.astream(inputs, stream_mode="messages"):
        if (
            isinstance(msg, AIMessageChunk)
            and msg.content
            and metadata["langgraph_node"] == "tools"
        ):
            from_tools.append(msg.content)
    assert from_tools == ["Bed,", " pillow,", " lamp"]


def test_agent_updates_and_final_state() -> None:
    @tool
    def get_items(place: str) -> str:
        """List items in a place."""
        return "socks, shoes and dust bunnies" if "bed" in place else "cat snacks"

    llm = FakeChatModel([call("get_items", {"place": "bedroom"}), "Socks and shoes."])
    agent = create_react_agent(llm, tools=[get_items], prompt="You are helpful.")
    updates = list(agent.stream({"messages": [HumanMessage("what's in the bedroom?")]}))
    assert [list(u) for u in updates] == [["agent"], ["tools"], ["agent"]]
    assert updates[1]["tools"]["messages"][0].content == "socks, shoes and dust bunnies"
    assert [m.content for m in llm.calls[0]] == ["You are helpful.", "what's in the bedroom?"]
    assert set(agent.nodes) == {"agent", "tools"}


def test_tool_node_reports_bad_calls_and_lets_tool_errors_raise() -> None:
    @tool
    def ok(x: int) -> int:
        """Double x."""
        return x * 2

    @tool
    def boom(x: int) -> int:
        """Always fails."""
        raise RuntimeError("kaput")

    message = AIMessage(
        "",
        tool_calls=[
            {"name": "ok", "args": {"x": 2}, "id": "1"},
            {"name": "nope", "args": {}, "id": "3"},
            {"name": "ok", "args": {"y": 1}, "id": "4"},
        ],
    )
    out = ToolNode([ok, boom]).invoke({"messages": [message]})["messages"]
    assert [(m.tool_call_id, m.status, m.content) for m in out] == [
        ("1", "success", "4"),
        ("3", "error", "Error: nope is not a valid tool, try one of [ok, boom]."),
        ("4", "error", "Error invoking tool 'ok' with kwargs {'y': 1} with error:\n"
                       " x: Field required\n"
                       " Please fix the error and try again."),
    ]
    failing = AIMessage("", tool_calls=[{"name": "boom", "args": {"x": 1}, "id": "2"}])
    with pytest.raises(RuntimeError, match="kaput"):  # LangGraph's default: it raises
        ToolNode([ok, boom]).invoke({"messages": [failing]})
    with pytest.raises(RuntimeError, match="kaput"):
        ToolNode([boom], handle_tool_errors=False).invoke({"messages": [failing]})
    caught = ToolNode([boom], handle_tool_errors=True).invoke({"messages": [failing]})
    assert caught["messages"][0].content == (
        "Error: RuntimeError('kaput')\n Please fix your mistakes."
    )


async def test_tool_node_async() -> None:
    @tool
    async def echo(text: str) -> str:
        """Echo."""
        return text

    message = AIMessage("", tool_calls=[{"name": "echo", "args": {"text": "hi"}, "id": "a"}])
    out = await ToolNode([echo]).ainvoke({"messages": [message]})
    assert out == {"messages": [ToolMessage(content="hi", tool_call_id="a", name="echo")]}
    # As in LangGraph: a list of messages in, a list of ToolMessages out.
    assert await ToolNode([echo]).ainvoke([message]) == out["messages"]


def test_agent_with_a_tool_that_raises_propagates_the_error() -> None:
    @tool
    def broken(place: str) -> str:
        """Always fails."""
        raise LookupError(f"no {place}")

    llm = FakeChatModel([call("broken", {"place": "attic"}), "unused"])
    agent = create_react_agent(llm, tools=[broken])
    with pytest.raises(LookupError, match="no attic"):
        agent.invoke({"messages": [HumanMessage("what is in the attic?")]})
    assert len(llm.calls) == 1


@pytest.mark.parametrize(
    ("model", "tools", "message"),
    [
        (None, [], "create_react_agent(model=...) takes a chat model or a model name such "
                   "as 'openai:gpt-4o-mini', got None"),
        (42, [], "create_react_agent(model=...) takes a chat model or a model name such "
                 "as 'openai:gpt-4o-mini', got 42"),
        ("FAKE", None, "create_react_agent(tools=...) takes a list of tools (functions or "
                       "Tool objects; [] for none) or a ToolNode, got None"),
        ("FAKE", "get_items", "create_react_agent(tools=...) takes a list of tools "
                              "(functions or Tool objects; [] for none) or a ToolNode, "
                              "got 'get_items'"),
    ],
)
def test_create_react_agent_names_a_bad_argument(model: Any, tools: Any, message: str) -> None:
    if model == "FAKE":
        model = FakeChatModel(["hi"])
    with pytest.raises(UsageError) as caught:
        create_react_agent(model, tools)
    assert str(caught.value) == message


def test_create_react_agent_takes_no_tools_or_a_tool_node() -> None:
    agent = create_react_agent(FakeChatModel(["hello"]), tools=[])
    assert set(agent.nodes) == {"agent"}
    assert agent.invoke({"messages": [HumanMessage("hi")]})["messages"][-1].content == "hello"

    @tool
    def get_items(place: str) -> str:
        """List items."""
        return "books"

    node = ToolNode([get_items], handle_tool_errors=True)
    agent = create_react_agent(FakeChatModel([call("get_items", {"place": 1}), "ok"]), node)
    out = agent.invoke({"messages": [HumanMessage("shelf?")]})
    assert out["messages"][2].content == (
        "Error: ToolInvocationError(\"Error invoking tool 'get_items' with kwargs "
        "{'place': 1} with error:\\n place: Input should be a valid string\\n Please fix "
        "the error and try again.\")\n Please fix your mistakes."
    )


def test_tools_condition() -> None:
    assert tools_condition({"messages": [call("x", {})]}) == "tools"
    assert tools_condition({"messages": [AIMessage("done")]}) == END
    assert tools_condition([{"role": "assistant", "content": "hi"}]) == END


def test_hand_written_react_graph_with_tool_node() -> None:
    @tool
    def get_items(place: str) -> str:
        """List items."""
        return "books"

    script = [call("get_items", {"place": "shelf"}), "Books.", "Nothing to look up."]
    llm = FakeChatModel(script).bind_tools([get_items])

    def agent(state: MessagesState) -> dict:
        return {"messages": [llm.invoke(state["messages"])]}

    graph = (
        StateGraph(MessagesState)
        .add_node("agent", agent)
        .add_node("tools", ToolNode([get_items]))
        .add_edge(START, "agent")
        .add_conditional_edges("agent", tools_condition)
        .add_edge("tools", "agent")
        .compile()
    )
    result = graph.invoke({"messages": [{"role": "user", "content": "shelf?"}]})
    assert [type(m).__name__ for m in result["messages"]] == [
        "HumanMessage", "AIMessage", "ToolMessage", "AIMessage"
    ]
    tasks = list(graph.stream({"messages": [HumanMessage("x")]}, stream_mode="tasks"))
    assert scrub(tasks[0])["triggers"] == ("branch:to:agent",)
