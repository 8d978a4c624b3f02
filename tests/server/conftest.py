"""A real ``rillet serve`` (uvicorn, in a subprocess) on a free loopback port.

The server is started with ``--port 0`` and tells where it listens on its first line
of output; tests reach it with the official ``langgraph_sdk`` clients.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

# The server's extra and the official client: `pip install -e '.[test]'` has them (a
# missing one fails these tests, never skips them).
import langgraph_sdk  # noqa: F401
import pytest
import starlette  # noqa: F401
import uvicorn  # noqa: F401

HERE = Path(__file__).parent
SRC = HERE.parents[1] / "src"
GRAPHS = ("chain3", "custom", "tokens", "hitl", "boom", "slow", "nested", "mixed",
          "gated", "chat", "greet", "memory", "settings")
_LISTENING = re.compile(r"at (http://\S+)")
WORKER_READY = re.compile(r"worker process \d+ executing runs")


class RunningServer:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process, self.url = process, url
        self.output: list[str] = []
        self.reader: threading.Thread | None = None  # reads output until the process ends


def start_server(folder: Path, *extra: str, timeout: float = 30.0,
                 graphs: Path = HERE / "graphs.py", names: Iterable[str] = GRAPHS,
                 config: dict[str, object] | None = None,
                 ready: re.Pattern[str] = _LISTENING) -> RunningServer:
    """Start ``rillet serve`` on a free port for the graphs ``names`` of the file
    ``graphs`` (by default the test graphs; ``config``: more keys for its
    ``langgraph.json``); wait until it listens (until a line of its output matches
    ``ready``: a worker, :data:`WORKER_READY`, listens nowhere; its ``url`` is then
    that line)."""
    config = {"dependencies": ["."],
              "graphs": {name: f"./graphs.py:{name}" for name in names}, **(config or {})}
    (folder / "langgraph.json").write_text(json.dumps(config))
    (folder / "graphs.py").write_text(graphs.read_text())
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        env.pop(key, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "rillet.cli", "serve", "--config", "langgraph.json",
         "--port", "0", "--data-dir", str(folder / "data"), *extra],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    found: list[str] = []
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = ready.search(line)
            if match and not found:
                found.append(match.group(1) if match.groups() else line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline_thread = threading.Event()
    for _ in range(int(timeout * 10)):
        if found or process.poll() is not None:
            break
        deadline_thread.wait(0.1)
    if not found:
        process.kill()
        raise RuntimeError("rillet serve did not start:\n" + "".join(lines))
    server = RunningServer(process, found[0])
    server.output = lines
    server.reader = reader
    return server


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


def scaled_args(postgres_dsn: str, redis_url: str) -> list[str]:
    """``rillet serve`` options of one process of a scaled deployment on a new empty
    database and its own Redis key prefix."""
    from tests._postgres import fresh_database
    from tests._redis import fresh_prefix

    return ["--database", fresh_database(postgres_dsn), "--redis", redis_url,
            "--redis-prefix", fresh_prefix()]


def backend(request: pytest.FixtureRequest) -> list[str]:
    """The ``rillet serve`` options of a fixture parametrized ``embedded``/``scaled``:
    none, or a new database and Redis prefix of the session's servers."""
    if request.param == "embedded":
        return []
    return scaled_args(request.getfixturevalue("postgres_dsn"),
                       request.getfixturevalue("redis_url"))


@pytest.fixture(scope="session", params=["embedded", "scaled"])
def server(tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The server most tests share, once of each kind: ``embedded`` (the data dir), and
    ``scaled``, one ``--role all`` process on PostgreSQL and Redis, so every test of the
    API runs on both backends."""
    running = start_server(tmp_path_factory.mktemp("serve"), *backend(request))
    yield running
    stop_server(running)
    if os.environ.get("RILLET_TEST_SERVER_LOG"):
        Path(os.environ["RILLET_TEST_SERVER_LOG"]).write_text("".join(running.output))


@pytest.fixture(scope="session")
def url(server: RunningServer) -> str:
    return server.url
