"""``rillet serve``: LangGraph's Agent Server API for the graphs of a ``langgraph.json``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
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
    parser.add_argument("--n-jobs-per-worker", "--jobs-per-worker", type=int, default=10,
                        metavar="N", dest="n_jobs_per_worker",
                        help="runs a process executes at once; the others wait, pending "
                        "(default: 10)")
    scale = parser.add_argument_group(
        "scale out", "many processes on PostgreSQL and Redis (pip install "
        "'rillet[server,postgres,redis]'); see the README's 'Scale out'")
    scale.add_argument("--database", default=os.environ.get("RILLET_DATABASE_URL"),
                       metavar="URL", help="PostgreSQL (postgresql://...): assistants, "
                       "threads, runs and their queue, checkpoints, the store; instead of "
                       "the data dir (default: $RILLET_DATABASE_URL)")
    scale.add_argument("--redis", default=os.environ.get("RILLET_REDIS_URL"), metavar="URL",
                       help="Redis (redis://...): run event logs, cancel and wake-up signals "
                       "(default: $RILLET_REDIS_URL)")
    scale.add_argument("--role", default="all", choices=["api", "worker", "all"],
                       help="api: answer clients; worker: execute runs (no HTTP); all: both "
                       "(default)")
    scale.add_argument("--workers", type=int, default=1, metavar="N",
                       help="processes of this role, restarted if one dies (API processes "
                       "share the port; default: 1)")
    scale.add_argument("--lease", type=float, default=30.0, metavar="SECONDS",
                       help="a worker owns a run this long without renewing; a dead "
                       "worker's runs are taken over after it (default: 30)")
    scale.add_argument("--max-attempts", type=int, default=3, metavar="N",
                       help="times a run is started in all when its worker is lost "
                       "(default: 3)")
    scale.add_argument("--redis-prefix", default="rillet:", metavar="PREFIX",
                       help="prefix of the Redis keys and channels (default: rillet:)")
    parser.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)
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
        _check_scaling(args)
        if args.workers > 1:
            return _supervise(args)
        if args.role == "worker":
            return _worker_command(args)
        app = create_app(args.config, data_dir=args.data_dir, api_key=args.api_key,
                         log_ttl=args.log_ttl, drain_timeout=args.drain_timeout,
                         max_running=args.n_jobs_per_worker, **_scaled_options(args))
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    try:
        if args.listen_fd is not None:  # a child of --workers: the parent's socket
            sock = socket.socket(fileno=args.listen_fd)
        else:
            sock = _listen(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    host, port = sock.getsockname()[:2]
    where = f"{args.role} process {os.getpid()}, {_safe(args.database)}" if args.database \
        else f"data in {args.data_dir}"
    graphs = ", ".join(app.state.server.graphs)
    if args.log_level in ("info", "debug"):
        import logging

        logging.basicConfig(level=logging.INFO, format="rillet: %(message)s")

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                sys.stdout.write(f"rillet: serving {graphs} at http://{host}:{port} "
                                 f"({where})\n")
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

    # Idle keep-alive connections are kept 75 s, longer than clients and load balancers
    # keep theirs (httpx 5 s, AWS ALB 60 s): a client then never sends a request on a
    # connection the server is closing at that moment (uvicorn's 5 s equals httpx's, and
    # under load such requests got "Server disconnected without sending a response").
    server = _Server(uvicorn.Config(app, log_level=args.log_level, lifespan="on",
                                    timeout_keep_alive=75))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down cleanly
        asyncio.run(server.serve(sockets=[sock]))
    return 0


def _safe(url: str) -> str:
    """A database URL without its password, to print."""
    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)


def _check_scaling(args: argparse.Namespace) -> None:
    if (args.database is None) != (args.redis is None):
        raise UsageError("a scaled deployment needs both --database postgresql://... and "
                         "--redis redis://... (or neither: one process on the data dir)")
    if args.database is None and (args.role != "all" or args.workers != 1):
        raise UsageError("--role and --workers need --database and --redis (processes "
                         "share their runs through PostgreSQL and Redis)")
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if not 0 < args.lease < float("inf"):
        raise UsageError(f"--lease must be a number of seconds > 0, got {args.lease}")
    if args.max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    if args.database is not None and not re.match(r"postgres(ql)?://|\s*\w+\s*=",
                                                  args.database):
        raise UsageError("--database must be a postgresql:// URL (or a libpq key=value "
                         f"string), got {_safe(args.database)!r}")
    if args.redis is not None and not re.match(r"rediss?://|unix://", args.redis):
        raise UsageError(f"--redis must be a redis:// URL, got {args.redis!r}")


def _scaled_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.database is None:
        return {}
    return {"database": args.database, "redis": args.redis, "role": args.role,
            "lease": args.lease, "max_attempts": args.max_attempts,
            "redis_prefix": args.redis_prefix}


def _worker_command(args: argparse.Namespace) -> int:
    """``--role worker``: execute runs, no HTTP, until Ctrl-C / SIGTERM (then drain)."""
    from rillet.server._app import run_worker

    if args.log_level in ("info", "debug"):
        import logging

        logging.basicConfig(level=logging.INFO, format="rillet: %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready() -> None:
            sys.stdout.write(f"rillet: worker process {os.getpid()} executing runs "
                             f"({args.n_jobs_per_worker} at once) from "
                             f"{_safe(args.database)}\n")
            sys.stdout.flush()

        await run_worker(args.config, args.database, args.redis, stop=stop, ready=ready,
                         jobs=args.n_jobs_per_worker, lease=args.lease,
                         max_attempts=args.max_attempts, drain_timeout=args.drain_timeout,
                         log_ttl=args.log_ttl, prefix=args.redis_prefix)

    asyncio.run(main())
    return 0


def _supervise(args: argparse.Namespace) -> int:
    """``--workers N``: N child processes of the role (API ones share one listening
    socket); a child that dies is started again; Ctrl-C / SIGTERM stops them all (each
    drains)."""
    import subprocess
    import time

    sock = None
    if args.role != "worker":
        try:
            sock = _listen(args.host, args.port)
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    argv = [a for a in sys.argv[1:]]
    command = [sys.executable, "-m", "rillet.cli", *_without_workers(argv), "--workers", "1"]
    fds: tuple[int, ...] = ()
    if sock is not None:
        command += ["--listen-fd", str(sock.fileno())]
        fds = (sock.fileno(),)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [subprocess.Popen(command, pass_fds=fds) for _ in range(args.workers)]
    while not stopping:
        time.sleep(0.2)
        for i, child in enumerate(children):
            if child.poll() is not None and not stopping:
                sys.stderr.write(f"rillet: {args.role} process {child.pid} exited with "
                                 f"{child.returncode}; starting another\n")
                children[i] = subprocess.Popen(command, pass_fds=fds)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=args.drain_timeout + 30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0


def _without_workers(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        out.append(arg)
    return out
