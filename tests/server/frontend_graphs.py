"""Graphs the front-end protocol tests serve (``/agui/...``, ``/vercel/...``).

``agent`` is a ReAct-style agent: its model (a :class:`FakeChatModel` made per call,
so every run answers the same way) calls the ``add`` tool when the last message is a
user's question, then answers with the tool's result; the tool also writes custom
data. ``approve`` asks (``interrupt``) before it runs the tool; the resume value says
whether to. ``thinker`` answers from a model that streams reasoning first.
``gated`` streams one token, then waits for a file the test creates (resume tests).
``counter`` counts its runs in its state (state snapshots and deltas), ``failing``
fails in its second node.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rillet.config import get_stream_writer
from rillet.graph import END, START, StateGraph
from rillet.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage, add_messages
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, tools_condition
from rillet.tools import tool
from rillet.types import interrupt


class AgentState(TypedDict):
    # a list, not prebuilt.AgentState's Sequence: rillet's add_messages leaves a
    # Sequence channel's first write (the input's dicts) uncoerced (reported)
    messages: Annotated[list[BaseMessage], add_messages]


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    get_stream_writer()({"type": "progress", "note": f"adding {a} and {b}"})
    return a + b


def _reply(messages: list[BaseMessage]) -> str | AIMessage:
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return AIMessage(content=f"The sum is {last.content}.", id=f"answer-{len(messages)}")
    return AIMessage(content="Let me add.", id=f"call-{len(messages)}", tool_calls=[
        {"name": "add", "args": {"a": 2, "b": 3}, "id": f"tc-{len(messages)}"}])


def model(state: AgentState) -> dict[str, list[BaseMessage]]:
    reply = FakeChatModel([_reply(state["messages"])]).invoke(state["messages"])
    return {"messages": [reply]}


agent = (
    StateGraph(AgentState)
    .add_node("model", model).add_node("tools", ToolNode([add]))
    .add_edge(START, "model").add_conditional_edges("model", tools_condition)
    .add_edge("tools", "model")
    .compile()
)


def ask_first(state: AgentState) -> dict[str, list[BaseMessage]]:
    call = state["messages"][-1].tool_calls[0]
    answer = interrupt({"question": f"Run {call['name']}?", "args": call["args"]})
    if answer == "yes":
        return {}
    return {"messages": [ToolMessage(content="refused", tool_call_id=call["id"], name="add")]}


def after_asking(state: AgentState) -> str:
    return "model" if isinstance(state["messages"][-1], ToolMessage) else "tools"


approve = (
    StateGraph(AgentState)
    .add_node("model", model).add_node("ask", ask_first).add_node("tools", ToolNode([add]))
    .add_edge(START, "model")
    .add_conditional_edges("model", tools_condition, {"tools": "ask", END: END})
    .add_conditional_edges("ask", after_asking, ["model", "tools"])
    .add_edge("tools", "model")
    .compile()
)


class ThinkingModel(FakeChatModel):
    """Streams its reasoning (``reasoning_content``, as DeepSeek-style providers send
    it) before the answer."""

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        for piece in ("Two", " plus two."):
            yield AIMessageChunk(content="", id="think-1",
                                 additional_kwargs={"reasoning_content": piece})
        yield from (AIMessageChunk(content=c.content, id="think-1")
                    for c in super()._stream(messages, **kwargs))

    async def _astream(self, messages: list[BaseMessage],
                       **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        for chunk in self._stream(messages, **kwargs):
            yield chunk


def think(state: AgentState) -> dict[str, list[BaseMessage]]:
    return {"messages": [ThinkingModel(["It is 4."]).invoke(state["messages"])]}


thinker = StateGraph(AgentState).add_node("think", think).add_edge(START, "think").compile()


async def wait_for_gate(state: AgentState) -> dict[str, list[BaseMessage]]:
    """Streams "Waiting", then waits for the file named by the user's message."""
    gate = Path(json.loads(str(state["messages"][-1].content))["gate"])
    first = await FakeChatModel([AIMessage("Waiting", id="wait-1")]).ainvoke(state["messages"])
    for _ in range(3000):  # 30 s at most
        if gate.exists():
            break
        await asyncio.sleep(0.01)
    done = await FakeChatModel([AIMessage("Done.", id="wait-2")]).ainvoke(state["messages"])
    return {"messages": [first, done]}


gated = (
    StateGraph(AgentState).add_node("wait", wait_for_gate).add_edge(START, "wait").compile()
)


class CountState(TypedDict, total=False):
    messages: Annotated[list[BaseMessage], add_messages]
    count: int
    label: str


def bump(state: CountState) -> dict[str, Any]:
    return {"count": state.get("count", 0) + 1,
            "messages": [AIMessage(f"count {state.get('count', 0) + 1}", id="bumped")]}


def explode(state: CountState) -> dict[str, Any]:
    raise ValueError("no good")


counter = (
    StateGraph(CountState).add_node("bump", bump).add_edge(START, "bump").compile()
)
failing = (
    StateGraph(CountState).add_node("bump", bump).add_node("explode", explode)
    .add_edge(START, "bump").add_edge("bump", "explode").compile()
)
