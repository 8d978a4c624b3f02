"""``rillet run FILE.py:ATTR --input JSON``: stream a graph, for people or for programs.

In a terminal each item is one line, ``<mode> <where>: <data>``, with the tokens of
``messages`` mode written inline as they arrive. Piped (or with ``--json``) each item
is one JSON object per line: ``{"mode": ..., "ns": [...], "data": ...}``, a
``messages`` item's data being ``[message_chunk, metadata]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from rillet.cli._drive import drive
from rillet.cli._errors import UsageError
from rillet.cli._load import load_graph
from rillet.cli._style import ChunkText, Style, to_json, wants_colour

_MODE_COLOURS = {
    "values": "blue",
    "updates": "green",
    "custom": "magenta",
    "messages": "yellow",
    "debug": "dim",
    "tasks": "cyan",
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="stream a graph defined in a Python file",
        description="Import PATH.py, take ATTR (a compiled graph, a StateGraph or a "
        "function returning one) and stream it. Prints readable lines in a terminal, "
        "one JSON object per line when piped or with --json.",
    )
    parser.add_argument("graph", metavar="PATH.py:ATTR", help="where the graph is")
    parser.add_argument("--input", required=True, metavar="JSON", help="the graph's input")
    parser.add_argument(
        "--stream-mode",
        default="updates",
        metavar="M[,M...]",
        help="values, updates, custom, messages, debug, tasks (default: updates)",
    )
    parser.add_argument("--subgraphs", action="store_true", help="stream from subgraphs too")
    parser.add_argument("--config", metavar="JSON", help="the run's config, e.g. tags")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON lines")
    output.add_argument("--pretty", action="store_true", help="print lines for reading")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    graph_input = parse_json(args.input, "--input")
    config = parse_json(args.config, "--config") if args.config is not None else None
    if config is not None and not isinstance(config, dict):
        raise UsageError(f"--config must be a JSON object, got {args.config}")
    modes = [m.strip() for m in args.stream_mode.split(",")]
    graph = load_graph(args.graph)
    try:
        # Always a list of modes, so every item says which mode it belongs to.
        items = graph.stream(graph_input, config, stream_mode=modes, subgraphs=args.subgraphs)
    except (ValueError, TypeError) as exc:  # the mode or config, checked at the call
        raise UsageError(str(exc)) from exc
    out = sys.stdout
    use_json = args.json or (not args.pretty and not out.isatty())
    printer: JsonPrinter | PrettyPrinter
    printer = JsonPrinter(out) if use_json else PrettyPrinter(out, Style(wants_colour(out)))
    shape = _shape(args.subgraphs)
    return drive(items, lambda item: printer.show(*shape(item)), printer.finish)


def parse_json(text: str, option: str) -> Any:
    """:raises UsageError: naming the option and where the JSON went wrong."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        near = f"near {text[exc.pos : exc.pos + 20]!r}" if exc.pos < len(text) else "at the end"
        raise UsageError(
            f"{option} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos}), {near}"
        ) from exc


def _shape(subgraphs: bool) -> Callable[[Any], tuple[tuple[str, ...], str, Any]]:
    """Turn a stream item into ``(ns, mode, data)``."""
    if subgraphs:
        return lambda item: item
    return lambda item: ((), item[0], item[1])


class JsonPrinter:
    """One JSON object per item and line, flushed at once so a pipe sees it live."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, ns: tuple[str, ...], mode: str, data: Any) -> None:
        self.out.write(to_json({"mode": mode, "ns": list(ns), "data": data}) + "\n")
        self.out.flush()

    def finish(self) -> None:
        self.out.flush()


class PrettyPrinter:
    """``<mode> <where>: <data>`` lines; consecutive tokens of one answer share a line."""

    def __init__(self, out: TextIO, style: Style) -> None:
        self.out = out
        self.style = style
        self.text = ChunkText(style)
        self.answer: tuple[Any, ...] | None = None  # the answer whose tokens are on the line

    def show(self, ns: tuple[str, ...], mode: str, data: Any) -> None:
        if mode == "messages":
            self._token(ns, data)
            return
        self.finish()
        where = _where(ns)
        if mode == "updates" and isinstance(data, dict):
            for node, update in data.items():
                self._line(mode, "/".join([*where, str(node)]), to_json(update, brief=True))
        else:
            self._line(mode, "/".join(where), to_json(data, brief=True))

    def finish(self) -> None:
        if self.answer is not None:
            self.out.write(self.text.close() + "\n")
            self.answer = None
        self.out.flush()

    def _line(self, mode: str, where: str, text: str) -> None:
        self.out.write(self._prefix(mode, where) + text + "\n")
        self.out.flush()

    def _prefix(self, mode: str, where: str) -> str:
        label = self.style(f"{mode:<8}", _MODE_COLOURS.get(mode, "bold"))
        return f"{label} {self.style(where, 'bold')}: " if where else f"{label} "

    def _token(self, ns: tuple[str, ...], data: Any) -> None:
        chunk, metadata = data
        node = metadata.get("langgraph_node", "?") if isinstance(metadata, dict) else "?"
        answer = (ns, node, getattr(chunk, "id", None))
        if answer != self.answer:
            self.finish()
            self.out.write(self._prefix("messages", "/".join([*_where(ns), str(node)])))
            self.answer = answer
        self.out.write(self.text.feed(chunk))
        self.out.flush()


def _where(ns: tuple[str, ...]) -> list[str]:
    """The names of the nodes that ran the subgraphs, without their task ids."""
    return [part.split(":", 1)[0] for part in ns]
