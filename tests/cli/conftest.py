"""Run the ``rillet`` command in a subprocess, through pipes or a pseudo-terminal."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 300.0  # seconds; only a hung CLI gets near it (the local model takes a few)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    """The test's environment without what changes the CLI's output, plus ``extra``."""
    skip = ("NO_COLOR", "FORCE_COLOR", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env["TERM"] = "xterm-256color"
    return {**env, **(extra or {})}


def run_piped(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``python -m rillet.cli *args`` with pipes; ``env`` adds variables."""
    proc = subprocess.run(
        [sys.executable, "-m", "rillet.cli", *args],
        cwd=ROOT, env=_env(env), capture_output=True, text=True, timeout=DEADLINE,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_in_pty(
    *args: str, env: dict[str, str] | None = None, interrupt_at: re.Pattern[str] | None = None
) -> Result:
    """Run with stdout on a pseudo-terminal, reading everything until the CLI exits.

    With ``interrupt_at``, send SIGINT (Ctrl-C) once the output matches it. The
    terminal turns ``\\n`` into ``\\r\\n``; ``out`` has plain ``\\n`` again.
    """
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rillet.cli", *args],
        cwd=ROOT, env=_env(env), stdout=slave, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    chunks: list[bytes] = []
    end = time.monotonic() + DEADLINE
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                proc.kill()
                raise AssertionError(f"rillet {' '.join(args)} did not finish")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            chunks.append(data)
            if interrupt_at is not None and interrupt_at.search(_text(chunks)):
                proc.send_signal(signal.SIGINT)
                interrupt_at = None
    finally:
        os.close(master)
    _, err = proc.communicate(timeout=DEADLINE)
    return Result(proc.returncode, _text(chunks), err.decode())


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def rillet() -> Callable[..., Result]:
    return run_piped


@pytest.fixture
def rillet_tty() -> Callable[..., Result]:
    return run_in_pty
