"""How the CLI fails: usage errors (exit 2) and errors raised by the user's code (exit 1).

Both are reported as one line on stderr starting with ``rillet: error:``, never as a
traceback: the traceback of a CLI is noise to someone who only mistyped a path.
"""

from __future__ import annotations

import sys

from rillet.errors import InvalidUpdateError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


class UsageError(Exception):
    """The command line asks for something impossible: a missing file, bad JSON, an
    attribute that is not a graph. Reported with exit code 2."""


class UserCodeError(Exception):
    """The user's file failed while rillet loaded it (import, factory, compile).
    Reported with exit code 1."""


def error(message: str) -> None:
    """Write ``rillet: error: <message>`` to stderr."""
    sys.stdout.flush()  # items printed before the error come first
    sys.stderr.write(f"rillet: error: {message}\n")
    sys.stderr.flush()


def describe(exc: BaseException) -> str:
    """``Type: message``, the way a traceback's last line shows an exception."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_input_error(exc: BaseException) -> bool:
    """Whether ``exc`` is rillet rejecting the graph's input, rather than a node failing.

    Both are ``InvalidUpdateError``; a node's carries the note naming its task.
    """
    return isinstance(exc, InvalidUpdateError) and not getattr(exc, "__notes__", None)


def report_run_error(exc: Exception) -> int:
    """Report an exception that ended a graph run; return the exit code."""
    if is_input_error(exc):
        error(f"--input does not fit the graph's state: {exc}")
        return EXIT_USAGE
    error(describe(exc))
    for note in getattr(exc, "__notes__", None) or ():
        sys.stderr.write(f"  {note}\n")
    sys.stderr.flush()
    return EXIT_FAILED
