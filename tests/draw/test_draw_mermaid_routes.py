"""``draw_mermaid()`` for conditional edges, ``Command`` destinations, loops, names
and options. Every expected string is LangGraph 1.2.22's output for the same graph."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from rillet.draw import CurveStyle, NodeStyles
from rillet.graph import END, START, CompiledStateGraph, StateGraph
from rillet.types import Command
from tests.draw.mermaid_common import CLASSES, State, graph_of, mermaid, noop, stop


def should_continue(state: Any) -> str:
    return "__end__"


# ------------------------------------------------ branches and commands


def route(state: Any) -> Literal["left", "right", "__end__"]:
    return "left"


def test_literal_annotated_path_function_without_path_map() -> None:
    graph = (
        graph_of("entry", "left", "right")
        .add_edge(START, "entry")
        .add_conditional_edges("entry", route)
        .add_edge("left", END)
        .add_edge("right", END)
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "entry(entry)",
        "left(left)",
        "right(right)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> entry;",
        "entry -.-> __end__;",
        "entry -.-> left;",
        "entry -.-> right;",
        "left --> __end__;",
        "right --> __end__;",
    )


def test_conditional_entry_point() -> None:
    graph = (
        graph_of("left", "right").add_conditional_edges(START, route, ["left", "right"]).compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "left(left)",
        "right(right)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ -.-> left;",
        "__start__ -.-> right;",
        "left --> __end__;",
        "right --> __end__;",
    )


def unknown_route(state: Any) -> str:
    return "left"


def test_branch_with_unknown_targets_draws_no_edges() -> None:
    # LangGraph cannot see where the path function goes: it draws the source as a
    # plain step to __end__ and leaves the other nodes unconnected (so no node is
    # "first" or "last" and __start__/__end__ lose their styles).
    graph = (
        graph_of("entry", "left", "right")
        .add_edge(START, "entry")
        .add_conditional_edges("entry", unknown_route)
        .add_edge("left", END)
        .add_edge("right", END)
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__(<p>__start__</p>)",
        "entry(entry)",
        "left(left)",
        "right(right)",
        "__end__(<p>__end__</p>)",
        "__start__ --> entry;",
        "entry --> __end__;",
    )


def goto_b_or_c(state: Any) -> Command[Literal["b", "c"]]:
    return Command(goto="b")


@pytest.mark.parametrize("declared", [False, True])
def test_command_destinations_are_conditional_edges(declared: bool) -> None:
    builder = StateGraph(State)
    if declared:
        builder.add_node("a", noop, destinations=("b", "c"))
    else:
        builder.add_node("a", goto_b_or_c)
    graph = builder.add_node("b", noop).add_node("c", noop).add_edge(START, "a").compile()
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -.-> b;",
        "a -.-> c;",
        "b --> __end__;",
        "c --> __end__;",
    )


def test_a_loop_without_end_gets_a_conditional_edge_to_end() -> None:
    graph = graph_of("a", "b").add_edge(START, "a").add_edge("a", "b").add_edge("b", "a")
    assert graph.compile().get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> b;",
        "b --> a;",
        "b -.-> __end__;",
    )


def test_static_end_edge_is_hidden_by_a_conditional_edge_from_the_same_node() -> None:
    graph = (
        graph_of("a", "b")
        .add_edge(START, "a")
        .add_edge("a", END)
        .add_conditional_edges("a", stop, {"again": "b", "stop": END})
        .add_edge("b", END)
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -. &nbsp;stop&nbsp; .-> __end__;",
        "a -. &nbsp;again&nbsp; .-> b;",
        "b --> __end__;",
    )


def test_self_loop_and_several_keys_to_one_target() -> None:
    loop = (
        graph_of("a")
        .add_edge(START, "a")
        .add_conditional_edges("a", stop, {"again": "a", "stop": END})
        .compile()
    )
    assert loop.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -. &nbsp;stop&nbsp; .-> __end__;",
        "a -. &nbsp;again&nbsp; .-> a;",
    )
    same_target = (
        graph_of("a", "b")
        .add_edge(START, "a")
        .add_conditional_edges("a", stop, {"first": "b", "second": "b", "third": END})
        .compile()
    )
    assert same_target.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -. &nbsp;third&nbsp; .-> __end__;",
        "a -. &nbsp;first&nbsp; .-> b;",
        "b --> __end__;",
    )


# ------------------------------------------------- names, labels, options


def test_ids_are_escaped_and_long_labels_wrapped() -> None:
    graph = (
        graph_of("my node", "*bold*", "b")
        .add_edge(START, "my node")
        .add_edge("my node", "*bold*")
        .add_conditional_edges(
            "*bold*",
            stop,
            {
                "one two three four five six seven eight nine ten eleven twelve": "b",
                'stop [now] (please) {x} <y> | #1 "q"': END,
            },
        )
        .compile()
    )
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "my\\20node(my node)",
        "\\2abold\\2a(<p>*bold*</p>)",
        "b(b)",
        "__end__([<p>__end__</p>]):::last",
        '\\2abold\\2a -. &nbsp;stop [now] (please) {x} <y> | #1 "q"&nbsp; .-> __end__;',
        "\\2abold\\2a -. &nbsp;one two three four five six seven eight nine&nbsp<br>&nbspten"
        " eleven twelve&nbsp; .-> b;",
        "__start__ --> my\\20node;",
        "my\\20node --> \\2abold\\2a;",
        "b --> __end__;",
    )


def test_node_metadata_is_shown_under_the_name() -> None:
    metadata = {"tags": ["x", "y"], "s": {"b", "a"}, "d": {"k": 1}, "h": "a#b<c>", "t": True}
    graph = StateGraph(State).add_node("a", noop, metadata=metadata).add_edge(START, "a")
    assert graph.compile().get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a<hr/><small><em>tags = x, y\ns = a, b\nh = a#35;b#60;c#62;\nt = True</em></small>)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> __end__;",
    )


def labelled_react() -> CompiledStateGraph:
    return (
        graph_of("model", "tools")
        .add_edge(START, "model")
        .add_conditional_edges("model", should_continue, {"continue": "tools", "end": END})
        .add_edge("tools", "model")
        .compile()
    )


EDGES = (
    "\t__start__ --> model;\n"
    "\tmodel -. &nbsp;end&nbsp; .-> __end__;\n"
    "\tmodel -. &nbsp;continue&nbsp; .-> tools;\n"
    "\ttools --> model;\n"
)
NODES = (
    "\t__start__([<p>__start__</p>]):::first\n"
    "\tmodel(model)\n"
    "\ttools(tools)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
)


def test_without_styles() -> None:
    assert labelled_react().get_graph().draw_mermaid(with_styles=False) == "graph TD;\n" + EDGES


def test_curve_style_and_node_colors() -> None:
    text = (
        labelled_react()
        .get_graph()
        .draw_mermaid(
            curve_style=CurveStyle.BASIS,
            node_colors=NodeStyles(default="fill:red", first="fill:blue", last="fill:green"),
        )
    )
    assert text == (
        "---\nconfig:\n  flowchart:\n    curve: basis\n---\ngraph TD;\n"
        + NODES
        + EDGES
        + "\tclassDef default fill:red\n\tclassDef first fill:blue\n\tclassDef last fill:green\n"
    )


def test_frontmatter_config_is_written_as_pyyaml_writes_it() -> None:
    frontmatter = {
        "title": "My graph",
        "config": {
            "theme": "neutral",
            "look": "handDrawn",
            "themeVariables": {"primaryColor": "#e2e2e2"},
            "flowchart": {"htmlLabels": False},
        },
    }
    text = labelled_react().get_graph().draw_mermaid(frontmatter_config=frontmatter)
    assert text == (
        "---\n"
        "config:\n"
        "  flowchart:\n"
        "    curve: linear\n"
        "    htmlLabels: false\n"
        "  look: handDrawn\n"
        "  theme: neutral\n"
        "  themeVariables:\n"
        "    primaryColor: '#e2e2e2'\n"
        "title: My graph\n"
        "---\n"
        "graph TD;\n" + NODES + EDGES + CLASSES
    )
