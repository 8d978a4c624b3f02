"""Runs: create (background), stream, wait; on a thread or stateless; get, list,
join, join the stream, cancel (one, or many: ``/runs/cancel``), delete.

Cancelling with ``action="rollback"`` (and ``multitask_strategy="rollback"``, which
rolls back the thread's runs in progress) stops the run, then deletes it, its event
log and the checkpoints it wrote; the thread's state is then its last checkpoint's.

Every response about a run carries ``Content-Location: /threads/{tid}/runs/{rid}``;
streams add ``Location`` (where the client reconnects with ``Last-Event-ID``), waits
``Location: .../join``. Streams follow the run's event log (see ``_runs``), so a
stream, a join and a reconnect read the same events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from rillet.errors import ConfigError, UsageError
from rillet.graph import CompiledStateGraph
from rillet.graph._config import recursion_limit
from rillet.graph._run_setup import _names as interrupt_names
from rillet.runtime._runtime import coerce_context
from rillet.server import _json
from rillet.server._app import Server
from rillet.server._command import read_command
from rillet.server._errors import ApiError, read_body, read_int, read_str, read_type
from rillet.server._runs import API_STREAM_MODES, RunSpec, ServerStopping
from rillet.server._sse import HEARTBEAT_SECONDS, EventStream
from rillet.server._state import thread_config, thread_fields_after_run
from rillet.server._time import now, uuid7
from rillet.server.api._common import (
    authorize,
    authorized_thread,
    json_response,
    matches,
    path,
    public,
    server_of,
)
from rillet.server.api.threads import new_thread
from rillet.server.storage.base import Record

__all__ = ["ROUTES"]

LANGGRAPH_VERSION = "1.2.22"  # the LangGraph API rillet follows
_NOT_YET = {"messages-partial": ""}
_RUN_STATUSES = ("pending", "running", "error", "success", "timeout", "interrupted")


def _stream_modes(body: dict[str, Any]) -> list[str]:
    raw = body.get("stream_mode") or ["values"]
    modes = [raw] if isinstance(raw, str) else raw
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise ApiError(422, f"'stream_mode' must be a mode or a list of modes, got {raw!r}")
    for mode in modes:
        if mode in _NOT_YET:
            hint = f" ({_NOT_YET[mode]})" if _NOT_YET[mode] else ""
            raise ApiError(422, f"stream mode {mode!r} is not supported yet{hint}")
        if mode not in API_STREAM_MODES:
            raise ApiError(422, f"unknown stream mode {mode!r}; expected one of "
                           f"{', '.join(API_STREAM_MODES)}")
    return list(dict.fromkeys(modes))


def _check_run_options(graph: CompiledStateGraph, body: dict[str, Any],
                       config: dict[str, Any]) -> None:
    """Refuse, with a 422, what rillet would refuse when the run starts (the same checks
    as the graph's own): a ``config.recursion_limit`` that is not an int of at least 1,
    ``interrupt_before``/``interrupt_after`` naming nodes the graph has not, a
    ``context`` that does not fit the graph's ``context_schema``, a ``command`` whose
    ``goto`` names nodes the graph has not (see ``_command``).
    (``langgraph dev``: a 422 for a limit that is not an integer, a failed run for 0;
    unknown interrupt nodes are ignored.)"""
    try:
        recursion_limit(config)
    except (UsageError, ConfigError) as exc:
        raise ApiError(422, f"'config.recursion_limit': {exc}") from None
    read_command(body, graph)
    context = read_type(body, "context", dict)
    if context is not None:
        try:
            coerce_context(graph.context_schema, context)
        except Exception as exc:  # the schema's own error (a dataclass's, pydantic's)
            raise ApiError(422, f"'context' does not fit the graph's context_schema: "
                           f"{exc}") from None
    for option in ("interrupt_before", "interrupt_after"):
        if body.get(option) is not None:
            try:
                interrupt_names(option, body[option], graph)
            except (UsageError, ConfigError) as exc:
                raise ApiError(422, str(exc)) from None  # it names the option


async def _checkpoint_or_404(server: Server, thread_id: str, checkpoint: dict[str, Any]) -> None:
    """A run from a checkpoint the thread has not would start from nothing: a 404."""
    ns, checkpoint_id = checkpoint.get("checkpoint_ns") or "", checkpoint["checkpoint_id"]
    if not isinstance(checkpoint_id, str) or not isinstance(ns, str):
        raise ApiError(422, f"'checkpoint_id' must be a checkpoint id (a string), got "
                       f"{checkpoint_id!r}")
    if await server.saver.aload(thread_id, ns, checkpoint_id) is None:
        raise ApiError(404, f"Thread {thread_id} has no checkpoint {checkpoint_id!r}"
                       + (f" in namespace {ns!r}" if ns else "")
                       + "; take one from the thread's history")


def _context(assistant: Record, body: dict[str, Any]) -> Any:
    """The run's context: the assistant's, under the run's keys (an object), or the
    run's own when either is not an object."""
    mine, given = assistant.get("context") or None, body.get("context")
    if isinstance(mine, dict) and isinstance(given, dict):
        return {**mine, **given}
    return given if given is not None else mine


async def _create_thread(request: Request, thread_id: str, graph: dict[str, str]) -> bool:
    """The thread a run makes, as ``threads.create`` would (its handler may set metadata),
    with the run's ``graph_id`` and ``assistant_id`` in its metadata; whether this
    request made it (not a concurrent one)."""
    value: dict[str, Any] = {"thread_id": thread_id, "metadata": {}, "if_exists": "raise"}
    await authorize(request, "threads", "create", value)
    return await server_of(request).storage.create_thread(
        new_thread(thread_id, {**value["metadata"], **graph}))


async def _create_run(request: Request, thread_id: str | None,
                      body: dict[str, Any] | None = None) -> tuple[Server, Record]:
    """Validate the body, make the run's record (and the thread: a stateless run's, or
    one ``if_not_exists="create"`` asks for) and start the run. ``body``: the
    request's own when not given (the front-end routes give one they built, so their
    runs are made, checked and stored as any other)."""
    server = server_of(request)
    body = await read_body(request) if body is None else body
    if not isinstance(body.get("assistant_id"), str):
        raise ApiError(422, "'assistant_id' is required: an assistant id or a graph name")
    assistant = await server.storage.get_assistant(server.assistant_id(body["assistant_id"]))
    if_not_exists = read_str(body, "if_not_exists", "reject", ("reject", "create"))
    strategy = read_str(body, "multitask_strategy", "enqueue",
                        ("reject", "enqueue", "interrupt", "rollback"))
    command = read_type(body, "command", dict)
    if command is not None and body.get("input") is not None:
        raise ApiError(422, "give either 'input' or 'command', not both")
    config = dict(read_type(body, "config", dict, {}))
    metadata = dict(read_type(body, "metadata", dict, {}))
    modes = _stream_modes(body)
    subgraphs = read_type(body, "stream_subgraphs", bool, False)
    read_str(body, "on_disconnect", "continue", ("continue", "cancel"))
    read_str(body, "durability", None, ("sync", "async", "exit"))
    if body.get("webhook") is not None:
        raise ApiError(422, "webhooks are not supported by rillet serve: leave out "
                       "'webhook' and join the run (runs.join) or poll it (runs.get)")
    delay = _after_seconds(body)
    if assistant is None:
        raise ApiError(404, "Thread or assistant not found.")
    _check_run_options(server.graph(assistant["graph_id"]),
                       {**body, "context": _context(assistant, body)}, config)
    value = {"thread_id": thread_id, "assistant_id": assistant["assistant_id"],
             "metadata": metadata, "kwargs": {"input": body.get("input"), "config": config},
             "multitask_strategy": strategy, "if_not_exists": if_not_exists}
    filters = await authorize(request, "threads", "create_run", value)
    metadata = value["metadata"]
    existing = await server.storage.get_thread(thread_id) if thread_id is not None else None
    if existing is not None and not matches(existing.get("metadata"), filters):
        raise ApiError(404, "Thread or assistant not found.")
    checkpoint = dict(read_type(body, "checkpoint", dict, {}))
    if read_str(body, "checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    if checkpoint.get("checkpoint_id") is not None and thread_id is not None and (
        if_not_exists == "create" or await server.storage.get_thread(thread_id) is not None
    ):
        await _checkpoint_or_404(server, thread_id, checkpoint)
    temporary = thread_id is None
    graph_id = assistant["graph_id"]
    graph = {"graph_id": graph_id, "assistant_id": assistant["assistant_id"]}
    made = False  # a thread made here has no run yet, and its metadata names the graph
    if thread_id is None:
        thread_id = uuid7()
        made = await _create_thread(request, thread_id, graph)
    elif existing is None:
        if if_not_exists != "create":
            raise ApiError(404, "Thread or assistant not found.")
        made = await _create_thread(request, thread_id, graph)
    if not made and await server.runs.thread_busy(thread_id):
        if strategy == "reject":
            raise ApiError(409, "Thread is already running a task. Wait for it to finish or "
                           "choose a different multitask strategy.")
        if strategy == "interrupt":
            await server.runs.cancel_thread(thread_id)
        if strategy == "rollback":
            await _stop(server, await server.storage.list_runs(
                thread_id, status=None, limit=10**6, offset=0), "rollback",
                thread_id=thread_id)
    run_id = uuid7()
    # What LangGraph's server puts in a run's config metadata (checkpoints, messages and
    # debug items show it), minus its platform's plan and API version.
    run_metadata = {
        **assistant["metadata"], "graph_id": graph_id, "assistant_id": assistant["assistant_id"],
        "run_attempt": 1, "langgraph_version": LANGGRAPH_VERSION, "langgraph_host": "self-hosted",
        "langgraph_api_url": str(request.base_url).rstrip("/"),
        **(config.get("metadata") or {}), "run_id": run_id,
    }
    # The assistant's config under the run's, as LangGraph merges them: the run's keys
    # win, configurable is merged key by key, tags are both lists.
    base = assistant.get("config") or {}
    tags = [*(base.get("tags") or []), *(config.get("tags") or [])]
    run_config = {**base, **config, "run_id": run_id, "metadata": run_metadata, "configurable": {
        **(base.get("configurable") or {}), **(config.get("configurable") or {}),
        **thread_config(thread_id, checkpoint)["configurable"],
    }}
    if tags:
        run_config["tags"] = list(dict.fromkeys(tags))
    context = _context(assistant, body)
    stamp = now()
    run: Record = {
        "run_id": run_id, "thread_id": thread_id, "assistant_id": assistant["assistant_id"],
        "metadata": {**assistant["metadata"], **metadata, "graph_id": graph_id,
                     "assistant_id": assistant["assistant_id"]},
        "status": "pending",
        "kwargs": {"input": body.get("input"), "command": command, "config": run_config,
                   "context": context or {}, "stream_mode": modes,
                   "interrupt_before": body.get("interrupt_before"),
                   "interrupt_after": body.get("interrupt_after"), "webhook": None,
                   "feedback_keys": None, "temporary": temporary, "subgraphs": subgraphs,
                   "resumable": True, "checkpoint_during": True,
                   "durability": body.get("durability") or "async"},
        "multitask_strategy": strategy, "created_at": stamp, "updated_at": stamp,
        "langsmith_session_name": None,
        "_on_disconnect": body.get("on_disconnect") or "continue",
    }
    start_at = server.runs.clock() + delay if delay else None  # not before the record's stamp
    if start_at is not None:
        run["_start_at"] = start_at
    if not made:
        thread = await server.storage.get_thread(thread_id)
        await server.storage.update_thread(
            thread_id, updated_at=stamp, metadata={**(thread or {}).get("metadata", {}),
                                                   **graph})
    # Stored, then started at once: a concurrent cancel or rollback of the thread's runs
    # that sees the record also sees the run (a record with no run would stay pending).
    await server.storage.put_run(run)
    server.runs.start(RunSpec(
        run_id=run_id, thread_id=thread_id, graph_id=graph_id, graph=server.graph(graph_id),
        input=body.get("input"), command=command, config=run_config,
        context=context, stream_modes=modes, subgraphs=subgraphs,
        interrupt_before=body.get("interrupt_before"),
        interrupt_after=body.get("interrupt_after"), temporary=temporary,
        durability=body.get("durability"), start_at=start_at,
    ))
    return server, run


def _after_seconds(body: dict[str, Any]) -> float:
    """How long a run with ``after_seconds`` waits before it starts (0: not at all)."""
    delay = body.get("after_seconds")
    if delay is None:
        return 0.0
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not delay >= 0 \
            or delay == float("inf"):
        raise ApiError(422, f"'after_seconds' must be a number of seconds >= 0, got {delay!r}")
    return float(delay)


async def _stop(server: Server, runs: list[Record], action: str, *,
                thread_id: str | None = None) -> None:
    """Cancel the runs that are pending or running and wait until they have stopped;
    with ``action="rollback"`` then delete them, their logs and their checkpoints, and
    set their threads' state back to the last checkpoint left."""
    runs = [r for r in runs if r["status"] in ("pending", "running")]
    if action != "rollback":
        for run in runs:
            await server.runs.cancel(run["run_id"])
        for run in runs:
            await server.runs.wait(run["run_id"])
        return
    # Their threads are held while their checkpoints go: a run queued meanwhile would
    # otherwise start on a checkpoint about to be deleted (its own would then name
    # values the saver no longer has).
    # With ``thread_id`` (the rollback strategy): every run of the thread is stopped,
    # also ones made since ``runs`` was listed.
    threads = [thread_id] if thread_id is not None else [r["thread_id"] for r in runs]
    async with server.runs.holding(
            threads, [r["run_id"] for r in runs] if thread_id is None else None) as stopped:
        # the runs listed, and (by thread) the ones made since that it stopped too
        graph_of = {r["thread_id"]: r["metadata"].get("graph_id", "") for r in runs}
        for run_id in dict.fromkeys([*(r["run_id"] for r in runs), *stopped]):
            record = await server.storage.get_run(run_id)
            if record is not None:
                graph_of.setdefault(record["thread_id"], record["metadata"].get("graph_id", ""))
                await server.saver.adelete_for_runs(record["thread_id"], [run_id])
                await server.storage.delete_run(run_id)
        for thread_id, graph_id in graph_of.items():
            graph = server.graphs.get(graph_id)
            thread = await server.storage.get_thread(thread_id)
            if graph is not None and thread is not None:
                fields = await thread_fields_after_run(graph, thread_id, "success")
                await server.storage.update_thread(thread_id, **fields, error=None,
                                                   updated_at=now())


def _locations(run: Record, suffix: str) -> dict[str, str]:
    if run["kwargs"].get("temporary"):
        base = f"/runs/{run['run_id']}"
    else:
        base = f"/threads/{run['thread_id']}/runs/{run['run_id']}"
    return {"Location": base + suffix, "Content-Location": base}


def _last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id")
    if raw is None or raw.strip() == "":
        return -1
    try:
        value = int(raw)
        if value >= 2**63:  # no log is that long (and SQLite's integers end there)
            raise ValueError(raw)
        return max(value, -1)
    except ValueError:
        raise ApiError(422, f"Last-Event-ID must be an event id given by this server (an "
                       f"integer, or -1 for the start), got {raw!r}") from None


def _stream_response(server: Server, run: Record, after: int, cancel_on_disconnect: bool,
                     ) -> Response:
    async def on_disconnect() -> None:
        if cancel_on_disconnect:
            await server.runs.cancel(run["run_id"])

    return EventStream(server.runs.follow(run["run_id"], after, idle=HEARTBEAT_SECONDS),
                       headers=_locations(run, "/stream"), on_disconnect=on_disconnect)


async def _output(server: Server, run_id: str) -> AsyncIterator[bytes]:
    """Whitespace every few seconds while the run goes on, then its output as JSON."""
    waiter = asyncio.ensure_future(server.runs.wait(run_id))
    try:
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=HEARTBEAT_SECONDS)
            if done:
                break
            yield b"\n"
    finally:
        waiter.cancel()
    run = await server.storage.get_run(run_id)
    if run is not None and "_output" in run:
        yield _json.dumps(run["_output"])
        return
    if server.runs.draining:  # cut the response: the client joins the next start
        raise ServerStopping(run_id)
    thread = await server.storage.get_thread(run["thread_id"]) if run else None
    yield _json.dumps((thread or {}).get("values"))


def _wait_response(server: Server, run: Record) -> Response:
    return StreamingResponse(_output(server, run["run_id"]), media_type="application/json",
                             headers=_locations(run, "/join"))


def _thread_id_or_none(request: Request) -> str | None:
    return request.path_params.get("thread_id")


async def create(request: Request) -> Response:
    _, run = await _create_run(request, _thread_id_or_none(request))
    headers = {"Content-Location": _locations(run, "")["Content-Location"]}
    return json_response(public(run), headers=headers)


async def stream(request: Request) -> Response:
    server, run = await _create_run(request, _thread_id_or_none(request))
    return _stream_response(server, run, -1, run["_on_disconnect"] == "cancel")


async def wait(request: Request) -> Response:
    server, run = await _create_run(request, _thread_id_or_none(request))
    return _wait_response(server, run)


async def _run_or_404(request: Request, action: str = "read") -> tuple[Server, Record]:
    """The run of the path, once ``threads.<action>`` let this request act on its thread."""
    server = server_of(request)
    run = await server.storage.get_run(path(request, "run_id"))
    thread_id = _thread_id_or_none(request)
    if run is None or (thread_id is not None and run["thread_id"] != thread_id) \
            or (thread_id is None and not run["kwargs"].get("temporary")):
        raise ApiError(404, f"Run {path(request, 'run_id')} not found")
    filters = await authorize(request, "threads", action, {"thread_id": run["thread_id"],
                                                            "run_id": run["run_id"]})
    if filters:
        thread = await server.storage.get_thread(run["thread_id"])
        if thread is None or not matches(thread.get("metadata"), filters):
            raise ApiError(404, f"Thread with ID {run['thread_id']} not found")
    return server, run


async def get(request: Request) -> Response:
    _, run = await _run_or_404(request)
    return json_response(public(run))


async def list_runs(request: Request) -> Response:
    server = server_of(request)
    thread = await authorized_thread(request, "read")
    query = dict(request.query_params)
    runs = await server.storage.list_runs(
        thread["thread_id"], status=read_str(query, "status", None, _RUN_STATUSES),
        limit=read_int(query, "limit", 10, 1, 1000), offset=read_int(query, "offset", 0, 0,
                                                                     10**9),
    )
    return json_response([public(r) for r in runs])


async def join(request: Request) -> Response:
    server, run = await _run_or_404(request)
    return _wait_response(server, run)


async def join_stream(request: Request) -> Response:
    server, run = await _run_or_404(request)
    cancel = request.query_params.get("cancel_on_disconnect", "false").lower() == "true"
    if run["status"] not in ("pending", "running") \
            and not await server.storage.read_events(run["run_id"], -1, 1):
        # every run that ended logged at least metadata and end: the log was swept
        raise ApiError(404, f"The event log of run {run['run_id']} is gone: logs are kept "
                       f"{server.runs.log_ttl:g} s after a run ends (--log-ttl)")
    return _stream_response(server, run, _last_event_id(request), cancel)


async def cancel(request: Request) -> Response:
    server, run = await _run_or_404(request, "update")
    query = dict(request.query_params)
    action = read_str(query, "action", "interrupt", ("interrupt", "rollback"))
    if run["status"] not in ("pending", "running"):
        raise ApiError(409, f"Run {run['run_id']} is already {run['status']}")
    if action == "rollback":  # the run is gone once stopped: nothing to answer
        await _stop(server, [run], action)
        return Response(status_code=202)
    await server.runs.cancel(run["run_id"])
    if query.get("wait", "false").lower() in ("1", "true"):
        return _wait_response(server, run)  # the run's output once it has stopped
    return Response(status_code=202)


async def cancel_many(request: Request) -> Response:
    """``POST /runs/cancel``: the runs of ``thread_id`` named by ``run_ids``, or every
    run with ``status`` (``pending``, ``running``, ``all``); answered once they have
    stopped (and, with ``action=rollback``, been deleted)."""
    server = server_of(request)
    body = await read_body(request)
    action = read_str(dict(request.query_params), "action", "interrupt",
                      ("interrupt", "rollback"))
    status = read_str(body, "status", None, ("pending", "running", "all"))
    thread_id, run_ids = read_str(body, "thread_id"), read_type(body, "run_ids", list)
    if (status is None) == (thread_id is None or run_ids is None) \
            or (status is not None and (thread_id, run_ids) != (None, None)):
        raise ApiError(422, "give either 'status' (pending, running or all), or "
                       "'thread_id' and 'run_ids', not both")
    filters = await authorize(request, "threads", "update",
                              {"thread_id": thread_id, "run_ids": run_ids, "status": status})
    if status is not None:
        runs = [r for r in await server.storage.unfinished_runs()
                if status == "all" or r["status"] == status]
        runs = [r for r in runs if await _thread_matches(server, r["thread_id"], filters)]
        if not runs:
            raise ApiError(404, "No runs found to cancel.")
    else:
        found = [await server.storage.get_run(str(run_id)) for run_id in run_ids or ()]
        runs = [r for r in found if r is not None and r["thread_id"] == thread_id
                and r["status"] in ("pending", "running")]
        if runs and not await _thread_matches(server, thread_id or "", filters):
            runs = []
        if not runs:
            raise ApiError(404, "No matching runs to cancel. Please verify the thread ID and "
                           "run IDs are correct, and the runs haven't been deleted or "
                           "completed.")
    await _stop(server, runs, action)
    return Response(status_code=204)


async def _thread_matches(server: Server, thread_id: str, filters: Any) -> bool:
    """Whether the auth ``filters`` (``None``: no auth) let this user see the thread."""
    if not filters:
        return True
    thread = await server.storage.get_thread(thread_id)
    return thread is not None and matches(thread.get("metadata"), filters)


async def delete(request: Request) -> Response:
    server, run = await _run_or_404(request, "delete")
    if run["status"] in ("pending", "running"):
        raise ApiError(409, f"Run {run['run_id']} is {run['status']}: cancel it first "
                       "(runs.cancel; action='rollback' also deletes it)")
    await server.storage.delete_run(run["run_id"])
    return Response(status_code=204)


ROUTES = [
    Route("/runs", create, methods=["POST"]),
    Route("/runs/stream", stream, methods=["POST"]),
    Route("/runs/wait", wait, methods=["POST"]),
    Route("/runs/cancel", cancel_many, methods=["POST"]),
    Route("/runs/{run_id}/stream", join_stream, methods=["GET"]),
    Route("/threads/{thread_id}/runs", create, methods=["POST"]),
    Route("/threads/{thread_id}/runs", list_runs, methods=["GET"]),
    Route("/threads/{thread_id}/runs/stream", stream, methods=["POST"]),
    Route("/threads/{thread_id}/runs/wait", wait, methods=["POST"]),
    Route("/threads/{thread_id}/runs/{run_id}", get, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}", delete, methods=["DELETE"]),
    Route("/threads/{thread_id}/runs/{run_id}/join", join, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/stream", join_stream, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/cancel", cancel, methods=["POST"]),
]
