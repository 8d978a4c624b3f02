"""Meta routes and assistants, through the official client (shapes from ``langgraph dev``)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from tests.server.conftest import GRAPHS

pytestmark = pytest.mark.timeout(60)

LG_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def test_ok_and_info(url: str) -> None:
    assert httpx.get(f"{url}/ok").json() == {"ok": True}
    info = httpx.get(f"{url}/info").json()
    assert info["flags"]["assistants"] is True
    assert info["host"]["kind"] == "self-hosted"


async def test_system_assistants_have_langgraphs_ids(url: str) -> None:
    client = get_client(url=url, api_key=None)
    found = await client.assistants.search(graph_id="chain3")
    assert len(found) == 1
    assistant = found[0]
    # The id langgraph dev gives chain3 (checked against it): uuid5 in its namespace.
    assert assistant["assistant_id"] == "b1376d66-f966-548c-85a8-2dc0cc1354f6"
    assert assistant["assistant_id"] == str(uuid.uuid5(LG_NAMESPACE, "chain3"))
    assert {k: assistant[k] for k in ("graph_id", "config", "context", "metadata", "name",
                                      "version", "description")} == {
        "graph_id": "chain3", "config": {}, "context": {}, "metadata": {"created_by": "system"},
        "name": "chain3", "version": 1, "description": None,
    }
    assert await client.assistants.get(assistant["assistant_id"]) == assistant
    # beyond langgraph dev (which answers 422 here): the graph's name is accepted too
    assert await client.assistants.get("chain3") == assistant


def test_search_paginates(url: str) -> None:
    response = httpx.post(f"{url}/assistants/search", json={"limit": 2, "offset": 1})
    assert response.status_code == 200
    assert len(response.json()) == 2
    assert response.headers["x-pagination-total"] == str(len(GRAPHS))
    assert response.headers["x-pagination-next"] == "3"


def test_graph_as_langgraph_draws_it(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    assert client.assistants.get_graph("chain3") == {  # langgraph dev's answer, exactly
        "nodes": [
            {"id": "__start__", "type": "runnable", "data": {"name": "__start__"}},
            {"id": "a", "type": "runnable", "data": {"name": "a"}},
            {"id": "b", "type": "runnable", "data": {"name": "b"}},
            {"id": "c", "type": "runnable", "data": {"name": "c"}},
            {"id": "__end__"},
        ],
        "edges": [
            {"source": "__start__", "target": "a"}, {"source": "a", "target": "b"},
            {"source": "b", "target": "c"}, {"source": "c", "target": "__end__"},
        ],
    }


def test_schemas_of_a_typeddict_state(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    assert client.assistants.get_schemas("hitl") == {  # langgraph dev's answer, exactly
        "graph_id": "hitl", "input_schema": None, "output_schema": None,
        "state_schema": {
            "properties": {
                "question": {"default": None, "title": "Question", "type": "string"},
                "answer": {"default": None, "title": "Answer", "type": "string"},
                "done": {"default": None, "title": "Done", "type": "boolean"},
            },
            "title": "hitl_state", "type": "object",
        },
        "config_schema": {}, "context_schema": None,
    }


def test_unknown_assistants(url: str) -> None:
    missing = httpx.get(f"{url}/assistants/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    bad = httpx.get(f"{url}/assistants/nope")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("Invalid assistant: 'nope'.")


def _scrubbed(data: Any) -> Any:
    """Timestamps and generated assistant ids replaced by placeholders."""
    if isinstance(data, list):
        return [_scrubbed(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key in ("created_at", "updated_at"):
        if key in out:
            assert out[key].endswith("+00:00"), out[key]
            out[key] = "<time>"
    return out


def test_create_update_versions_latest_delete(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    made = client.assistants.create(
        "settings", config={"tags": ["t1"], "recursion_limit": 7}, context={"model": "m1"},
        metadata={"owner": "sync"}, name="mine", description="d")
    aid = made["assistant_id"]
    assert str(uuid.UUID(aid)) == aid
    v1 = {  # langgraph dev's answer: the context is mirrored in config.configurable
        "assistant_id": aid, "graph_id": "settings",
        "config": {"tags": ["t1"], "recursion_limit": 7, "configurable": {"model": "m1"}},
        "context": {"model": "m1"}, "metadata": {"owner": "sync"}, "name": "mine",
        "created_at": "<time>", "updated_at": "<time>", "version": 1, "description": "d",
    }
    assert _scrubbed(made) == v1
    assert client.assistants.get(aid) == made
    updated = client.assistants.update(aid, context={"model": "m2"}, metadata={"extra": 1})
    v2 = {**v1, "config": {"tags": ["t1"], "recursion_limit": 7,
                           "configurable": {"model": "m2"}},
          "context": {"model": "m2"}, "metadata": {"owner": "sync", "extra": 1}, "version": 2}
    assert _scrubbed(updated) == v2
    assert updated["created_at"] == made["created_at"]
    renamed = client.assistants.update(aid, graph_id="chain3", name="renamed")
    assert (renamed["graph_id"], renamed["name"], renamed["version"]) == ("chain3", "renamed", 3)
    versions = client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert _scrubbed(versions[1]) == {
        k: v2[k] for k in ("assistant_id", "version", "graph_id", "config", "context",
                           "metadata", "created_at", "name", "description")}
    assert [v["version"] for v in client.assistants.get_versions(aid, limit=1, offset=1)] == [2]
    assert [v["version"] for v in client.assistants.get_versions(
        aid, metadata={"extra": 1})] == [3, 2]
    back = client.assistants.set_latest(aid, 1)
    assert _scrubbed(back) == v1
    assert client.assistants.get(aid) == back
    assert client.assistants.update(aid, name="again")["version"] == 4
    assert client.assistants.count(metadata={"owner": "sync"}) == 1
    assert [a["assistant_id"] for a in client.assistants.search(name="agai")] == [aid]
    client.assistants.delete(aid)
    for call in (lambda: client.assistants.get(aid), lambda: client.assistants.delete(aid)):
        with pytest.raises(httpx.HTTPStatusError) as info:
            call()
        assert info.value.response.status_code == 404


async def test_runs_use_the_assistants_config_and_context(url: str) -> None:
    client = get_client(url=url, api_key=None)
    made = await client.assistants.create(
        "settings", config={"configurable": {"who": "assistant", "keep": 1}},
        if_exists="raise", assistant_id="22222222-2222-2222-2222-222222222222")
    assert made["context"] == {"who": "assistant", "keep": 1}  # mirrored, as langgraph dev
    again = await client.assistants.create("chain3", assistant_id=made["assistant_id"],
                                           if_exists="do_nothing")
    assert again == made
    out = await client.runs.wait(None, made["assistant_id"], input={},
                                 config={"configurable": {"who": "run"}})
    assert out["configurable"] == {"who": "run", "keep": 1}
    await client.assistants.update(made["assistant_id"], context={"who": "ctx", "more": 2})
    out = await client.runs.wait(None, made["assistant_id"], input={},
                                 context={"more": 3, "run": True})
    assert out["context"] == {"who": "ctx", "more": 3, "run": True}
    assert (await client.runs.wait(None, "settings", input={}))["context"] == {}
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], made["assistant_id"], input={})
    await client.assistants.delete(made["assistant_id"], delete_threads=True)
    with pytest.raises(httpx.HTTPStatusError) as info:  # its threads went with it
        await client.threads.get(thread["thread_id"])
    assert info.value.response.status_code == 404


def test_subgraphs(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    sub = {"input_schema": None, "output_schema": None, "state_schema": {
        "properties": {"x": {"default": None, "title": "X", "type": "integer"}},
        "title": "LangGraphState", "type": "object"},
        "config_schema": {}, "context_schema": None}
    assert client.assistants.get_subgraphs("nested") == {"sub": sub}  # langgraph dev's
    assert client.assistants.get_subgraphs("nested", namespace="sub") == {"sub": sub}
    assert client.assistants.get_subgraphs("nested", recurse=True) == {"sub": sub}
    assert client.assistants.get_subgraphs("chain3") == {}


ASSISTANT_ERRORS = [  # (method, path, body, status, detail)
    ("POST", "/assistants", {}, 422,
     "'graph_id' is required: one of the served graphs ({graphs}), got None"),
    ("POST", "/assistants", {"graph_id": "nope"}, 404,
     "Graph 'nope' not found. Expected one of: {graphs}"),
    ("POST", "/assistants", {"graph_id": "chain3", "assistant_id": "x"}, 422,
     "'assistant_id' must be a UUID, got 'x'"),
    ("POST", "/assistants", {"graph_id": "chain3", "if_exists": "zzz"}, 422,
     "'if_exists' must be one of raise, do_nothing; got 'zzz'"),
    ("POST", "/assistants", {"graph_id": "chain3", "config": "x"}, 422,
     "'config' must be an object, got 'x'"),
    ("POST", "/assistants", {"graph_id": "chain3", "config": {"configurable": {"a": 1}},
                             "context": {"a": 1}}, 400,
     "Cannot specify both configurable and context. Prefer setting context alone."),
    ("POST", "/assistants", {"graph_id": "chain3",
                             "assistant_id": "b1376d66-f966-548c-85a8-2dc0cc1354f6"}, 409,
     "Assistant b1376d66-f966-548c-85a8-2dc0cc1354f6 already exists"),
    ("PATCH", "/assistants/00000000-0000-0000-0000-000000000000", {"name": "x"}, 404,
     "Assistant '00000000-0000-0000-0000-000000000000' not found"),
    ("PATCH", "/assistants/chain3", {"graph_id": "nope"}, 404,
     "Graph 'nope' not found. Expected one of: {graphs}"),
    ("DELETE", "/assistants/00000000-0000-0000-0000-000000000000", None, 404,
     "Assistant with ID 00000000-0000-0000-0000-000000000000 not found"),
    ("POST", "/assistants/00000000-0000-0000-0000-000000000000/versions", {}, 404,
     "Assistant '00000000-0000-0000-0000-000000000000' not found"),
    ("POST", "/assistants/chain3/latest", {"version": 99}, 404,
     "Version 99 not found for assistant b1376d66-f966-548c-85a8-2dc0cc1354f6"),
    ("POST", "/assistants/chain3/latest", {}, 422,
     "'version' is required: the version number to make the latest"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "detail"), ASSISTANT_ERRORS,
                         ids=[f"{m} {p} {b}" for m, p, b, _, _ in ASSISTANT_ERRORS])
def test_assistant_errors(url: str, method: str, path: str, body: Any, status: int,
                          detail: str) -> None:
    response = httpx.request(method, url + path, json=body)
    expected = detail.replace("{graphs}", ", ".join(GRAPHS))
    assert (response.status_code, response.json()) == (status, {"detail": expected})
