"""A real PostgreSQL server for the tests.

``postgres_dsn`` (session scope) is ``$RILLET_TEST_POSTGRES_DSN`` when set (its role
needs CREATEDB), else the DSN of a server started here from the system's PostgreSQL
binaries: a throwaway data directory, a free loopback port, fsync off, stopped and
removed at the end of the session. ``fresh_database(dsn)`` makes a new empty database
and returns its DSN, so tests never see each other's rows.

``bench/postgres.py`` loads this file by path for :class:`Server` and the database
helpers, in venvs without pytest: only the fixtures need it.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
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
except ImportError:  # loaded by bench/postgres.py, which needs no fixtures
    pytest = None  # type: ignore[assignment]

_INSTALL = "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not installed; " \
    "run `bash scripts/test.sh`, which installs them, or set RILLET_TEST_POSTGRES_DSN"


class PostgresUnavailable(RuntimeError):
    """No server could be started: the binaries are missing, or initdb or postgres
    failed (the message says which, with the server's log)."""


def _bin_dir() -> Path:
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    candidates.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent
    raise PostgresUnavailable(_INSTALL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One postgres process, started by us, run as the `postgres` user under root.

    ``durable=False`` (the tests' choice) turns off fsync, synchronous commits and full
    page writes: a commit then costs no disk flush.
    """

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="rillet-pg-"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def _run(self, *args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]], user=self.user, capture_output=True,
            check=False, timeout=120, **kw,  # type: ignore[call-overload]
        )

    def start(self) -> str:
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                         "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.decode(errors='replace')}")
        for _attempt in range(5):
            self.port = _free_port()
            if self._launch():
                return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        raise PostgresUnavailable(f"postgres did not start; log:\n{self._log()}")

    def _launch(self) -> bool:
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - the child owns it
        fast = () if self.durable else (
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.root), *fast, "-c", "max_connections=200"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        import psycopg

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # e.g. the port was taken meanwhile
                self.proc = None
                return False
            try:
                psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                dbname="postgres", connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        self.stop()
        return False

    def _log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def fresh_database(dsn: str, prefix: str = "rillet_test") -> str:
    """Create a new empty database on ``dsn``'s server; return its DSN."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(dsn)
    params["dbname"] = name
    return make_conninfo(**params)


def drop_database(dsn: str, fresh: str) -> None:
    """Drop a database made by :func:`fresh_database`, closing its connections."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(fresh)["dbname"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if pytest is not None:

    @pytest.fixture(scope="session")
    def postgres_dsn() -> Iterator[str]:
        """A DSN of a PostgreSQL server for the whole session (see the module doc)."""
        given = os.environ.get("RILLET_TEST_POSTGRES_DSN")
        if given:
            yield given
            return
        try:
            server = Server()
        except PostgresUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        try:
            try:
                dsn = server.start()
            except PostgresUnavailable as exc:
                pytest.fail(str(exc), pytrace=False)
            yield dsn
        finally:
            server.stop()
            server.remove()

    @pytest.fixture
    def postgres_fresh_dsn(postgres_dsn: str) -> Iterator[str]:
        """The DSN of a new empty database, dropped after the test."""
        fresh = fresh_database(postgres_dsn)
        try:
            yield fresh
        finally:
            drop_database(postgres_dsn, fresh)
