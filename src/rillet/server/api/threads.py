"""Threads: create, get, update, delete, search; their state, state updates and
history (read from the checkpointer through the thread's graph)."""

from __future__ import annotations

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
    if server.runs.thread_busy(thread_id):
        raise ApiError(409, f"Thread {thread_id} has a run in progress; cancel it first")
    if not await server.storage.delete_thread(thread_id):
        raise ApiError(404, f"Thread with ID {thread_id} not found")
    server.saver.delete_thread(thread_id)
    return Response(status_code=204)


async def search(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    limit = read_int(body, "limit", 10, 1, 1000)
    offset = read_int(body, "offset", 0, 0, 10**9)
    metadata = read_type(body, "metadata", dict)
    value = {"metadata": dict(metadata or {}), "status": read_str(
        body, "status", None, _STATUSES), "ids": read_type(body, "ids", list),
        "limit": limit, "offset": offset}
    # the handler's filter narrows the client's own (as in langgraph dev, which does not
    # let a handler's change to a search's metadata widen it)
    filters = await authorize(request, "threads", "search", value)
    query = {"metadata": metadata, "status": value["status"], "ids": value["ids"],
             "sort_by": read_str(body, "sort_by", "created_at"),
             "sort_order": read_str(body, "sort_order", "desc", ("asc", "desc"))}
    if filters:  # the auth filter applies before the page is cut
        every, _ = await server.storage.search_threads(**query, limit=10**9, offset=0)
        mine = [t for t in every if matches(t.get("metadata"), filters)]
        found, total = mine[offset:offset + limit], len(mine)
    else:
        found, total = await server.storage.search_threads(**query, limit=limit,
                                                           offset=offset)
    return json_response([public(t) for t in found],
                         headers=page_headers(offset, len(found), total))


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
    if server.runs.thread_busy(thread["thread_id"]):
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


ROUTES = [
    Route("/threads", create, methods=["POST"]),
    Route("/threads/search", search, methods=["POST"]),
    Route("/threads/{thread_id}", get, methods=["GET"]),
    Route("/threads/{thread_id}", patch, methods=["PATCH"]),
    Route("/threads/{thread_id}", delete, methods=["DELETE"]),
    Route("/threads/{thread_id}/state", get_state, methods=["GET"]),
    Route("/threads/{thread_id}/state", update_state, methods=["POST"]),
    Route("/threads/{thread_id}/state/checkpoint", post_state_at, methods=["POST"]),
    Route("/threads/{thread_id}/state/{checkpoint_id}", get_state_at, methods=["GET"]),
    Route("/threads/{thread_id}/history", history, methods=["GET", "POST"]),
]
