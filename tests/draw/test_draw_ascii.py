"""``draw_ascii()``: rillet's own layered layout (LangGraph needs grandalf for this)."""

from __future__ import annotations

from typing import Any, TypedDict

from rillet.draw import DrawableGraph
from rillet.graph import END, START, StateGraph


class State(TypedDict):
    topic: str


def noop(state: Any) -> dict[str, Any]:
    return {}


def stop(state: Any) -> str:
    return "stop"


def graph_of(*names: str) -> StateGraph:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, noop)
    return builder


def test_chain() -> None:
    graph = (
        graph_of("refine_topic", "generate_joke")
        .add_edge(START, "refine_topic")
        .add_edge("refine_topic", "generate_joke")
        .compile()
    )
    assert graph.get_graph().draw_ascii() == "\n".join(
        [
            "  +-----------+",
            "  | __start__ |",
            "  +-----------+",
            "        *",
            "        *",
            "        *",
            "+--------------+",
            "| refine_topic |",
            "+--------------+",
            "        *",
            "        *",
            "        *",
            "+---------------+",
            "| generate_joke |",
            "+---------------+",
            "        *",
            "        *",
            "        *",
            "   +---------+",
            "   | __end__ |",
            "   +---------+",
        ]
    )


def test_react_loop_runs_up_the_right_margin() -> None:
    graph = (
        graph_of("model", "tools")
        .add_edge(START, "model")
        .add_conditional_edges("model", stop, {"continue": "tools", "end": END})
        .add_edge("tools", "model")
        .compile()
    )
    assert graph.get_graph().draw_ascii() == "\n".join(
        [
            "      +-----------+",
            "      | __start__ |",
            "      +-----------+",
            "            *",
            "            *",
            "            *",
            "        +-------+",
            "        | model |<********",
            "        +-------+        *",
            "           ...           *",
            "       ....   ...        *",
            "     ..          ..      *",
            "+---------+   +-------+  *",
            "| __end__ |   | tools |***",
            "+---------+   +-------+",
        ]
    )


def test_fan_out_and_fan_in() -> None:
    graph = (
        graph_of("a", "b", "c", "d")
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("a", "c")
        .add_edge("b", "d")
        .add_edge("c", "d")
        .compile()
    )
    assert graph.get_graph().draw_ascii() == "\n".join(
        [
            "+-----------+",
            "| __start__ |",
            "+-----------+",
            "      *",
            "      *",
            "      *",
            "    +---+",
            "    | a |",
            "    +---+",
            "     ***",
            "    *   *",
            "  **     **",
            "+---+   +---+",
            "| b |   | c |",
            "+---+   +---+",
            "  **     **",
            "    *   *",
            "     ***",
            "    +---+",
            "    | d |",
            "    +---+",
            "      *",
            "      *",
            "      *",
            " +---------+",
            " | __end__ |",
            " +---------+",
        ]
    )


def test_self_loop() -> None:
    graph = (
        graph_of("a")
        .add_edge(START, "a")
        .add_conditional_edges("a", stop, {"again": "a", "stop": END})
        .compile()
    )
    assert graph.get_graph().draw_ascii() == "\n".join(
        [
            "+-----------+",
            "| __start__ |",
            "+-----------+",
            "      *",
            "      *",
            "      *",
            "    +---+<......",
            "    | a |      .",
            "    +---+.......",
            "      .",
            "      .",
            "      .",
            " +---------+",
            " | __end__ |",
            " +---------+",
        ]
    )


def test_long_edges_pass_between_boxes() -> None:
    graph = (
        graph_of("a", "b", "c")
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge(["a", "b"], "c")
        .compile()
    )
    lines = graph.get_graph().draw_ascii().split("\n")
    # a -> c skips b's layer: its line runs beside b's box, not through it.
    assert lines[12:15] == ["   *   +---+", "   *   | b |", "   *   +---+"]


def test_empty_graph() -> None:
    assert DrawableGraph().draw_ascii() == ""
