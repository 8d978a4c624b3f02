"""Event-log retention: a run's log is kept ``log_ttl`` seconds after the run ends,
swept at start and periodically. The clock (and the sweeper's sleep) are injected, so
nothing sleeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rillet.server import create_app
from rillet.server._runs import RunManager
from rillet.server.storage import SqliteStorage
from tests.server import graphs


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _run(http: TestClient) -> tuple[str, str]:
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    out = http.post(f"/threads/{thread_id}/runs/wait",
                    json={"assistant_id": "chain3", "input": {"x": 0}})
    assert out.json() == {"x": 3}
    return thread_id, out.headers["content-location"].rsplit("/", 1)[1]


def _events(http: TestClient, thread_id: str, run_id: str) -> tuple[int, str]:
    response = http.get(f"/threads/{thread_id}/runs/{run_id}/stream",
                        headers={"Last-Event-ID": "-1"})
    return response.status_code, response.text


def test_a_log_is_kept_for_its_ttl_then_swept(tmp_path: Path) -> None:
    clock = Clock()
    app = create_app({"chain3": graphs.chain3}, data_dir=tmp_path, log_ttl=100, clock=clock)
    runs = app.state.server.runs
    with TestClient(app) as http:
        thread_id, run_id = _run(http)
        clock.now += 99.5
        assert http.portal.call(runs.sweep_logs) == 0
        status, text = _events(http, thread_id, run_id)
        assert status == 200
        assert text.startswith("event: metadata") and "event: end" in text
        clock.now += 1  # 100.5 s after the run ended
        assert http.portal.call(runs.sweep_logs) == 1
        status, text = _events(http, thread_id, run_id)
        assert status == 404
        assert "kept 100 s after a run ends" in text
        # the run's record and its output stay
        assert http.get(f"/threads/{thread_id}/runs/{run_id}").json()["status"] == "success"
        assert http.get(f"/threads/{thread_id}/runs/{run_id}/join").json() == {"x": 3}
        assert http.portal.call(runs.sweep_logs) == 0


def test_the_sweep_at_start(tmp_path: Path) -> None:
    clock = Clock()
    with TestClient(create_app({"chain3": graphs.chain3}, data_dir=tmp_path, log_ttl=60,
                               clock=clock)) as http:
        old = _run(http)
        clock.now += 30
        recent = _run(http)
    clock.now += 31  # old ended 61 s ago, recent 31 s ago
    with TestClient(create_app({"chain3": graphs.chain3}, data_dir=tmp_path, log_ttl=60,
                               clock=clock)) as http:
        assert _events(http, *old)[0] == 404
        assert _events(http, *recent)[0] == 200


def test_inf_keeps_logs_for_ever(tmp_path: Path) -> None:
    clock = Clock()
    app = create_app({"chain3": graphs.chain3}, data_dir=tmp_path, log_ttl=float("inf"),
                     clock=clock)
    with TestClient(app) as http:
        ids = _run(http)
        clock.now += 10**9
        assert http.portal.call(app.state.server.runs.sweep_logs) == 0
        assert _events(http, *ids)[0] == 200


def test_a_bad_ttl_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="log_ttl"):
        create_app({"chain3": graphs.chain3}, data_dir=tmp_path, log_ttl=-1)


async def test_the_periodic_sweep(tmp_path: Path) -> None:
    clock = Clock()
    storage = SqliteStorage(tmp_path / "server.sqlite")
    await storage.setup()
    manager = RunManager(storage, log_ttl=50, clock=clock)
    for n, ended in enumerate((0, 20, 40)):  # three runs, ended at start + 0, 20, 40 s
        run_id = f"run-{n}"
        await storage.put_run({"run_id": run_id, "thread_id": "t", "status": "success",
                               "created_at": str(n), "_ended_at": clock.now + ended})
        await storage.append_events(run_id, [("end", b"null")])
    start = clock.now
    clock.now += 40
    seen: list[tuple[float, int]] = []  # (seconds after start, logs left) at each pause

    async def sleep(seconds: float) -> None:  # the sweeper's pause: time moves on
        assert seconds == manager.sweep_interval() == 5
        kept = [n for n in range(3) if await storage.read_events(f"run-{n}")]
        seen.append((clock.now - start, len(kept)))
        if clock.now - start >= 100:
            raise asyncio.CancelledError
        clock.now += seconds

    with pytest.raises(asyncio.CancelledError):
        await manager.sweep_forever(sleep)
    # a log goes at the first sweep more than 50 s after its run ended
    assert seen == [(40, 3), (45, 3), (50, 3), (55, 2), (60, 2), (65, 2), (70, 2), (75, 1),
                    (80, 1), (85, 1), (90, 1), (95, 0), (100, 0)]
    await storage.close()
