"""Runs: delete, cancel many (``/runs/cancel``), rollback (the multitask strategy and the
cancel action), ``after_seconds`` (also across a restart), webhooks refused. Timing is
by handshake (a run seen ``running``, ``gated``'s call file) and bounded polls."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import start_server, stop_server
from tests.server.test_runs import until_running

pytestmark = pytest.mark.timeout(60)


def _seconds(run: dict[str, Any]) -> float:
    """From the run's creation to its last update (its end, for an ended run)."""
    return (datetime.fromisoformat(run["updated_at"])
            - datetime.fromisoformat(run["created_at"])).total_seconds()


async def _until(check: Any, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.05)


async def test_delete_a_run(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "slow", input={"x": 0})
    await until_running(client, thread_id, run["run_id"])
    with pytest.raises(ConflictError) as refused:  # langgraph dev: 204, the run deleted
        await client.runs.delete(thread_id, run["run_id"])
    assert "cancel it first" in str(refused.value)
    await client.runs.cancel(thread_id, run["run_id"], wait=True)
    await client.runs.delete(thread_id, run["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, run["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.delete(thread_id, run["run_id"])
    assert await client.runs.list(thread_id) == []


def test_cancel_many_by_thread_and_run_ids(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.create(thread_id, "slow", input={"x": 0})
    queued = client.runs.create(thread_id, "slow", input={"x": 0})
    asyncio.run(until_running(get_client(url=url, api_key=None), thread_id, first["run_id"]))
    client.runs.cancel_many(thread_id=thread_id, run_ids=[queued["run_id"]])
    assert client.runs.get(thread_id, queued["run_id"])["status"] == "interrupted"
    assert client.runs.get(thread_id, first["run_id"])["status"] == "running"
    client.runs.cancel_many(thread_id=thread_id, run_ids=[first["run_id"]])
    assert client.runs.get(thread_id, first["run_id"])["status"] == "interrupted"
    with pytest.raises(NotFoundError) as none_left:
        client.runs.cancel_many(thread_id=thread_id, run_ids=[first["run_id"]])
    assert str(none_left.value).startswith("No matching runs to cancel.")
    with pytest.raises(UnprocessableEntityError):
        client.runs.cancel_many(thread_id=thread_id)  # run_ids too, or a status
    with pytest.raises(UnprocessableEntityError):
        client.runs.cancel_many(status="done")  # type: ignore[arg-type]


async def test_cancel_many_by_status(tmp_path: Path) -> None:
    running = start_server(tmp_path)  # a server of its own: status filters see every run
    try:
        client = get_client(url=running.url, api_key=None)
        thread_id = (await client.threads.create())["thread_id"]
        first = await client.runs.create(thread_id, "slow", input={"x": 0})
        queued = await client.runs.create(thread_id, "slow", input={"x": 0})
        await until_running(client, thread_id, first["run_id"])
        await client.runs.cancel_many(status="pending")
        assert [(await client.runs.get(thread_id, r["run_id"]))["status"]
                for r in (first, queued)] == ["running", "interrupted"]
        await client.runs.cancel_many(status="all")
        assert (await client.runs.get(thread_id, first["run_id"]))["status"] == "interrupted"
        with pytest.raises(NotFoundError) as none_left:
            await client.runs.cancel_many(status="running")
        assert str(none_left.value).startswith("No runs found to cancel.")
    finally:
        stop_server(running)


async def test_rollback_strategy_deletes_the_run_in_progress(url: str, tmp_path: Path) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    held, free = tmp_path / "held", tmp_path / "free"
    held.mkdir()
    free.mkdir()
    (free / "go").touch()
    first = await client.runs.create(thread_id, "gated", input={"dir": str(held), "x": 100})
    async with asyncio.timeout(20):  # the handshake: b has started (a's checkpoint saved)
        while "b" not in ((held / "calls").read_text().split()
                          if (held / "calls").exists() else []):
            await asyncio.sleep(0.02)
    out = await client.runs.wait(thread_id, "gated", input={"dir": str(free), "x": 1},
                                 multitask_strategy="rollback")
    assert out == {"dir": str(free), "x": 25}
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, first["run_id"])
    runs = await client.runs.list(thread_id)
    assert [r["status"] for r in runs] == ["success"]
    history = await client.threads.get_history(thread_id)
    assert [s["values"]["x"] for s in history if "x" in s["values"]] == [25, 20, 2, 1]
    assert {s["metadata"]["run_id"] for s in history} == {runs[0]["run_id"]}


def test_cancel_with_rollback_goes_back_to_the_last_run(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    assert client.runs.wait(thread_id, "slow", input={"x": 0, "seconds": 0}) == {
        "x": 1, "seconds": 0}
    before = client.threads.get_history(thread_id)
    run = client.runs.create(thread_id, "slow", input={"x": 50, "seconds": 30})
    asyncio.run(until_running(get_client(url=url, api_key=None), thread_id, run["run_id"]))
    client.runs.cancel(thread_id, run["run_id"], action="rollback")
    with pytest.raises(NotFoundError):
        client.runs.get(thread_id, run["run_id"])
    assert client.threads.get_history(thread_id) == before
    thread = client.threads.get(thread_id)
    assert (thread["status"], thread["values"], thread["error"]) == (
        "idle", {"x": 1, "seconds": 0}, None)


async def test_after_seconds_starts_the_run_later(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    asked = time.monotonic()
    run = await client.runs.create(thread_id, "chain3", input={"x": 0}, after_seconds=1.5)
    seen = await client.runs.get(thread_id, run["run_id"])
    if time.monotonic() - asked < 1.5:  # asked before its start time: not started
        assert seen["status"] == "pending"
    assert await client.runs.join(thread_id, run["run_id"]) == {"x": 3}
    done = await client.runs.get(thread_id, run["run_id"])
    assert done["status"] == "success"
    assert _seconds(done) >= 1.5
    # a run waiting for its start can be cancelled
    later = await client.runs.create(thread_id, "chain3", input={"x": 0}, after_seconds=600)
    await client.runs.cancel(thread_id, later["run_id"], wait=True)
    assert (await client.runs.get(thread_id, later["run_id"]))["status"] == "interrupted"
    for bad in (-1, "soon"):
        with pytest.raises(UnprocessableEntityError):
            await client.runs.create(thread_id, "chain3", input={}, after_seconds=bad)


@pytest.mark.parametrize("stop", ["kill -9", "SIGTERM"])
async def test_after_seconds_survives_a_restart(tmp_path: Path, stop: str) -> None:
    running = start_server(tmp_path)
    client = get_client(url=running.url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "chain3", input={"x": 0}, after_seconds=2)
    if stop == "kill -9":
        running.process.kill()
    else:  # a drain stops a waiting run at once, not after --drain-timeout (10 s)
        running.process.terminate()
    running.process.wait(5)
    running = start_server(tmp_path)
    try:
        client = get_client(url=running.url, api_key=None)

        async def ended() -> bool:
            return (await client.runs.get(thread_id, run["run_id"]))["status"] != "pending"

        await _until(ended)
        assert await client.runs.join(thread_id, run["run_id"]) == {"x": 3}
        done = await client.runs.get(thread_id, run["run_id"])
        assert done["status"] == "success"
        assert _seconds(done) >= 2
    finally:
        stop_server(running)


def test_webhooks_are_refused(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    with pytest.raises(UnprocessableEntityError) as refused:
        client.runs.create(thread_id, "chain3", input={"x": 0},
                           webhook="https://example.com/hook")
    assert str(refused.value).startswith("webhooks are not supported by rillet serve")
    assert client.runs.list(thread_id) == []
