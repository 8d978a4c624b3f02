"""``rillet serve``: LangGraph's Agent Server API for the graphs of a ``langgraph.json``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from typing import Any

from rillet.cli._errors import UsageError

DEFAULT_PORT = 8123


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free one).

    Made with ``IPPROTO_TCP`` rather than ``socket.create_server``'s protocol 0: asyncio
    sets ``TCP_NODELAY`` only on sockets that say they are TCP, and without it every
    response that goes out in two writes waits ~40 ms for the client's delayed ACK.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
        flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve graphs over HTTP with LangGraph's Agent Server API",
        description="Serve the graphs of a langgraph.json over HTTP, speaking LangGraph's "
        "Agent Server API (the langgraph-sdk clients work unchanged). Threads, runs and "
        "their event logs are kept in SQLite files in the data dir. Needs "
        "pip install 'rillet[server]'.",
    )
    parser.add_argument("--config", default="langgraph.json", metavar="PATH",
                        help="the langgraph.json to serve (default: ./langgraph.json)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on, 0 for any free one (default: {DEFAULT_PORT})")
    parser.add_argument("--data-dir", default=".rillet", metavar="DIR",
                        help="where threads, runs and checkpoints are kept (default: ./.rillet)")
    parser.add_argument("--api-key", default=os.environ.get("RILLET_API_KEY"), metavar="KEY",
                        help="require this key in the x-api-key header of every request but "
                        "/ok (default: $RILLET_API_KEY)")
    parser.add_argument("--log-ttl", type=float, default=3600.0, metavar="SECONDS",
                        help="keep a run's event log (for joins and Last-Event-ID) this "
                        "long after the run ends; 'inf' for ever (default: 3600)")
    parser.add_argument("--drain-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="at Ctrl-C / SIGTERM, let running runs go on this long to their "
                        "next checkpoint before cancelling them; either way they are resumed "
                        "at the next start (default: 10; 0: cancel at once)")
    parser.add_argument("--n-jobs-per-worker", type=int, default=10, metavar="N",
                        help="runs executing at once; the others wait, pending "
                        "(default: 10)")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"],
                        help="uvicorn's log level; 'info' also logs one line per run")
    parser.add_argument("--open", action="store_true",
                        help="open the playground page in the default browser once listening")
    parser.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """Load the config, bind the socket, print where it listens and serve until Ctrl-C."""
    try:
        import uvicorn

        from rillet.server import create_app
    except ImportError as exc:
        raise UsageError(str(exc)) from exc
    from rillet.errors import ConfigError

    try:
        if not args.log_ttl >= 0:
            raise UsageError(f"--log-ttl must be a number of seconds >= 0, got {args.log_ttl}")
        if not 0 <= args.drain_timeout < float("inf"):
            raise UsageError("--drain-timeout must be a number of seconds >= 0, got "
                             f"{args.drain_timeout}")
        if args.n_jobs_per_worker < 1:
            raise UsageError(f"--n-jobs-per-worker must be at least 1, got "
                             f"{args.n_jobs_per_worker}")
        app = create_app(args.config, data_dir=args.data_dir, api_key=args.api_key,
                         log_ttl=args.log_ttl, drain_timeout=args.drain_timeout,
                         max_running=args.n_jobs_per_worker)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    host, port = sock.getsockname()[:2]
    graphs = ", ".join(app.state.server.graphs)
    if args.log_level in ("info", "debug"):
        import logging

        logging.basicConfig(level=logging.INFO, format="rillet: %(message)s")

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                sys.stdout.write(f"rillet: serving {graphs} at http://{host}:{port} "
                                 f"(data in {args.data_dir})\n")
                sys.stdout.flush()
                if args.open:  # $BROWSER or the system's default; not waited for
                    import webbrowser

                    asyncio.get_running_loop().run_in_executor(
                        None, webbrowser.open, f"http://{host}:{port}/")

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Ctrl-C / SIGTERM: stop the runs first (at their next checkpoint, or
            # cancelled after --drain-timeout; they stay resumable) so the streams
            # following them end and uvicorn does not wait on them.
            await app.state.server.runs.drain()
            await super().shutdown(sockets)

    server = _Server(uvicorn.Config(app, log_level=args.log_level, lifespan="on"))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down cleanly
        asyncio.run(server.serve(sockets=[sock]))
    return 0
