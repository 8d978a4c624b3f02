"""``create_app``: the Starlette app, and the :class:`Server` its routes share."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import logging
import math
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rillet.checkpoint.sqlite import SqliteSaver, connect
from rillet.errors import ConfigError
from rillet.graph import CompiledStateGraph
from rillet.server._auth import Authenticate
from rillet.server._config import ServerConfig, load_config
from rillet.server._errors import ApiError
from rillet.server._public import is_public
from rillet.server._runs import RunManager, ServerStopping
from rillet.server._time import now
from rillet.server.storage import SqliteStorage, Storage
from rillet.store import BaseStore
from rillet.store.sqlite import SqliteStore

__all__ = [
    "DEFAULT_DRAIN_TIMEOUT", "DEFAULT_LOG_TTL", "Server", "create_app", "system_assistant_id",
]

#: Seconds a run's event log is kept after the run ends.
DEFAULT_LOG_TTL = 3600.0
#: Seconds a shutdown lets running runs go on to their next checkpoint.
DEFAULT_DRAIN_TIMEOUT = 10.0

#: The namespace LangGraph's server derives system assistant ids in.
ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def system_assistant_id(graph_id: str) -> str:
    """The id of a graph's default assistant, as LangGraph's server derives it."""
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


@dataclass
class Server:
    """What the routes share: the served graphs (each with the server's checkpointer
    and store), the storage, the run manager and the store."""

    config: ServerConfig
    graphs: dict[str, CompiledStateGraph]
    storage: Storage
    runs: Any  # RunManager, or a scaled deployment's ClusterRuns (the same interface)
    saver: Any  # SqliteSaver, or a scaled deployment's AsyncPostgresSaver
    store: BaseStore

    def graph(self, graph_id: str) -> CompiledStateGraph:
        try:
            return self.graphs[graph_id]
        except KeyError:
            raise ApiError(404, f"Graph '{graph_id}' not found") from None

    def assistant_id(self, value: str) -> str:
        """An assistant id given as an id or as a graph's name.

        :raises ApiError: 422 if it is neither a UUID nor a served graph's name.
        """
        if value in self.graphs:
            return system_assistant_id(value)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ApiError(
                422,
                f"Invalid assistant: '{value}'. Must be either:\n- A valid assistant UUID, or\n"
                f"- One of the registered graphs: {', '.join(self.graphs)}",
            ) from None

    async def register_assistants(self) -> None:
        """Each served graph's system assistant, made if missing (a user's update of it,
        a later version, is kept across restarts)."""
        for graph_id, entry in self.config.graphs.items():
            stamp = now()
            await self.storage.create_assistant({
                "assistant_id": system_assistant_id(graph_id), "graph_id": graph_id,
                "config": {}, "context": {}, "metadata": {"created_by": "system"},
                "name": graph_id, "created_at": stamp, "updated_at": stamp, "version": 1,
                "description": entry.description,
            })


class _QuietStops(logging.Filter):
    """Responses cut because the server stops (:class:`ServerStopping`) are no errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ServerStopping))


_QUIET = _QuietStops()


def _own(path: Path) -> IO[bytes] | None:
    """Lock ``path`` for this process (the lock goes with the process, also on kill -9);
    ``None`` if another process holds it. Only the owner of a data dir resumes the runs
    left in it, so two servers on one data dir never run a run twice."""
    handle = open(path, "ab")  # noqa: SIM115  # held until shutdown
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one server per data dir is up to the user
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _check_databases(folder: Path) -> None:
    """Refuse, with a message naming it, a data dir file that is not SQLite any more
    (overwritten, truncated), before anything starts on it.

    :raises ConfigError: naming the file and what to do.
    """
    for name in ("server.sqlite", "checkpoints.sqlite", "store.sqlite"):
        path = folder / name
        if not path.exists():
            continue
        try:
            conn = sqlite3.connect(str(path))
            try:
                conn.execute("PRAGMA schema_version").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{path} is not a readable SQLite database ({exc}): restore it from a "
                "backup, or move it away to start with an empty one"
            ) from None


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


class _ApiKey:
    """Every route but ``/ok`` and the playground's files needs ``x-api-key: KEY``."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self.key = app, key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and not is_public(scope["path"])
                and scope["method"] != "OPTIONS"):
            given = dict(scope["headers"]).get(b"x-api-key") or b""
            if not hmac.compare_digest(given, self.key):
                response = JSONResponse({"detail": "Missing or invalid API key (x-api-key)"},
                                        status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


def create_app(
    config: str | os.PathLike[str] | ServerConfig | Mapping[str, Any],
    data_dir: str | os.PathLike[str] = ".rillet",
    api_key: str | None = None,
    *,
    storage: Storage | None = None,
    log_ttl: float = DEFAULT_LOG_TTL,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    clock: Callable[[], float] = time.time,
    max_running: int = 10,
    database: str | None = None,
    redis: str | None = None,
    role: str = "all",
    lease: float = 30.0,
    max_attempts: int = 3,
    poll: float = 1.0,
    redis_prefix: str = "rillet:",
) -> Starlette:
    """The server as an ASGI app.

    ``config`` is the path of a ``langgraph.json``, a :class:`ServerConfig`, or a
    mapping ``{graph_id: graph}``. The data dir holds ``server.sqlite`` (assistants,
    threads, runs, event logs; unless ``storage`` is given), ``checkpoints.sqlite`` and
    ``store.sqlite`` (the long-term memory store of ``/store`` and of the graphs' nodes).
    With ``api_key`` every route but ``/ok`` needs the ``x-api-key`` header.

    At start, runs a stopped server left ``pending``/``running`` are resumed (from the
    thread's last checkpoint when they had saved one); at shutdown each running run goes
    on to its next checkpoint, for up to ``drain_timeout`` seconds, then the rest are
    cancelled; all are left for the next start. A run's event log is kept ``log_ttl`` seconds
    after the run ends (``math.inf``: for ever), swept at start and periodically;
    ``clock`` gives UNIX seconds (for tests). At most ``max_running`` runs execute at
    once; the others wait, ``pending``.

    With ``database`` (a PostgreSQL URL) and ``redis`` (a Redis URL) it is one process
    of a scaled deployment (see ``_cluster``): records, checkpoints and the store in
    PostgreSQL, event logs and signals in Redis, nothing in the data dir. ``role``
    ``"api"`` only answers (workers elsewhere execute the runs), ``"all"`` also executes
    up to ``max_running`` runs; ``lease`` is how long a worker owns a run without
    renewing, ``max_attempts`` how many times a run is started in all when its worker
    is lost, ``poll`` how often waiters look again when no signal comes.
    """
    error_log = logging.getLogger("uvicorn.error")
    if _QUIET not in error_log.filters:
        error_log.addFilter(_QUIET)

    if isinstance(config, ServerConfig):
        loaded = config
    elif isinstance(config, Mapping):
        loaded = ServerConfig.from_graphs(config)
    else:
        loaded = load_config(config)
    if not log_ttl >= 0:
        raise ValueError(f"log_ttl must be a number of seconds >= 0, got {log_ttl!r}")
    if not 0 <= drain_timeout < math.inf:
        raise ValueError(f"drain_timeout must be a number of seconds >= 0, got "
                         f"{drain_timeout!r}")
    # the served copies save to the server's checkpointer and use the server's store
    graphs = {graph_id: copy.copy(entry.graph) for graph_id, entry in loaded.graphs.items()}
    if database is not None or redis is not None:
        if database is None or redis is None:
            raise ConfigError("a scaled deployment needs both --database (PostgreSQL) and "
                              "--redis")
        if role not in ("api", "all"):
            raise ConfigError(f"the HTTP server runs role 'api' or 'all', got {role!r} "
                              "(a worker alone: rillet serve --role worker)")
        app = _scaled_app(loaded, graphs, database, redis, api_key, role=role, jobs=max_running,
                          lease=lease, max_attempts=max_attempts, drain_timeout=drain_timeout,
                          log_ttl=log_ttl, poll=poll, prefix=redis_prefix, clock=clock)
        return app
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _check_databases(folder)
    store = storage if storage is not None else SqliteStorage(folder / "server.sqlite")
    saver = SqliteSaver(connect(str(folder / "checkpoints.sqlite")))
    memory = SqliteStore(sqlite3.connect(str(folder / "store.sqlite"), timeout=30.0,
                                         check_same_thread=False, isolation_level=None))
    memory.setup()
    for graph in graphs.values():
        graph.checkpointer = saver
        graph.store = memory
    manager = RunManager(store, saver, log_ttl=log_ttl, drain_timeout=drain_timeout,
                         clock=clock, max_running=max_running)
    server = Server(loaded, graphs, store, manager, saver, memory)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.setup()
        await server.register_assistants()
        await manager.sweep_logs()
        await memory.asweep_ttl()  # store items whose ttl ran out (never read back anyway)
        owner = _own(folder / "server.lock")
        if owner is not None:
            await manager.recover(graphs)
        else:  # another live server on this data dir is running them
            logging.getLogger("rillet.server").warning(
                "another server uses %s: the runs it left are not resumed here", folder)
        sweeper = asyncio.get_running_loop().create_task(manager.sweep_forever())
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await manager.drain()
            await store.close()
            saver.conn.close()
            memory.conn.close()
            if owner is not None:
                owner.close()

    return _starlette(server, api_key, lifespan)


def _starlette(server: Server, api_key: str | None,
               lifespan: Callable[[Starlette], Any]) -> Starlette:
    from rillet.server.api import routes

    loaded = server.config
    middleware = [Middleware(CORSMiddleware, **_cors_options(loaded.cors))]
    if api_key:
        middleware.append(Middleware(_ApiKey, key=api_key))
    if loaded.auth is not None:  # after the API key: a request needs both
        middleware.append(Middleware(Authenticate, auth=loaded.auth))
    handlers: dict[Any, Any] = {ApiError: _api_error, HTTPException: _http_error}
    for kind in _unavailable_errors():
        handlers[kind] = _unavailable
    app = Starlette(routes=routes(), middleware=middleware, lifespan=lifespan,
                    exception_handlers=handlers)
    app.state.server = server
    app.state.auth = loaded.auth
    return app


def _unavailable_errors() -> list[type[Exception]]:
    """Errors of a scaled deployment's PostgreSQL or Redis being away (503s)."""
    kinds: list[type[Exception]] = []
    with contextlib.suppress(ImportError):
        import psycopg
        from psycopg_pool import PoolTimeout

        kinds += [psycopg.OperationalError, PoolTimeout]
    with contextlib.suppress(ImportError):
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        kinds += [RedisConnectionError, RedisTimeoutError]
    return kinds


async def _unavailable(request: Request, exc: Exception) -> Response:
    which = "Redis" if type(exc).__module__.startswith("redis") else "PostgreSQL"
    logging.getLogger("rillet.server").warning("%s %s: %s is unavailable: %r",
                                               request.method, request.url.path, which, exc)
    return JSONResponse(
        {"detail": f"{which} is unavailable ({type(exc).__name__}: {exc}); nothing was "
                   "lost: retry the request in a few seconds"},
        status_code=503, headers={"Retry-After": "2"})


def _scaled_app(loaded: ServerConfig, graphs: dict[str, CompiledStateGraph], database: str,
                redis: str, api_key: str | None, **options: Any) -> Starlette:
    from rillet.server._scaled import Scaled

    scaled = Scaled(graphs, database, redis, **options)
    server = Server(loaded, graphs, scaled.storage, scaled.runs, scaled.saver, scaled.store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await scaled.open()
        try:
            await server.register_assistants()
            yield
        finally:
            await scaled.close()

    app = _starlette(server, api_key, lifespan)
    app.state.scaled = scaled
    return app


async def run_worker(config: str | os.PathLike[str] | ServerConfig | Mapping[str, Any],
                     database: str, redis: str, *, stop: asyncio.Event,
                     ready: Callable[[], object] | None = None, **options: Any) -> None:
    """A worker process of a scaled deployment (no HTTP): claim and execute runs until
    ``stop`` is set, then drain (see ``_cluster.Worker.stop``)."""
    from rillet.server._scaled import Scaled

    loaded = config if isinstance(config, ServerConfig) else \
        ServerConfig.from_graphs(config) if isinstance(config, Mapping) else load_config(config)
    graphs = {graph_id: copy.copy(entry.graph) for graph_id, entry in loaded.graphs.items()}
    scaled = Scaled(graphs, database, redis, role="worker", **options)
    await scaled.open()
    try:
        server = Server(loaded, graphs, scaled.storage, None, scaled.saver, scaled.store)
        await server.register_assistants()
        if ready is not None:
            ready()
        await stop.wait()
    finally:
        await scaled.close()


#: Headers a browser client must be able to read, whatever ``http.cors`` says.
_EXPOSED = ["Content-Location", "Location", "X-Pagination-Total", "X-Pagination-Next"]


def _cors_options(cors: dict[str, Any] | None) -> dict[str, Any]:
    """CORSMiddleware's options: ``http.cors`` (always exposing :data:`_EXPOSED`), or
    every origin, method and header allowed."""
    if cors is None:
        return {"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"],
                "expose_headers": _EXPOSED}
    options = dict(cors)
    exposed = list(options.get("expose_headers") or [])
    options["expose_headers"] = exposed + [h for h in _EXPOSED if h.lower() not in
                                           {e.lower() for e in exposed}]
    return options
