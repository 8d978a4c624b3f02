"""Threads: create, get, update, delete, search, count, copy, prune; their state, state
updates and history (read from the checkpointer through the thread's graph)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.errors import RilletError
from rillet.graph import CompiledStateGraph
from rillet.server._app import Server
from rillet.server._errors import ApiError, read_body, read_int, read_str, read_type
from rillet.server._state import snapshot_to_state, thread_config, thread_fields_after_run
from rillet.server._time import now, uuid7
from rillet.server.api._common import (
    authorize,
    authorized_thread,
    filtered_page,
    json_response,
    matches,
    page_headers,
    path,
    public,
    server_of,
    thread_or_404,
)
from rillet.server.storage.base import Record

__all__ = ["ROUTES", "new_thread"]

EMPTY_STATE: dict[str, Any] = {
    "values": {}, "next": [], "tasks": [], "metadata": None, "created_at": None,
    "checkpoint": None, "parent_checkpoint": None, "interrupts": [], "checkpoint_id": None,
    "parent_checkpoint_id": None,
}
_STATUSES = ("idle", "busy", "interrupted", "error")
_SORT_BY = ("thread_id", "status", "created_at", "updated_at", "state_updated_at")
_SELECT = ("thread_id", "created_at", "updated_at", "state_updated_at", "metadata", "config",
           "status", "values", "interrupts")
_MAX_EXTRACT = 10
_PATH_PART = re.compile(r"([^.\[\]]+)((?:\[-?\d+\])*)")


def new_thread(thread_id: str | None = None, metadata: dict[str, Any] | None = None) -> Record:
    stamp = now()
    return {"thread_id": thread_id or uuid7(), "created_at": stamp, "updated_at": stamp,
            "state_updated_at": stamp, "metadata": metadata or {}, "status": "idle",
            "config": {}, "values": None}


async def create(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    if_exists = read_str(body, "if_exists", "raise", ("raise", "do_nothing"))
    value = {"thread_id": read_str(body, "thread_id"),
             "metadata": dict(read_type(body, "metadata", dict, {})), "if_exists": if_exists}
    filters = await authorize(request, "threads", "create", value)
    thread = new_thread(value["thread_id"], value["metadata"])
    if not await server.storage.create_thread(thread):
        if if_exists == "do_nothing":
            return json_response(public(await thread_or_404(server, thread["thread_id"],
                                                            filters)))
        raise ApiError(409, f"Thread with ID {thread['thread_id']} already exists")
    return json_response(thread)


async def get(request: Request) -> Response:
    return json_response(public(await authorized_thread(request, "read")))


async def patch(request: Request) -> Response:
    server = server_of(request)
    metadata = dict(read_type(await read_body(request), "metadata", dict, {}))
    thread = await authorized_thread(request, "update", metadata=metadata)
    updated = await server.storage.update_thread(
        thread["thread_id"], metadata={**thread["metadata"], **metadata}, updated_at=now())
    return json_response(public(updated or thread))


async def delete(request: Request) -> Response:
    server = server_of(request)
    thread_id = (await authorized_thread(request, "delete"))["thread_id"]
    if await server.runs.thread_busy(thread_id):
        raise ApiError(409, f"Thread {thread_id} has a run in progress; cancel it first")
    if not await server.storage.delete_thread(thread_id):
        raise ApiError(404, f"Thread with ID {thread_id} not found")
    await server.saver.adelete_thread(thread_id)
    return Response(status_code=204)


async def search(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    limit = read_int(body, "limit", 10, 1, 1000)
    offset = read_int(body, "offset", 0, 0, 10**9)
    select = _read_choices(body, "select", _SELECT)
    extract = _read_extract(body)
    metadata = read_type(body, "metadata", dict)
    value = {"metadata": dict(metadata or {}), "status": read_str(
        body, "status", None, _STATUSES), "ids": read_type(body, "ids", list),
        "limit": limit, "offset": offset}
    # the handler's filter narrows the client's own (as in langgraph dev, which does not
    # let a handler's change to a search's metadata widen it)
    filters = await authorize(request, "threads", "search", value)
    query = {"metadata": metadata, "status": value["status"], "ids": value["ids"],
             "sort_by": read_str(body, "sort_by", "created_at", _SORT_BY),
             "sort_order": read_str(body, "sort_order", "desc", ("asc", "desc")),
             "values": read_type(body, "values", dict)}
    found, total = await filtered_page(server.storage.search_threads, query, filters,
                                       limit, offset)
    shown = []
    for thread in found:
        out = public(thread)
        if select:
            out = {key: out.get(key) for key in select}
        if extract:
            out["extracted"] = {alias: _extract(thread, where) for alias, where in extract}
        shown.append(out)
    return json_response(shown, headers=page_headers(offset, len(found), total))


def _read_choices(body: dict[str, Any], key: str, choices: tuple[str, ...]) -> list[str]:
    picked = read_type(body, key, list, [])
    for item in picked:
        if item not in choices:
            raise ApiError(422, f"'{key}' items must be among {', '.join(choices)}; "
                           f"got {item!r}")
    return list(picked)


def _read_extract(body: dict[str, Any]) -> list[tuple[str, list[str | int]]]:
    """``extract``: alias -> a path into the thread (``values.messages[-1].content``)."""
    raw = read_type(body, "extract", dict, {})
    if len(raw) > _MAX_EXTRACT:
        raise ApiError(422, f"'extract' takes at most {_MAX_EXTRACT} paths, got {len(raw)}")
    out = []
    for alias, where in raw.items():
        steps: list[str | int] = []
        for part in (where.split(".") if isinstance(where, str) else [""]):
            match = _PATH_PART.fullmatch(part)
            if match is None:
                raise ApiError(422, f"'extract.{alias}' must be a path of dotted keys with "
                               f"optional [index]es (values.messages[-1]), got {where!r}")
            steps.append(match.group(1))
            steps.extend(int(i) for i in re.findall(r"-?\d+", match.group(2)))
        out.append((alias, steps))
    return out


def _extract(thread: Record, steps: list[str | int]) -> Any:
    """What ``steps`` lead to in the thread, or ``None`` where they lead nowhere."""
    value: Any = public(thread)
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


async def count(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    metadata = read_type(body, "metadata", dict)
    value = {"metadata": dict(metadata or {}), "values": read_type(body, "values", dict),
             "status": read_str(body, "status", None, _STATUSES)}
    filters = await authorize(request, "threads", "search", value)
    if filters:  # counted as a search would list them
        every, _ = await server.storage.search_threads(
            metadata=metadata, status=value["status"], ids=None, limit=10**9, offset=0,
            sort_by="created_at", sort_order="desc", values=value["values"])
        return json_response(sum(matches(t.get("metadata"), filters) for t in every))
    return json_response(await server.storage.count_threads(
        metadata=metadata, values=value["values"], status=value["status"]))


async def copy(request: Request) -> Response:
    """A new thread with the source's metadata and every checkpoint (the same ids), so
    its state and history are the source's; runs are not copied (as ``langgraph dev``)."""
    server = server_of(request)
    source = await authorized_thread(request, "read")
    value = {"metadata": dict(source["metadata"])}
    await authorize(request, "threads", "create", value)  # the copy is the caller's
    thread = new_thread(metadata=value["metadata"])
    await server.storage.create_thread(thread)
    await server.saver.acopy_thread(source["thread_id"], thread["thread_id"])
    graph = _graph_of_thread(server, source)
    if graph is not None:
        fields = await thread_fields_after_run(
            graph, thread["thread_id"], "error" if source["status"] == "error" else "success")
        thread = await server.storage.update_thread(
            thread["thread_id"], **fields, error=source.get("error")) or thread
    return json_response(public(thread))


async def prune(request: Request) -> Response:
    """``strategy="delete"``: delete the threads (with their runs and checkpoints);
    ``"keep_latest"``: keep each thread with only its latest checkpoint. Unknown ids are
    skipped; ``pruned_count`` counts the threads pruned."""
    server = server_of(request)
    body = await read_body(request)
    if "thread_ids" not in body:
        raise ApiError(422, "'thread_ids' is required: the list of threads to prune")
    thread_ids = read_type(body, "thread_ids", list, [])
    if not all(isinstance(t, str) for t in thread_ids):
        raise ApiError(422, f"'thread_ids' must be a list of thread ids, got {thread_ids!r}")
    strategy = read_str(body, "strategy", "delete", ("delete", "keep_latest"))
    busy = [t for t in thread_ids if await server.runs.thread_busy(t)]
    if busy:
        raise ApiError(409, f"Threads {', '.join(busy)} have a run in progress; cancel it "
                       "first (nothing was pruned)")
    pruned = 0
    for thread_id in dict.fromkeys(thread_ids):
        try:
            await authorized_thread(request, "delete", thread_id)
        except ApiError as exc:  # another user's thread is unknown here: skipped
            if exc.status == 404:
                continue
            raise
        if strategy == "delete":
            if await server.storage.delete_thread(thread_id):
                await server.saver.adelete_thread(thread_id)
                pruned += 1
        elif await server.storage.get_thread(thread_id) is not None:
            await server.saver.aprune(thread_id, keep_last=1)
            pruned += 1
    return json_response({"pruned_count": pruned})


def _graph_of_thread(server: Server, thread: Record) -> CompiledStateGraph | None:
    graph_id = (thread.get("metadata") or {}).get("graph_id")
    return server.graphs.get(graph_id) if graph_id else None


async def _state(request: Request, checkpoint: dict[str, Any] | None,
                 subgraphs: bool) -> Response:
    server = server_of(request)
    thread = await authorized_thread(request, "read")
    graph = _graph_of_thread(server, thread)
    if graph is None:
        return json_response(EMPTY_STATE)
    try:
        snapshot = await graph.aget_state(thread_config(thread["thread_id"], checkpoint),
                                          subgraphs=subgraphs)
    except RilletError as exc:
        raise ApiError(404, str(exc)) from exc
    if snapshot.created_at is None:
        return json_response(EMPTY_STATE)
    return json_response(snapshot_to_state(snapshot))


async def get_state(request: Request) -> Response:
    subgraphs = request.query_params.get("subgraphs", "false").lower() == "true"
    return await _state(request, None, subgraphs)


async def get_state_at(request: Request) -> Response:
    subgraphs = request.query_params.get("subgraphs", "false").lower() == "true"
    return await _state(request, {"checkpoint_id": path(request, "checkpoint_id")}, subgraphs)


async def post_state_at(request: Request) -> Response:
    body = await read_body(request)
    checkpoint = read_type(body, "checkpoint", dict, {})
    return await _state(request, checkpoint, bool(read_type(body, "subgraphs", bool, False)))


async def update_state(request: Request) -> Response:
    server = server_of(request)
    thread = await authorized_thread(request, "update")
    body = await read_body(request)
    graph = _graph_of_thread(server, thread)
    if graph is None:
        raise ApiError(400, f"Thread '{thread['thread_id']}' has no assigned graph ID: make a "
                       "run on it first, or set 'graph_id' in its metadata")
    if await server.runs.thread_busy(thread["thread_id"]):
        raise ApiError(409, "Thread is busy with a run; wait for it or cancel it first")
    checkpoint = dict(read_type(body, "checkpoint", dict, {}))
    if read_str(body, "checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    try:
        config = await graph.aupdate_state(
            thread_config(thread["thread_id"], checkpoint), body.get("values"),
            as_node=read_str(body, "as_node"),
        )
    except (ValueError, RilletError) as exc:
        raise ApiError(400, str(exc)) from exc
    fields = await thread_fields_after_run(graph, thread["thread_id"], "success")
    await server.storage.update_thread(thread["thread_id"], **fields, updated_at=now())
    conf = config["configurable"]
    out = {"thread_id": conf["thread_id"], "checkpoint_ns": conf.get("checkpoint_ns", ""),
           "checkpoint_id": conf["checkpoint_id"]}
    return json_response({"checkpoint": out, "configurable": out,
                          "checkpoint_id": out["checkpoint_id"]})


async def history(request: Request) -> Response:
    server = server_of(request)
    thread = await authorized_thread(request, "read")
    if request.method == "GET":
        body: dict[str, Any] = dict(request.query_params)
    else:
        body = await read_body(request)
    limit = read_int(body, "limit", 10, 1, 1000)
    graph = _graph_of_thread(server, thread)
    if graph is None:
        return json_response([])
    before = read_type(body, "before", dict)
    if isinstance(body.get("before"), str):
        before = {"configurable": {"checkpoint_id": body["before"]}}
    elif before is not None:
        before = {"configurable": before}
    checkpoint = read_type(body, "checkpoint", dict, {})
    states = []
    async for snapshot in graph.aget_state_history(
        thread_config(thread["thread_id"], checkpoint), limit=limit, before=before,
        filter=read_type(body, "metadata", dict),
    ):
        states.append(snapshot_to_state(snapshot))
    return json_response(states)


async def join_stream(request: Request) -> Response:
    raise ApiError(404, "a thread's stream (threads.join_stream) is not served yet: join "
                   "each run's stream instead (runs.join_stream)")


ROUTES = [
    Route("/threads", create, methods=["POST"]),
    Route("/threads/search", search, methods=["POST"]),
    Route("/threads/count", count, methods=["POST"]),
    Route("/threads/prune", prune, methods=["POST"]),
    Route("/threads/{thread_id}/copy", copy, methods=["POST"]),
    Route("/threads/{thread_id}", get, methods=["GET"]),
    Route("/threads/{thread_id}", patch, methods=["PATCH"]),
    Route("/threads/{thread_id}", delete, methods=["DELETE"]),
    Route("/threads/{thread_id}/state", get_state, methods=["GET"]),
    Route("/threads/{thread_id}/state", update_state, methods=["POST"]),
    Route("/threads/{thread_id}/state/checkpoint", post_state_at, methods=["POST"]),
    Route("/threads/{thread_id}/state/{checkpoint_id}", get_state_at, methods=["GET"]),
    Route("/threads/{thread_id}/history", history, methods=["GET", "POST"]),
    Route("/threads/{thread_id}/stream", join_stream, methods=["GET"]),
]
