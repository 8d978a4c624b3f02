"""A scaled deployment under faults: API processes and workers on real PostgreSQL and
Redis servers, killed and cut while clients stream.

Each test starts its own processes (``rillet serve --role ...``) on a new database and
its own Redis key prefix; the ones that stop PostgreSQL or Redis start their own server
of it. Timing is by handshake: the ``gated`` graph (``graphs.py``) writes a line per
node run to ``calls`` and waits in ``b`` until the test creates ``go``; the client has
seen ``b``'s custom event before anything is killed. Leases are 2 s, so a takeover
comes within a few seconds.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from tests._postgres import Server as PostgresServer
from tests._postgres import fresh_database
from tests._redis import RedisServer, fresh_prefix
from tests.server.conftest import (
    GRAPHS,
    WORKER_READY,
    RunningServer,
    scaled_args,
    start_server,
    stop_server,
)
from tests.server.test_restart import MODES, Streamer, _calls, _check_log, _scrub

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.filterwarnings("ignore:Request failed, attempting reconnect")]

LEASE = ["--lease", "2"]


def _uncut(folder: Path) -> list[tuple[str, Any]]:
    """What a client of an uncut run of ``gated`` sees (run ids scrubbed)."""
    d = str(folder)
    return [
        ("metadata", 1), ("values", {"dir": d, "x": 0}), ("updates", {"a": {"x": 1}}),
        ("values", {"dir": d, "x": 1}), ("custom", {"b": "waiting"}),
        ("updates", {"b": {"x": 10}}), ("values", {"dir": d, "x": 10}),
        ("updates", {"c": {"x": 15}}), ("values", {"dir": d, "x": 15}), ("end", None),
    ]


class Deployment:
    """The processes of one test; all stopped at the end."""

    def __init__(self, folder: Path, args: list[str]) -> None:
        self.folder, self.args = folder, args
        self.processes: list[RunningServer] = []

    def api(self) -> RunningServer:
        return self._start("--role", "api")

    def worker(self) -> RunningServer:
        return self._start("--role", "worker", ready=WORKER_READY)

    def both(self, *extra: str) -> RunningServer:
        return self._start("--role", "all", *extra)

    def _start(self, *role: str, **kw: Any) -> RunningServer:
        process = start_server(self.folder, *role, *LEASE, *self.args,
                               names=(*GRAPHS, "recorded"), **kw)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.process.poll() is None:
                stop_server(process)


@pytest.fixture
def deployment(tmp_path: Path, postgres_dsn: str, redis_url: str) -> Any:
    deployed = Deployment(tmp_path, scaled_args(postgres_dsn, redis_url))
    yield deployed
    deployed.stop()


def _final_checks(url: str, thread_id: str, run_id: str, folder: Path) -> None:
    client = get_sync_client(url=url, api_key=None)
    assert client.runs.join(thread_id, run_id) == {"dir": str(folder), "x": 15}
    assert client.runs.get(thread_id, run_id)["status"] == "success"
    state = client.threads.get_state(thread_id)
    assert (state["values"], state["next"]) == ({"dir": str(folder), "x": 15}, [])
    assert client.threads.get(thread_id)["status"] == "idle"


def test_kill_9_a_worker_mid_stream_and_another_finishes_the_run(
        deployment: Deployment) -> None:
    folder = deployment.folder
    api = deployment.api()
    first = deployment.worker()
    client = get_sync_client(url=api.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(api.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    # a second run queued behind it on the thread, waited for by another client
    waited: list[Any] = []
    waiter = threading.Thread(target=lambda: waited.append(client.runs.wait(
        thread_id, "gated", input={"dir": str(folder), "x": 100})), daemon=True)
    waiter.start()
    for _ in range(600):  # handshake: the second run is stored
        if len(client.runs.list(thread_id)) == 2:
            break
        threading.Event().wait(0.05)
    queued = client.runs.list(thread_id)[0]
    assert queued["status"] == "pending"
    first.process.kill()  # kill -9, in the middle of b
    first.process.wait(10)
    assert _calls(folder) == ["a", "b"]

    deployment.worker()  # takes the run over once the dead worker's lease has run out
    (folder / "go").touch()
    seen = streamer.finish()  # the same stream: it paused, then went on
    run_id = seen[0].data["run_id"]
    # a ran once (its step was saved), b again (the cut step), then c; then the queued
    # run from its input
    waiter.join(60)
    assert waited == [{"dir": str(folder), "x": 1015}]
    assert _calls(folder) == ["a", "b", "b", "c", "a", "b", "c"]
    _check_log(api.url, thread_id, run_id, folder, seen)  # attempt 2, each id once
    assert client.runs.get(thread_id, run_id)["status"] == "success"
    assert client.runs.join(thread_id, run_id) == {"dir": str(folder), "x": 15}
    assert client.threads.get_state(thread_id)["values"] == {"dir": str(folder), "x": 1015}


def test_sigterm_drains_a_worker_and_another_goes_on_from_its_checkpoint(
        deployment: Deployment) -> None:
    """Graceful drain: the worker lets the run reach its next checkpoint, then hands
    it back; another worker continues at once (no lease to wait for) and nothing runs
    twice."""
    import signal

    folder = deployment.folder
    api = deployment.api()
    first = deployment._start("--role", "worker", "--drain-timeout", "60",
                              ready=WORKER_READY)
    client = get_sync_client(url=api.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(api.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    deployment.worker()
    first.process.send_signal(signal.SIGTERM)
    for _ in range(600):  # handshake: it is draining
        if any("go on to their next checkpoint" in line for line in first.output):
            break
        threading.Event().wait(0.05)
    (folder / "go").touch()
    assert first.process.wait(60) == 0
    assert any("handed 1 run(s) back to the queue" in line for line in first.output)
    seen = streamer.finish()
    run_id = seen[0].data["run_id"]
    d = str(folder)
    assert _scrub(seen, run_id) == [*_uncut(folder)[:7], ("metadata", 2),
                                    ("values", {"dir": d, "x": 10}), *_uncut(folder)[7:]]
    assert [p.id for p in seen] == [str(i) for i in range(len(seen))]
    assert _calls(folder) == ["a", "b", "c"]  # nothing ran twice
    _final_checks(api.url, thread_id, run_id, folder)


def _sse(response: httpx.Response) -> Any:
    """``(id, event, data)`` of each SSE event of a streamed response, as they come."""
    import json

    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if "event" in fields:
                yield fields.get("id"), fields["event"], json.loads(fields.get("data", "null"))
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value


def test_kill_9_an_api_process_and_the_client_goes_on_at_another(
        deployment: Deployment) -> None:
    folder = deployment.folder
    first, second = deployment.api(), deployment.api()
    deployment.worker()
    client = get_sync_client(url=first.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    seen = []
    with httpx.Client(timeout=30) as http, http.stream(
            "POST", f"{first.url}/threads/{thread_id}/runs/stream",
            json={"assistant_id": "gated", "input": {"dir": str(folder), "x": 0},
                  "stream_mode": MODES}) as response:
        for event in _sse(response):
            seen.append(event)
            if event[1] == "custom":  # b waits: kill the API process under the client
                first.process.kill()
                first.process.wait(10)
                break
    run_id = seen[0][2]["run_id"]
    (folder / "go").touch()
    other = get_sync_client(url=second.url, api_key=None)
    rest = [(p.id, p.event, p.data) for p in
            other.runs.join_stream(thread_id, run_id, last_event_id=seen[-1][0])]
    events = seen + rest
    assert [e[0] for e in events] == [str(i) for i in range(10)]  # each id once, in order
    assert [(e, d["attempt"] if e == "metadata" else d) for _, e, d in events] == \
        _uncut(folder)
    _final_checks(second.url, thread_id, run_id, folder)


def test_redis_restarts_mid_run(tmp_path: Path, postgres_dsn: str) -> None:
    redis = RedisServer()
    redis.start()
    deployment = Deployment(tmp_path, ["--database", fresh_database(postgres_dsn),
                                       "--redis", redis.url, "--redis-prefix", fresh_prefix()])
    try:
        server = deployment.both()
        client = get_sync_client(url=server.url, api_key=None)
        thread_id = client.threads.create()["thread_id"]
        streamer = Streamer(server.url, thread_id, tmp_path)
        assert streamer.waiting.wait(30), streamer.error
        redis.stop()
        (tmp_path / "go").touch()  # b ends and c runs while Redis is away
        for _ in range(600):
            if "c" in _calls(tmp_path):
                break
            threading.Event().wait(0.05)
        assert _calls(tmp_path) == ["a", "b", "c"]
        redis.start()  # same port, its append-only file kept
        seen = streamer.finish()
        run_id = seen[0].data["run_id"]
        assert [p.id for p in seen] == [str(i) for i in range(10)]
        assert _scrub(seen, run_id) == _uncut(tmp_path)
        _final_checks(server.url, thread_id, run_id, tmp_path)
        full = list(client.runs.join_stream(thread_id, run_id, last_event_id="-1"))
        assert [(p.id, p.event, p.data) for p in full] == [(p.id, p.event, p.data)
                                                           for p in seen]
    finally:
        deployment.stop()
        redis.remove()


def test_postgres_stops_for_a_while(tmp_path: Path, redis_url: str) -> None:
    postgres = PostgresServer()
    dsn = postgres.start()
    deployment = Deployment(tmp_path, ["--database", fresh_database(dsn), "--redis",
                                       redis_url, "--redis-prefix", fresh_prefix()])
    try:
        server = deployment.both("--log-level", "info")
        client = get_sync_client(url=server.url, api_key=None)
        thread_id = client.threads.create()["thread_id"]
        streamer = Streamer(server.url, thread_id, tmp_path)
        assert streamer.waiting.wait(30), streamer.error
        postgres.stop()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            down = http.post("/threads", json={})
        assert down.status_code == 503
        assert down.json()["detail"].startswith("PostgreSQL is unavailable (")
        assert down.json()["detail"].endswith("nothing was lost: retry the request in a "
                                              "few seconds")
        (tmp_path / "go").touch()  # b ends, and its checkpoint cannot be saved
        for _ in range(1200):  # handshake: the worker has given the attempt up
            if any("left for another attempt" in line for line in server.output):
                break
            threading.Event().wait(0.05)
        assert _calls(tmp_path) == ["a", "b"]
        assert postgres._launch()  # the same port and data
        seen = streamer.finish()
        run_id = seen[0].data["run_id"]
        d = str(tmp_path)
        # the run is taken again once its lease has run out, from its last checkpoint
        # (after a): b runs again, and the client sees the new attempt go on
        # b's step had streamed its items when its checkpoint could not be saved: the
        # cut step's events, which the next attempt (from the checkpoint after a) sends
        # again after its metadata
        assert _scrub(seen, run_id) == [
            *_uncut(tmp_path)[:7], ("metadata", 2), ("values", {"dir": d, "x": 1}),
            *_uncut(tmp_path)[4:]]
        assert _calls(tmp_path) == ["a", "b", "b", "c"]
        assert [p.id for p in seen] == [str(i) for i in range(len(seen))]
        _final_checks(server.url, thread_id, run_id, tmp_path)
    finally:
        deployment.stop()
        postgres.stop()
        postgres.remove()


def test_two_workers_race_for_200_queued_runs(deployment: Deployment) -> None:
    folder = deployment.folder
    api = deployment.api()
    client = get_sync_client(url=api.url, api_key=None)
    threads = [client.threads.create()["thread_id"] for _ in range(20)]
    runs = []  # queued before any worker runs: they race for all of them
    for i in range(200):
        thread_id = threads[i % 20]
        run = client.runs.create(thread_id, "recorded", input={"dir": str(folder)})
        runs.append((thread_id, run["run_id"]))
    deployment.worker()
    deployment.worker()
    for thread_id, run_id in runs:
        client.runs.join(thread_id, run_id)
    assert {client.runs.get(t, r)["status"] for t, r in runs} == {"success"}
    lines = [line.split() for line in (folder / "record").read_text().splitlines()]
    starts = [run_id for kind, _, run_id, _ in lines if kind == "start"]
    assert sorted(starts) == sorted(r for _, r in runs)  # each run executed once
    by_thread: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, thread_id, run_id, _ in lines:
        by_thread[thread_id].append((kind, run_id))
    for thread_id in threads:
        expected = [r for t, r in runs if t == thread_id]
        # one at a time (each start followed by its own end), in the order they were made
        assert by_thread[thread_id] == [(k, r) for r in expected for k in ("start", "end")]
    assert len({pid for *_, pid in lines}) == 2  # both workers took runs
    for thread_id in threads:
        assert client.threads.get_state(thread_id)["values"]["n"] == 10


def test_the_procfile_deployment(tmp_path: Path, postgres_dsn: str, redis_url: str) -> None:
    """``examples/deploy/Procfile``'s two lines as a process manager runs them (only
    ``--host`` changed to loopback): two API processes behind one port, two workers;
    SIGTERM stops each supervisor and its children cleanly."""
    import json
    import os
    import re
    import shlex
    import signal
    import string
    import subprocess
    import sys

    from tests.server.conftest import HERE, SRC

    procfile = (HERE.parents[1] / "examples" / "deploy" / "Procfile").read_text()
    lines = dict(line.split(": ", 1) for line in procfile.splitlines()
                 if line.strip() and not line.startswith("#"))
    assert set(lines) == {"api", "worker"}
    (tmp_path / "langgraph.json").write_text(json.dumps(
        {"dependencies": ["."], "graphs": {"chain3": "./graphs.py:chain3"}}))
    (tmp_path / "graphs.py").write_text((HERE / "graphs.py").read_text())
    from psycopg.conninfo import conninfo_to_dict

    db = conninfo_to_dict(fresh_database(postgres_dsn))
    env = {**os.environ, "PYTHONPATH": str(SRC), "PORT": "0", "REDIS_URL": redis_url,
           "DATABASE_URL": f"postgresql://{db['user']}@{db['host']}:{db['port']}/{db['dbname']}"}
    output: dict[str, list[str]] = {"api": [], "worker": []}
    processes = {}
    for name, line in lines.items():
        argv = shlex.split(string.Template(line.replace("0.0.0.0", "127.0.0.1")).substitute(env))
        assert argv[0] == "rillet"
        processes[name] = subprocess.Popen(
            [sys.executable, "-m", "rillet.cli", *argv[1:]], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda p=processes[name], out=output[name]: out.extend(
            p.stdout), daemon=True).start()
    try:
        for _ in range(600):  # handshake: every child has said it is ready
            if sum("at http://" in x for x in output["api"]) == 2 and \
                    sum("executing runs" in x for x in output["worker"]) == 2:
                break
            assert all(p.poll() is None for p in processes.values()), output
            threading.Event().wait(0.05)
        urls = {re.search(r"at (http://\S+)", x).group(1)  # type: ignore[union-attr]
                for x in output["api"] if "at http://" in x}
        assert len(urls) == 1, output  # both API processes on the one port
        client = get_sync_client(url=urls.pop(), api_key=None)
        for x in range(20):
            assert client.runs.wait(None, "chain3", input={"x": x}) == {"x": x + 3}
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(60) for process in processes.values()]
    assert codes == [0, 0], output


def test_a_cancel_reaches_the_run_on_another_process(deployment: Deployment) -> None:
    api = deployment.api()
    other = deployment.api()
    deployment.worker()
    client = get_sync_client(url=api.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(api.url, thread_id, deployment.folder)
    assert streamer.waiting.wait(30), streamer.error
    queued = client.runs.create(thread_id, "gated", input={"dir": "-", "x": 0})
    run_id = client.runs.list(thread_id)[1]["run_id"]
    far = get_sync_client(url=other.url, api_key=None)
    far.runs.cancel(thread_id, queued["run_id"])  # pending: ended by the API process
    far.runs.cancel(thread_id, run_id, wait=True)  # running: its worker stops it
    assert client.runs.get(thread_id, run_id)["status"] == "interrupted"
    assert client.runs.get(thread_id, queued["run_id"])["status"] == "interrupted"
    seen = streamer.finish()
    assert [p.event for p in seen] == ["metadata", "values", "updates", "values", "custom",
                                       "end"]
    assert [p.event for p in far.runs.join_stream(thread_id, queued["run_id"],
                                                  last_event_id="-1")] == ["metadata", "end"]
    assert _calls(deployment.folder) == ["a", "b"]
