"""Mermaid flowchart text, the same characters as LangGraph's ``draw_mermaid()``.

The rules (node shapes, ``classDef`` lines, ``subgraph`` blocks for ``parent:child``
ids, edge label wrapping, id escaping) follow ``langchain_core.runnables.graph_mermaid``
so that a drawing can be diffed against LangGraph's, quirks included: an edge goes in
the block named by the id parts its two ends share position by position.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from rillet.draw._graph import CurveStyle, Edge, Node, NodeStyles
from rillet.draw._yaml import dump_yaml
from rillet.errors import GraphBuildError

_MARKDOWN_SPECIAL_CHARS = ("*", "_", "`")
_SAFE_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
_LABEL_ESCAPES = {
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    '"': "#quot;",
    "<": "#60;",
    ">": "#62;",
    "|": "#124;",
}


def draw_mermaid(
    nodes: Mapping[str, Node],
    edges: Sequence[Edge],
    *,
    first_node: str | None,
    last_node: str | None,
    with_styles: bool,
    curve_style: CurveStyle | str,
    node_styles: NodeStyles,
    wrap_label_n_words: int,
    frontmatter_config: Mapping[str, Any] | None,
) -> str:
    writer = _Writer(nodes, edges, first_node, last_node, with_styles, wrap_label_n_words)
    out = [_header(with_styles, curve_style, frontmatter_config)]
    out.append(writer.body())
    if with_styles:
        for class_name in ("default", "first", "last"):
            out.append(f"\tclassDef {class_name} {getattr(node_styles, class_name)}\n")
    return "".join(out)


def _header(
    with_styles: bool, curve_style: CurveStyle | str, frontmatter: Mapping[str, Any] | None
) -> str:
    if not with_styles:
        return "graph TD;\n"
    curve = curve_style.value if isinstance(curve_style, CurveStyle) else str(curve_style)
    original = dict(frontmatter or {})
    config = dict(original.get("config", {}))
    config["flowchart"] = {**config.get("flowchart", {}), "curve": curve}
    original["config"] = config
    return "---\n" + dump_yaml(original) + "---\ngraph TD;\n"


class _Writer:
    """Renders the node lines, the edges and the nested ``subgraph`` blocks."""

    def __init__(
        self,
        nodes: Mapping[str, Node],
        edges: Sequence[Edge],
        first_node: str | None,
        last_node: str | None,
        with_styles: bool,
        wrap_label_n_words: int,
    ) -> None:
        self.with_styles = with_styles
        self.wrap = wrap_label_n_words
        self.formats = {"default": "{0}({1})"}
        if first_node is not None:
            self.formats[first_node] = "{0}([{1}]):::first"
        if last_node is not None:
            self.formats[last_node] = "{0}([{1}]):::last"
        self.regular: dict[str, Node] = {}
        self.nested: dict[str, dict[str, Node]] = {}
        for key, node in nodes.items():
            if ":" in key:
                self.nested.setdefault(key.rsplit(":", 1)[0], {})[key] = node
            else:
                self.regular[key] = node
        self.groups: dict[str, list[Edge]] = {}
        for edge in edges:
            shared = [
                s
                for s, t in zip(edge.source.split(":"), edge.target.split(":"), strict=False)
                if s == t
            ]
            self.groups.setdefault(":".join(shared), []).append(edge)
        self.seen: set[str] = set()
        self.out: list[str] = []

    def body(self) -> str:
        if self.with_styles:
            self.out.extend(self._node(key, node) for key, node in self.regular.items())
        self._block(self.groups.get("", []), "")
        for prefix, group in self.groups.items():
            if prefix and ":" not in prefix:
                self._block(group, prefix)
                self.seen.add(prefix)
        if self.with_styles:
            for prefix, members in self.nested.items():
                if ":" not in prefix and prefix not in self.seen:
                    self.out.append(f"\tsubgraph {_break_lines(prefix)}\n")
                    self.out.extend(self._node(key, node) for key, node in members.items())
                    self.out.append("\tend\n")
                    self.seen.add(prefix)
        return "".join(self.out)

    def _block(self, edges: list[Edge], prefix: str) -> None:
        self_loop = len(edges) == 1 and edges[0].source == edges[0].target
        opened = bool(prefix) and not self_loop
        if opened:
            name = prefix.rsplit(":", 1)[-1]
            if name in self.seen:
                raise GraphBuildError(
                    f"Found duplicate subgraph '{name}' -- this likely means that you're "
                    "reusing a subgraph node with the same name. Please adjust your graph "
                    "to have subgraph nodes with unique names."
                )
            self.seen.add(name)
            self.out.append(f"\tsubgraph {_break_lines(name)}\n")
            if self.with_styles and prefix in self.nested:
                self.out.extend(self._node(k, n) for k, n in self.nested[prefix].items())
        for edge in edges:
            self.out.append(f"\t{safe_id(edge.source)}{self._arrow(edge)}{safe_id(edge.target)};\n")
        for nested, group in self.groups.items():
            if not nested.startswith(prefix + ":") or nested == prefix:
                continue
            if ":" in nested[len(prefix) + 1 :]:
                continue  # deeper levels are drawn by their parent block
            self._block(group, nested)
        if opened:
            self.out.append("\tend\n")

    def _arrow(self, edge: Edge) -> str:
        if edge.data is None:
            return " -.-> " if edge.conditional else " --> "
        label = str(edge.data)
        words = label.split()
        if len(words) > self.wrap:
            label = "&nbsp<br>&nbsp".join(
                " ".join(words[i : i + self.wrap]) for i in range(0, len(words), self.wrap)
            )
        else:
            label = _break_lines(label)
        if edge.conditional:
            return f" -. &nbsp;{label}&nbsp; .-> "
        return f" -- &nbsp;{label}&nbsp; --> "

    def _node(self, key: str, node: Node) -> str:
        name = _break_lines(node.name.split(":")[-1])
        label = (
            f"<p>{name}</p>"
            if name.startswith(_MARKDOWN_SPECIAL_CHARS) and name.endswith(_MARKDOWN_SPECIAL_CHARS)
            else name
        )
        lines = _metadata_lines(node.metadata or {})
        if lines:
            label = f"{label}<hr/><small><em>" + "\n".join(lines) + "</em></small>"
        template = self.formats.get(key, self.formats["default"])
        return "\t" + template.format(safe_id(key), label) + "\n"


def safe_id(label: str) -> str:
    """A Mermaid-safe id: ``[A-Za-z0-9_-]`` kept, anything else as ``\\`` + hex code."""
    return "".join(ch if ch in _SAFE_ID_CHARS else "\\" + format(ord(ch), "x") for ch in label)


def _break_lines(text: str) -> str:
    """``text`` with its line breaks as ``<br>``: a raw newline would end the Mermaid
    line (LangChain leaves it, and its drawing breaks; here it shows as a new line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _escape_label(text: str) -> str:
    text = text.replace("#", "#35;")
    for char, entity in _LABEL_ESCAPES.items():
        text = text.replace(char, entity)
    return text


def _metadata_lines(metadata: Mapping[str, Any]) -> list[str]:
    lines = []
    for key, value in metadata.items():
        shown = _metadata_value(value)
        if shown is not None:
            lines.append(_escape_label(f"{key} = {shown}"))
    return lines


def _metadata_value(value: Any) -> str | None:
    scalars = (str, int, float, bool)
    if isinstance(value, scalars):
        return str(value)
    if isinstance(value, list | tuple | set) and all(isinstance(v, scalars) for v in value):
        items = [str(v) for v in value]
        return ", ".join(sorted(items) if isinstance(value, set) else items)
    return None
