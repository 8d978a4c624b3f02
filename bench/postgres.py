#!/usr/bin/env python3
"""The Postgres rows of the benchmark: ``checkpoint-chain`` and ``chat-turns`` with
LangGraph's ``PostgresSaver`` and rillet's, against a real PostgreSQL server.

The workloads are those of ``../shared/bench/workloads.py``, imported from it by path
(its graphs, timers, repetition counts and JSON lines), with a Postgres checkpointer
in place of the SQLite one:

  checkpoint-chain  modes postgres-sync (``PostgresSaver``) and postgres-async
                    (``AsyncPostgresSaver``): chain-100 on a fresh thread per run,
                    a checkpoint at every step; per_unit_us = per-step time
  chat-turns        mode postgres: the 200-turn chatbot on one thread, a fresh
                    database per repetition; also first/last 20 turns and
                    ``tables_mib`` (the checkpoint tables with their indexes and TOAST)

Each library opens its saver with its own ``from_conn_string`` and ``setup()`` (rillet:
a pool, LangGraph: one connection), each workload gets an empty database of its own,
and, as in ``workloads.py``, every workload runs in a fresh interpreter and the table
takes medians. The server is ``--dsn`` / ``$BENCH_POSTGRES_DSN`` when given (its role
needs CREATEDB), else one started here on a free loopback port by ``tests/_postgres.py``
(the tests' server: fsync, synchronous commits and full-page writes off unless
``--durable``), stopped at the end.

  .venv/bin/python bench/postgres.py --langgraph bench/.venv-langgraph/bin/python \\
      --rillet .venv/bin/python --suites 3 --out bench/results/<date>
      # appends to <out>/langgraph.jsonl and <out>/rillet.jsonl, as run.sh reads them
  PYTHON bench/postgres.py --impl rillet --only checkpoint-chain --dsn DSN  # one child
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKLOADS = ["checkpoint-chain", "chat-turns"]
CHILD_TIMEOUT_S = 1800


def load_by_path(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def server_helpers() -> ModuleType:
    return load_by_path("rillet_bench_pg_server", ROOT / "tests" / "_postgres.py")


def default_workloads_path() -> Path:
    shared = Path(os.environ.get("SHARED", ROOT.parent / "shared"))
    return shared / "bench" / "workloads.py"


# --------------------------------------------------------------------- one child


class Child:
    """One workload of one library, in this interpreter."""

    def __init__(self, impl: str, dsn: str, workloads_path: Path, scale: float) -> None:
        self.impl = impl
        self.dsn = dsn
        self.pg = server_helpers()
        wl = self.wl = load_by_path("workloads", workloads_path)
        # workloads.py reads these module globals; `out` stays None: the driver records
        # the JSON lines this prints
        wl.ARGS = argparse.Namespace(gc="on", scale=scale, only=["postgres"], out=None)
        wl.IMPL = impl
        wl.API = wl.load_api(impl)

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        fresh = self.pg.fresh_database(self.dsn, prefix=f"bench_{self.impl}")
        try:
            yield fresh
        finally:
            self.pg.drop_database(self.dsn, fresh)

    @contextlib.contextmanager
    def saver(self, dsn: str) -> Iterator[Any]:
        module = importlib.import_module(f"{self.impl}.checkpoint.postgres")
        with module.PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
            yield saver

    @contextlib.asynccontextmanager
    async def async_saver(self, dsn: str) -> AsyncIterator[Any]:
        module = importlib.import_module(f"{self.impl}.checkpoint.postgres.aio")
        async with module.AsyncPostgresSaver.from_conn_string(dsn) as saver:
            await saver.setup()
            yield saver

    def checkpoint_chain(self) -> None:
        wl = self.wl
        w, n = "checkpoint-chain", wl.CHAIN_LEN
        counter = itertools.count()

        def run(graph: Any) -> Any:
            return graph.invoke({"x": 0}, wl._thread(next(counter)))

        with self.database() as db, self.saver(db) as saver:
            g = wl._chain_builder(n, use_async=False).compile(checkpointer=saver)
            wl.check(run(g)["x"] == n, "checkpoint chain postgres")
            wl.emit(w, "postgres-sync", n, wl.time_sync(lambda: run(g), wl.reps(w), wl.WARMUP[w]))

        async def main(db: str) -> list[float]:
            async with self.async_saver(db) as saver:
                ga = wl._chain_builder(n, use_async=True).compile(checkpointer=saver)

                def arun() -> Any:
                    return ga.ainvoke({"x": 0}, wl._thread(next(counter)))

                wl.check((await arun())["x"] == n, "checkpoint chain postgres async")
                times: list[float] = await wl.time_async(arun, wl.reps(w), wl.WARMUP[w])
                return times

        with self.database() as db:
            wl.emit(w, "postgres-async", n, asyncio.run(main(db)))

    def chat_turns(self) -> None:
        wl = self.wl
        w, n = "chat-turns", wl.CHAT_TURNS
        totals, firsts, lasts, sizes = [], [], [], []
        for _ in range(wl.reps(w)):
            with self.database() as db:
                per_turn: list[float] = []
                with self.saver(db) as saver:
                    g = wl._chat_graph(saver)
                    cfg = wl._thread("chat")
                    for t in range(n):
                        msg = {"role": "user", "content": f"turn {t} " + "lorem ipsum " * 20}
                        t0 = wl.perf()
                        out = g.invoke({"messages": [msg]}, cfg)
                        per_turn.append(wl.perf() - t0)
                    wl.check(len(out["messages"]) == 2 * n,
                             f"chat has {len(out['messages'])} messages")
                sizes.append(tables_bytes(db))
            totals.append(sum(per_turn))
            firsts.append(statistics.mean(per_turn[:20]))
            lasts.append(statistics.mean(per_turn[-20:]))
        first, last = statistics.median(firsts), statistics.median(lasts)
        wl.emit(w, "postgres", n, totals, first20_turn_us=first * 1e6,
                last20_turn_us=last * 1e6, growth_last_over_first=last / first,
                tables_mib=statistics.median(sizes) / 2**20)


def tables_bytes(dsn: str) -> int:
    """What the checkpoint tables of ``dsn``'s database take, indexes and TOAST included."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone()
    return int(row[0]) if row else 0


# -------------------------------------------------------------------- the driver


@contextlib.contextmanager
def server(dsn: str | None, durable: bool) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    pg = server_helpers()
    started = pg.Server(durable=durable)
    try:
        print(f"postgres: starting a server in {started.root}", file=sys.stderr)
        yield started.start()
    finally:
        started.stop()
        started.remove()


def drive(args: argparse.Namespace) -> int:
    pythons = {"langgraph": args.langgraph, "rillet": args.rillet}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with server(args.dsn or os.environ.get("BENCH_POSTGRES_DSN"), args.durable) as dsn:
        for suite in range(1, args.suites + 1):
            for impl, python in pythons.items():
                print(f"postgres suite run {suite}/{args.suites}: {impl}", file=sys.stderr)
                for w in WORKLOADS:
                    failed += run_child(python, impl, w, dsn, args, out / f"{impl}.jsonl")
    return 1 if failed else 0


def run_child(python: str, impl: str, workload: str, dsn: str, args: argparse.Namespace,
              out: Path) -> int:
    cmd = [python, str(Path(__file__).resolve()), "--impl", impl, "--only", workload,
           "--dsn", dsn, "--workloads", str(args.workloads), "--scale", str(args.scale)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        error, lines = [f"timed out after {CHILD_TIMEOUT_S} s"], []
    else:
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        error = done.stderr.strip().splitlines()[-1:] if done.returncode else []
        if done.returncode:
            sys.stderr.write(done.stderr)
    with out.open("a") as f:
        for line in lines:
            print(line, flush=True)
            f.write(line + "\n")
    if error:
        print(json.dumps({"workload": workload, "impl": impl, "error": error}), flush=True)
        return 1
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", choices=["langgraph", "rillet"],
                    help="run one workload of this library here (with --only)")
    ap.add_argument("--only", choices=WORKLOADS)
    ap.add_argument("--dsn", help="a server to use (default $BENCH_POSTGRES_DSN, else start one)")
    ap.add_argument("--durable", action="store_true",
                    help="start the server with fsync and synchronous commits on")
    ap.add_argument("--langgraph", default=str(HERE / ".venv-langgraph" / "bin" / "python"))
    ap.add_argument("--rillet", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--suites", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results" / "postgres"))
    ap.add_argument("--workloads", type=Path, default=default_workloads_path())
    ap.add_argument("--scale", type=float, default=1.0, help="multiply repetition counts")
    args = ap.parse_args()
    if args.impl is None:
        return drive(args)
    if args.only is None or args.dsn is None:
        ap.error("--impl runs one workload: give --only and --dsn")
    child = Child(args.impl, args.dsn, args.workloads, args.scale)
    {"checkpoint-chain": child.checkpoint_chain, "chat-turns": child.chat_turns}[args.only]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
