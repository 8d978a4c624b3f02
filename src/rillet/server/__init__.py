"""``rillet serve``: LangGraph's Agent Server API over rillet graphs.

``create_app(config, data_dir=...)`` returns a Starlette ASGI app that the official
``langgraph-sdk`` clients talk to unchanged; ``rillet serve`` runs it under uvicorn.
Needs the ``server`` extra: ``pip install 'rillet[server]'``.

Layout: ``_config`` reads ``langgraph.json``; ``storage/`` is the one storage seam
(``Storage``, with ``SqliteStorage`` the embedded default); ``_runs`` executes runs and
writes every event to the run's log before any client reads it; ``_sse`` frames
events; ``api/`` holds the routes, one module per resource.
"""

from __future__ import annotations

try:
    import orjson  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"rillet.server needs the server extra ({exc.name} is missing): "
        "pip install 'rillet[server]'"
    ) from exc

from rillet.server._app import create_app
from rillet.server._config import ServerConfig, load_config

__all__ = ["ServerConfig", "create_app", "load_config"]
