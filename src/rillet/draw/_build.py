"""From a compiled graph to a :class:`DrawableGraph`, the way LangGraph finds edges.

LangGraph does not list a graph's edges: it runs the superstep algorithm once over
empty state, with every conditional edge and ``Command`` writing to all its declared
targets (once per node), and records which node's writes triggered which node. The
quirks that follow are part of what users see, so they are reproduced here:

- a branch whose targets are unknown (no path map, no ``Literal``) draws no edges, and
  the nodes only it leads to are drawn without edges;
- a node is joined to ``__end__`` by a plain edge when it has no other outgoing edge
  (its own ``add_edge(node, END)`` is not drawn when it has other edges);
- a loop that never reaches ``END`` gets a conditional edge to ``__end__`` from the
  node that ran last, when only one did;
- a join to ``END`` draws no edge of its own: its nodes are joined to ``__end__`` by
  the rule above;
- edges are listed sorted by (source, target), then subgraphs are spliced in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from rillet._constants import END, START
from rillet.draw._graph import DrawableGraph

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.graph._node import NodeSpec

#: LangGraph's limit on simulated supersteps when drawing.
_STEP_LIMIT = 250

# A channel a node writes to: ("to", node) starts a node, ("join", i) fills join i.
Channel = tuple[str, str | int]


class _Trigger(NamedTuple):
    channel: Channel
    conditional: bool
    label: Any


class _Source(NamedTuple):
    source: str
    conditional: bool
    label: Any


class _Edge(NamedTuple):
    source: str
    target: str
    conditional: bool
    label: Any


def build_graph(graph: CompiledStateGraph, xray: bool | int = False) -> DrawableGraph:
    """The drawable graph of ``graph``; with ``xray``, subgraphs are drawn inside their
    node (``xray=N`` expands N levels, ``True`` all of them)."""
    sim = _Simulation(graph)
    edges, last_step = sim.run()
    drawing = DrawableGraph()
    drawing.add_node(None, START)
    for name, spec in graph.nodes.items():
        drawing.add_node(_node_data(spec), name, metadata=_metadata(spec))
    for edge in sorted(edges, key=_sort_key):
        label = edge.label if edge.label != edge.target else None
        _add_edge(drawing, edge.source, edge.target, label, edge.conditional)
    termini = {e.target for e in edges if e.target != END} - {e.source for e in edges}
    if termini:
        for name in sorted(termini):
            _add_edge(drawing, name, END)
    elif len(last_step) == 1 and not any(e.target == END for e in edges):
        _add_edge(drawing, last_step[0], END, conditional=True)
    if xray:
        _expand_subgraphs(drawing, graph, xray)
    return drawing


class _Simulation:
    """One dry run over the graph's structure, collecting the edges LangGraph draws."""

    def __init__(self, graph: CompiledStateGraph) -> None:
        self.graph = graph
        self.order = {name: i for i, name in enumerate((START, *graph.nodes))}
        self.edges: set[_Edge] = set()
        self.declared_seen: set[str] = set()
        self.declared: dict[str, set[_Trigger]] = defaultdict(set)
        self.sources: dict[str, set[_Trigger]] = {}
        self.barriers: dict[int, set[str]] = defaultdict(set)

    def run(self) -> tuple[set[_Edge], list[str]]:
        """Returns the edges and the nodes of the last step that ran."""
        tasks: dict[str, tuple[Channel, ...]] = {START: ()}
        step_sources: dict[str, set[_Trigger]] = {}
        for _ in range(-1, _STEP_LIMIT):
            if not tasks:
                break
            step_sources, written = self._step(tasks)
            self.sources.update(step_sources)
            by_channel: dict[Channel, set[_Source]] = defaultdict(set)
            for src, triggers in self.sources.items():
                for channel, conditional, label in triggers:
                    by_channel[channel].add(_Source(src, conditional, label))
            tasks = self._next_tasks(written)
            for name, channels in tasks.items():
                self._collect(name, channels, by_channel, step_sources)
        return self.edges, list(step_sources)

    def _step(
        self, tasks: Mapping[str, tuple[Channel, ...]]
    ) -> tuple[dict[str, set[_Trigger]], list[tuple[str, Channel]]]:
        for channels in tasks.values():
            for channel in channels:
                if channel[0] == "join":
                    self.barriers[int(channel[1])].clear()
        step_sources: dict[str, set[_Trigger]] = {}
        written: list[tuple[str, Channel]] = []
        for name in tasks:
            writes, conditionals = self._writes(name)
            written.extend((name, channel) for channel in writes)
            triggers = {_Trigger(ch, ch in conditionals, conditionals.get(ch)) for ch in writes}
            step_sources[name] = triggers | self.declared[name]
        return step_sources, written

    def _writes(self, name: str) -> tuple[list[Channel], dict[Channel, Any]]:
        """The channels a node writes when it runs, and which of them are conditional
        (with their labels). Declared targets are written the first time only."""
        spec = self.graph.nodes.get(name)
        statics = self.graph.start_edges if spec is None else spec.edges
        writes: list[Channel] = [("to", t) for t in statics if t != END]
        if spec is not None:
            # As in LangGraph, a join to END writes nothing: its nodes end the run.
            joins = self.graph.joins
            writes.extend(("join", i) for i in spec.joins if joins[i][1] != END)
        conditionals: dict[Channel, Any] = {}
        if name not in self.declared_seen:
            self.declared_seen.add(name)
            for target, label in _declared_targets(self.graph, name):
                if target == END:
                    self.edges.add(_Edge(name, END, True, label))
                    continue
                channel: Channel = ("to", target)
                conditionals[channel] = label
                self.declared[name].add(_Trigger(channel, True, label))
                writes.append(channel)
        return writes, conditionals

    def _next_tasks(self, written: list[tuple[str, Channel]]) -> dict[str, tuple[Channel, ...]]:
        triggered: dict[str, set[Channel]] = defaultdict(set)
        for src, channel in written:
            kind, key = channel
            if kind == "to":
                triggered[str(key)].add(channel)
                continue
            starts, target = self.graph.joins[int(key)]
            barrier = self.barriers[int(key)]
            if src not in barrier:
                barrier.add(src)
                if barrier == set(starts):
                    triggered[target].add(channel)
        names = sorted(triggered, key=self.order.__getitem__)
        # LangGraph lists a task's triggers sorted by channel name: branch:to:* < join:*
        return {n: tuple(sorted(triggered[n], key=lambda c: (c[0], str(c[1])))) for n in names}

    def _collect(
        self,
        name: str,
        channels: tuple[Channel, ...],
        by_channel: Mapping[Channel, set[_Source]],
        step_sources: Mapping[str, set[_Trigger]],
    ) -> None:
        added = False
        for channel in channels:
            for src, conditional, label in sorted(by_channel.get(channel, ()), key=_sort_key):
                self.edges.add(_Edge(src, name, conditional, label))
                trigger = _Trigger(channel, conditional, label)
                if trigger in step_sources.get(src, set()):
                    added = True
                else:
                    self.sources[src].discard(trigger)
        if not added:
            # Nothing from this step explains the task: LangGraph links every node of
            # the step to it, conditionally.
            for src in step_sources:
                self.edges.add(_Edge(src, name, True, None))


def _declared_targets(graph: CompiledStateGraph, name: str) -> list[tuple[str, Any]]:
    """(target, label) for every conditional edge and Command destination of a node:
    a path map's key, or the label ``add_node(destinations={node: label})`` gives
    (kept as given: LangGraph draws a label that is not a str with ``str()``)."""
    if name == START:
        branches = graph.start_branches
        destinations: dict[str, Any] | None = None
    else:
        spec = graph.nodes[name]
        branches = tuple(spec.branches)
        destinations = spec.destinations
    out: list[tuple[str, Any]] = list((destinations or {}).items())
    for branch in branches:
        if branch.path_map:
            out.extend((target, str(key)) for key, target in branch.path_map.items())
    return out


def _sort_key(item: tuple[Any, ...]) -> tuple[Any, ...]:
    # LangGraph sorts plain tuples; None labels sort first here instead of raising.
    *head, label = item
    return (*head, label is not None, label or "")


def _add_edge(
    drawing: DrawableGraph,
    source: str,
    target: str,
    label: Any = None,
    conditional: bool = False,
) -> None:
    """Add an edge unless one joins the same two nodes; add ``__end__`` on first use."""
    if any(e.source == source and e.target == target for e in drawing.edges):
        return
    if target == END and END not in drawing.nodes:
        drawing.add_node(None, END)
    drawing.add_edge(source, target, label, conditional)


def _node_data(spec: NodeSpec) -> Any:
    if spec.subgraph is not None:
        return spec.subgraph
    if spec.afn is not None:
        # An object with invoke/ainvoke (ToolNode, an agent): draw the object itself.
        return getattr(spec.fn, "__self__", spec.fn)
    return spec.fn


def _metadata(spec: NodeSpec) -> dict[str, Any] | None:
    metadata = dict(spec.metadata)
    tools = _tool_names(_node_data(spec))
    if tools:
        metadata["__tools"] = tools
    return metadata or None


def _tool_names(obj: Any) -> list[str]:
    """The tools of a tool node (rillet's ``ToolNode.tools`` or LangGraph's
    ``tools_by_name``), duck-typed so drawing imports no prebuilt code."""
    for attr in ("tools_by_name", "tools"):
        tools = getattr(obj, attr, None)
        if isinstance(tools, Mapping) and tools:
            return [str(name) for name in tools]
    return []


def _expand_subgraphs(drawing: DrawableGraph, graph: CompiledStateGraph, xray: bool | int) -> None:
    """Draw each subgraph node as its own nodes, prefixed ``node:``, like LangGraph."""
    inner = xray if isinstance(xray, bool) or xray <= 0 else xray - 1
    for name, spec in graph.nodes.items():
        if spec.subgraph is None:
            continue
        sub = build_graph(spec.subgraph, inner)
        if len(sub.nodes) <= 1 or name not in drawing.nodes:
            continue
        if not (sub.first_node() and sub.last_node()):
            continue
        sub.trim_first_node()
        sub.trim_last_node()
        first, last = sub.first_node(), sub.last_node()
        if first is None or last is None:  # trimming keeps one of each: never true
            continue
        drawing.nodes.pop(name)
        drawing.extend(sub, prefix=name)
        for i, edge in enumerate(drawing.edges):
            if edge.source == name:
                edge = replace(edge, source=f"{name}:{last.id}")
            if edge.target == name:
                edge = replace(edge, target=f"{name}:{first.id}")
            drawing.edges[i] = edge
