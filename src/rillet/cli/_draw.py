"""``rillet draw PATH.py:ATTR``: Mermaid text (the default), ASCII art, or a PNG file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rillet.cli._errors import UsageError, UserCodeError, describe
from rillet.cli._load import load_graph


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "draw",
        help="draw a graph defined in a Python file",
        description="Print a graph as Mermaid text (the default) or ASCII art, or write "
        "it as a PNG image (rendered locally by Graphviz's dot).",
    )
    parser.add_argument("graph", metavar="PATH.py:ATTR", help="where the graph is")
    parser.add_argument("--ascii", action="store_true", help="print ASCII art")
    parser.add_argument("--png", metavar="OUT.png", type=Path, help="write a PNG image")
    parser.add_argument("--xray", action="store_true", help="draw the nodes of subgraphs")
    parser.set_defaults(handler=draw_command)


def draw_command(args: argparse.Namespace) -> int:
    """Print the drawing; with ``--png`` write the image instead (and print only with
    ``--ascii``)."""
    from rillet.draw import GraphvizNotFoundError

    drawable = load_graph(args.graph).get_graph(xray=args.xray)
    try:
        if args.png is not None:
            drawable.draw_png(str(args.png))
            sys.stderr.write(f"rillet: wrote {args.png}\n")
            if not args.ascii:
                return 0
        text = drawable.draw_ascii() if args.ascii else drawable.draw_mermaid()
    except GraphvizNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot write {args.png}: {exc}") from exc
    except Exception as exc:  # a graph the drawing code cannot handle
        raise UserCodeError(f"cannot draw {args.graph}: {describe(exc)}") from exc
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
