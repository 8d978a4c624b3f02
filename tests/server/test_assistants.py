"""Meta routes and assistants, through the official client (shapes from ``langgraph dev``)."""

from __future__ import annotations

import uuid

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
