"""The routes, one module per resource."""

from __future__ import annotations

from starlette.routing import BaseRoute

from rillet.server.api import assistants, meta, playground, runs, store, threads

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    """Every route of the server, the more specific paths first."""
    from rillet.server import frontends  # it builds on api.runs

    return [*meta.ROUTES, *assistants.ROUTES, *runs.ROUTES, *threads.ROUTES,
            *store.ROUTES, *frontends.ROUTES, *playground.ROUTES]
