"""Consume a graph's stream, ending cleanly on Ctrl-C, a closed pipe or an error."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rillet.cli._errors import EXIT_INTERRUPTED, EXIT_OK, report_run_error


def drive(items: Iterator[Any], show: Callable[[Any], None], finish: Callable[[], None]) -> int:
    """Pass each item of ``items`` to ``show``; then ``finish()``; return the exit code.

    Ctrl-C closes the stream (which stops the run) and exits with 130; a reader that
    went away (``| head``) ends the run quietly; an exception raised by the graph is
    reported after everything it produced before it.
    """
    try:
        try:
            for item in items:
                show(item)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        finish()
    except KeyboardInterrupt:
        _safe(finish)
        sys.stderr.write("rillet: interrupted\n")
        sys.stderr.flush()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Nothing more can be written; keep the interpreter's exit flush quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        _safe(finish)
        return report_run_error(exc)
    return EXIT_OK


def _safe(finish: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):  # finishing must not hide the real error
        finish()
