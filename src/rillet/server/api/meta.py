"""``GET /ok`` (ready) and ``GET /info`` (what this server is)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.server.api._common import json_response

__all__ = ["ROUTES"]

VERSION = "0.1.0"


async def ok(request: Request) -> Response:
    return json_response({"ok": True})


async def info(request: Request) -> Response:
    return json_response({
        "version": VERSION, "server": "rillet", "langgraph_py_version": "1.2.22",
        "flags": {"assistants": True, "crons": False, "langsmith": False},
        "host": {"kind": "self-hosted", "project_id": None, "host_revision_id": None,
                 "revision_id": None, "tenant_id": None},
    })


ROUTES = [Route("/ok", ok, methods=["GET"]), Route("/info", info, methods=["GET"])]
