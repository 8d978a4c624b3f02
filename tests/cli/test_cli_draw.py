"""``rillet draw``: Mermaid by default, ASCII with --ascii, a PNG file with --png."""

from __future__ import annotations

GRAPH = "examples/demo_graphs.py:graph"


def test_mermaid_is_the_default(rillet) -> None:
    result = rillet("draw", GRAPH)
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        "---",
        "config:",
        "  flowchart:",
        "    curve: linear",
        "---",
        "graph TD;",
        "\t__start__([<p>__start__</p>]):::first",
        "\trefine_topic(refine_topic)",
        "\tgenerate_joke(generate_joke)",
        "\t__end__([<p>__end__</p>]):::last",
        "\t__start__ --> refine_topic;",
        "\trefine_topic --> generate_joke;",
        "\tgenerate_joke --> __end__;",
        "\tclassDef default fill:#f2f0ff,line-height:1.2",
        "\tclassDef first fill-opacity:0",
        "\tclassDef last fill:#bfb6fc",
    ]


def test_ascii_is_what_the_drawing_api_draws(rillet) -> None:
    from examples.demo_graphs import nested

    result = rillet("draw", "examples/demo_graphs.py:nested", "--ascii")
    assert (result.code, result.err) == (0, "")
    assert result.out.rstrip("\n") == nested.get_graph().draw_ascii().rstrip("\n")
    assert " | node_2 |" in result.lines


def test_xray_draws_the_subgraph_nodes(rillet) -> None:
    plain = rillet("draw", "examples/demo_graphs.py:nested").out
    xray = rillet("draw", "examples/demo_graphs.py:nested", "--xray").out
    assert "subgraph_node_1" not in plain
    assert "subgraph_node_1" in xray


def test_png_is_written(rillet, tmp_path) -> None:
    out = tmp_path / "graph.png"
    result = rillet("draw", GRAPH, "--png", str(out))
    assert (result.code, result.out, result.err) == (0, "", f"rillet: wrote {out}\n")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_png_into_a_missing_folder(rillet, tmp_path) -> None:
    out = tmp_path / "missing" / "graph.png"
    result = rillet("draw", GRAPH, "--png", str(out))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"rillet: error: cannot write {out}: [Errno 2] No such file or directory: '{out}'\n"
    )
