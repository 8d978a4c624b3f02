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
        "it as a PNG image (rendered locally by Graphviz).",
    )
    parser.add_argument("graph", metavar="PATH.py:ATTR", help="where the graph is")
    parser.add_argument("--ascii", action="store_true", help="print ASCII art")
    parser.add_argument("--png", metavar="OUT.png", type=Path, help="write a PNG image")
    parser.set_defaults(handler=draw_command)


def draw_command(args: argparse.Namespace) -> int:
    drawable = load_graph(args.graph).get_graph()
    try:
        if args.png is not None:
            drawable.draw_png(str(args.png))
            sys.stderr.write(f"rillet: wrote {args.png}\n")
            if not args.ascii:
                return 0
        text = drawable.draw_ascii() if args.ascii else drawable.draw_mermaid()
    except OSError as exc:
        raise UsageError(f"cannot write {args.png}: {exc}") from exc
    except Exception as exc:
        raise UserCodeError(f"cannot draw {args.graph}: {describe(exc)}") from exc
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
