#!/usr/bin/env python3
"""Load test of the scaled deployment: API and worker processes on PostgreSQL + Redis,
many concurrent streaming clients, nothing lost.

It starts PostgreSQL and Redis (``tests/_postgres.py``, ``tests/_redis.py``: loopback,
free ports, fsync off for PostgreSQL) unless ``--database`` / ``--redis`` are given,
then ``--apis`` processes ``rillet serve --role api`` (each on its own port) and
``--workers`` processes ``rillet serve --role worker``, all from this checkout's
``src``. Then ``--clients`` clients at once, spread round-robin over the API
processes, each stream one stateless run of a graph whose node writes ``--events``
custom items ``{"i": k}``, in modes ``custom`` and ``values``, on a thread of its own
(created before the clock starts). Each client checks that
it got exactly::

    metadata, values {"n": E}, custom {"i": 0} .. custom {"i": E-1},
    values {"n": E, "count": E}, end

with SSE ids 0, 1, 2, ... once each, and then that its run is ``success``. The figures
(one JSON line on stdout, appended to ``--out``): total time, runs/s, events/s, time to
first event and run latency (p50 / p99), CPU seconds and peak RSS of every rillet
process (``VmRSS`` sampled every 20 ms, and the kernel's ``VmHWM``), RSS growth per
stream (the sum over the rillet processes of peak - before, / clients).

    PYTHONPATH=src .venv/bin/python bench/scale_load.py                 # 1,000 clients
    PYTHONPATH=src .venv/bin/python bench/scale_load.py --clients 200 --events 5
    ... --database postgresql://... --redis redis://...                 # servers of yours

Exit status 1 when any stream was wrong or any run did not succeed (the first
mismatches are in ``errors`` of the line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
RESULTS = HERE / "results" / "scale"

GRAPH = '''\
from typing import TypedDict

from rillet.config import get_stream_writer
from rillet.graph import START, StateGraph


class State(TypedDict, total=False):
    n: int
    count: int


def emit(state: State) -> dict[str, int]:
    writer = get_stream_writer()
    for i in range(state["n"]):
        writer({"i": i})
    return {"count": state["n"]}


emit_graph = StateGraph(State).add_node("emit", emit).add_edge(START, "emit")
'''

perf = time.perf_counter


def _load(name: str) -> Any:
    """``tests/<name>.py`` by path (this script runs without pytest on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_rillet_{name}", ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None when empty."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))]


def _r(x: Any) -> Any:
    return float(f"{x:.4g}") if isinstance(x, float) else x


# ------------------------------------------------------------------ processes


class Process:
    """One ``rillet serve`` child: its output is read (and kept) until it ends."""

    def __init__(self, name: str, argv: list[str], cwd: Path, ready: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
            env.pop(key, None)
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rillet.cli", "serve", *argv], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        self._marker = ready
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self._marker in line and not self._ready.is_set():
                if " at http://" in line:
                    self.url = line.split(" at ", 1)[1].split()[0]
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} did not start:\n" + "".join(self.lines[-30:]))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextlib.contextmanager
def backing_servers(database: str | None, redis: str | None,
                    ) -> Iterator[tuple[str, str, list[int]]]:
    """(a fresh database's DSN, a Redis URL, the pids of servers started here)."""
    pg_mod, redis_mod = _load("_postgres"), _load("_redis")
    started: list[Any] = []
    pids: list[int] = []
    try:
        if database is None:
            pg = pg_mod.Server()
            started.append(pg)
            database = pg.start()
            pids.append(pg.proc.pid)
        if redis is None:
            rs = redis_mod.RedisServer()
            started.append(rs)
            redis = rs.start()
            pids.append(rs.proc.pid)
        yield pg_mod.fresh_database(database, "rillet_bench"), redis, pids
    finally:
        for server in reversed(started):
            server.stop()
            server.remove()


class Deployment:
    """``apis`` API processes (each its own port, or one supervisor of ``apis``
    children sharing a port with ``shared_port``) and ``workers`` worker processes,
    on one database and Redis prefix."""

    def __init__(self, database: str, redis: str, *, apis: int = 2, workers: int = 2,
                 jobs: int = 10, shared_port: bool = False, graphs: str = GRAPH,
                 names: dict[str, str] | None = None, folder: Path | None = None,
                 extra: list[str] | None = None) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="rillet-scale-"))
        (self.folder / "graphs.py").write_text(graphs)
        names = names or {"emit": "emit_graph"}
        config = {"dependencies": ["."],
                  "graphs": {k: f"./graphs.py:{v}" for k, v in names.items()}}
        (self.folder / "langgraph.json").write_text(json.dumps(config))
        prefix = f"rillet-bench-{os.urandom(5).hex()}:"
        common = ["--config", "langgraph.json", "--database", database, "--redis", redis,
                  "--redis-prefix", prefix, "--jobs-per-worker", str(jobs), *(extra or [])]
        self.apis: list[Process] = []
        self.workers: list[Process] = []
        try:
            if shared_port:
                self.apis.append(Process("api", [*common, "--role", "api", "--port", "0",
                                                 "--workers", str(apis)],
                                         self.folder, "rillet: serving"))
            else:
                for i in range(apis):
                    self.apis.append(Process(f"api{i}", [*common, "--role", "api", "--port", "0"],
                                             self.folder, "rillet: serving"))
            for i in range(workers):
                self.workers.append(Process(f"worker{i}", [*common, "--role", "worker"],
                                            self.folder, "rillet: worker process"))
            for p in self.processes:
                p.wait_ready(60)
        except BaseException:
            self.stop()
            raise

    @property
    def processes(self) -> list[Process]:
        return [*self.apis, *self.workers]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.apis if p.url]

    def stop(self) -> None:
        for p in self.processes:
            if p.proc.poll() is None:
                p.proc.terminate()
        for p in self.processes:
            p.stop()


# ------------------------------------------------------------------ /proc


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
    return out


def status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """VmRSS of each named process tree, sampled every ``interval`` s; the peaks."""

    def __init__(self, named: dict[str, int], interval: float = 0.02) -> None:
        self.trees = {name: tree(pid) for name, pid in named.items()}
        self.before = {n: sum(status_kib(p, "VmRSS") for p in t) for n, t in self.trees.items()}
        self.peak = dict(self.before)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pids in self.trees.items():
                rss = sum(status_kib(p, "VmRSS") for p in pids)
                if rss > self.peak[name]:
                    self.peak[name] = rss

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------ clients


def expected(n: int) -> list[tuple[str, Any]]:
    return [("values", {"n": n}), *[("custom", {"i": i}) for i in range(n)],
            ("values", {"n": n, "count": n}), ("end", None)]


async def stream_one(client: Any, thread_id: str, n: int, t0: float) -> dict[str, Any]:
    """One client's stream on its thread: its events, ids and timings."""
    start = perf()
    first: float | None = None
    parts: list[tuple[str, Any, str | None]] = []
    async for part in client.runs.stream(thread_id, "emit", input={"n": n},
                                         stream_mode=["custom", "values"]):
        if first is None:
            first = perf()
        parts.append((part.event, part.data, part.id))
    end = perf()
    return {"thread_id": thread_id, "parts": parts, "start": start - t0,
            "first": (first or end) - start, "latency": end - start}


def check(result: dict[str, Any], n: int) -> str | None:
    """What is wrong with one client's stream, or None."""
    parts = result["parts"]
    if not parts or parts[0][0] != "metadata" or "run_id" not in parts[0][1]:
        return f"no metadata event first: {parts[:1]}"
    got = [(event, data) for event, data, _ in parts[1:]]
    if got != expected(n):
        wrong = next((i for i, (a, b) in enumerate(zip(got, expected(n), strict=False)) if a != b),
                     min(len(got), n + 3))
        return f"events differ at {wrong} (got {len(got)}, expected {n + 3}): " \
            f"{got[wrong:wrong + 2]}"
    ids = [part_id for _, _, part_id in parts]
    if ids != [str(i) for i in range(len(parts))]:
        return f"ids are not 0..{len(parts) - 1} once each: {ids[:5]}..."
    return None


async def load(urls: list[str], clients: int, n: int) -> dict[str, Any]:
    """``clients`` streams at once, round-robin over ``urls``; then each run's status."""
    from langgraph_sdk import get_client

    per_sdk = 100  # one SDK client (httpx pool of 100 connections) per 100 streams
    sdks = [get_client(url=urls[i % len(urls)], api_key=None,
                       timeout=(60.0, 300.0, 300.0, 600.0))
            for i in range(max(len(urls), math.ceil(clients / per_sdk)))]
    # stream i goes to SDK client i % len(sdks), i.e. to API process i % len(urls)
    sem = asyncio.Semaphore(50)

    async def bounded(call: Any) -> Any:
        async with sem:
            return await call

    threads = await asyncio.gather(*(bounded(sdks[i % len(sdks)].threads.create())
                                     for i in range(clients)))
    t0 = perf()
    done = await asyncio.gather(*(stream_one(sdks[i % len(sdks)], threads[i]["thread_id"], n, t0)
                                  for i in range(clients)), return_exceptions=True)
    total = perf() - t0
    errors: list[str] = []
    results: list[dict[str, Any]] = []
    for d in done:
        if isinstance(d, BaseException):
            errors.append(f"{type(d).__name__}: {d}"[:300])
        else:
            results.append(d)
            problem = check(d, n)
            if problem:
                errors.append(problem)
    statuses: dict[str, int] = {}

    async def status(i: int, result: dict[str, Any]) -> None:
        parts = result["parts"]
        if not parts or parts[0][0] != "metadata":
            return
        run = await bounded(sdks[i % len(sdks)].runs.get(result["thread_id"],
                                                         parts[0][1]["run_id"]))
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1

    got = await asyncio.gather(*(status(i, r) for i, r in enumerate(results)),
                               return_exceptions=True)
    status_errors = [f"{type(g).__name__}: {g}"[:200] for g in got if isinstance(g, BaseException)]
    for sdk in sdks:
        await sdk.http.client.aclose()
    events = sum(len(r["parts"]) for r in results)
    firsts = [r["first"] for r in results]
    lats = [r["latency"] for r in results]
    return {"total_s": total, "ok_streams": len(results) - sum(1 for r in results if check(r, n)),
            "events_received": events, "events_expected": clients * (n + 4),
            "runs_per_s": clients / total, "events_per_s": events / total,
            "first_event_p50_s": pct(firsts, 50), "first_event_p99_s": pct(firsts, 99),
            "latency_p50_s": pct(lats, 50), "latency_p99_s": pct(lats, 99),
            "latency_max_s": max(lats) if lats else None,
            "statuses": statuses, "status_errors": status_errors[:5],
            "errors": len(errors), "error_sample": errors[:5]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, load it, stop everything; the figures."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * args.clients + 1024))
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    wall0 = perf()
    with backing_servers(args.database, args.redis) as (database, redis, backing):
        deploy = Deployment(database, redis, apis=args.apis, workers=args.workers,
                            jobs=args.jobs_per_worker)
        try:
            named = {p.name: p.pid for p in deploy.processes}
            cpu0 = {name: cpu_s(tree(pid)) for name, pid in named.items()}
            backing_cpu0 = cpu_s([q for p in backing for q in tree(p)])
            with RssSampler(named) as rss:
                figures = asyncio.run(asyncio.wait_for(
                    load(deploy.urls, args.clients, args.events), args.timeout))
            cpu = {name: cpu_s(tree(pid)) - cpu0[name] for name, pid in named.items()}
            backing_cpu = cpu_s([q for p in backing for q in tree(p)]) - backing_cpu0
            hwm = {name: sum(status_kib(q, "VmHWM") for q in tree(pid))
                   for name, pid in named.items()}
            dead = {p.name: p.proc.returncode for p in deploy.processes
                    if p.proc.poll() is not None}
        finally:
            deploy.stop()
    growth = sum(rss.peak[n] - rss.before[n] for n in named)
    record = {
        "workload": "scale-load", "impl": "rillet-scaled", "date":
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "clients": args.clients, "events_per_run": args.events, "apis": args.apis,
        "workers": args.workers, "jobs_per_worker": args.jobs_per_worker,
        "own_backing_servers": bool(backing), "nproc": os.cpu_count(), **figures,
        "rss_before_mib": {n: v / 1024 for n, v in rss.before.items()},
        "rss_peak_mib": {n: v / 1024 for n, v in rss.peak.items()},
        "vmhwm_mib": {n: v / 1024 for n, v in hwm.items()},
        "rss_growth_mib": growth / 1024, "rss_kib_per_stream": growth / args.clients,
        "cpu_s": cpu, "postgres_redis_cpu_s": backing_cpu if backing else None,
        "processes_died": dead, "wall_s": perf() - wall0,
    }
    if dead:
        record["errors"] += 1
        record["error_sample"].append(f"processes died: {dead}")
    bad = {s: c for s, c in record["statuses"].items() if s != "success"}
    if bad or record["status_errors"] or sum(record["statuses"].values()) != args.clients:
        record["errors"] += 1
        record["error_sample"].append(f"run statuses {record['statuses']} "
                                      f"{record['status_errors']}")
    if record["errors"]:  # what the processes said (at --log-level warning: only trouble)
        record["log_sample"] = {p.name: [line.rstrip() for line in p.lines[1:]][-20:]
                                for p in deploy.processes}
    return {k: ({kk: _r(vv) for kk, vv in v.items()} if isinstance(v, dict) else _r(v))
            for k, v in record.items()}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000, help="concurrent streams (1000)")
    ap.add_argument("--events", type=int, default=20, help="custom events per run (20)")
    ap.add_argument("--apis", type=int, default=2, help="API processes (2)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    ap.add_argument("--jobs-per-worker", type=int, default=10, help="runs a worker executes "
                    "at once (10, rillet serve's default)")
    ap.add_argument("--database", help="a PostgreSQL DSN whose role may CREATE DATABASE "
                    "(default: start one)")
    ap.add_argument("--redis", help="a Redis URL (default: start one)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for the load (300)")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    ap.add_argument("--out", default=str(RESULTS / f"load-{day}.jsonl"),
                    help="append the JSON line here (default bench/results/scale/load-DATE.jsonl; "
                    "'-' for none)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    record = run(args)
    line = json.dumps(record)
    print(line, flush=True)
    if args.out != "-":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as f:
            f.write(line + "\n")
    return 1 if record["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
