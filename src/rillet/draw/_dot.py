"""Graphviz DOT text, and PNGs rendered by the local ``dot`` program (no network)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rillet._constants import END, START
from rillet.errors import GraphvizNotFoundError

if TYPE_CHECKING:
    from rillet.draw._graph import DrawableGraph, Node

    NodeLine = Callable[[Node, str], str]

#: ``draw_mermaid_png`` options of LangGraph's that mean nothing to Graphviz.
MERMAID_PNG_OPTIONS = frozenset(
    {
        "curve_style",
        "node_colors",
        "wrap_label_n_words",
        "draw_method",
        "max_retries",
        "retry_delay",
        "frontmatter_config",
        "base_url",
        "proxies",
    }
)

_INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; rillet renders PNGs with it, "
    "locally. Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install graphviz`, or see "
    "https://graphviz.org/download/. draw_mermaid() and draw_ascii() need nothing."
)
_TIMEOUT_SECONDS = 60.0


def to_dot(
    graph: DrawableGraph,
    *,
    fontname: str | None = None,
    labels: Mapping[str, Any] | None = None,
    background_color: str | None = None,
    padding: int | None = None,
) -> str:
    """The drawing as DOT: nodes in the style of LangGraph's Mermaid drawing (the
    first node an outline, the last one filled darker), conditional edges dotted, and
    each expanded subgraph (ids ``parent:child``) a cluster."""
    font = _quote(fontname or "Helvetica")
    node_labels: Mapping[str, str] = (labels or {}).get("nodes", {})
    edge_labels: Mapping[str, str] = (labels or {}).get("edges", {})
    first, last = graph.first_node(), graph.last_node()
    lines = ["digraph G {"]
    graph_attrs = [f"fontname={font}", "rankdir=TB", "nodesep=0.4", "ranksep=0.5"]
    if background_color:
        graph_attrs.append(f"bgcolor={_quote(background_color)}")
    if padding is not None:
        graph_attrs.append(f"pad={padding / 72:.3f}")  # pixels at 72 dpi, in inches
    lines.append(f"\tgraph [{', '.join(graph_attrs)}];")
    lines.append(
        f'\tnode [fontname={font}, fontsize=14, shape=box, style="rounded,filled", '
        'fillcolor="#f2f0ff", color="#6c5fc7", margin="0.2,0.08"];'
    )
    lines.append(f'\tedge [fontname={font}, fontsize=11, color="#555555"];')

    def node_line(node: Node, indent: str) -> str:
        shown = node_labels.get(node.id, node.name.split(":")[-1])
        attrs = [f"label={_quote(shown)}"]
        is_first = first is not None and node.id == first.id
        is_last = last is not None and node.id == last.id
        if is_first or is_last or node.name in (START, END):
            attrs.append("shape=oval")
        if is_first or node.name == START:
            attrs.append('style="dashed"')  # an outline, like Mermaid's fill-opacity:0
        elif is_last or node.name == END:
            attrs.append('fillcolor="#bfb6fc"')
        return f"{indent}{_quote(node.id)} [{', '.join(attrs)}];"

    clusters: dict[str, list[Node]] = {}
    for node in graph.nodes.values():
        if ":" in node.id:
            clusters.setdefault(node.id.rsplit(":", 1)[0], []).append(node)
        else:
            lines.append(node_line(node, "\t"))
    lines.extend(_clusters(clusters, "", 1, node_line))
    for edge in graph.edges:
        attrs = []
        if edge.data is not None:
            attrs.append(f"label={_quote(' ' + str(edge_labels.get(edge.data, edge.data)) + ' ')}")
        if edge.conditional:
            attrs.append("style=dotted")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"\t{_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(
    clusters: Mapping[str, list[Node]], parent: str, depth: int, node_line: NodeLine
) -> list[str]:
    """Nested ``subgraph cluster_*`` blocks for the prefixes directly under ``parent``."""
    level = parent.count(":") + 1 if parent else 0
    children: dict[str, None] = {}
    for prefix in clusters:
        parts = prefix.split(":")
        if len(parts) > level and (not parent or prefix.startswith(parent + ":")):
            children[":".join(parts[: level + 1])] = None
    lines: list[str] = []
    indent = "\t" * depth
    for prefix in children:
        lines.append(f"{indent}subgraph {_quote('cluster_' + prefix)} {{")
        lines.append(f"{indent}\tlabel={_quote(prefix.rsplit(':', 1)[-1])};")
        lines.append(f'{indent}\tstyle="rounded,dashed"; color="#9a90e0";')
        lines.extend(node_line(n, indent + "\t") for n in clusters.get(prefix, []))
        lines.extend(_clusters(clusters, prefix, depth + 1, node_line))
        lines.append(f"{indent}}}")
    return lines


def render_png(dot: str, output_file_path: str | None = None) -> bytes:
    """Run ``dot -Tpng`` on ``dot``; return the PNG, also written to the path if given.

    :raises GraphvizNotFoundError: if ``dot`` is not on PATH.
    :raises RuntimeError: if ``dot`` fails (its error output is in the message).
    """
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizNotFoundError(_INSTALL_HINT)
    try:
        done = subprocess.run(
            [binary, "-Tpng"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"Graphviz's dot did not finish in {_TIMEOUT_SECONDS:g}s") from exc
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit {done.returncode}): {message}")
    if output_file_path is not None:
        Path(output_file_path).write_bytes(done.stdout)
    return done.stdout


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
