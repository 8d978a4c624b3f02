"""The ``rillet`` command: ``rillet demo | run | draw | serve``.

- ``rillet demo [--model M] [--question TEXT]``: a ReAct agent calling a tool, live.
- ``rillet run PATH.py:ATTR --input JSON``: stream any graph, as text or JSON lines.
- ``rillet draw PATH.py:ATTR [--ascii] [--png OUT]``: draw a graph.
- ``rillet serve [--config langgraph.json] [--port 8123]``: LangGraph's Agent Server API.

Errors in the command line exit with 2, errors raised by the user's graph with 1,
Ctrl-C with 130; each is reported as ``rillet: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rillet.cli import _demo, _draw, _run, _serve
from rillet.cli._errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    UserCodeError,
    error,
)

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rillet",
        description="Run and watch rillet graphs: stream their updates, custom data and "
        "LLM tokens live.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _demo.add_parser(commands)
    _run.add_parser(commands)
    _draw.add_parser(commands)
    _serve.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rillet`` command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except UserCodeError as exc:
        error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:  # before any stream started: loading a file or a model
        sys.stderr.write("rillet: interrupted\n")
        return EXIT_INTERRUPTED
    return code
