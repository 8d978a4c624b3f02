"""A real Redis server for the tests.

``redis_url`` (session scope) is ``$RILLET_TEST_REDIS_URL`` when set, else the URL of a
``redis-server`` started here from the system's package: a throwaway folder, a free
loopback port, the append-only file on with ``appendfsync always`` (as a scaled
deployment runs it: a restart keeps every acknowledged write), stopped and removed at
the end of the session. Tests that restart Redis start their own :class:`RedisServer`.
Each test's keys stay apart by the key prefix the server is given (``fresh_prefix``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

try:
    import pytest
except ImportError:  # loaded by the benchmarks, which need no fixtures
    pytest = None  # type: ignore[assignment]

_INSTALL = ("redis-server is not installed; run `bash scripts/test.sh`, which installs it, "
            "or set RILLET_TEST_REDIS_URL")


class RedisUnavailable(RuntimeError):
    """No server could be started (the binary is missing, or it did not come up)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process started by us; :meth:`stop` then :meth:`start`
    again restarts it on the same port and folder (its append-only file kept)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable(_INSTALL)
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="rillet-redis-"))
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start it (on a free port the first time, the same one after); its URL."""
        fixed = bool(self.port)  # a restart keeps its port: its clients reconnect there
        for _attempt in range(5):
            if not fixed:
                self.port = _free_port()
            if self._launch():
                return self.url
        raise RedisUnavailable(f"redis-server did not start; log:\n{self._log()}")

    def _launch(self) -> bool:
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.root), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--protected-mode", "no", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # e.g. the port was taken meanwhile
                self.proc = None
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        return False

    def _log(self) -> str:
        path = self.root / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM: it flushes its append-only file)."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def fresh_prefix() -> str:
    """A key prefix no other test uses."""
    return f"rillet-test-{uuid.uuid4().hex[:10]}:"


if pytest is not None:

    @pytest.fixture(scope="session")
    def redis_url() -> Iterator[str]:
        """A URL of a Redis server for the whole session (see the module doc)."""
        given = os.environ.get("RILLET_TEST_REDIS_URL")
        if given:
            yield given
            return
        try:
            server = RedisServer()
            url = server.start()
        except RedisUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        try:
            yield url
        finally:
            server.remove()
