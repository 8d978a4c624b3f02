"""``to_dot()``, ``draw_png()`` and ``draw_mermaid_png()``: rendered locally by Graphviz.

The PNG tests need Graphviz's ``dot``, which ``scripts/test.sh`` installs; they fail
without it (never skipped). The error raised in its absence is tested on its own.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any, TypedDict

import pytest

from rillet.draw import GraphvizNotFoundError
from rillet.graph import END, START, CompiledStateGraph, StateGraph

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class State(TypedDict):
    topic: str


def noop(state: Any) -> dict[str, Any]:
    return {}


def stop(state: Any) -> str:
    return "end"


def react_shape() -> CompiledStateGraph:
    return (
        StateGraph(State)
        .add_node("model", noop)
        .add_node("tools", noop)
        .add_edge(START, "model")
        .add_conditional_edges("model", stop, {"continue": "tools", "end": END})
        .add_edge("tools", "model")
        .compile()
    )


def with_subgraph() -> CompiledStateGraph:
    sub = (
        StateGraph(State)
        .add_node("subgraph_node_1", noop)
        .add_node("subgraph_node_2", noop)
        .add_edge(START, "subgraph_node_1")
        .add_edge("subgraph_node_1", "subgraph_node_2")
        .compile()
    )
    return (
        StateGraph(State)
        .add_node("node_1", noop)
        .add_node("node_2", sub)
        .add_edge(START, "node_1")
        .add_edge("node_1", "node_2")
        .compile()
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Check the PNG structure with the stdlib and return (width, height) from IHDR."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    ihdr = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + ihdr) == crc
    width, height = struct.unpack(">II", ihdr[:8])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


HEAD = (
    "digraph G {\n"
    '\tgraph [fontname="Helvetica", rankdir=TB, nodesep=0.4, ranksep=0.5];\n'
    '\tnode [fontname="Helvetica", fontsize=14, shape=box, style="rounded,filled", '
    'fillcolor="#f2f0ff", color="#6c5fc7", margin="0.2,0.08"];\n'
    '\tedge [fontname="Helvetica", fontsize=11, color="#555555"];\n'
)


def test_to_dot() -> None:
    assert react_shape().get_graph().to_dot() == HEAD + (
        '\t"__start__" [label="__start__", shape=oval, style="dashed"];\n'
        '\t"model" [label="model"];\n'
        '\t"tools" [label="tools"];\n'
        '\t"__end__" [label="__end__", shape=oval, fillcolor="#bfb6fc"];\n'
        '\t"__start__" -> "model";\n'
        '\t"model" -> "__end__" [label=" end ", style=dotted];\n'
        '\t"model" -> "tools" [label=" continue ", style=dotted];\n'
        '\t"tools" -> "model";\n'
        "}\n"
    )


def test_to_dot_draws_expanded_subgraphs_as_clusters() -> None:
    assert with_subgraph().get_graph(xray=True).to_dot() == HEAD + (
        '\t"__start__" [label="__start__", shape=oval, style="dashed"];\n'
        '\t"node_1" [label="node_1"];\n'
        '\t"__end__" [label="__end__", shape=oval, fillcolor="#bfb6fc"];\n'
        '\tsubgraph "cluster_node_2" {\n'
        '\t\tlabel="node_2";\n'
        '\t\tstyle="rounded,dashed"; color="#9a90e0";\n'
        '\t\t"node_2:subgraph_node_1" [label="subgraph_node_1"];\n'
        '\t\t"node_2:subgraph_node_2" [label="subgraph_node_2"];\n'
        "\t}\n"
        '\t"__start__" -> "node_1";\n'
        '\t"node_1" -> "node_2:subgraph_node_1";\n'
        '\t"node_2:subgraph_node_2" -> "__end__";\n'
        '\t"node_2:subgraph_node_1" -> "node_2:subgraph_node_2";\n'
        "}\n"
    )


def test_to_dot_quotes_names_and_takes_label_overrides() -> None:
    graph = StateGraph(State).add_node('say "hi"', noop).add_edge(START, 'say "hi"').compile()
    dot = graph.get_graph().to_dot(labels={"nodes": {END: "Done"}}, fontname="Arial")
    assert '\t"say \\"hi\\"" [label="say \\"hi\\""];\n' in dot
    assert '\t"__end__" [label="Done", shape=oval, fillcolor="#bfb6fc"];\n' in dot
    assert 'fontname="Arial"' in dot and "Helvetica" not in dot


def test_draw_png_returns_a_png(tmp_path: Path) -> None:
    drawing = react_shape().get_graph()
    data = drawing.draw_png()
    width, height = png_size(data)
    assert width > 0 and height > 0
    target = tmp_path / "graph.png"
    assert drawing.draw_png(str(target)) == data
    assert target.read_bytes() == data


def test_draw_mermaid_png_renders_locally(tmp_path: Path) -> None:
    target = tmp_path / "mermaid.png"
    data = (
        with_subgraph()
        .get_graph(xray=True)
        .draw_mermaid_png(output_file_path=str(target), curve_style=None, max_retries=3)
    )
    width, height = png_size(data)
    assert width > 0 and height > 0
    assert target.read_bytes() == data


def test_draw_mermaid_png_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="colour"):
        react_shape().get_graph().draw_mermaid_png(colour="red")


def test_missing_graphviz_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    drawing = react_shape().get_graph()
    with pytest.raises(GraphvizNotFoundError) as info:
        drawing.draw_png()
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    with pytest.raises(GraphvizNotFoundError):
        drawing.draw_mermaid_png()
