"""The differential tests' graphs, written with LangGraph's imports, for ``langgraph dev``.

``graphs_rillet.py`` is the same file with rillet's imports (and rillet's
``FakeChatModel`` for ``WordModel``); keep the two in step.

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

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import interrupt
from pydantic import Field

REPLY = "alpha beta gamma"


_WORD = re.compile(r"\s*\S+|\s+$")


class WordModel(BaseChatModel):
    """Streams as rillet's ``FakeChatModel`` does: ``text`` one word per chunk, each
    word with its leading space, then each tool call as tool-call chunks (name and id
    first, then the JSON arguments word by word)."""

    text: str = REPLY
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    message_id: str | None = None

    @property
    def _llm_type(self) -> str:
        return "words"

    def _chunks(self) -> Iterator[AIMessageChunk]:
        for word in _WORD.findall(self.text):
            yield AIMessageChunk(content=word, id=self.message_id)
        for index, call in enumerate(self.tool_calls):
            yield AIMessageChunk(content="", id=self.message_id, tool_call_chunks=[
                tool_call_chunk(name=call["name"], args="", id=call["id"], index=index)])
            for piece in _WORD.findall(json.dumps(call["args"])):
                yield AIMessageChunk(content="", id=self.message_id, tool_call_chunks=[
                    tool_call_chunk(name=None, args=piece, id=None, index=index)])

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.text))])

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any):
        for chunk in self._chunks():
            yield ChatGenerationChunk(message=chunk)


def make_model(reply: str | AIMessage = REPLY) -> WordModel:
    if isinstance(reply, str):
        return WordModel(text=reply)
    return WordModel(text=reply.text, tool_calls=reply.tool_calls, message_id=reply.id)


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
