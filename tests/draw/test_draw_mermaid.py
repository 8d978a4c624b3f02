"""``get_graph().draw_mermaid()``: every expected string below is LangGraph 1.2.22's
output (langchain-core 1.7.2) for the same graph, copied character for character."""

from __future__ import annotations

from typing import Any, TypedDict

from rillet.graph import END, START, CompiledStateGraph, MessagesState, StateGraph
from rillet.models import FakeChatModel
from rillet.prebuilt import create_react_agent
from rillet.tools import tool
from tests.draw.mermaid_common import State, graph_of, mermaid, noop, stop

# ------------------------------------------------------------------ seeds


def test_seed_002_two_node_chain() -> None:
    def refine_topic(state: State) -> dict[str, Any]:
        return {"topic": state["topic"] + " and cats"}

    def generate_joke(state: State) -> dict[str, Any]:
        return {"joke": f"This is a joke about {state['topic']}"}

    graph = (
        StateGraph(State)
        .add_node(refine_topic)
        .add_node(generate_joke)
        .add_edge(START, "refine_topic")
        .add_edge("refine_topic", "generate_joke")
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "refine_topic(refine_topic)",
        "generate_joke(generate_joke)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> refine_topic;",
        "refine_topic --> generate_joke;",
        "generate_joke --> __end__;",
    )


def should_continue(state: Any) -> str:
    return "__end__"


def test_seed_000_react_shape() -> None:
    graph = (
        StateGraph(MessagesState)
        .add_node("model", noop)
        .add_node("tools", noop)
        .add_edge("__start__", "model")
        .add_conditional_edges("model", should_continue, {"tools": "tools", "__end__": "__end__"})
        .add_edge("tools", "model")
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "model(model)",
        "tools(tools)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> model;",
        "model -.-> __end__;",
        "model -.-> tools;",
        "tools --> model;",
    )


def test_path_map_keys_that_differ_from_the_target_are_labels() -> None:
    graph = (
        graph_of("model", "tools")
        .add_edge(START, "model")
        .add_conditional_edges("model", should_continue, {"continue": "tools", "end": END})
        .add_edge("tools", "model")
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "model(model)",
        "tools(tools)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> model;",
        "model -. &nbsp;end&nbsp; .-> __end__;",
        "model -. &nbsp;continue&nbsp; .-> tools;",
        "tools --> model;",
    )


@tool
def get_items(place: str) -> str:
    """Items in a place."""
    return "books"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_prebuilt_react_agent() -> None:
    # LangGraph: create_react_agent(<fake model with bind_tools>, [get_items, get_weather])
    agent = create_react_agent(FakeChatModel(["hi"]), tools=[get_items, get_weather])
    assert agent.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "agent(agent)",
        "tools(tools<hr/><small><em>__tools = get_items, get_weather</em></small>)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> agent;",
        "agent -.-> __end__;",
        "agent -.-> tools;",
        "tools --> agent;",
    )


# ----------------------------------------------------- parallel and joins


def test_fan_out_and_fan_in() -> None:
    graph = (
        graph_of("a", "b", "c", "d")
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("a", "c")
        .add_edge("b", "d")
        .add_edge("c", "d")
        .add_edge("d", END)
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c)",
        "d(d)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> b;",
        "a --> c;",
        "b --> d;",
        "c --> d;",
        "d --> __end__;",
    )


def test_seed_002_parallel_nodes_from_start() -> None:
    graph = (
        graph_of("write_joke", "write_poem")
        .add_edge(START, "write_joke")
        .add_edge(START, "write_poem")
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "write_joke(write_joke)",
        "write_poem(write_poem)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> write_joke;",
        "__start__ --> write_poem;",
        "write_joke --> __end__;",
        "write_poem --> __end__;",
    )


def test_join_draws_an_edge_from_each_source() -> None:
    graph = (
        graph_of("a", "b", "c")
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], "c")
        .add_edge("c", END)
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "__start__ --> b;",
        "a --> c;",
        "b --> c;",
        "c --> __end__;",
    )


def test_join_whose_sources_finish_in_different_steps() -> None:
    graph = (
        graph_of("a", "b", "c")
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge(["a", "b"], "c")
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> b;",
        "a --> c;",
        "b --> c;",
        "c --> __end__;",
    )


# ------------------------------------------------------------- subgraphs


class SubgraphState(TypedDict):
    topic: str


def seed_002_subgraph() -> CompiledStateGraph:
    return (
        StateGraph(SubgraphState)
        .add_node("subgraph_node_1", noop)
        .add_node("subgraph_node_2", noop)
        .add_edge(START, "subgraph_node_1")
        .add_edge("subgraph_node_1", "subgraph_node_2")
        .compile()
    )


def seed_002_parent() -> CompiledStateGraph:
    return (
        graph_of("node_1")
        .add_node("node_2", seed_002_subgraph())
        .add_edge(START, "node_1")
        .add_edge("node_1", "node_2")
        .compile()
    )


def test_subgraph_without_xray_is_one_node() -> None:
    assert seed_002_parent().get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "node_1(node_1)",
        "node_2(node_2)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> node_1;",
        "node_1 --> node_2;",
        "node_2 --> __end__;",
    )


def test_subgraph_with_xray_is_drawn_inside_its_node() -> None:
    assert seed_002_parent().get_graph(xray=True).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "node_1(node_1)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> node_1;",
        "node_1 --> node_2\\3asubgraph_node_1;",
        "node_2\\3asubgraph_node_2 --> __end__;",
        "subgraph node_2",
        "node_2\\3asubgraph_node_1(subgraph_node_1)",
        "node_2\\3asubgraph_node_2(subgraph_node_2)",
        "node_2\\3asubgraph_node_1 --> node_2\\3asubgraph_node_2;",
        "end",
    )


def nested_parent() -> CompiledStateGraph:
    middle = (
        StateGraph(SubgraphState)
        .add_node("inner", seed_002_subgraph())
        .add_node("after", noop)
        .add_edge(START, "inner")
        .add_edge("inner", "after")
        .compile()
    )
    return (
        graph_of("node_1")
        .add_node("node_2", middle)
        .add_node("node_3", noop)
        .add_edge(START, "node_1")
        .add_edge("node_1", "node_2")
        .add_edge("node_2", "node_3")
        .add_edge("node_3", END)
        .compile()
    )


def test_xray_true_expands_every_level() -> None:
    assert nested_parent().get_graph(xray=True).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "node_1(node_1)",
        "node_3(node_3)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> node_1;",
        "node_1 --> node_2\\3ainner\\3asubgraph_node_1;",
        "node_2\\3aafter --> node_3;",
        "node_3 --> __end__;",
        "subgraph node_2",
        "node_2\\3aafter(after)",
        "node_2\\3ainner\\3asubgraph_node_2 --> node_2\\3aafter;",
        "subgraph inner",
        "node_2\\3ainner\\3asubgraph_node_1(subgraph_node_1)",
        "node_2\\3ainner\\3asubgraph_node_2(subgraph_node_2)",
        "node_2\\3ainner\\3asubgraph_node_1 --> node_2\\3ainner\\3asubgraph_node_2;",
        "end",
        "end",
    )


def test_xray_1_expands_one_level() -> None:
    assert nested_parent().get_graph(xray=1).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "node_1(node_1)",
        "node_3(node_3)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> node_1;",
        "node_1 --> node_2\\3ainner;",
        "node_2\\3aafter --> node_3;",
        "node_3 --> __end__;",
        "subgraph node_2",
        "node_2\\3ainner(inner)",
        "node_2\\3aafter(after)",
        "node_2\\3ainner --> node_2\\3aafter;",
        "end",
    )


def test_edges_in_and_out_of_an_expanded_subgraph_keep_their_labels() -> None:
    graph = (
        graph_of("node_1")
        .add_node("node_2", seed_002_subgraph())
        .add_edge(START, "node_2")
        .add_conditional_edges("node_2", stop, {"again": "node_1", "stop": END})
        .add_edge("node_1", "node_2")
        .compile()
    )
    assert graph.get_graph(xray=True).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "node_1(node_1)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> node_2\\3asubgraph_node_1;",
        "node_1 --> node_2\\3asubgraph_node_1;",
        "node_2\\3asubgraph_node_2 -. &nbsp;stop&nbsp; .-> __end__;",
        "node_2\\3asubgraph_node_2 -. &nbsp;again&nbsp; .-> node_1;",
        "subgraph node_2",
        "node_2\\3asubgraph_node_1(subgraph_node_1)",
        "node_2\\3asubgraph_node_2(subgraph_node_2)",
        "node_2\\3asubgraph_node_1 --> node_2\\3asubgraph_node_2;",
        "end",
    )
