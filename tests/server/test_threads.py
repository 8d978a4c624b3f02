"""Threads: create, get, search, update, delete, state and history."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError

pytestmark = pytest.mark.timeout(60)


async def test_create_get_delete(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread = await client.threads.create(metadata={"owner": "ann"})
    assert set(thread) == {"thread_id", "created_at", "updated_at", "state_updated_at",
                           "metadata", "status", "config", "values"}
    assert (thread["metadata"], thread["status"], thread["config"], thread["values"]) == (
        {"owner": "ann"}, "idle", {}, None)
    assert await client.threads.get(thread["thread_id"]) == thread
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread["thread_id"])
    same = await client.threads.create(thread_id=thread["thread_id"], if_exists="do_nothing")
    assert same == thread
    await client.threads.delete(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await client.threads.get(thread["thread_id"])
    with pytest.raises(NotFoundError):
        await client.threads.delete(thread["thread_id"])


def test_search_and_update(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    tag = {"suite": "search-and-update"}
    first = client.threads.create(metadata=tag)
    second = client.threads.create(metadata=tag)
    found = client.threads.search(metadata=tag)
    assert [t["thread_id"] for t in found] == [second["thread_id"], first["thread_id"]]
    oldest = client.threads.search(metadata=tag, sort_order="asc", limit=1)
    assert [t["thread_id"] for t in oldest] == [first["thread_id"]]
    updated = client.threads.update(first["thread_id"], metadata={"color": "red"})
    assert updated["metadata"] == {**tag, "color": "red"}


def test_state_of_a_new_thread(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread = client.threads.create()
    assert client.threads.get_state(thread["thread_id"]) == {  # as langgraph dev
        "values": {}, "next": [], "tasks": [], "metadata": None, "created_at": None,
        "checkpoint": None, "parent_checkpoint": None, "interrupts": [],
        "checkpoint_id": None, "parent_checkpoint_id": None,
    }
    assert client.threads.get_history(thread["thread_id"]) == []
    response = httpx.post(f"{url}/threads/{thread['thread_id']}/state",
                          json={"values": {"x": 1}})
    assert response.status_code == 400
    assert "has no assigned graph ID" in response.json()["detail"]


def test_state_history_and_update_after_a_run(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    assert client.runs.wait(thread_id, "chain3", input={"x": 0}) == {"x": 3}
    thread = client.threads.get(thread_id)
    assert (thread["status"], thread["values"], thread["interrupts"], thread["error"]) == (
        "idle", {"x": 3}, {}, None)
    assert thread["metadata"] == {"graph_id": "chain3",
                                  "assistant_id": "b1376d66-f966-548c-85a8-2dc0cc1354f6"}
    state = client.threads.get_state(thread_id)
    assert (state["values"], state["next"], state["tasks"], state["interrupts"]) == (
        {"x": 3}, [], [], [])
    assert state["checkpoint"]["thread_id"] == thread_id
    assert state["checkpoint"]["checkpoint_ns"] == ""
    assert state["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    history = client.threads.get_history(thread_id, limit=10)
    assert [h["values"] for h in history] == [{"x": 3}, {"x": 2}, {"x": 1}, {"x": 0}, {}]
    assert history[0] == state
    assert history[1]["next"] == ["c"]
    at = client.threads.get_state(thread_id, checkpoint_id=history[2]["checkpoint_id"])
    assert at["values"] == {"x": 1}
    update = client.threads.update_state(thread_id, {"x": 10}, as_node="c")
    assert set(update) == {"checkpoint", "configurable", "checkpoint_id"}
    assert client.threads.get_state(thread_id)["values"] == {"x": 10}
    assert client.threads.get(thread_id)["values"] == {"x": 10}


def test_bad_bodies(url: str) -> None:
    assert httpx.post(f"{url}/threads", content=b"not json").json() == {
        "detail": "Invalid JSON in request body"}
    response = httpx.post(f"{url}/threads/search", json={"limit": "x"})
    assert response.status_code == 422
    assert response.json() == {"detail": "'limit' must be an integer, got 'x'"}
    missing = httpx.get(f"{url}/threads/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": "Thread with ID 00000000-0000-0000-0000-000000000000 not found"}
