"""Assistants: each served graph has one system assistant (search, get, graph,
schemas). A graph's name is accepted wherever an assistant id is."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.graph import CompiledStateGraph
from rillet.server._app import Server
from rillet.server._auth import Filters
from rillet.server._errors import ApiError, read_body, read_int, read_str, read_type
from rillet.server._schemas import json_schema
from rillet.server.api._common import (
    authorize,
    json_response,
    matches,
    page_headers,
    path,
    server_of,
)
from rillet.server.storage.base import Record

__all__ = ["ROUTES", "assistant_or_404"]


async def assistant_or_404(server: Server, value: str, filters: Filters | None = None,
                           ) -> Record:
    assistant = await server.storage.get_assistant(server.assistant_id(value))
    if assistant is None or not matches(assistant.get("metadata"), filters):
        raise ApiError(404, f"Assistant '{value}' not found")
    return assistant


async def search(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    limit = read_int(body, "limit", 10, 1, 1000)
    offset = read_int(body, "offset", 0, 0, 10**9)
    value = {"graph_id": read_str(body, "graph_id"),
             "metadata": read_type(body, "metadata", dict), "limit": limit, "offset": offset}
    filters = await authorize(request, "assistants", "search", value)
    query = {"graph_id": value["graph_id"], "metadata": value["metadata"]}
    if filters:  # the auth filter applies before the page is cut
        every, _ = await server.storage.search_assistants(**query, limit=10**9, offset=0)
        mine = [a for a in every if matches(a.get("metadata"), filters)]
        found, total = mine[offset:offset + limit], len(mine)
    else:
        found, total = await server.storage.search_assistants(**query, limit=limit,
                                                              offset=offset)
    return json_response(found, headers=page_headers(offset, len(found), total))


async def get(request: Request) -> Response:
    return json_response(await _authorized_assistant(request))


async def _authorized_assistant(request: Request) -> Record:
    """The assistant of the path, once ``assistants.read`` let this request read it."""
    value = path(request, "assistant_id")
    filters = await authorize(request, "assistants", "read", {"assistant_id": value})
    return await assistant_or_404(server_of(request), value, filters)


async def _graph_of(request: Request) -> tuple[str, CompiledStateGraph]:
    server = server_of(request)
    assistant = await _authorized_assistant(request)
    return assistant["graph_id"], server.graph(assistant["graph_id"])


def _xray(raw: str | None) -> bool | int:
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise ApiError(422, f"xray must be true, false or a positive integer, got {raw!r}")


async def graph(request: Request) -> Response:
    _, compiled = await _graph_of(request)
    drawing = compiled.get_graph(xray=_xray(request.query_params.get("xray")))
    nodes: list[dict[str, Any]] = []
    for node in drawing.nodes.values():
        if node.id == "__end__":
            nodes.append({"id": node.id})
        else:
            nodes.append({"id": node.id, "type": "runnable", "data": {"name": node.name}})
    edges: list[dict[str, Any]] = []
    for edge in drawing.edges:
        item: dict[str, Any] = {"source": edge.source, "target": edge.target}
        if edge.data is not None:
            item["data"] = str(edge.data)
        if edge.conditional:
            item["conditional"] = True
        edges.append(item)
    return json_response({"nodes": nodes, "edges": edges})


async def schemas(request: Request) -> Response:
    graph_id, compiled = await _graph_of(request)
    context = compiled.context_schema
    return json_response({
        "graph_id": graph_id, "input_schema": None, "output_schema": None,
        "state_schema": json_schema(compiled.schema.cls, f"{graph_id}_state"),
        "config_schema": {},
        "context_schema": json_schema(context, f"{graph_id}_context") if context else None,
    })


ROUTES = [
    Route("/assistants/search", search, methods=["POST"]),
    Route("/assistants/{assistant_id}", get, methods=["GET"]),
    Route("/assistants/{assistant_id}/graph", graph, methods=["GET"]),
    Route("/assistants/{assistant_id}/schemas", schemas, methods=["GET"]),
]
