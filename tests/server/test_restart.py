"""Runs survive the server: kill -9 or Ctrl-C mid-run, start it again on the same data
dir, and the run goes on from its last checkpoint in the same event log.

The ``gated`` graph (``graphs.py``) writes a line per node run to ``calls`` and waits in
its node ``b`` until the test creates ``go``; timing is by handshake (the client has
seen ``b``'s custom event), never by sleeping. The real ``langgraph_sdk`` client streams
the run through the restart: it reconnects through ``Location`` with ``Last-Event-ID``
once the server listens again on the same port.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_sync_client

from rillet.server._app import _own
from tests.server.conftest import SRC, RunningServer, start_server, stop_server

pytestmark = pytest.mark.timeout(120)

MODES = ["values", "updates", "custom"]


class Streamer:
    """Streams a new run of ``gated`` on a thread of its own, collecting the parts."""

    def __init__(self, url: str, thread_id: str, folder: Path) -> None:
        self.client = get_sync_client(url=url, api_key=None)
        self.parts: list[Any] = []
        self.error: BaseException | None = None
        self.waiting = threading.Event()  # b's custom event has arrived
        self.thread = threading.Thread(target=self._stream, args=(thread_id, folder),
                                       daemon=True)
        self.thread.start()

    def _stream(self, thread_id: str, folder: Path) -> None:
        try:
            for part in self.client.runs.stream(thread_id, "gated", input={
                    "dir": str(folder), "x": 0}, stream_mode=MODES):
                self.parts.append(part)
                if part.event == "custom":
                    self.waiting.set()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def finish(self) -> list[Any]:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the stream did not end"
        assert self.error is None, self.error
        return self.parts


def _port(server: RunningServer) -> str:
    return server.url.rsplit(":", 1)[1]


def _calls(folder: Path) -> list[str]:
    return (folder / "calls").read_text().split()


def _summary(parts: list[Any]) -> list[tuple[str, Any]]:
    return [(p.event, p.data) for p in parts]


def _expected(folder: Path) -> list[tuple[str, Any]]:
    d = str(folder)
    run_id_free = [
        ("metadata", 1), ("values", {"dir": d, "x": 0}), ("updates", {"a": {"x": 1}}),
        ("values", {"dir": d, "x": 1}), ("custom", {"b": "waiting"}),
        # the restart: attempt 2 continues from the checkpoint after a; b runs again
        ("metadata", 2), ("values", {"dir": d, "x": 1}), ("custom", {"b": "waiting"}),
        ("updates", {"b": {"x": 10}}), ("values", {"dir": d, "x": 10}),
        ("updates", {"c": {"x": 15}}), ("values", {"dir": d, "x": 15}), ("end", None),
    ]
    return run_id_free


def _scrub(parts: list[Any], run_id: str) -> list[tuple[str, Any]]:
    out = []
    for event, data in _summary(parts):
        if event == "metadata":
            assert data["run_id"] == run_id
            data = data["attempt"]
        out.append((event, data))
    return out


def _check_log(url: str, thread_id: str, run_id: str, folder: Path,
               seen: list[Any]) -> None:
    """The stream that lived through the restart, a join from the start and a join from
    a Last-Event-ID: each event once, in order, ids 0, 1, 2, ..."""
    client = get_sync_client(url=url, api_key=None)
    expected = _expected(folder)
    assert [p.id for p in seen] == [str(i) for i in range(len(expected))]
    assert _scrub(seen, run_id) == expected
    full = list(client.runs.join_stream(thread_id, run_id, last_event_id="-1"))
    assert [(p.id, p.event, p.data) for p in full] == [(p.id, p.event, p.data) for p in seen]
    rest = list(client.runs.join_stream(thread_id, run_id, last_event_id="4"))
    assert [p.id for p in rest] == [str(i) for i in range(5, len(expected))]
    assert _summary(rest) == _summary(full[5:])


@pytest.mark.filterwarnings("ignore:Request failed, attempting reconnect:UserWarning")
def test_kill_9_mid_run_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        client = get_sync_client(url=server.url, api_key=None)
        thread_id = client.threads.create()["thread_id"]
        streamer = Streamer(server.url, thread_id, tmp_path)
        assert streamer.waiting.wait(30), streamer.error
        # a second run, queued behind it (not started when the server dies), waited
        # for by a client that reconnects (to its /join) through the restart too
        waited: list[Any] = []
        waiter = threading.Thread(target=lambda: waited.append(client.runs.wait(
            thread_id, "gated", input={"dir": str(tmp_path), "x": 100},
            multitask_strategy="enqueue")), daemon=True)
        waiter.start()
        pause = threading.Event()
        for _ in range(600):  # handshake: the run is stored
            if len(client.runs.list(thread_id)) == 2:
                break
            pause.wait(0.05)
        queued = client.runs.list(thread_id)[0]
        assert queued["status"] == "pending"
        port = _port(server)
        server.process.kill()  # kill -9
        server.process.wait(10)
        assert _calls(tmp_path) == ["a", "b"]

        server = start_server(tmp_path, "--port", port)  # the client reconnects here
        (tmp_path / "go").touch()
        seen = streamer.finish()
        run_id = seen[0].data["run_id"]
        assert client.runs.join(thread_id, run_id) == {"dir": str(tmp_path), "x": 15}
        waiter.join(60)
        assert waited == [{"dir": str(tmp_path), "x": 1015}]
        assert client.runs.join(thread_id, queued["run_id"]) == {"dir": str(tmp_path),
                                                                  "x": 1015}
        # a ran once (its step was saved), b again (it was in flight), then c; then the
        # queued run from its input
        assert _calls(tmp_path) == ["a", "b", "b", "c", "a", "b", "c"]
        run = client.runs.get(thread_id, run_id)
        assert run["status"] == "success"
        assert client.runs.get(thread_id, queued["run_id"])["status"] == "success"
        state = client.threads.get_state(thread_id)
        assert state["values"] == {"dir": str(tmp_path), "x": 1015}
        assert state["next"] == []
        assert client.threads.get(thread_id)["status"] == "idle"
        _check_log(server.url, thread_id, run_id, tmp_path, seen)
        queued_log = list(client.runs.join_stream(thread_id, queued["run_id"],
                                                  last_event_id="-1"))
        # it had not started: its first attempt, from its input
        assert [p.data["attempt"] for p in queued_log if p.event == "metadata"] == [1]
    finally:
        stop_server(server)


def _signal_while_b_waits(server: RunningServer, folder: Path, sig: signal.Signals,
                          ) -> tuple[Any, str, Streamer, str]:
    """Stream a run of ``gated`` and send the server ``sig`` once the client has seen
    ``b``'s custom event (``b`` waits for ``go``); the client, thread, streamer, port."""
    client = get_sync_client(url=server.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(server.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    port = _port(server)
    server.process.send_signal(sig)
    return client, thread_id, streamer, port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ctrl_c_drains_and_the_next_start_resumes(tmp_path: Path, sig: signal.Signals) -> None:
    # no time to reach a checkpoint: the run is cancelled in b, which runs again
    server = start_server(tmp_path, "--drain-timeout", "0")
    try:
        client, thread_id, streamer, port = _signal_while_b_waits(server, tmp_path, sig)
        server.process.wait(30)  # it stops though a run and its stream were going
        assert _calls(tmp_path) == ["a", "b"]
        assert server.reader is not None
        server.reader.join(10)
        output = "".join(server.output)
        assert "Traceback" not in output and "rror" not in output, output

        server = start_server(tmp_path, "--port", port)
        (tmp_path / "go").touch()
        seen = streamer.finish()
        run_id = seen[0].data["run_id"]
        assert client.runs.join(thread_id, run_id) == {"dir": str(tmp_path), "x": 15}
        assert _calls(tmp_path) == ["a", "b", "b", "c"]
        assert client.runs.get(thread_id, run_id)["status"] == "success"
        _check_log(server.url, thread_id, run_id, tmp_path, seen)
    finally:
        stop_server(server)


def test_ctrl_c_lets_a_run_reach_its_next_checkpoint(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--drain-timeout", "60")
    try:
        client, thread_id, streamer, port = _signal_while_b_waits(server, tmp_path,
                                                                  signal.SIGTERM)
        pause = threading.Event()
        for _ in range(600):  # handshake: the server says it lets the run go on
            if any("go on to their next checkpoint" in line for line in server.output):
                break
            pause.wait(0.05)
        assert server.process.poll() is None, "".join(server.output)
        (tmp_path / "go").touch()  # b ends, its step is saved, and the run stops there
        server.process.wait(30)
        assert _calls(tmp_path) == ["a", "b"]
        assert server.reader is not None
        server.reader.join(10)
        output = "".join(server.output)
        assert "Traceback" not in output and "rror" not in output, output
        assert "stopping: 1 run(s) go on to their next checkpoint (up to 60 s)" in output

        server = start_server(tmp_path, "--port", port)
        seen = streamer.finish()
        run_id = seen[0].data["run_id"]
        assert client.runs.join(thread_id, run_id) == {"dir": str(tmp_path), "x": 15}
        assert _calls(tmp_path) == ["a", "b", "c"]  # nothing ran twice
        assert client.runs.get(thread_id, run_id)["status"] == "success"
        d = str(tmp_path)
        assert [p.id for p in seen] == [str(i) for i in range(12)]
        assert _scrub(seen, run_id) == [
            ("metadata", 1), ("values", {"dir": d, "x": 0}), ("updates", {"a": {"x": 1}}),
            ("values", {"dir": d, "x": 1}), ("custom", {"b": "waiting"}),
            ("updates", {"b": {"x": 10}}), ("values", {"dir": d, "x": 10}),
            # attempt 2 goes on from the checkpoint after b: no event comes twice
            ("metadata", 2), ("values", {"dir": d, "x": 10}),
            ("updates", {"c": {"x": 15}}), ("values", {"dir": d, "x": 15}), ("end", None),
        ]
        full = list(client.runs.join_stream(thread_id, run_id, last_event_id="-1"))
        assert [(p.id, p.event, p.data) for p in full] == [(p.id, p.event, p.data)
                                                            for p in seen]
    finally:
        stop_server(server)


def test_one_owner_per_data_dir(tmp_path: Path) -> None:
    first = _own(tmp_path / "server.lock")
    assert first is not None
    code = ("import sys; from pathlib import Path; from rillet.server._app import _own; "
            "sys.exit(0 if _own(Path(sys.argv[1])) is None else 1)")
    # another process (the lock is per process) cannot own it while this one does
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path / "server.lock")],
                          env={"PYTHONPATH": str(SRC)}, timeout=30).returncode == 0
    first.close()
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path / "server.lock")],
                          env={"PYTHONPATH": str(SRC)}, timeout=30).returncode == 1
