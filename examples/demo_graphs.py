"""Example graphs for ``rillet run`` and ``rillet draw`` (the CLI's tests use them).

    rillet run examples/demo_graphs.py:graph --input '{"topic": "ice cream"}' \
        --stream-mode updates,custom
    rillet run examples/demo_graphs.py:nested --input '{"foo": "foo"}' --subgraphs
    rillet run examples/demo_graphs.py:chat --input '{"messages": [{"role": "user",
        "content": "hi"}]}' --stream-mode messages
    rillet draw examples/demo_graphs.py:nested --ascii
"""

from __future__ import annotations

import time
from typing import TypedDict

from rillet.graph import START, CompiledStateGraph, MessagesState, StateGraph
from rillet.models import FakeChatModel
from rillet.types import StreamWriter

# ------------------------------------------- the two-node chain of seed 002


class State(TypedDict):
    topic: str
    joke: str


def refine_topic(state: State):
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: State, writer: StreamWriter):
    writer({"custom_key": "Writing custom data while generating a joke"})
    return {"joke": f"This is a joke about {state['topic']}"}


builder = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
)
graph = builder.compile()


def make_graph() -> CompiledStateGraph:
    """The same graph, from a factory."""
    return builder.compile()


# --------------------------------------------------- a subgraph (seed 002)


class SubgraphState(TypedDict):
    foo: str  # shared with the parent graph's state
    bar: str


def subgraph_node_1(state: SubgraphState):
    return {"bar": "bar"}


def subgraph_node_2(state: SubgraphState):
    return {"foo": state["foo"] + state["bar"]}


subgraph = (
    StateGraph(SubgraphState)
    .add_node(subgraph_node_1)
    .add_node(subgraph_node_2)
    .add_edge(START, "subgraph_node_1")
    .add_edge("subgraph_node_1", "subgraph_node_2")
    .compile()
)


class ParentState(TypedDict):
    foo: str


def node_1(state: ParentState):
    return {"foo": "hi! " + state["foo"]}


nested = (
    StateGraph(ParentState)
    .add_node("node_1", node_1)
    .add_node("node_2", subgraph)
    .add_edge(START, "node_1")
    .add_edge("node_1", "node_2")
    .compile()
)

# ------------------------------------------- a chat model streaming tokens

model = FakeChatModel(["Hello there, friend."])


def call_model(state: MessagesState):
    return {"messages": [model.invoke(state["messages"])]}


chat = StateGraph(MessagesState).add_node(call_model).add_edge(START, "call_model").compile()

# -------------------------------------------------------- graphs that fail


def tell_joke(state: State):
    raise ValueError(f"no joke about {state['topic']}")


failing = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(tell_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "tell_joke")
    .compile()
)


def ticker_node(state: State, writer: StreamWriter):
    """Runs until the stream is closed: the write after that raises and stops it."""
    count = 0
    while True:
        count += 1
        writer({"tick": count})
        time.sleep(0.02)


ticker = StateGraph(State).add_node("tick", ticker_node).add_edge(START, "tick").compile()

not_a_graph = 42
