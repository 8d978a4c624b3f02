"""Graphs the server tests serve (``langgraph.json`` in ``conftest.py``).

chain3, custom, tokens and hitl are the server benchmark's graphs
(``../shared/bench/server/graphs_rillet.py``); ``boom`` fails in its second node,
``slow`` sleeps (to cancel it), ``nested`` runs a subgraph as a node, ``mixed`` runs a
subgraph whose node writes custom data and calls a model (every stream mode at once),
``gated`` waits in its middle node for a file the test creates (restart tests),
``chat`` returns a whole message in its state (the ``messages`` stream mode),
``greet`` reads its run's ``context`` (a dataclass ``context_schema``),
``memory`` writes to the server's store from one node and reads it from the next,
``settings`` shows its run's context and configurable (assistants' config).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypedDict

from rillet.config import get_store, get_stream_writer
from rillet.graph import END, START, StateGraph
from rillet.messages import AIMessage, add_messages
from rillet.models import FakeChatModel
from rillet.runtime import Runtime, get_runtime
from rillet.store import BaseStore
from rillet.types import interrupt


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


class CountState(TypedDict, total=False):
    n: int
    count: int


def emit_items(state: CountState) -> dict[str, int]:
    n = state.get("n") or 10
    writer = get_stream_writer()
    for i in range(n):
        writer({"i": i})
    return {"count": n}


custom = StateGraph(CountState).add_node("emit", emit_items).add_edge(START, "emit")


def call_model(state: CountState) -> dict[str, int]:
    words = ["alpha", "beta", "gamma", "delta"][: state.get("n") or 3]
    reply = FakeChatModel([" ".join(words)]).invoke("Say n words.")
    return {"count": len(reply.content)}


def tokens() -> StateGraph:
    """A factory: the server calls it to get the graph."""
    return StateGraph(CountState).add_node("call_model", call_model).add_edge(START, "call_model")


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


class NapState(TypedDict, total=False):
    x: int
    seconds: float


async def nap(state: NapState) -> dict[str, int]:
    await asyncio.sleep(state.get("seconds", 30))
    return {"x": state["x"] + 1}


slow = StateGraph(NapState).add_node("nap", nap).add_edge(START, "nap").compile()


inner = (
    StateGraph(ChainState).add_node("step", add_one).add_edge(START, "step").compile()
)
nested = (
    StateGraph(ChainState).add_node("sub", inner).add_node("last", add_one)
    .add_edge(START, "sub").add_edge("sub", "last")
    .compile()
)


def write_and_call(state: ChainState) -> dict[str, int]:
    get_stream_writer()({"at": state["x"]})
    reply = FakeChatModel(["two words"]).invoke("Say two words.")
    return {"x": state["x"] + len(reply.content.split())}


mixed_inner = (
    StateGraph(ChainState).add_node("work", write_and_call).add_edge(START, "work").compile()
)
mixed = (
    StateGraph(ChainState).add_node("sub", mixed_inner).add_node("last", add_one)
    .add_edge(START, "sub").add_edge("sub", "last")
    .compile()
)


class GateState(TypedDict, total=False):
    dir: str  # a folder of the test's: calls (one line per node run), go (the gate)
    x: int


def _called(state: GateState, name: str) -> None:
    with open(Path(state["dir"]) / "calls", "a") as calls:
        calls.write(name + "\n")


def gate_a(state: GateState) -> dict[str, int]:
    _called(state, "a")
    return {"x": state["x"] + 1}


async def gate_b(state: GateState) -> dict[str, int]:
    _called(state, "b")
    get_stream_writer()({"b": "waiting"})
    while not (Path(state["dir"]) / "go").exists():  # the test opens the gate
        await asyncio.sleep(0.02)
    return {"x": state["x"] * 10}


def gate_c(state: GateState) -> dict[str, int]:
    _called(state, "c")
    return {"x": state["x"] + 5}


gated = (
    StateGraph(GateState)
    .add_node("a", gate_a).add_node("b", gate_b).add_node("c", gate_c)
    .add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", END)
    .compile()
)


class ChatState(TypedDict, total=False):
    messages: Annotated[list, add_messages]


def reply(state: ChatState) -> dict[str, list[AIMessage]]:
    return {"messages": [AIMessage("hello there", id="reply-1")]}


chat = StateGraph(ChatState).add_node("reply", reply).add_edge(START, "reply").compile()


@dataclass
class Greeting:
    name: str
    punctuation: str = "!"


class GreetState(TypedDict, total=False):
    text: str


def greet_node(state: GreetState) -> GreetState:
    context = get_runtime(Greeting).context
    return {"text": f"hello {context.name}{context.punctuation}"}


greet = (
    StateGraph(GreetState, context_schema=Greeting)
    .add_node("greet", greet_node).add_edge(START, "greet").compile()
)


class MemoryState(TypedDict, total=False):
    user: str
    text: str
    seen: list[str]


def remember(state: MemoryState, runtime: Runtime) -> dict[str, str]:
    runtime.store.put(("memories", state["user"]), "m-" + state["text"],
                      {"text": state["text"]})
    return {}


def recall(state: MemoryState, store: BaseStore) -> dict[str, list[str]]:
    assert get_store() is store
    return {"seen": [item.value["text"] for item in store.search(("memories", state["user"]))]}


memory = (
    StateGraph(MemoryState)
    .add_node("remember", remember).add_node("recall", recall)
    .add_edge(START, "remember").add_edge("remember", "recall")
    .compile()
)


class SettingsState(TypedDict, total=False):
    context: dict
    configurable: dict


def show_settings(state: SettingsState, runtime: Runtime, config: dict,
                  ) -> dict[str, dict]:
    configurable = {k: v for k, v in (config.get("configurable") or {}).items()
                    if not k.startswith("__") and k not in ("thread_id", "checkpoint_ns", "task_id",
                                                              "checkpoint_id")}
    return {"context": dict(runtime.context or {}), "configurable": configurable}


settings = StateGraph(SettingsState).add_node("show", show_settings).add_edge(START, "show")


class RecordState(TypedDict, total=False):
    dir: str  # a folder of the test's: record (two lines per run: its start and end)
    n: int


async def record(state: RecordState, config: dict) -> dict[str, int]:
    line = f"{config['configurable']['thread_id']} {config['metadata']['run_id']} {os.getpid()}"
    with open(Path(state["dir"]) / "record", "a") as out:
        out.write(f"start {line}\n")
    await asyncio.sleep(0.002)
    with open(Path(state["dir"]) / "record", "a") as out:
        out.write(f"end {line}\n")
    return {"n": state.get("n", 0) + 1}


#: Not served by default (``names=(*GRAPHS, "recorded")``): the scale-out race.
recorded = StateGraph(RecordState).add_node("record", record).add_edge(START, "record").compile()
