"""Graphs the playground's browser test serves.

``draft``: a ``research`` subgraph whose ``search`` node writes custom data, a ``write``
node whose model streams tokens and then waits for the file ``$PLAYGROUND_GATE`` (the
browser test creates it once it saw the tokens in the page: tokens shown before the run
ends, by a handshake), a ``review`` node that asks, by an interrupt, whether to publish,
and a conditional edge to ``publish`` (which writes custom data) or the end.
``counter``: three nodes in a row.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, TypedDict

from rillet.config import get_stream_writer
from rillet.graph import END, START, StateGraph
from rillet.messages import AnyMessage, add_messages
from rillet.models import FakeChatModel
from rillet.types import interrupt

DRAFT = "Rivers carve valleys one grain at a time."
GATE_SECONDS = 60.0


class DraftState(TypedDict, total=False):
    topic: str
    notes: list[str]
    messages: Annotated[list[AnyMessage], add_messages]
    approved: bool
    status: str


def search(state: DraftState) -> DraftState:
    get_stream_writer()({"hits": 3, "topic": state.get("topic", "")})
    return {"notes": [f"{state.get('topic', '')}: erosion", "sediment"]}


research = (
    StateGraph(DraftState).add_node("search", search).add_edge(START, "search").compile()
)


async def write(state: DraftState) -> DraftState:
    reply = await FakeChatModel([DRAFT]).ainvoke("Write one sentence.")
    gate = Path(os.environ["PLAYGROUND_GATE"])
    for _ in range(int(GATE_SECONDS / 0.05)):  # a bounded wait for the test's handshake
        if gate.exists():
            break
        await asyncio.sleep(0.05)
    else:
        raise TimeoutError(f"{gate} did not appear within {GATE_SECONDS} s")
    return {"messages": [reply], "status": "draft"}


def review(state: DraftState) -> DraftState:
    answer = interrupt({"question": "Publish this draft?", "draft": DRAFT})
    return {"approved": answer == "yes"}


def publish(state: DraftState) -> DraftState:
    get_stream_writer()({"published": True})
    return {"status": "published"}


def after_review(state: DraftState) -> str:
    return "publish" if state.get("approved") else END


draft = (
    StateGraph(DraftState)
    .add_node("research", research).add_node("write", write)
    .add_node("review", review).add_node("publish", publish)
    .add_edge(START, "research").add_edge("research", "write").add_edge("write", "review")
    .add_conditional_edges("review", after_review, ["publish", END])
    .add_edge("publish", END)
    .compile()
)


class CountState(TypedDict):
    x: int


def add_one(state: CountState) -> CountState:
    return {"x": state["x"] + 1}


counter = (
    StateGraph(CountState)
    .add_node("a", add_one).add_node("b", add_one).add_node("c", add_one)
    .add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", END)
    .compile()
)
