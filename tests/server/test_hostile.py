"""No client mistake gives a 500: every route of the server, with every method it
takes, is sent malformed bodies, wrong types, bad path parameters and bad query strings;
each answer is a 4xx (or a 2xx where the request happens to be valid) with a JSON
``detail``, and the server goes on answering.

The routes come from the app itself, so a new endpoint is attacked without being
listed here. Runs a request starts are waited for or cut by the client; the run
manager cleans them up.
"""

from __future__ import annotations

import itertools
import re
import uuid

import httpx
import pytest
from langgraph_sdk import get_client

from rillet.server.api import routes

pytestmark = pytest.mark.timeout(300)

_PARAM = re.compile(r"{(\w+)}")

#: Raw bodies: not JSON, not an object, objects of wrong types, deep nesting, NaN.
BODIES: list[bytes] = [
    b"", b"{", b"null", b"[]", b"3", b'"text"', b"\xff\xfe", b'{"a": NaN}',
    b"[" * 5000 + b"]" * 5000,
    b'{"assistant_id": 5}', b'{"assistant_id": "chain3", "input": 5, "config": 3}',
    b'{"assistant_id": "chain3", "stream_mode": {"a": 1}, "metadata": "m"}',
    b'{"assistant_id": "chain3", "command": {"resume": 1}, "checkpoint": "c"}',
    b'{"assistant_id": "chain3", "config": {"configurable": 7}, "context": 2}',
    b'{"assistant_id": "chain3", "multitask_strategy": 1, "if_not_exists": []}',
    b'{"assistant_id": "chain3", "checkpoint_id": 5}',
    b'{"limit": -1, "offset": "x", "metadata": [], "status": 3, "values": 4}',
    b'{"limit": 1e308, "sort_by": 5, "sort_order": "sideways", "ids": "x"}',
    b'{"values": [1, 2], "as_node": 5, "checkpoint": [], "checkpoint_id": {}}',
    b'{"graph_id": 5, "config": [], "name": {}, "if_exists": "maybe"}',
    b'{"namespace": "a.b", "key": 5, "value": [], "namespace_prefix": 3, "ttl": "x"}',
    b'{"x": 1180591620717411303424, "input": {"x": -1180591620717411303424}}',
    b'{"input": "' + b"x" * (17 * 1024 * 1024) + b'"}',
]

#: Bad path parameters: not a UUID, a UUID nobody made, characters of all sorts.
PARAMS = ["x", str(uuid.UUID(int=12345)), "a" * 300]

#: Bad query strings.
QUERIES = ["", "?limit=-1&offset=x", "?limit=abc", "?status=weird&subgraphs=maybe",
           "?wait=2&action=explode", "?namespace=&key=", "?cancel_on_disconnect=7"]


def _endpoints() -> list[tuple[str, str]]:
    out = []
    for route in routes():
        methods = sorted(getattr(route, "methods", None) or {"GET"})
        for method in methods:
            if method != "HEAD":
                out.append((method, route.path))  # type: ignore[attr-defined]
    return out


def _paths(template: str, real: dict[str, str]) -> list[str]:
    names = _PARAM.findall(template)
    if not names:
        return [template]
    choices = [[*PARAMS, real[name]] if name in real else PARAMS for name in names]
    paths = []
    for values in itertools.product(*choices):
        path = template
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", value, 1)
        paths.append(path)
    return paths[:6]


def _check(response: httpx.Response, what: str, seen: set[int]) -> None:
    seen.add(response.status_code)
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    if response.status_code >= 400 and response.status_code != 405:
        assert "detail" in response.json(), (what, response.text[:500])


async def test_no_client_mistake_gives_a_500(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "chain3", input={"x": 0})
    await client.runs.join(thread["thread_id"], run["run_id"])
    history = await client.threads.get_history(thread["thread_id"])
    real = {"thread_id": thread["thread_id"], "run_id": run["run_id"],
            "assistant_id": "chain3", "checkpoint_id": history[0]["checkpoint"][
                "checkpoint_id"]}
    endpoints = _endpoints()
    assert len(endpoints) >= 25
    seen: set[int] = set()
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
        for method, template in endpoints:
            for path in _paths(template, real):
                if method == "DELETE" and any(f"/{value}" in path for value in real.values()):
                    continue  # what the attacks share stays
                for query in QUERIES if method == "GET" else QUERIES[:1]:
                    what = f"{method} {path}{query}"
                    if method in ("GET", "DELETE"):
                        _check(await http.request(method, path + query), what, seen)
                        continue
                    for body in BODIES:
                        _check(await _send(http, method, path + query, body),
                               f"{what} {body[:80]!r}", seen)
        # a header the server reads, malformed
        for value in ("x", "-5", "9" * 40, ""):
            response = await http.get(
                f"/threads/{real['thread_id']}/runs/{real['run_id']}/stream",
                headers={"Last-Event-ID": value})
            _check(response, f"Last-Event-ID {value!r}", seen)
        assert (await http.get("/ok")).status_code == 200
    assert {200, 404, 413, 422} - seen == set()  # not only one kind of answer
    # the thread the attacks shared is whole, and the server runs as before
    assert (await client.threads.get_state(thread["thread_id"]))["values"] == {"x": 3}
    assert await client.runs.wait(thread["thread_id"], "chain3", input={"x": 1}) == {"x": 4}


async def _send(http: httpx.AsyncClient, method: str, path: str, body: bytes) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if path.endswith("/stream"):
        # a stream that starts is read to its end (or cut by the timeout)
        async with http.stream(method, path, content=body, headers=headers) as response:
            await response.aread()
            return response
    return await http.request(method, path, content=body, headers=headers)


def test_the_attack_covers_every_route() -> None:
    paths = {path for _, path in _endpoints()}
    for must in ("/threads/{thread_id}/runs/stream", "/runs/wait", "/assistants/search",
                 "/threads/{thread_id}/state"):
        assert must in paths
    assert all(_paths(p, {}) for p in paths)

