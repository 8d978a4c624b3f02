"""Chat front-end protocols over the server's runs: AG-UI (``agui``) and the Vercel
AI SDK's UI message stream (``vercel``), each a thin encoder over the parts of
``_parts`` (a run's events mapped once); ``_run`` starts and follows the runs."""

from __future__ import annotations

from starlette.routing import BaseRoute

from rillet.server.frontends import agui, vercel

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [*agui.ROUTES, *vercel.ROUTES]
