"""Threads: copy, count, prune, search filters (values, select, extract, sort), the
metadata merge of an update. Shapes and codes as ``langgraph dev`` 0.16.7 answers them,
except where a test says otherwise."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

pytestmark = pytest.mark.timeout(60)

CHAIN3_ID = "b1376d66-f966-548c-85a8-2dc0cc1354f6"


def test_update_merges_metadata_one_level_deep(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread = client.threads.create(metadata={"a": 1, "b": {"c": 2}})
    updated = client.threads.update(thread["thread_id"], metadata={"b": {"d": 3}, "e": None})
    # as langgraph dev: top-level keys replaced, a None value kept (not a deletion)
    assert updated["metadata"] == {"a": 1, "b": {"d": 3}, "e": None}
    assert updated["updated_at"] > thread["updated_at"]
    assert client.threads.update(thread["thread_id"], metadata={})["metadata"] == {
        "a": 1, "b": {"d": 3}, "e": None}


async def test_copy_has_the_same_checkpoints_and_metadata(url: str) -> None:
    client = get_client(url=url, api_key=None)
    source = await client.threads.create(metadata={"owner": "copy-test"})
    assert await client.runs.wait(source["thread_id"], "chain3", input={"x": 0}) == {"x": 3}
    copied = await client.threads.copy(source["thread_id"])
    assert copied["thread_id"] != source["thread_id"]
    assert copied["metadata"] == {"owner": "copy-test", "graph_id": "chain3",
                                  "assistant_id": CHAIN3_ID}
    assert (copied["status"], copied["values"], copied["config"]) == ("idle", {"x": 3}, {})
    assert await client.threads.get(copied["thread_id"]) == copied
    old = await client.threads.get_history(source["thread_id"])
    new = await client.threads.get_history(copied["thread_id"])
    assert [s["checkpoint_id"] for s in new] == [s["checkpoint_id"] for s in old]
    assert [s["values"] for s in new] == [{"x": 3}, {"x": 2}, {"x": 1}, {"x": 0}, {}]
    assert [s["metadata"] for s in new] == [s["metadata"] for s in old]
    assert {s["checkpoint"]["thread_id"] for s in new} == {copied["thread_id"]}
    assert await client.runs.list(copied["thread_id"]) == []  # runs are not copied
    # the copy goes on by itself; the source is unchanged
    await client.threads.update_state(copied["thread_id"], {"x": 100}, as_node="c")
    assert (await client.threads.get_state(copied["thread_id"]))["values"] == {"x": 100}
    assert (await client.threads.get_state(source["thread_id"]))["values"] == {"x": 3}
    with pytest.raises(NotFoundError):  # langgraph dev: 409 "Conflict"
        await client.threads.copy(str(uuid.uuid4()))


def test_copy_of_an_interrupted_thread_can_be_resumed(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    source = client.threads.create()["thread_id"]
    client.runs.wait(source, "hitl", input={"question": "go?"})
    copied = client.threads.copy(source)
    assert copied["status"] == "interrupted"
    assert copied["interrupts"] == client.threads.get(source)["interrupts"]
    assert [i["value"] for items in copied["interrupts"].values() for i in items] == [
        {"question": "go?"}]
    assert client.runs.wait(copied["thread_id"], "hitl", command={"resume": "yes"}) == {
        "question": "go?", "answer": "yes", "done": True}
    assert client.threads.get(source)["status"] == "interrupted"


def test_count_and_search_by_values_select_and_extract(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    tag = {"suite": f"count-{uuid.uuid4()}"}
    threads = [client.threads.create(metadata=tag)["thread_id"] for _ in range(3)]
    client.runs.wait(threads[0], "chain3", input={"x": 0})
    client.runs.wait(threads[1], "chain3", input={"x": 10})
    assert client.threads.count(metadata=tag) == 3
    assert client.threads.count(metadata=tag, values={"x": 3}) == 1
    assert client.threads.count(metadata=tag, status="idle") == 3
    assert client.threads.count(metadata=tag, status="busy") == 0
    assert client.threads.count(metadata={"suite": "no such suite"}) == 0
    found = client.threads.search(metadata=tag, values={"x": 13})
    assert [t["thread_id"] for t in found] == [threads[1]]
    # langgraph dev's in-memory server lets threads without values through a values
    # filter; rillet keeps only threads whose values hold every given key
    assert client.threads.search(metadata=tag, values={"x": 99}) == []
    picked = client.threads.search(metadata=tag, select=["thread_id", "status"],
                                   sort_order="asc")
    assert picked == [{"thread_id": t, "status": "idle"} for t in threads]
    extracted = client.threads.search(metadata=tag, select=["thread_id"], sort_order="asc",
                                      extract={"x": "values.x", "who": "metadata.suite"})
    assert extracted == [
        {"thread_id": threads[0], "extracted": {"x": 3, "who": tag["suite"]}},
        {"thread_id": threads[1], "extracted": {"x": 13, "who": tag["suite"]}},
        {"thread_id": threads[2], "extracted": {"x": None, "who": tag["suite"]}},
    ]
    by_state = client.threads.search(metadata=tag, sort_by="state_updated_at",
                                     sort_order="desc", select=["thread_id"], limit=2)
    assert [t["thread_id"] for t in by_state] == [threads[1], threads[0]]


def test_extract_reaches_into_lists(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    tag = {"suite": f"extract-{uuid.uuid4()}"}
    thread_id = client.threads.create(metadata=tag)["thread_id"]
    client.runs.wait(thread_id, "chat", input={"messages": [{"role": "user", "content": "hi"}]})
    found = client.threads.search(metadata=tag, select=["thread_id"], extract={
        "last": "values.messages[-1].content", "first": "values.messages[0].type",
        "none": "values.messages[5]"})
    assert found == [{"thread_id": thread_id, "extracted": {
        "last": "hello there", "first": "human", "none": None}}]


async def test_prune_deletes_or_keeps_the_latest_checkpoint(url: str) -> None:
    client = get_client(url=url, api_key=None)
    gone, kept = [(await client.threads.create())["thread_id"] for _ in range(2)]
    for thread_id in (gone, kept):
        await client.runs.wait(thread_id, "chain3", input={"x": 0})
    missing = str(uuid.uuid4())
    assert await client.threads.prune([gone, missing]) == {"pruned_count": 1}
    with pytest.raises(NotFoundError):
        await client.threads.get(gone)
    await client.threads.create(thread_id=gone, graph_id="chain3")  # no checkpoints left
    assert await client.threads.get_history(gone) == []
    # keep_latest (langgraph dev's in-memory server: 422 "not supported")
    before = await client.threads.get_history(kept)
    assert len(before) == 5
    assert await client.threads.prune([kept], strategy="keep_latest") == {"pruned_count": 1}
    after = await client.threads.get_history(kept)
    assert after == before[:1]
    assert (await client.threads.get(kept))["values"] == {"x": 3}
    assert await client.runs.wait(kept, "chain3", input={"x": 1}) == {"x": 4}


def test_bad_thread_op_bodies(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    with pytest.raises(UnprocessableEntityError):
        client.threads.count(status="nope")  # type: ignore[arg-type]
    with pytest.raises(UnprocessableEntityError):
        client.threads.search(select=["nope"])  # type: ignore[list-item]
    with pytest.raises(UnprocessableEntityError):
        client.threads.search(sort_by="nope")  # type: ignore[arg-type]
    with pytest.raises(UnprocessableEntityError):
        client.threads.prune(["x"], strategy="x")  # type: ignore[arg-type]
    answers = {
        "/threads/prune": ({}, "'thread_ids' is required: the list of threads to prune"),
        "/threads/search": ({"extract": {"a": "values..x"}},
                            "'extract.a' must be a path of dotted keys with optional "
                            "[index]es (values.messages[-1]), got 'values..x'"),
        "/threads/count": ({"values": [1]}, "'values' must be an object, got [1]"),
    }
    for where, (body, detail) in answers.items():
        response = httpx.post(f"{url}{where}", json=body)
        assert (response.status_code, response.json()) == (422, {"detail": detail})
    many = {f"k{i}": "values.x" for i in range(11)}
    response = httpx.post(f"{url}/threads/search", json={"extract": many})
    assert response.json() == {"detail": "'extract' takes at most 10 paths, got 11"}


def test_a_thread_stream_is_not_served_yet(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    with pytest.raises(NotFoundError) as missing:
        list(client.threads.join_stream(thread_id))
    assert "runs.join_stream" in str(missing.value)
