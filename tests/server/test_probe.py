"""Findings of the hostile probe (docs/server-status.md "Hostile probe"), as tests."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from rillet.checkpoint.sqlite import SqliteSaver, connect
from rillet.server._runs import RunManager, RunSpec
from rillet.server.storage import SqliteStorage
from tests.server import graphs
from tests.server.conftest import RunningServer


def test_a_client_gone_mid_body_logs_no_traceback(server: RunningServer) -> None:
    """A client that announces a body, sends part of it and goes away: the server
    logs no ``Exception in ASGI application`` traceback (it was 20 tracebacks for 20
    such clients), and still answers."""
    address = urlsplit(server.url)
    before = len(server.output)
    for path in ("/threads", "/threads/search", "/runs/wait"):
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"metadata" % path.encode())
    # The server has seen each close once a later request on a new connection is answered
    # and the output reader caught up: poll the log for a bounded time.
    assert httpx.get(server.url + "/ok", timeout=5).status_code == 200
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if any("Traceback" in line for line in server.output[before:]):
            break
        time.sleep(0.05)
    assert not [line for line in server.output[before:] if "Traceback" in line
                or "Exception in ASGI" in line]


async def test_a_run_cancelled_before_its_task_begins_still_ends(tmp_path: Path) -> None:
    """A cancel that reaches a run's task before its first step (a burst of
    ``interrupt``/``rollback`` requests on one thread did so): the run still ends
    ``interrupted``, with its ``metadata`` and ``end`` events, and its followers stop
    (before: the record stayed ``pending`` for ever and its streams never ended)."""
    storage = SqliteStorage(tmp_path / "server.sqlite")
    await storage.setup()
    saver = SqliteSaver(connect(str(tmp_path / "checkpoints.sqlite")))
    graph = copy.copy(graphs.chain3)
    graph.checkpointer = saver
    manager = RunManager(storage, saver)
    await storage.create_thread({"thread_id": "t", "status": "idle", "metadata": {},
                                 "values": None, "created_at": "0", "updated_at": "0"})
    await storage.put_run({"run_id": "r", "thread_id": "t", "status": "pending",
                           "created_at": "0", "metadata": {}})
    manager.start(RunSpec(run_id="r", thread_id="t", graph_id="chain3", graph=graph,
                          input={"x": 0}, command=None,
                          config={"configurable": {"thread_id": "t"}}, context=None,
                          stream_modes=["values"], subgraphs=False))
    assert await manager.cancel("r")  # no await between: the task has not begun
    async with asyncio.timeout(10):
        await manager.wait("r")
        events = [event.event async for batch in manager.follow("r") for event in batch]
    assert events == ["metadata", "end"]
    run = await storage.get_run("r")
    assert run is not None and run["status"] == "interrupted"
    assert not await manager.thread_busy("t")
    # a follower that had seen the run's first event when the run was deleted (rolled
    # back by a later run) is told so, instead of a stream that stops mid-run
    assert await storage.delete_run("r")
    async with asyncio.timeout(10):
        rest = [(e.seq, e.event, json.loads(e.data)) async for batch in manager.follow("r", 0)
                for e in batch]
    assert rest == [(1, "error", {"error": "RunDeleted", "message": "run r was deleted before "
                                  "it ended (rolled back by a later run, or its thread "
                                  "deleted)"})]
    await storage.close()
    saver.conn.close()


async def test_fifty_clients_with_every_strategy_on_one_thread(url: str) -> None:
    """The probe's burst (``probe-i10/p3_multi.py``): 50 clients at once on one thread,
    every multitask strategy, every third one streaming. Whatever the interleaving:
    each answer is a 200 or a reject's 409 (a rollback deleting checkpoints a queued run
    had started on gave 500s), every stream ends with ``end`` or ``error`` (streams of
    runs cancelled before their task began never ended), every run left ends in a final
    status, and the thread's state reads."""
    strategies = ["enqueue", "reject", "interrupt", "rollback"]
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=100)) as http:
        thread_id = (await http.post("/threads", json={})).json()["thread_id"]

        async def one(i: int) -> tuple[int, list[str] | None]:
            body = {"assistant_id": "slow", "input": {"x": i, "seconds": (i % 7) * 0.02},
                    "multitask_strategy": strategies[i % 4],
                    "stream_mode": ["values", "custom"]}
            if i % 3:
                response = await http.post(f"/threads/{thread_id}/runs", json=body)
                return response.status_code, None
            async with http.stream("POST", f"/threads/{thread_id}/runs/stream",
                                   json=body) as response:
                raw = (await response.aread()).decode()
            return response.status_code, [line[7:] for line in raw.splitlines()
                                          if line.startswith("event: ")]

        async with asyncio.timeout(120):
            answers = await asyncio.gather(*[one(i) for i in range(50)])
            assert {status for status, _ in answers} <= {200, 409}
            for status, events in answers:
                if status == 200 and events is not None:
                    assert events[0] == "metadata" and events[-1] in ("end", "error"), events
            while True:  # bounded by the timeout: every run reaches a final status
                runs = (await http.get(f"/threads/{thread_id}/runs?limit=1000")).json()
                if all(run["status"] not in ("pending", "running") for run in runs):
                    break
                await asyncio.sleep(0.05)
        state = await http.get(f"/threads/{thread_id}/state")
        assert state.status_code == 200 and isinstance(state.json()["values"]["x"], int)
