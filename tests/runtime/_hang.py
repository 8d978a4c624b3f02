"""Bounds for tests of code that may hang.

A run that deadlocks must fail its test, not the whole session: :func:`within` runs
the code on a daemon thread and gives up after a deadline (the stuck thread is left
behind, it cannot be killed); :func:`run_python` runs a script in a fresh interpreter,
for what only a process can show (exiting at the end of a script).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

HANDSHAKE_TIMEOUT = 10.0
"""A failing test fails after this long; a passing one never waits it out."""

REPO = Path(__file__).resolve().parents[2]


def within(seconds: float, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a daemon thread: its result, or its exception as itself.

    Fails the test if it has not returned after ``seconds``.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = fn(*args)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="test-bounded", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)!s} did not return within {seconds} s (hang)")
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result


def wait(event: threading.Event, what: str) -> None:
    """Wait for ``event`` (a handshake); fail the test if it never comes."""
    assert event.wait(HANDSHAKE_TIMEOUT), f"handshake timed out: {what}"


def run_python(code: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; fail the test if it does not exit in time."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the script did not exit within {timeout} s; stdout so far: {exc.stdout!r}")
