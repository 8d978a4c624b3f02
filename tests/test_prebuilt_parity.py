"""``create_react_agent`` and ``ToolNode`` against LangGraph 1.2.22.

Every expected value was observed on LangGraph 1.2.22 / langchain-core 1.7.2 running
the same script with a fake chat model that answers the same messages.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from rillet.models import FakeChatModel
from rillet.prebuilt import AgentState, ToolNode, create_react_agent
from rillet.tools import InjectedToolCallId, tool
from rillet.types import Command


def ai(*calls: tuple[str, dict[str, Any], str], id: str | None = None) -> AIMessage:
    return AIMessage("", id=id, tool_calls=[{"name": n, "args": a, "id": i} for n, a, i in calls])


def shape(updates: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each update as (node, [(kind, content, tool_call_id or name)]), ids left out."""
    out: list[tuple[str, Any]] = []
    for update in updates:
        ((node, value),) = update.items()
        if value is None or "messages" not in value:
            out.append((node, value))
            continue
        out.append((node, [
            (type(m).__name__, m.content, getattr(m, "tool_call_id", None) or m.name)
            for m in value["messages"]
        ]))
    return out


@tool
def get_items(place: str) -> str:
    """List items."""
    return f"items in {place}"


@tool(return_direct=True)
def final(place: str) -> str:
    """Final."""
    return f"final {place}"


def two_calls() -> FakeChatModel:
    return FakeChatModel([
        ai(("get_items", {"place": "a"}, "c1"), ("get_items", {"place": "b"}, "c2"), id="m1"),
        AIMessage("done", id="m2"),
    ])


HI = {"messages": [HumanMessage("hi", id="h")]}


# ------------------------------------------------------------ the agent loop


def test_v2_runs_each_tool_call_as_its_own_task_and_names_the_messages() -> None:
    agent = create_react_agent(two_calls(), [get_items], name="bob")
    assert (list(agent.nodes), agent.name) == (["agent", "tools"], "bob")
    updates = list(agent.stream(HI))
    assert shape(updates) == [
        ("agent", [("AIMessage", "", "bob")]),
        ("tools", [("ToolMessage", "items in a", "c1")]),
        ("tools", [("ToolMessage", "items in b", "c2")]),
        ("agent", [("AIMessage", "done", "bob")]),
    ]
    assert updates[0]["agent"]["messages"][0].name == "bob"


def test_v1_runs_the_tool_calls_in_one_task() -> None:
    agent = create_react_agent(two_calls(), [get_items], version="v1")
    assert shape(list(agent.stream(HI))) == [
        ("agent", [("AIMessage", "", None)]),
        ("tools", [("ToolMessage", "items in a", "c1"), ("ToolMessage", "items in b", "c2")]),
        ("agent", [("AIMessage", "done", None)]),
    ]


def test_too_few_steps_left_ends_with_a_sorry() -> None:
    model = FakeChatModel([ai(("get_items", {"place": "a"}, "c1"), id="m1")] * 10)
    agent = create_react_agent(model, [get_items])
    updates = list(agent.stream(HI, {"recursion_limit": 4}))
    assert shape(updates) == [
        ("agent", [("AIMessage", "", None)]),
        ("tools", [("ToolMessage", "items in a", "c1")]),
        ("agent", [("AIMessage", "Sorry, need more steps to process this request.", None)]),
    ]
    assert updates[-1]["agent"]["messages"][0].id == "m1"


def test_return_direct_ends_after_the_tool() -> None:
    model = FakeChatModel([ai(("final", {"place": "a"}, "c1"), id="m1")])
    agent = create_react_agent(model, [get_items, final])
    assert shape(list(agent.stream(HI))) == [
        ("agent", [("AIMessage", "", None)]),
        ("tools", [("ToolMessage", "final a", "c1")]),
    ]


def test_pre_and_post_model_hooks() -> None:
    def pre(state: dict[str, Any]) -> dict[str, Any]:
        return {"llm_input_messages": [SystemMessage("trimmed", id="s"), state["messages"][-1]]}

    def post(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    model = FakeChatModel([ai(("get_items", {"place": "a"}, "c1"), id="m1"),
                           AIMessage("done", id="m2")])
    agent = create_react_agent(model, [get_items], pre_model_hook=pre, post_model_hook=post)
    assert list(agent.nodes) == ["agent", "tools", "pre_model_hook", "post_model_hook"]
    updates = list(agent.stream(HI))
    assert [next(iter(u)) for u in updates] == [
        "pre_model_hook", "agent", "post_model_hook", "tools",
        "pre_model_hook", "agent", "post_model_hook",
    ]
    assert updates[2] == {"post_model_hook": None}
    assert [m.content for m in updates[0]["pre_model_hook"]["llm_input_messages"]] == [
        "trimmed", "hi"
    ]
    assert [[(type(m).__name__, m.content) for m in c] for c in model.calls] == [
        [("SystemMessage", "trimmed"), ("HumanMessage", "hi")],
        [("SystemMessage", "trimmed"), ("ToolMessage", "items in a")],
    ]


@pytest.mark.parametrize("kind", ["str", "message", "function", "runnable"])
def test_prompt_kinds(kind: str) -> None:
    class Runnable:
        def invoke(self, state: Any) -> list[Any]:
            return [SystemMessage("rb"), *state["messages"]]

    prompt: Any = {
        "str": "SYS",
        "message": SystemMessage("SYS"),
        "function": lambda state: [SystemMessage("SYS"), *state["messages"]],
        "runnable": Runnable(),
    }[kind]
    model = FakeChatModel(["x"])
    create_react_agent(model, [], prompt=prompt).invoke({"messages": [HumanMessage("hi")]})
    system = "rb" if kind == "runnable" else "SYS"
    assert [(type(m).__name__, m.content) for m in model.calls[0]] == [
        ("SystemMessage", system), ("HumanMessage", "hi")
    ]


async def test_an_async_prompt() -> None:
    async def prompt(state: Any) -> list[Any]:
        return [SystemMessage("async"), *state["messages"]]

    model = FakeChatModel(["x"])
    await create_react_agent(model, [], prompt=prompt).ainvoke({"messages": [("user", "hi")]})
    assert [m.content for m in model.calls[0]] == ["async", "hi"]


def test_a_dangling_tool_call_in_the_history_is_refused() -> None:
    agent = create_react_agent(FakeChatModel(["x"]), [get_items])
    with pytest.raises(ValueError) as caught:
        agent.invoke({"messages": [HumanMessage("hi"), ai(("get_items", {"place": "a"}, "c9"))]})
    assert str(caught.value) == (
        "Found AIMessages with tool_calls that do not have a corresponding ToolMessage. "
        "Here are the first few of those tool calls: [{'name': 'get_items', 'args': "
        "{'place': 'a'}, 'id': 'c9', 'type': 'tool_call'}].\n\nEvery tool call (LLM "
        "requesting to call a tool) in the message history MUST have a corresponding "
        "ToolMessage (result of a tool invocation to return to the LLM) - this is required "
        "by most LLM providers.\nFor troubleshooting, visit: "
        "https://docs.langchain.com/oss/python/langgraph/errors/INVALID_CHAT_HISTORY"
    )


def test_bad_version_and_state_schema() -> None:
    model = FakeChatModel(["x"])
    with pytest.raises(ValueError) as caught:
        create_react_agent(model, [get_items], version="v3")  # type: ignore[arg-type]
    assert str(caught.value) == "Invalid version v3. Supported versions are 'v1' and 'v2'."
    with pytest.raises(ValueError) as caught:
        create_react_agent(model, [get_items], state_schema=MessagesState)
    assert str(caught.value) == "Missing required key(s) {'remaining_steps'} in state_schema"
    with pytest.raises(ValueError) as caught:
        create_react_agent(model, [], state_schema=AgentState, response_format={})
    assert str(caught.value) == "Missing required key(s) {'structured_response'} in state_schema"


class MyState(AgentState):
    user: str


def test_a_custom_state_schema_reaches_the_prompt() -> None:
    model = FakeChatModel(["x"])
    agent = create_react_agent(
        model, [], state_schema=MyState,
        prompt=lambda state: [SystemMessage(f"user={state['user']}"), *state["messages"]],
    )
    out = agent.invoke({"messages": [HumanMessage("hi")], "user": "ann"})
    assert out["user"] == "ann"
    assert [m.content for m in model.calls[0]] == ["user=ann", "hi"]


# ------------------------------------------------------- structured responses


class Weather(BaseModel):
    temp: int


class StructuredFake(FakeChatModel):
    """A fake with ``with_structured_output`` (rillet's models have none yet)."""

    def __init__(self, responses: list[Any], structured: Any) -> None:
        super().__init__(responses)
        self.structured = structured
        self.structured_calls: list[tuple[Any, list[Any]]] = []

    def with_structured_output(self, schema: Any) -> Any:
        fake = self

        class Structured:
            def invoke(self, messages: list[Any]) -> Any:
                fake.structured_calls.append((schema, messages))
                return fake.structured

        return Structured()


def test_response_format_adds_a_last_structured_call() -> None:
    model = StructuredFake([AIMessage("sunny", id="m1")], Weather(temp=20))
    agent = create_react_agent(
        model, [get_items], response_format=("Be terse", Weather), prompt="SYS"
    )
    assert list(agent.nodes) == ["agent", "tools", "generate_structured_response"]
    updates = list(agent.stream(HI))
    assert updates[1] == {"generate_structured_response": {"structured_response": Weather(temp=20)}}
    ((schema, messages),) = model.structured_calls
    # The tuple's prompt, then the conversation; not the agent's own prompt.
    assert schema is Weather
    assert [(type(m).__name__, m.content) for m in messages] == [
        ("SystemMessage", "Be terse"), ("HumanMessage", "hi"), ("AIMessage", "sunny")
    ]


def test_response_format_without_tools() -> None:
    model = StructuredFake([AIMessage("sunny", id="m1")], {"temp": 1})
    agent = create_react_agent(model, [], response_format={"type": "object"})
    assert list(agent.nodes) == ["agent", "generate_structured_response"]
    out = agent.invoke(HI)
    assert out["structured_response"] == {"temp": 1}
    assert [m.content for m in out["messages"]] == ["hi", "sunny"]


# ------------------------------------------------------------- Command tools


class UserState(MessagesState):
    user: str
    log: Annotated[list[str], operator.add]


@tool
def set_user(name: str, tcid: Annotated[str, InjectedToolCallId]) -> Command:
    """Set the user."""
    return Command(update={"messages": [ToolMessage(f"user is {name}", tool_call_id=tcid)],
                           "user": name, "log": [name]})


@tool
def plain(x: int) -> str:
    """Plain."""
    return f"x={x}"


@tool
def bad(tcid: Annotated[str, InjectedToolCallId]) -> Command:
    """Bad."""
    return Command(update={"user": "nobody"})


@tool
def goto(tcid: Annotated[str, InjectedToolCallId]) -> Command:
    """Goto."""
    return Command(update={"messages": [ToolMessage("went", tool_call_id=tcid)]}, goto="other")


MIXED = ai(("plain", {"x": 1}, "a"), ("set_user", {"name": "ann"}, "b"), ("plain", {"x": 2}, "c"))
NODE = ToolNode([set_user, plain, bad, goto])


def test_tool_node_returns_commands_mixed_with_updates() -> None:
    assert NODE.invoke({"messages": [MIXED]}) == [
        {"messages": [ToolMessage("x=1", name="plain", tool_call_id="a")]},
        Command(update={
            "messages": [ToolMessage("user is ann", name="set_user", tool_call_id="b")],
            "user": "ann", "log": ["ann"],
        }),
        {"messages": [ToolMessage("x=2", name="plain", tool_call_id="c")]},
    ]
    assert NODE.invoke([ai(("plain", {"x": 1}, "a"))]) == [
        ToolMessage("x=1", name="plain", tool_call_id="a")
    ]
    assert NODE.invoke({"messages": [ai(("goto", {}, "z"))]}) == [
        Command(update={"messages": [ToolMessage("went", name="goto", tool_call_id="z")]},
                goto="other")
    ]


def test_a_graph_applies_the_commands() -> None:
    graph = StateGraph(UserState).add_node("tools", NODE).add_edge(START, "tools").compile()
    out = graph.invoke({"messages": [MIXED], "log": []})
    assert [(type(m).__name__, m.content) for m in out["messages"]] == [
        ("AIMessage", ""), ("ToolMessage", "x=1"), ("ToolMessage", "user is ann"),
        ("ToolMessage", "x=2"),
    ]
    assert (out["user"], out["log"]) == ("ann", ["ann"])


def test_commands_must_answer_their_tool_call() -> None:
    with pytest.raises(ValueError) as caught:
        NODE.invoke({"messages": [ai(("bad", {}, "z"))]})
    message = (
        "Expected to have a matching ToolMessage in Command.update for tool 'bad', got: "
        "[]. Every tool call (LLM requesting to call a tool) in the message history MUST "
        "have a corresponding ToolMessage. You can fix it by modifying the tool to return "
        '`Command(update={"messages": [ToolMessage("Success", tool_call_id=tool_call_id), '
        "...]}, ...)`."
    )
    assert str(caught.value) == message
    handled = ToolNode([bad], handle_tool_errors=True).invoke({"messages": [ai(("bad", {}, "z"))]})
    assert handled == {"messages": [ToolMessage(
        f"Error: ValueError({message!r})\n Please fix your mistakes.",
        name="bad", tool_call_id="z", status="error",
    )]}
    with pytest.raises(ValueError) as caught:
        NODE.invoke([ai(("set_user", {"name": "q"}, "z"))])
    assert str(caught.value) == (
        "Tools can provide a dict in Command.update only when using dict with 'messages' "
        "key as ToolNode input, got: {'messages': [ToolMessage(content='user is q', "
        "tool_call_id='z')], 'user': 'q', 'log': ['q']} for tool 'set_user'"
    )


def test_a_pydantic_agent_state() -> None:
    from rillet.prebuilt import AgentStatePydantic

    model = FakeChatModel([ai(("get_items", {"place": "a"}, "c1"), id="m1"), "done"])
    agent = create_react_agent(model, [get_items], state_schema=AgentStatePydantic)
    out = agent.invoke({"messages": [HumanMessage("hi")]})
    assert [m.content for m in out["messages"]] == ["hi", "", "items in a", "done"]
