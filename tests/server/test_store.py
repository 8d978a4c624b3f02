"""The store endpoints through the official client (``client.store``), the graphs'
nodes writing to the same store, and the store surviving a restart. Payloads and
status codes were checked against ``langgraph dev`` 0.16.7 (departures in
``docs/server-status.md``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from tests.server.conftest import start_server, stop_server

pytestmark = pytest.mark.timeout(60)

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")


def _scrub(data: Any) -> Any:
    """Timestamps (ISO 8601, UTC) replaced by ``"<time>"``, after checking their form."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in ("created_at", "updated_at"):
                assert _STAMP.match(value), value
                out[key] = "<time>"
            else:
                out[key] = _scrub(value)
        return out
    if isinstance(data, list):
        return [_scrub(item) for item in data]
    return data


def _item(namespace: list[str], key: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"namespace": namespace, "key": key, "value": value, "created_at": "<time>",
            "updated_at": "<time>", **extra}


def test_put_get_search_delete_sync(url: str) -> None:
    store = get_sync_client(url=url, api_key=None).store
    store.put_item(["sync", "u1"], "k1", {"a": 1})
    store.put_item(["sync", "u1"], "k2", {"a": 2, "b": "x"})
    store.put_item(["sync", "u2", "prefs"], "k3", {"a": 3}, ttl=5)
    assert _scrub(store.get_item(["sync", "u1"], "k1")) == _item(["sync", "u1"], "k1", {"a": 1})
    assert store.get_item(["sync", "u1"], "nope") is None  # langgraph dev: 200 null
    assert _scrub(store.search_items(["sync"])) == {"items": [
        _item(["sync", "u1"], "k1", {"a": 1}, score=None),
        _item(["sync", "u1"], "k2", {"a": 2, "b": "x"}, score=None),
        _item(["sync", "u2", "prefs"], "k3", {"a": 3}, score=None),
    ]}
    assert _scrub(store.search_items(["sync"], filter={"a": {"$gt": 1}}, limit=1, offset=1)) \
        == {"items": [_item(["sync", "u2", "prefs"], "k3", {"a": 3}, score=None)]}
    assert _scrub(store.search_items(["sync", "u1"], filter={"b": "x"}, query="hello")) == {
        "items": [_item(["sync", "u1"], "k2", {"a": 2, "b": "x"}, score=None)]}
    assert store.list_namespaces(prefix=["sync"]) == {
        "namespaces": [["sync", "u1"], ["sync", "u2", "prefs"]]}
    assert store.list_namespaces(prefix=["sync", "*"], suffix=["prefs"]) == {
        "namespaces": [["sync", "u2", "prefs"]]}
    assert store.list_namespaces(prefix=["sync"], max_depth=2, limit=1, offset=1) == {
        "namespaces": [["sync", "u2"]]}
    store.put_item(["sync", "u1"], "k1", {"a": 10})
    assert store.get_item(["sync", "u1"], "k1", refresh_ttl=False)["value"] == {"a": 10}
    store.delete_item(["sync", "u1"], "k1")
    store.delete_item(["sync", "u1"], "k1")  # deleting what is not there is no error
    assert store.get_item(["sync", "u1"], "k1") is None


async def test_async_client(url: str) -> None:
    store = get_client(url=url, api_key=None).store
    await store.put_item(["async"], "k", {"deep": {"list": [1, 2]}}, index=False)
    item = await store.get_item(["async"], "k")
    assert _scrub(item) == _item(["async"], "k", {"deep": {"list": [1, 2]}})
    assert item["created_at"] == item["updated_at"]
    found = await store.search_items(["async"], refresh_ttl=True)
    assert _scrub(found) == {"items": [_item(["async"], "k", {"deep": {"list": [1, 2]}},
                                             score=None)]}
    assert await store.list_namespaces(prefix=["async"]) == {"namespaces": [["async"]]}
    await store.delete_item(["async"], "k")
    assert await store.get_item(["async"], "k") is None


def test_a_graph_writes_what_the_client_reads(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    first = client.runs.wait(None, "memory", input={"user": "ann", "text": "tea"})
    assert first == {"user": "ann", "text": "tea", "seen": ["tea"]}
    client.store.put_item(["memories", "ann"], "m-coffee", {"text": "coffee"})
    second = client.runs.wait(None, "memory", input={"user": "ann", "text": "cake"})
    assert second["seen"] == ["tea", "coffee", "cake"]  # the client's item too
    assert [i["value"] for i in client.store.search_items(["memories", "ann"])["items"]] == [
        {"text": "tea"}, {"text": "coffee"}, {"text": "cake"}]


BAD = [  # (method, path, body or query, status, detail)
    ("PUT", "/store/items", {"namespace": [], "key": "k", "value": {}}, 422,
     "'namespace' cannot be empty: give at least one label"),
    ("PUT", "/store/items", {"namespace": ["a", ""], "key": "k", "value": {}}, 422,
     "'namespace': namespace label '' must be a non-empty string without periods ('.')"),
    ("PUT", "/store/items", {"namespace": ["a.b"], "key": "k", "value": {}}, 422,
     "'namespace': namespace label 'a.b' must be a non-empty string without periods ('.')"),
    ("PUT", "/store/items", {"namespace": "a", "key": "k", "value": {}}, 422,
     "'namespace' must be a list of strings (namespace labels), got 'a'"),
    ("PUT", "/store/items", {"namespace": ["a", 1], "key": "k", "value": {}}, 422,
     "'namespace' must be a list of strings (namespace labels), got ['a', 1]"),
    ("PUT", "/store/items", {"namespace": ["langgraph"], "key": "k", "value": {}}, 422,
     "'namespace': the root label 'langgraph' is reserved"),
    ("PUT", "/store/items", {"namespace": ["a"], "value": {}}, 422,
     "'key' is required: a string, got None"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": [1]}, 422,
     "'value' is required: a JSON object, got [1]"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {}, "ttl": "x"}, 422,
     "'ttl' must be a number of minutes > 0 or null, got 'x'"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {}, "index": "x"}, 422,
     "'index' must be false or a list of field paths, got 'x'"),
    ("GET", "/store/items", {"namespace": "a"}, 422, "'key' is required"),
    ("GET", "/store/items", {"key": "k"}, 422,
     "'namespace' is required: the labels joined by '.'"),
    ("GET", "/store/items", {"namespace": "a..b", "key": "k"}, 422,
     "'namespace': namespace label '' must be a non-empty string without periods ('.')"),
    ("GET", "/store/items", {"namespace": "a", "key": "k", "refresh_ttl": "maybe"}, 422,
     "'refresh_ttl' must be true or false, got 'maybe'"),
    ("DELETE", "/store/items", {"namespace": ["a"]}, 422,
     "'key' is required: a string, got None"),
    ("DELETE", "/store/items", {"namespace": ["a.b"], "key": "k"}, 422,
     "'namespace': namespace label 'a.b' must be a non-empty string without periods ('.')"),
    ("POST", "/store/items/search", {"namespace_prefix": "a"}, 422,
     "'namespace_prefix' must be a list of strings (namespace labels), got 'a'"),
    ("POST", "/store/items/search", {"limit": 0}, 422, "'limit' must be between 1 and 1000, got 0"),
    ("POST", "/store/items/search", {"offset": -1}, 422,
     "'offset' must be between 0 and 1000000000, got -1"),
    ("POST", "/store/items/search", {"filter": {"a": {"$foo": 1}}}, 422,
     "'filter': Unsupported operator: $foo"),
    ("POST", "/store/items/search", {"filter": "x"}, 422, "'filter' must be an object, got 'x'"),
    ("POST", "/store/namespaces", {"max_depth": 0}, 422,
     "'max_depth' must be between 1 and 1000000, got 0"),
    ("POST", "/store/namespaces", {"prefix": "a"}, 422,
     "'prefix' must be a list of strings (namespace labels), got 'a'"),
]


@pytest.mark.parametrize(("method", "path", "given", "status", "detail"), BAD,
                         ids=[f"{m} {p} {g}" for m, p, g, _, _ in BAD])
def test_bad_requests(url: str, method: str, path: str, given: dict[str, Any], status: int,
                      detail: str) -> None:
    if method == "GET":
        response = httpx.get(url + path, params=given)
    else:
        response = httpx.request(method, url + path, json=given)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_the_store_survives_a_restart(tmp_path: Path) -> None:
    first = start_server(tmp_path)
    try:
        client = get_sync_client(url=first.url, api_key=None)
        client.runs.wait(None, "memory", input={"user": "bo", "text": "kept"})
        client.store.put_item(["notes"], "n", {"v": 1})
        before = client.store.search_items([])
    finally:
        stop_server(first)
    assert (tmp_path / "data" / "store.sqlite").is_file()
    second = start_server(tmp_path)
    try:
        client = get_sync_client(url=second.url, api_key=None)
        assert client.store.search_items([]) == before
        assert _scrub(before) == {"items": [
            _item(["memories", "bo"], "m-kept", {"text": "kept"}, score=None),
            _item(["notes"], "n", {"v": 1}, score=None)]}
        again = client.runs.wait(None, "memory", input={"user": "bo", "text": "more"})
        assert again["seen"] == ["kept", "more"]
    finally:
        stop_server(second)
