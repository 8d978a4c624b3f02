#!/usr/bin/env python3
"""The shared server benchmark (``../shared/bench/server/server_bench.py``) against the
scaled deployment, or the embedded server, started from this checkout's ``src``.

``--mode scaled``: PostgreSQL and Redis (started here by ``tests/_postgres.py`` /
``tests/_redis.py`` unless ``--database`` / ``--redis`` are given; a fresh database and
Redis prefix per suite), then under one ``sh`` (so server_bench's ``--pid`` sees all
of them as one process tree)::

    rillet serve --role api --workers 2 --port P ...   # 2 API processes sharing port P
    rillet serve --role worker --workers N ...         # N worker processes

(each ``--workers`` adds a supervisor process when N > 1). server_bench gets the one URL
``http://127.0.0.1:P``; the kernel spreads its connections over the two API processes.
The RSS and CPU it reports are those of the whole tree (supervisors included),
PostgreSQL and Redis not included: their CPU over each suite goes into an extra line
(``workload: backing-cpu``).

``--mode embedded``: ``rillet serve --data-dir DIR`` (one process, SQLite), as
``run_rillet.sh`` starts it.

    PYTHONPATH=src .venv/bin/python bench/scale_server.py --mode scaled --workers 2
    PYTHONPATH=src .venv/bin/python bench/scale_server.py --mode embedded -- --only runs-wait
    # arguments after -- go to server_bench.py; --suites S, --out FILE (appended)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale_load import ROOT, SRC, backing_servers, cpu_s, tree  # noqa: E402

SHARED = Path(os.environ.get("SHARED_BENCH", ROOT.parent / "shared" / "bench" / "server"))
if not SHARED.exists():  # a worktree beside /work/main
    SHARED = Path("/work/shared/bench/server")


class Group:
    """``sh -c 'A & B & wait'``: the deployment's processes under one pid; ready once
    the expected number of each readiness line has been printed."""

    def __init__(self, commands: list[list[str]], cwd: Path, ready: dict[str, int]) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
            env.pop(key, None)
        script = " ".join(f"{shlex.join(c)} &" for c in commands) + " wait"
        self.proc = subprocess.Popen(["sh", "-c", script], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.url: str | None = None
        self._want = dict(ready)
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            for marker in self._want:
                if marker in line:
                    self._want[marker] -= 1
                    if " at http://" in line:
                        self.url = line.split(" at ", 1)[1].split()[0]
            if all(v <= 0 for v in self._want.values()):
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("the deployment did not start:\n" + "".join(self.lines[-30:]))

    def stop(self) -> None:
        children = [p for p in tree(self.proc.pid) if p != self.proc.pid]
        direct = []
        for p in children:
            with contextlib.suppress(OSError), open(f"/proc/{p}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    direct.append(p)
        for p in direct:  # the supervisors (or single processes): each stops its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, 15)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            for p in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, 9)
            self.proc.wait(10)


def serve(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "rillet.cli", "serve", "--config", "rillet.langgraph.json",
            "--host", "127.0.0.1", *args]


def suite(mode: str, workers: int, apis: int, database: str | None, redis: str | None,
          bench_args: list[str], out: str, impl: str, backing: list[int]) -> int:
    folder = Path(tempfile.mkdtemp(prefix="rillet-scale-bench-"))
    for name in ("graphs_rillet.py", "rillet.langgraph.json"):
        (folder / name).write_text((SHARED / name).read_text())
    if mode == "embedded":
        group = Group([serve(["--port", "0", "--data-dir", str(folder / "data")])], folder,
                      {"rillet: serving": 1})
    else:
        common = ["--database", database or "", "--redis", redis or "", "--redis-prefix",
                  f"rillet-bench-{os.urandom(5).hex()}:"]
        group = Group([serve([*common, "--role", "api", "--workers", str(apis), "--port", "0"]),
                       serve([*common, "--role", "worker", "--workers", str(workers)])],
                      folder, {"rillet: serving": apis, "rillet: worker process": workers})
    group.wait_ready(90)
    backing_pids = [q for p in backing for q in tree(p)]
    cpu0, t0 = cpu_s(backing_pids), time.time()
    try:
        status = subprocess.call([sys.executable, str(SHARED / "server_bench.py"), "--url",
                                  group.url or "", "--pid", str(group.proc.pid), "--impl", impl,
                                  "--out", out, *bench_args])
    finally:
        group.stop()
    if backing:
        with open(out, "a") as f:
            f.write(json.dumps({"workload": "backing-cpu", "impl": impl,
                                "postgres_redis_cpu_s": round(cpu_s(backing_pids) - cpu0, 3),
                                "wall_s": round(time.time() - t0, 3)}) + "\n")
    return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["scaled", "embedded"], default="scaled")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (scaled; 2)")
    ap.add_argument("--apis", type=int, default=2, help="API processes on the port (scaled; 2)")
    ap.add_argument("--suites", type=int, default=1)
    ap.add_argument("--database", help="a PostgreSQL DSN with CREATEDB (default: start one)")
    ap.add_argument("--redis", help="a Redis URL (default: start one)")
    ap.add_argument("--impl", help="the label (default rillet-embedded / rillet-scaled-Nw)")
    ap.add_argument("--out", help="append the JSON lines here (default "
                    "bench/results/scale/server-DATE.jsonl)")
    ap.add_argument("bench_args", nargs="*", help="after --: server_bench.py arguments")
    args = ap.parse_args()
    impl = args.impl or ("rillet-embedded" if args.mode == "embedded"
                         else f"rillet-scaled-{args.workers}w")
    out = args.out or str(HERE / "results" / "scale" /
                          f"server-{time.strftime('%Y-%m-%d', time.gmtime())}.jsonl")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    status = 0
    for _ in range(args.suites):
        if args.mode == "embedded":
            status |= suite("embedded", 0, 0, None, None, args.bench_args, out, impl, [])
            continue
        with backing_servers(args.database, args.redis) as (database, redis, backing):
            status |= suite("scaled", args.workers, args.apis, database, redis,
                            args.bench_args, out, impl, backing)
    return status


if __name__ == "__main__":
    sys.exit(main())
