"""Assistants: each served graph has one system assistant; users make more (create,
update, which makes a new version, delete, versions, set the latest version, count).
Search, get, graph (and ``graph.svg``, drawn), schemas, subgraphs. A graph's name is
accepted wherever an assistant id is (it names the graph's system assistant)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.graph import CompiledStateGraph
from rillet.server._app import Server
from rillet.server._auth import Filters
from rillet.server._errors import ApiError, read_body, read_int, read_str, read_type
from rillet.server._schemas import json_schema
from rillet.server._time import now
from rillet.server.api._common import (
    authorize,
    filtered_page,
    json_response,
    matches,
    page_headers,
    path,
    server_of,
)
from rillet.server.storage.base import Record, version_of

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
    query = {"graph_id": value["graph_id"], "metadata": value["metadata"],
             "name": read_str(body, "name")}
    found, total = await filtered_page(server.storage.search_assistants, query, filters,
                                       limit, offset)
    return json_response(found, headers=page_headers(offset, len(found), total))


async def count(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    value = {"graph_id": read_str(body, "graph_id"),
             "metadata": read_type(body, "metadata", dict)}
    filters = await authorize(request, "assistants", "search", value)
    query = {"graph_id": value["graph_id"], "metadata": value["metadata"],
             "name": read_str(body, "name")}
    if filters:
        every, _ = await server.storage.search_assistants(**query, limit=10**9, offset=0)
        return json_response(sum(matches(a.get("metadata"), filters) for a in every))
    _, total = await server.storage.search_assistants(**query, limit=0, offset=0)
    return json_response(total)


def _settings(body: dict[str, Any], config: dict[str, Any], context: dict[str, Any],
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The assistant's ``(config, context)`` after ``body``'s: each given one replaces
    the old, and, as ``langgraph dev`` keeps them, ``config.configurable`` and
    ``context`` mirror each other (giving both is refused)."""
    new_config = read_type(body, "config", dict)
    new_context = read_type(body, "context", dict)
    if new_config is not None and new_config.get("configurable") and new_context:
        raise ApiError(400, "Cannot specify both configurable and context. Prefer setting "
                       "context alone.")
    if new_config is not None:
        config = dict(new_config)
        if config.get("configurable") and new_context is None:
            context = dict(config["configurable"])
    if new_context is not None:
        context = dict(new_context)
        if context:
            config = {**config, "configurable": dict(context)}
    return config, context


def _graph_id(server: Server, body: dict[str, Any], required: bool) -> str | None:
    graph_id = body.get("graph_id")
    if graph_id is None and not required:
        return None
    if not isinstance(graph_id, str):
        raise ApiError(422, f"'graph_id' is required: one of the served graphs "
                       f"({', '.join(server.graphs)}), got {graph_id!r}")
    if graph_id not in server.graphs:
        raise ApiError(404, f"Graph '{graph_id}' not found. Expected one of: "
                       f"{', '.join(server.graphs)}")
    return graph_id


async def create(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    graph_id = _graph_id(server, body, required=True)
    if_exists = read_str(body, "if_exists", "raise", ("raise", "do_nothing"))
    assistant_id = read_str(body, "assistant_id")
    if assistant_id is None:
        assistant_id = str(uuid.uuid4())
    else:
        try:
            assistant_id = str(uuid.UUID(assistant_id))
        except ValueError:
            raise ApiError(422, f"'assistant_id' must be a UUID, got {assistant_id!r}") from None
    config, context = _settings(body, {}, {})
    value = {"assistant_id": assistant_id, "graph_id": graph_id, "config": config,
             "context": context, "metadata": dict(read_type(body, "metadata", dict, {})),
             "if_exists": if_exists, "name": read_str(body, "name")}
    await authorize(request, "assistants", "create", value)  # it may set metadata
    stamp = now()
    assistant = {
        "assistant_id": assistant_id, "graph_id": graph_id, "config": config,
        "context": context, "metadata": value["metadata"],
        "name": read_str(body, "name") or "Untitled", "created_at": stamp,
        "updated_at": stamp, "version": 1, "description": read_str(body, "description"),
    }
    if not await server.storage.create_assistant(assistant):
        if if_exists == "raise":
            raise ApiError(409, f"Assistant {assistant_id} already exists")
        existing = await server.storage.get_assistant(assistant_id)
        assert existing is not None
        return json_response(existing)
    return json_response(assistant)


async def update(request: Request) -> Response:
    """A new version made of the latest version's fields and the body's: ``metadata``
    is merged, the others given replace."""
    server = server_of(request)
    body = await read_body(request)
    old = await _authorized_assistant(request, "update", metadata=read_type(body, "metadata",
                                                                             dict))
    graph_id = _graph_id(server, body, required=False) or old["graph_id"]
    config, context = _settings(body, old["config"], old["context"])
    versions = await server.storage.list_assistant_versions(
        old["assistant_id"], metadata=None, limit=1, offset=0)
    version = max([old["version"], *(v["version"] for v in versions)]) + 1
    assistant = {
        **old, "graph_id": graph_id, "config": config, "context": context,
        "metadata": {**old["metadata"], **read_type(body, "metadata", dict, {})},
        "name": read_str(body, "name") or old["name"],
        "description": read_str(body, "description") or old["description"],
        "updated_at": now(), "version": version,
    }
    await server.storage.put_assistant_version(version_of(assistant))
    await server.storage.put_assistant(assistant)
    return json_response(assistant)


async def delete(request: Request) -> Response:
    server = server_of(request)
    assistant_id = server.assistant_id(path(request, "assistant_id"))
    try:
        await _authorized_assistant(request, "delete")
    except ApiError as exc:
        if exc.status != 404:
            raise
        raise ApiError(404, f"Assistant with ID {assistant_id} not found") from None
    if not await server.storage.delete_assistant(assistant_id):
        raise ApiError(404, f"Assistant with ID {assistant_id} not found")
    if request.query_params.get("delete_threads", "false").lower() == "true":
        threads, _ = await server.storage.search_threads(
            metadata={"assistant_id": assistant_id}, status=None, ids=None, limit=10**9,
            offset=0, sort_by="created_at", sort_order="asc")
        for thread in threads:
            await server.runs.cancel_thread(thread["thread_id"])
            await server.storage.delete_thread(thread["thread_id"])
            await server.saver.adelete_thread(thread["thread_id"])
    return Response(status_code=204)


async def versions(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    assistant = await _authorized_assistant(request, "read")
    found = await server.storage.list_assistant_versions(
        assistant["assistant_id"], metadata=read_type(body, "metadata", dict),
        limit=read_int(body, "limit", 10, 1, 1000), offset=read_int(body, "offset", 0, 0, 10**9),
    )
    return json_response(found)


async def set_latest(request: Request) -> Response:
    server = server_of(request)
    body = await read_body(request)
    assistant = await _authorized_assistant(request, "update")
    number = read_type(body, "version", int)
    if number is None:
        raise ApiError(422, "'version' is required: the version number to make the latest")
    version = await server.storage.get_assistant_version(assistant["assistant_id"], number)
    if version is None:
        raise ApiError(404, f"Version {number} not found for assistant "
                       f"{assistant['assistant_id']}")
    latest = {**assistant, **{k: v for k, v in version.items() if k != "created_at"},
              "updated_at": now()}
    await server.storage.put_assistant(latest)
    return json_response(latest)


async def get(request: Request) -> Response:
    return json_response(await _authorized_assistant(request))


async def _authorized_assistant(request: Request, action: str = "read", **value: Any,
                                ) -> Record:
    """The assistant of the path, once ``assistants.<action>`` let this request act on
    it (one its filter hides: 404)."""
    assistant_id = path(request, "assistant_id")
    filters = await authorize(request, "assistants", action,
                              {"assistant_id": assistant_id, **value})
    return await assistant_or_404(server_of(request), assistant_id, filters)


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


async def graph_svg(request: Request) -> Response:
    """The graph drawn as SVG in pure Python (the playground shows it; no Graphviz)."""
    _, compiled = await _graph_of(request)
    drawing = compiled.get_graph(xray=_xray(request.query_params.get("xray")))
    return Response(drawing.draw_svg(), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def schemas(request: Request) -> Response:
    graph_id, compiled = await _graph_of(request)
    context = compiled.context_schema
    return json_response({
        "graph_id": graph_id, "input_schema": None, "output_schema": None,
        "state_schema": json_schema(compiled.schema.cls, f"{graph_id}_state"),
        "config_schema": {},
        "context_schema": json_schema(context, f"{graph_id}_context") if context else None,
    })


async def subgraphs(request: Request) -> Response:
    """``{namespace: schemas}`` of the graph's subgraphs (``namespace`` keeps one,
    ``recurse=true`` goes down into them, names joined by ``|``)."""
    _, compiled = await _graph_of(request)
    recurse = request.query_params.get("recurse", "false").lower() == "true"
    found = {}
    for name, sub in compiled.get_subgraphs(
            namespace=request.path_params.get("namespace"), recurse=recurse):
        context = sub.context_schema
        found[name] = {
            "input_schema": None, "output_schema": None,
            "state_schema": json_schema(sub.schema.cls, "LangGraphState"), "config_schema": {},
            "context_schema": json_schema(context, "LangGraphContext") if context else None,
        }
    return json_response(found)


ROUTES = [
    Route("/assistants", create, methods=["POST"]),
    Route("/assistants/search", search, methods=["POST"]),
    Route("/assistants/count", count, methods=["POST"]),
    Route("/assistants/{assistant_id}", get, methods=["GET"]),
    Route("/assistants/{assistant_id}", update, methods=["PATCH"]),
    Route("/assistants/{assistant_id}", delete, methods=["DELETE"]),
    Route("/assistants/{assistant_id}/versions", versions, methods=["POST"]),
    Route("/assistants/{assistant_id}/latest", set_latest, methods=["POST"]),
    Route("/assistants/{assistant_id}/subgraphs", subgraphs, methods=["GET"]),
    Route("/assistants/{assistant_id}/subgraphs/{namespace}", subgraphs, methods=["GET"]),
    Route("/assistants/{assistant_id}/graph", graph, methods=["GET"]),
    Route("/assistants/{assistant_id}/graph.svg", graph_svg, methods=["GET"]),
    Route("/assistants/{assistant_id}/schemas", schemas, methods=["GET"]),
]
