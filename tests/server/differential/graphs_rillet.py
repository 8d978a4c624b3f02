"""The differential tests' graphs, written with rillet's imports, for ``rillet serve``.

``graphs_langgraph.py`` is the same file with LangGraph's imports (and a
``WordModel`` for ``FakeChatModel``); keep the two in step.

    chain3  a -> b -> c, each adds 1 to x
    nested  sub (a compiled subgraph: step adds 1) -> last adds 1
    custom  emit writes n custom items {"i": k}
    tokens  call_model invokes a chat model that streams "alpha", " beta", " gamma"
    mixed   sub (a subgraph whose node writes custom data and calls the model) -> last
    hitl    ask (calls interrupt()) -> after
    boom    a adds 1 -> b raises ValueError
    tools   agent (a model streaming a tool call) -> tools (a ToolNode) -> agent answers
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from rillet.config import get_stream_writer
from rillet.graph import END, START, StateGraph
from rillet.messages import AIMessage, add_messages
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, tools_condition
from rillet.tools import tool
from rillet.types import interrupt

REPLY = "alpha beta gamma"


def make_model(reply: str | AIMessage = REPLY) -> FakeChatModel:
    """Streams ``reply``'s text one word per chunk, each word with its leading space
    ("alpha", " beta", " gamma"), then its tool calls as tool-call chunks."""
    return FakeChatModel([reply])


class ChainState(TypedDict):
    x: int


def add_one(state: ChainState) -> dict[str, int]:
    return {"x": state["x"] + 1}


chain3 = (
    StateGraph(ChainState)
    .add_node("a", add_one).add_node("b", add_one).add_node("c", add_one)
    .add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", END)
    .compile()
)

inner = StateGraph(ChainState).add_node("step", add_one).add_edge(START, "step").compile()
nested = (
    StateGraph(ChainState).add_node("sub", inner).add_node("last", add_one)
    .add_edge(START, "sub").add_edge("sub", "last")
    .compile()
)


class CountState(TypedDict, total=False):
    n: int
    count: int


def emit_items(state: CountState) -> dict[str, int]:
    writer = get_stream_writer()
    for i in range(state["n"]):
        writer({"i": i})
    return {"count": state["n"]}


custom = StateGraph(CountState).add_node("emit", emit_items).add_edge(START, "emit").compile()


def call_model(state: CountState) -> dict[str, int]:
    reply = make_model().invoke("Say three words.")
    return {"count": len(reply.content)}


tokens = (
    StateGraph(CountState).add_node("call_model", call_model).add_edge(START, "call_model")
    .compile()
)


def write_and_call(state: ChainState) -> dict[str, int]:
    get_stream_writer()({"at": state["x"]})
    reply = make_model().invoke("Say three words.")
    return {"x": state["x"] + len(reply.content.split())}


mixed_inner = (
    StateGraph(ChainState).add_node("work", write_and_call).add_edge(START, "work").compile()
)
mixed = (
    StateGraph(ChainState).add_node("sub", mixed_inner).add_node("last", add_one)
    .add_edge(START, "sub").add_edge("sub", "last")
    .compile()
)


class AskState(TypedDict, total=False):
    question: str
    answer: str
    done: bool


def ask(state: AskState) -> dict[str, str]:
    return {"answer": str(interrupt({"question": state.get("question", "proceed?")}))}


def after(state: AskState) -> dict[str, bool]:
    return {"done": True}


hitl = (
    StateGraph(AskState)
    .add_node("ask", ask).add_node("after", after)
    .add_edge(START, "ask").add_edge("ask", "after").add_edge("after", END)
    .compile()
)


def explode(state: ChainState) -> dict[str, int]:
    raise ValueError(f"no good: {state['x']}")


boom = (
    StateGraph(ChainState)
    .add_node("a", add_one).add_node("b", explode)
    .add_edge(START, "a").add_edge("a", "b")
    .compile()
)


class ChatState(TypedDict, total=False):
    messages: Annotated[list, add_messages]


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def agent(state: ChatState) -> dict[str, list[AIMessage]]:
    """Asks for the add tool, then (once it answered) says the result."""
    last = state["messages"][-1]
    if last.type == "tool":
        reply: str | AIMessage = AIMessage(f"it is {last.content}", id="ai-2")
    else:
        call = {"name": "add", "args": {"a": 2, "b": 3}, "id": "call-1", "type": "tool_call"}
        reply = AIMessage("Adding.", tool_calls=[call], id="ai-1")
    return {"messages": [make_model(reply).invoke(state["messages"])]}


tools = (
    StateGraph(ChatState)
    .add_node("agent", agent).add_node("tools", ToolNode([add]))
    .add_edge(START, "agent").add_conditional_edges("agent", tools_condition)
    .add_edge("tools", "agent")
    .compile()
)
