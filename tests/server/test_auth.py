"""Custom auth (``auth.path``), with ``--api-key`` and ``http.cors``, against a real
``rillet serve``: two users by bearer token, each seeing only the threads and runs whose
``owner`` metadata is theirs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from rillet.errors import ConfigError
from rillet.server import load_config
from rillet.server._auth import matches
from rillet.server.auth import Auth

from .conftest import RunningServer, start_server, stop_server

AUTH_PY = '''
from langgraph_sdk import Auth

auth = Auth()
USERS = {"token-a": ("alice", ["delete"]), "token-b": ("bob", [])}


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or token not in USERS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    identity, permissions = USERS[token]
    return {"identity": identity, "permissions": permissions}


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict) -> dict:
    filters = {"owner": ctx.user.identity}
    if isinstance(value.get("metadata"), dict):
        value["metadata"].update(filters)
    return filters


@auth.on.store
async def own_namespace(ctx: Auth.types.AuthContext, value: dict) -> None:
    value["namespace"] = (ctx.user.identity, *value["namespace"])


@auth.on.threads.delete
async def deleters_only(ctx: Auth.types.AuthContext, value: dict) -> dict:
    if "delete" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="You may not delete")
    return {"owner": {"$eq": ctx.user.identity}}
'''
KEY = "server-key"
CORS = {"allow_origins": ["https://app.example"], "allow_methods": ["GET", "POST"],
        "allow_headers": ["authorization", "x-api-key"], "allow_credentials": True,
        "expose_headers": ["X-Custom"], "max_age": 600}


# The same auth.py on LangGraph's Auth and on rillet's (where the delete handler is sync,
# which rillet's Auth allows).
AUTH_FILES = {
    "langgraph_sdk.Auth": AUTH_PY,
    "rillet.server.auth.Auth": AUTH_PY.replace(
        "from langgraph_sdk import Auth", "from rillet.server.auth import Auth").replace(
        "async def deleters_only", "def deleters_only"),
}


@pytest.fixture(scope="module", params=list(AUTH_FILES))
def auth_server(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder: Path = tmp_path_factory.mktemp("auth")
    (folder / "auth.py").write_text(AUTH_FILES[request.param])
    running = start_server(folder, "--api-key", KEY,
                           config={"auth": {"path": "./auth.py:auth"}, "http": {"cors": CORS}})
    yield running
    stop_server(running)


def _client(url: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return get_sync_client(url=url, api_key=KEY, headers=headers)


def _status(call: Any) -> tuple[int, Any]:
    with pytest.raises(httpx.HTTPStatusError) as info:
        call()
    return info.value.response.status_code, info.value.response.json()


def test_threads_and_runs_are_seen_by_their_owner_only(auth_server: RunningServer) -> None:
    alice, bob = _client(auth_server.url, "token-a"), _client(auth_server.url, "token-b")
    mine = alice.threads.create(metadata={"topic": "x"})
    assert mine["metadata"] == {"topic": "x", "owner": "alice"}
    theirs = bob.threads.create()
    assert theirs["metadata"] == {"owner": "bob"}
    tid = mine["thread_id"]
    assert alice.runs.wait(tid, "chain3", input={"x": 1}) == {"x": 4}
    run = alice.runs.list(tid)[0]
    gone = {"detail": f"Thread with ID {tid} not found"}

    assert alice.threads.get(tid)["metadata"] == {"topic": "x", "owner": "alice",
                                                   "graph_id": "chain3",
                                                   "assistant_id": run["assistant_id"]}
    assert _status(lambda: bob.threads.get(tid)) == (404, gone)
    assert _status(lambda: bob.threads.get_state(tid)) == (404, gone)
    assert _status(lambda: bob.threads.update(tid, metadata={"owner": "bob"})) == (404, gone)
    assert _status(lambda: bob.runs.list(tid)) == (404, gone)
    assert _status(lambda: bob.runs.get(tid, run["run_id"])) == (404, gone)
    assert _status(lambda: bob.runs.join(tid, run["run_id"])) == (404, gone)
    assert _status(lambda: bob.runs.cancel(tid, run["run_id"])) == (404, gone)
    no_thread = {"detail": "Thread or assistant not found."}
    assert _status(lambda: bob.runs.wait(tid, "chain3", input={"x": 1})) == (404, no_thread)
    assert _status(lambda: bob.runs.create(tid, "chain3", input={"x": 1})) == (404, no_thread)
    assert _status(lambda: list(bob.runs.stream(tid, "chain3", input={"x": 1}))) \
        == (404, no_thread)

    assert [t["thread_id"] for t in bob.threads.search(limit=100)] == [theirs["thread_id"]]
    assert tid in [t["thread_id"] for t in alice.threads.search(limit=100)]
    assert theirs["thread_id"] not in [t["thread_id"] for t in alice.threads.search(limit=100)]
    assert bob.threads.search(metadata={"owner": "alice"}) == []

    # a run that makes its thread makes it as threads.create does: owned
    made = bob.runs.wait(None, "chain3", input={"x": 0})
    assert made == {"x": 3}
    new_tid = "0b7e6d56-3a31-4c3a-9a59-6b0a4f3f1c11"
    bob.runs.wait(new_tid, "chain3", input={"x": 0}, if_not_exists="create")
    assert bob.threads.get(new_tid)["metadata"]["owner"] == "bob"
    assert _status(lambda: alice.threads.get(new_tid))[0] == 404

    assert _status(lambda: bob.threads.delete(tid)) == (403, {"detail": "You may not delete"})
    assert _status(lambda: bob.threads.delete(theirs["thread_id"])) \
        == (403, {"detail": "You may not delete"})
    alice.threads.delete(tid)
    assert _status(lambda: alice.threads.get(tid)) == (404, gone)


def test_unauthenticated_requests_get_401(auth_server: RunningServer) -> None:
    anonymous, wrong = _client(auth_server.url, None), _client(auth_server.url, "nope")
    assert _status(lambda: anonymous.threads.search()) == (401, {"detail": "Invalid token"})
    assert _status(lambda: wrong.threads.create()) == (401, {"detail": "Invalid token"})
    assert _status(lambda: anonymous.assistants.search()) == (401, {"detail": "Invalid token"})
    # the API key is checked first: a user's token alone does not do
    no_key = get_sync_client(url=auth_server.url, api_key="wrong-key",
                             headers={"Authorization": "Bearer token-a"})
    assert _status(lambda: no_key.threads.search()) \
        == (401, {"detail": "Missing or invalid API key (x-api-key)"})
    assert httpx.get(f"{auth_server.url}/ok", timeout=10).json() == {"ok": True}


def test_async_client_is_filtered_too(auth_server: RunningServer) -> None:
    async def main() -> tuple[list[str], int]:
        alice = get_client(url=auth_server.url, api_key=KEY,
                           headers={"Authorization": "Bearer token-a"})
        bob = get_client(url=auth_server.url, api_key=KEY,
                         headers={"Authorization": "Bearer token-b"})
        thread = await alice.threads.create()
        found = [t["thread_id"] for t in await bob.threads.search(limit=1000)]
        try:
            await bob.threads.get(thread["thread_id"])
        except httpx.HTTPStatusError as exc:
            return found, exc.response.status_code
        return found, 200

    found, status = asyncio.run(asyncio.wait_for(main(), 30))
    assert status == 404
    assert found and all(t for t in found)
    bob = _client(auth_server.url, "token-b")
    assert all(bob.threads.get(t)["metadata"]["owner"] == "bob" for t in found)


def test_cors_preflight_follows_http_cors(auth_server: RunningServer) -> None:
    allowed = httpx.options(f"{auth_server.url}/threads/search", timeout=10, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-allow-methods"] == "GET, POST"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-max-age"] == "600"
    refused = httpx.options(f"{auth_server.url}/threads/search", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = httpx.post(f"{auth_server.url}/threads/search", json={}, timeout=10, headers={
        "Origin": "https://app.example", "Authorization": "Bearer token-a", "x-api-key": KEY})
    assert simple.status_code == 200
    assert simple.headers["access-control-expose-headers"] == \
        "X-Custom, Content-Location, Location, X-Pagination-Total, X-Pagination-Next"


def test_filters_match_metadata() -> None:
    meta = {"owner": "alice", "tags": ["a", "b"]}
    assert matches(meta, None) and matches(meta, {})
    assert matches(meta, {"owner": "alice"}) and not matches(meta, {"owner": "bob"})
    assert matches(meta, {"owner": {"$eq": "alice"}})
    assert not matches(meta, {"owner": {"$eq": "bob"}})
    assert matches(meta, {"tags": {"$contains": "a"}})
    assert matches(meta, {"tags": {"$contains": ["a", "b"]}})
    assert not matches(meta, {"tags": {"$contains": "c"}})
    assert not matches(meta, {"owner": {"$contains": "a"}})  # not a list
    assert not matches(None, {"owner": "alice"})


def test_rillets_auth_refuses_what_langgraphs_refuses() -> None:
    auth = Auth()
    auth.on.threads.create(lambda ctx, value: None)
    with pytest.raises(ValueError, match=r"a handler for threads\.create is set already"):
        auth.on.threads(actions="create")(lambda ctx, value: None)
    with pytest.raises(ValueError, match="threads has no action 'put'"):
        auth.on.threads(actions=["put"])(lambda ctx, value: None)
    auth.on(lambda ctx, value: None)
    with pytest.raises(ValueError, match="a global handler"):
        auth.on(lambda ctx, value: None)
    assert Auth.exceptions.HTTPException(403).detail == "Forbidden"


@pytest.mark.parametrize(("extra", "message"), [
    ({"auth": {"path": "./graphs.py:chain3"}},
     "auth.path: ./graphs.py:chain3 is not an Auth object"),
    ({"auth": {"path": "./auth.py:nope"}}, "auth.path: ./auth.py has no attribute 'nope'"),
    ({"auth": "./auth.py:auth"}, "'auth' must be an object"),
    ({"http": {"cors": {"allow_origin": ["*"]}}}, "http.cors.allow_origin is unknown"),
    ({"http": {"cors": {"max_age": "600"}}}, "http.cors.max_age must be an integer, got '600'"),
])
def test_bad_auth_or_cors_config_says_what_to_fix(tmp_path: Path, extra: dict[str, Any],
                                                   message: str) -> None:
    (tmp_path / "auth.py").write_text("auth = None\n")
    (tmp_path / "graphs.py").write_text((Path(__file__).parent / "graphs.py").read_text())
    (tmp_path / "langgraph.json").write_text(json.dumps(
        {"graphs": {"chain3": "./graphs.py:chain3"}, **extra}))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "langgraph.json")
    assert message in str(info.value)


def test_every_other_endpoint_goes_through_the_handlers(auth_server: RunningServer) -> None:
    alice, bob = _client(auth_server.url, "token-a"), _client(auth_server.url, "token-b")
    # assistants: made with their owner, unknown to anyone else
    made = alice.assistants.create("chain3", name="alice's", metadata={"team": "t"})
    aid = made["assistant_id"]
    assert made["metadata"] == {"team": "t", "owner": "alice"}
    unknown = {"detail": f"Assistant '{aid}' not found"}
    assert _status(lambda: bob.assistants.get(aid)) == (404, unknown)
    assert _status(lambda: bob.assistants.update(aid, name="bob's")) == (404, unknown)
    assert _status(lambda: bob.assistants.get_versions(aid)) == (404, unknown)
    assert _status(lambda: bob.assistants.set_latest(aid, 1)) == (404, unknown)
    assert _status(lambda: bob.assistants.delete(aid)) == (404, {
        "detail": f"Assistant with ID {aid} not found"})
    assert aid in [a["assistant_id"] for a in alice.assistants.search(limit=100)]
    assert aid not in [a["assistant_id"] for a in bob.assistants.search(limit=100)]
    assert alice.assistants.count() == len(alice.assistants.search(limit=100))
    assert bob.assistants.count() == len(bob.assistants.search(limit=100))
    assert alice.assistants.update(aid, name="renamed")["version"] == 2

    # threads: count, copy and prune see only the user's own
    tid = alice.threads.create()["thread_id"]
    alice.runs.wait(tid, "chain3", input={"x": 1})
    assert bob.threads.count() == len(bob.threads.search(limit=1000))
    assert alice.threads.count() == len(alice.threads.search(limit=1000))
    gone = {"detail": f"Thread with ID {tid} not found"}
    assert _status(lambda: bob.threads.copy(tid)) == (404, gone)
    copied = alice.threads.copy(tid)
    assert copied["metadata"]["owner"] == "alice"
    assert alice.threads.get_state(copied["thread_id"])["values"] == {"x": 4}
    assert _status(lambda: bob.threads.prune([tid])) == (403, {"detail": "You may not delete"})
    theirs = bob.threads.create()["thread_id"]
    assert alice.threads.prune([theirs]) == {"pruned_count": 0}  # bob's: unknown to alice
    assert bob.threads.get(theirs)["thread_id"] == theirs

    # runs: delete and cancel_many
    run = alice.runs.list(tid)[0]
    # (deleting a run is threads.delete, which bob may not do anywhere)
    assert _status(lambda: bob.runs.delete(tid, run["run_id"])) == (403, {
        "detail": "You may not delete"})
    assert _status(lambda: bob.runs.cancel_many(thread_id=tid, run_ids=[run["run_id"]])) \
        == (404, {"detail": "No matching runs to cancel. Please verify the thread ID and run "
                  "IDs are correct, and the runs haven't been deleted or completed."})
    alice.runs.delete(tid, run["run_id"])
    assert alice.runs.list(tid) == []

    # the store: each user's namespace is put under their identity by the handler
    alice.store.put_item(["notes"], "k", {"text": "alice's"})
    bob.store.put_item(["notes"], "k", {"text": "bob's"})
    assert alice.store.get_item(["notes"], "k")["value"] == {"text": "alice's"}
    assert bob.store.get_item(["notes"], "k")["namespace"] == ["bob", "notes"]
    assert [i["value"] for i in bob.store.search_items(["notes"])["items"]] == [
        {"text": "bob's"}]
    assert bob.store.list_namespaces()["namespaces"] == [["bob", "notes"]]
    bob.store.delete_item(["notes"], "k")
    assert bob.store.get_item(["notes"], "k") is None
    assert alice.store.get_item(["notes"], "k")["value"] == {"text": "alice's"}
