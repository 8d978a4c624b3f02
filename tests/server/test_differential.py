"""Differential tests: the same client calls against ``langgraph dev`` and ``rillet serve``.

Both servers are started here, each on the same graphs written with its own imports
(``differential/graphs_langgraph.py``, ``differential/graphs_rillet.py``). Every
scenario runs through the official async ``langgraph_sdk`` client on both at once, and
what the two answered must be equal once scrubbed. The scrubbing is the list of what
differs, each a small function below saying which difference it hides:

- ids, timestamps and each server's own URL (``scrub_ids``, ``scrub_times``,
  ``scrub_urls``);
- deliberate departures of rillet's server (``docs/server-status.md``, "Departures"):
  ``drop_end_event``, ``drop_platform_metadata``, and event ids are not read (``stream``);
- rillet-core differences, not the server's: ``drop_last_empty_chunk``,
  ``scrub_message_ids``, ``drop_model_class_metadata``,
  ``drop_server_metadata_of_checkpoints``, ``keep_checkpoint_addresses``,
  ``drop_task_metadata``, ``drop_configurable_copies``,
  ``model_checkpoint_ns_of_outer_task``, ``drop_invalid_tool_call_errors``.

Everything else is compared whole: event names and order, payloads, thread, state and
history shapes.

``langgraph dev`` comes from the oracle virtualenv ``.venv-oracle`` that
``scripts/test.sh`` creates (or ``$RILLET_ORACLE_VENV``): LangGraph 1.2.22, langgraph-cli
0.4.40. Its worker picks up a run about once a second, so the scenarios are few.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.server.conftest import HERE, start_server, stop_server

pytestmark = pytest.mark.timeout(120)

ORACLE_ENV = "RILLET_ORACLE_VENV"
DEFAULT_ORACLE = HERE.parents[1] / ".venv-oracle"
ORACLE_VERSIONS = ("1.2.22", "0.16.7", "1.8.3")  # langgraph, langgraph-api, langchain-core
GRAPHS = ("chain3", "nested", "custom", "tokens", "mixed", "hitl", "boom", "tools")
ALL_MODES = ["values", "updates", "custom", "messages-tuple", "tasks", "checkpoints", "debug"]

Scenario = Callable[[LangGraphClient], Awaitable[Any]]


# ------------------------------------------------------------------ the two servers


@dataclass
class Servers:
    langgraph: str  # langgraph dev's URL
    rillet: str


def oracle_langgraph() -> Path:
    """The oracle's ``langgraph`` command; fails (never skips) naming how to get it."""
    venv = Path(os.environ.get(ORACLE_ENV) or DEFAULT_ORACLE)
    command = venv / "bin" / "langgraph"
    if not command.exists():
        pytest.fail(f"no LangGraph oracle at {venv}: run `bash scripts/test.sh` (it creates "
                    f".venv-oracle), or set ${ORACLE_ENV} to a virtualenv with the "
                    f"packages scripts/test.sh pins there (langgraph==1.2.22 "
                    f"'langgraph-cli[inmem]==0.4.40' langgraph-sdk ...)")
    # The payloads compared are those of these versions: another oracle is a failure
    # that says so, not a diff to puzzle over.
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "from importlib.metadata import version; "
         "print(*(version(d) for d in ('langgraph', 'langgraph-api', 'langchain-core')))"],
        capture_output=True, text=True, timeout=30).stdout.split()
    if found != list(ORACLE_VERSIONS):
        pytest.fail(f"the LangGraph oracle at {venv} has langgraph, langgraph-api, "
                    f"langchain-core {found}, not {list(ORACLE_VERSIONS)}: delete it and "
                    f"run `bash scripts/test.sh`")
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port if port != 2024 else free_port()  # 2024 is langgraph dev's default


def start_langgraph_dev(folder: Path, command: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``langgraph dev`` on the LangGraph graphs, from ``folder`` (it writes its state
    there); nothing leaves loopback: no tracing, no version check, no API key."""
    shutil.copy(HERE / "differential" / "graphs_langgraph.py", folder / "graphs.py")
    config = {"dependencies": ["."], "graphs": {g: f"./graphs.py:{g}" for g in GRAPHS}}
    (folder / "langgraph.json").write_text(json.dumps(config))
    env = {key: value for key, value in os.environ.items()
           if key not in ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_API_KEY",
                          "PYTHONPATH")}
    env.update(LANGSMITH_TRACING="false", LANGCHAIN_TRACING_V2="false",
               LANGGRAPH_NO_VERSION_CHECK="true")
    port = free_port()
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(
            [str(command), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
             "--port", str(port), "--config", "langgraph.json"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def wait_ok(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60) -> None:
    """A bounded poll of ``/ok`` until the server answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/ok", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"langgraph dev did not answer /ok in {timeout} s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    command = oracle_langgraph()
    lg_folder = tmp_path_factory.mktemp("langgraph-dev")
    process, lg_url = start_langgraph_dev(lg_folder, command)  # slow: start it first
    try:
        rillet = start_server(tmp_path_factory.mktemp("rillet"), names=GRAPHS,
                              graphs=HERE / "differential" / "graphs_rillet.py")
        try:
            wait_ok(process, lg_url, lg_folder / "server.log")
            yield Servers(langgraph=lg_url, rillet=rillet.url)
        finally:
            stop_server(rillet)
    finally:
        stop_process(process)


async def on_both(servers: Servers, scenario: Scenario) -> tuple[Any, Any]:
    """The scenario on both servers at once: (LangGraph's result, rillet's)."""
    langgraph, rillet = get_client(url=servers.langgraph, api_key=None), get_client(
        url=servers.rillet, api_key=None)
    lg_result, rl_result = await asyncio.gather(scenario(langgraph), scenario(rillet))
    return lg_result, rl_result


# ------------------------------------------------------------------ scrubbing

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(rf"{_UUID}|\b[0-9a-f]{{32}}\b")
_TIME_KEYS = frozenset({"created_at", "updated_at", "state_updated_at", "timestamp"})


def scrub_ids(data: Any) -> Any:
    """Run, thread, checkpoint, task and interrupt ids (UUIDs, 32 hex digits; also
    inside checkpoint namespaces ``node:<id>``) become ``<id:N>``, numbered in order of
    first appearance, so which ids are equal to which is still compared."""
    seen: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"<id:{len(seen) + 1}>")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {_ID.sub(name, k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return _ID.sub(name, value)
        return value

    return walk(data)


def scrub_times(data: Any) -> Any:
    """Timestamps (``created_at``, ``updated_at``, ``state_updated_at``,
    ``timestamp``) become ``<time>``."""
    if isinstance(data, dict):
        return {k: "<time>" if k in _TIME_KEYS and v is not None else scrub_times(v)
                for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [scrub_times(v) for v in data]
    return data


_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def scrub_urls(data: Any) -> Any:
    """Each server's own address (``langgraph_api_url`` in run metadata) becomes ``<url>``."""
    if isinstance(data, dict):
        return {k: scrub_urls(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [scrub_urls(v) for v in data]
    if isinstance(data, str):
        return _URL.sub("<url>", data)
    return data


def scrub_message_ids(data: Any) -> Any:
    """rillet-core: a model's message id is ``run-<uuid>``, LangChain's is
    ``lc_run--<uuid>``; both become ``<uuid>`` (then numbered by ``scrub_ids``)."""
    if isinstance(data, dict):
        return {scrub_message_ids(k): scrub_message_ids(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [scrub_message_ids(v) for v in data]
    if isinstance(data, str):
        return re.sub(rf"\b(?:lc_run--|run-)({_UUID})", r"\1", data)
    return data


_PLATFORM_KEYS = frozenset({"langgraph_plan", "langgraph_api_version"})
_MODEL_CLASS_KEYS = frozenset({"ls_provider", "ls_model_name", "lc_versions"})


def drop_keys(data: Any, keys: frozenset[str]) -> Any:
    if isinstance(data, dict):
        return {k: drop_keys(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list | tuple):
        return [drop_keys(v, keys) for v in data]
    return data


def drop_platform_metadata(data: Any) -> Any:
    """Departure: run metadata leaves out LangGraph's platform keys
    (``langgraph_plan``, ``langgraph_api_version``)."""
    return drop_keys(data, _PLATFORM_KEYS)


def drop_model_class_metadata(data: Any) -> Any:
    """rillet-core: the model classes differ (``ls_provider`` "fake" vs "words", model
    name, LangChain's ``lc_versions``)."""
    return drop_keys(data, _MODEL_CLASS_KEYS)


_CONFIGURABLE_COPIES = frozenset({"thread_id", "user_id", "langgraph_auth_user_id",
                                  "langgraph_request_id"})


def drop_configurable_copies(data: Any) -> Any:
    """rillet-core: LangGraph copies the run config's ``configurable`` values
    (``thread_id``, ``user_id``, ``langgraph_auth_user_id``, ``langgraph_request_id``;
    ``graph_id`` for ``update_state``) into each checkpoint's metadata; rillet copies
    none. Dropped from the metadata of thread states (``get_state``, history)."""
    if isinstance(data, dict):
        if {"values", "next", "metadata", "checkpoint"} <= data.keys() and data["metadata"]:
            metadata = data["metadata"]
            drop = _CONFIGURABLE_COPIES | (
                {"graph_id"} if metadata.get("source") == "update" else set())
            data = {**data, "metadata": {k: v for k, v in metadata.items() if k not in drop}}
        return {k: drop_configurable_copies(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [drop_configurable_copies(v) for v in data]
    return data


def model_checkpoint_ns_of_outer_task(data: Any) -> Any:
    """rillet-core: a model's metadata ``checkpoint_ns``, for a model called in a
    subgraph, is in LangChain the outermost task's namespace (the first value given to
    a metadata key wins as it is passed down), in rillet the model's own task's. Both
    become the outermost one's (the first part of ``langgraph_checkpoint_ns``)."""
    if isinstance(data, dict):
        if isinstance(data.get("checkpoint_ns"), str) and isinstance(
                data.get("langgraph_checkpoint_ns"), str):
            outer = data["langgraph_checkpoint_ns"].split("|")[0]
            data = {**data, "checkpoint_ns": outer}
        return {k: model_checkpoint_ns_of_outer_task(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [model_checkpoint_ns_of_outer_task(v) for v in data]
    return data


def drop_invalid_tool_call_errors(data: Any) -> Any:
    """rillet-core: a streamed chunk whose tool-call arguments are a fragment, not JSON
    by itself (``' 2,'``), has an invalid tool call whose ``error`` says why;
    LangChain's ``error`` is null."""
    if isinstance(data, dict):
        if data.get("type") == "invalid_tool_call":
            data = {**data, "error": None}
        return {k: drop_invalid_tool_call_errors(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [drop_invalid_tool_call_errors(v) for v in data]
    return data


def scrub(data: Any) -> Any:
    """Every difference that is not an event's: ids, times, metadata keys."""
    for difference in (drop_platform_metadata, drop_model_class_metadata,
                       drop_configurable_copies, model_checkpoint_ns_of_outer_task,
                       drop_invalid_tool_call_errors, scrub_message_ids, scrub_urls, scrub_times):
        data = difference(data)
    return scrub_ids(data)


Parts = list[tuple[str, Any]]


def drop_end_event(parts: Parts) -> Parts:
    """Departure: an ``end`` event closes every rillet stream (LangGraph sends none)."""
    return [part for part in parts if part[0] != "end"]


def drop_last_empty_chunk(parts: Parts) -> Parts:
    """rillet-core: LangGraph's model stream ends with one more, empty chunk
    (``chunk_position: "last"``) in ``messages-tuple``; in ``messages`` mode it is one
    more ``messages/partial`` repeating the one before."""
    kept: Parts = []
    for event, data in parts:
        if (event.startswith("messages") and not event.startswith("messages/")
                and data[0].get("chunk_position") == "last" and data[0]["content"] == ""):
            continue
        if (event.startswith("messages/partial") and kept and kept[-1][0] == event
                and kept[-1][1] == data):
            continue
        kept.append((event, data))
    return kept


def drop_server_metadata_of_checkpoints(parts: Parts) -> Parts:
    """rillet-core: LangGraph's own ``checkpoints`` / ``debug`` checkpoint items leave the
    server's run metadata out of their ``metadata``; rillet's include it. Only the
    graph's keys (``source``, ``step``, ``parents``) are compared."""
    def graph_keys(metadata: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in metadata.items() if k in ("source", "step", "parents")}

    kept: Parts = []
    for event, data in parts:
        if event.startswith("checkpoints"):
            data = {**data, "metadata": graph_keys(data["metadata"])}
        elif event.startswith("debug") and data["type"] == "checkpoint":
            payload = {**data["payload"], "metadata": graph_keys(data["payload"]["metadata"])}
            data = {**data, "payload": payload}
        kept.append((event, data))
    return kept


_ADDRESS = ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map")


def keep_checkpoint_addresses(parts: Parts) -> Parts:
    """rillet-core: in LangGraph's ``checkpoints`` / ``debug`` checkpoint items, ``config``
    and ``parent_config`` hold the run's whole ``configurable`` (assistant and graph
    ids, the request's id and start time, auth fields); rillet's hold the checkpoint's
    address only. Only the address is compared."""
    def address(config: dict[str, Any] | None) -> dict[str, Any] | None:
        if config is None:
            return None
        configurable = config["configurable"]
        return {"configurable": {k: configurable[k] for k in _ADDRESS if k in configurable}}

    def item(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "config": address(data["config"]),
                "parent_config": address(data["parent_config"])}

    kept: Parts = []
    for event, data in parts:
        if event.startswith("checkpoints"):
            data = item(data)
        elif event.startswith("debug") and data["type"] == "checkpoint":
            data = {**data, "payload": item(data["payload"])}
        kept.append((event, data))
    return kept


def drop_task_metadata(parts: Parts) -> Parts:
    """rillet-core: LangGraph 1.2's task-start items (``tasks``, ``debug`` task) carry
    the task's config metadata (here the server's run metadata); rillet's have none."""
    kept: Parts = []
    for event, data in parts:
        if event.startswith("tasks") and "triggers" in data:
            data = {k: v for k, v in data.items() if k != "metadata"}
        elif event.startswith("debug") and data["type"] == "task":
            data = {**data, "payload": {
                k: v for k, v in data["payload"].items() if k != "metadata"}}
        kept.append((event, data))
    return kept


def same_stream(parts: Parts) -> Any:
    """What is compared of a stream: its events and payloads, departures dropped."""
    for departure in (drop_end_event, drop_last_empty_chunk, drop_server_metadata_of_checkpoints,
                      keep_checkpoint_addresses, drop_task_metadata):
        parts = departure(parts)
    return scrub(parts)


async def stream(client: LangGraphClient, thread_id: str | None, graph: str,
                 **kwargs: Any) -> Parts:
    """(event, data) of each part; the event ids are left out (departure: rillet gives
    every event an id, LangGraph only with ``stream_resumable``)."""
    return [(part.event, part.data) async for part in client.runs.stream(
        thread_id, graph, **kwargs)]


def assert_same(rillet: Any, langgraph: Any) -> None:
    """Equal, or fail with a line diff of the two as indented JSON (pytest's diff of
    long nested lists says little)."""
    if rillet != langgraph:
        lines = [json.dumps(x, indent=1, sort_keys=True, default=repr).splitlines()
                 for x in (langgraph, rillet)]
        diff = difflib.unified_diff(*lines, "langgraph dev", "rillet serve", lineterm="", n=4)
        pytest.fail("rillet serve answered differently:\n" + "\n".join(diff), pytrace=False)


# ------------------------------------------------------------------ scenarios

INPUTS = {"chain3": {"x": 0}, "nested": {"x": 0}, "custom": {"n": 3}, "tokens": {"n": 3},
          "mixed": {"x": 1}, "tools": {"messages": [{"role": "user", "content": "2 + 3?",
                                                     "id": "u1"}]}}


@pytest.mark.parametrize(("graph", "subgraphs"), [
    *((graph, True) for graph in INPUTS), ("mixed", False)])
async def test_every_stream_mode(servers: Servers, graph: str, subgraphs: bool) -> None:
    async def scenario(client: LangGraphClient) -> Parts:
        thread = await client.threads.create()
        return await stream(client, thread["thread_id"], graph, input=INPUTS[graph],
                            stream_mode=ALL_MODES, stream_subgraphs=subgraphs)

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(same_stream(rillet), same_stream(langgraph))


@pytest.mark.parametrize("graph", ["tokens", "mixed"])
async def test_messages_mode(servers: Servers, graph: str) -> None:
    async def scenario(client: LangGraphClient) -> Parts:
        return await stream(client, None, graph, input=INPUTS[graph],
                            stream_mode=["messages", "values"], stream_subgraphs=True)

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(same_stream(rillet), same_stream(langgraph))


async def test_wait_then_update_state(servers: Servers) -> None:
    async def scenario(client: LangGraphClient) -> dict[str, Any]:
        thread_id = (await client.threads.create())["thread_id"]
        output = await client.runs.wait(thread_id, "chain3", input={"x": 5})
        stateless = await client.runs.wait(None, "chain3", input={"x": 1})
        failed = await client.runs.wait(None, "boom", input={"x": 0}, raise_error=False)
        paused = await client.runs.wait(None, "hitl", input={"question": "ok?"})
        updated = await client.threads.update_state(thread_id, {"x": 100}, as_node="b")
        return {"output": output, "stateless": stateless, "failed": failed,
                "paused": paused, "updated": updated,
                "state": await client.threads.get_state(thread_id),
                "thread": await client.threads.get(thread_id),
                "history": await client.threads.get_history(thread_id)}

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(scrub(rillet), scrub(langgraph))


async def test_interrupt_then_resume(servers: Servers) -> None:
    async def scenario(client: LangGraphClient) -> dict[str, Any]:
        thread_id = (await client.threads.create())["thread_id"]
        first = await stream(client, thread_id, "hitl", input={"question": "ok?"},
                             stream_mode=["values", "updates"])
        paused = {"thread": await client.threads.get(thread_id),
                  "state": await client.threads.get_state(thread_id)}
        resumed = await stream(client, thread_id, "hitl", command=Command(resume="yes"),
                               stream_mode=["values", "updates"])
        return {"first": same_stream(first), "paused": scrub(paused),
                "resumed": same_stream(resumed),
                "after": scrub({"thread": await client.threads.get(thread_id),
                                "state": await client.threads.get_state(thread_id),
                                "history": await client.threads.get_history(thread_id)})}

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(rillet, langgraph)


async def test_a_failing_run(servers: Servers) -> None:
    async def scenario(client: LangGraphClient) -> dict[str, Any]:
        thread_id = (await client.threads.create())["thread_id"]
        parts = await stream(client, thread_id, "boom", input={"x": 0},
                             stream_mode=["values", "updates"])
        return {"parts": same_stream(parts),
                "thread": scrub(await client.threads.get(thread_id))}

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(rillet, langgraph)


async def test_join_stream_of_a_background_run(servers: Servers) -> None:
    async def scenario(client: LangGraphClient) -> Parts:
        thread_id = (await client.threads.create())["thread_id"]
        run = await client.runs.create(thread_id, "nested", input={"x": 0},
                                       stream_mode=["values", "updates"],
                                       stream_resumable=True)
        return [(part.event, part.data) async for part in client.runs.join_stream(
            thread_id, run["run_id"], last_event_id="-1")]

    langgraph, rillet = await on_both(servers, scenario)
    assert_same(same_stream(rillet), same_stream(langgraph))
