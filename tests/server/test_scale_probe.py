"""A hostile probe of the scaled deployment: what an unlucky operator or a hostile client
does to API processes and workers on PostgreSQL and Redis (stalled workers, a log that
cannot be written, storms of runs and cancels on one thread, workers killed again and
again).

Each test starts its own processes with 2 s leases (``test_scale_out.Deployment``);
timing is by handshake (the ``gated`` graph's ``calls`` file and ``go`` gate, the
processes' log lines), every wait bounded.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client

from tests.server.conftest import WORKER_READY, RunningServer, scaled_args
from tests.server.test_restart import Streamer, _calls, _expected, _scrub
from tests.server.test_scale_out import Deployment

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.filterwarnings("ignore:Request failed, attempting reconnect")]


@pytest.fixture
def deployment(tmp_path: Path, postgres_dsn: str, redis_url: str) -> Any:
    deployed = Deployment(tmp_path, scaled_args(postgres_dsn, redis_url))
    yield deployed
    deployed.stop()


def _until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait (bounded) until ``check()`` is true."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        pause.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _said(process: RunningServer, text: str) -> bool:
    return any(text in line for line in process.output)


def _prefix(deployment: Deployment) -> str:
    return deployment.args[deployment.args.index("--redis-prefix") + 1]


def _redis_url(deployment: Deployment) -> str:
    return deployment.args[deployment.args.index("--redis") + 1]


def _log_entries(deployment: Deployment, run_id: str) -> list[tuple[str, str]]:
    """The run's Redis stream as stored: ``(entry id, event name)``."""
    import redis

    client = redis.Redis.from_url(_redis_url(deployment))
    try:
        entries = client.xrange(f"{_prefix(deployment)}log:{run_id}")
    finally:
        client.close()
    return [(i.decode(), f[b"e"].decode()) for i, f in entries]


def _db_row(deployment: Deployment, run_id: str) -> tuple[Any, ...]:
    import psycopg

    dsn = deployment.args[deployment.args.index("--database") + 1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT status, attempt, worker FROM rillet_server_runs "
                           "WHERE run_id = %s", (run_id,)).fetchone()
    assert row is not None
    return tuple(row)


# ---------------------------------------------------------------- a stalled worker
def test_a_worker_stalled_past_its_lease_changes_nothing_when_it_wakes(
        deployment: Deployment) -> None:
    """SIGSTOP a worker in the middle of ``b`` until another worker has taken the run
    over and finished it, then SIGCONT it: the stalled worker must abandon the run
    without a trace. Its node's step must not be saved over the finished thread (the
    thread's state stays the end state), nothing it emitted may land in the log after
    the run's ``end``, and it must not run ``c``."""
    folder = deployment.folder
    api = deployment.api()
    stalled = deployment._start("--role", "worker", "--log-level", "info",
                                ready=WORKER_READY)
    client = get_sync_client(url=api.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(api.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    stalled.process.send_signal(signal.SIGSTOP)
    try:
        deployment.worker()  # takes the run over once the stalled lease has run out
        _until(lambda: _calls(folder) == ["a", "b", "b"], "the takeover's b")
        (folder / "go").touch()
        seen = streamer.finish()
    finally:
        stalled.process.send_signal(signal.SIGCONT)
    run_id = seen[0].data["run_id"]
    assert _scrub(seen, run_id) == _expected(folder)
    _until(lambda: _said(stalled, f"run {run_id} graph=gated status="),
           "the stalled run's task to stop")
    assert _calls(folder) == ["a", "b", "b", "c"]
    state = client.threads.get_state(thread_id)
    assert (state["values"], state["next"]) == ({"dir": str(folder), "x": 15}, [])
    history = client.threads.get_history(thread_id, limit=100)
    assert [(h["values"].get("x"), h["metadata"]["run_attempt"]) for h in history] == [
        (15, 2), (10, 2), (1, 1), (0, 1), (None, 1)]
    entries = _log_entries(deployment, run_id)
    assert [name for _, name in entries] == [event for event, _ in _expected(folder)]
    assert [i for i, _ in entries] == [f"0-{n}" for n in range(1, len(entries) + 1)]
    assert client.runs.get(thread_id, run_id)["status"] == "success"


# ---------------------------------------------------------------- a log it cannot write
def test_a_log_redis_refuses_ends_the_run_instead_of_a_claim_loop(
        deployment: Deployment) -> None:
    """An entry in the run's stream that is not one of rillet's (a junk id above every
    id rillet writes: someone else's tool, a restore) makes every append fail with a
    Redis error that no retry cures. The run must end (``error``), its stream must end,
    and its attempts must stay within ``--max-attempts``, not be claimed again every
    lease for ever."""
    import redis

    folder = deployment.folder
    server = deployment.both()
    client = get_sync_client(url=server.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    streamer = Streamer(server.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    run_id = streamer.parts[0].data["run_id"]
    r = redis.Redis.from_url(_redis_url(deployment))
    try:
        r.xadd(f"{_prefix(deployment)}log:{run_id}", {"e": "junk", "d": "{}"},
               id="999999-1")
    finally:
        r.close()
    (folder / "go").touch()
    _until(lambda: client.runs.get(thread_id, run_id)["status"] not in ("pending",
                                                                         "running"),
           "the run to end", timeout=40)
    status, attempt, _ = _db_row(deployment, run_id)
    assert (status, attempt <= 3) == ("error", True)
    streamer.thread.join(30)
    assert not streamer.thread.is_alive(), "the stream did not end"


# ---------------------------------------------------------------- attempts used up
def test_a_run_whose_worker_is_killed_every_time_ends_with_attempts_exhausted(
        deployment: Deployment) -> None:
    """kill -9 the worker in ``b`` at each of the 3 attempts; the 4th worker must end
    the run ``error`` with ``RunAttemptsExhausted``, its stream with ``error`` then
    ``end``, and its thread must not stay busy."""
    folder = deployment.folder
    api = deployment.api()
    client = get_sync_client(url=api.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    worker = deployment.worker()
    streamer = Streamer(api.url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    for attempt in (1, 2, 3):
        _until(lambda n=attempt: _calls(folder).count("b") == n, f"b of attempt {attempt}")
        worker.process.kill()
        worker.process.wait(10)
        worker = deployment.worker()
    seen = streamer.finish()
    run_id = seen[0].data["run_id"]
    assert [(p.event, p.data.get("attempt") if p.event == "metadata" else None)
            for p in seen if p.event in ("metadata", "error", "end")] == [
        ("metadata", 1), ("metadata", 2), ("metadata", 3), ("metadata", 4),
        ("error", None), ("end", None)]
    assert seen[-2].data["error"] == "RunAttemptsExhausted"
    run = client.runs.get(thread_id, run_id)
    assert run["status"] == "error"
    assert _calls(folder) == ["a", "b", "b", "b"]
    assert client.threads.get(thread_id)["status"] == "error"
    # the thread takes a new run at once (a reject would be refused by a busy thread)
    again = client.runs.create(thread_id, "chain3", input={"x": 0},
                               multitask_strategy="reject")
    client.runs.join(thread_id, again["run_id"])
    assert client.runs.get(thread_id, again["run_id"])["status"] in ("success", "error")


# ---------------------------------------------------------------- a storm on one thread
STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")


def test_a_storm_of_runs_on_one_thread_with_every_strategy(deployment: Deployment) -> None:
    """40 clients at once, 10 per multitask strategy, stream runs of ``slow`` on ONE
    thread through 2 API processes executed by 2 workers: every answer is a stream or a
    409 (never a 5xx), every stream ends with ``end`` or ``error``, and at the end no run
    is left pending or running and the thread is idle."""
    apis = [deployment.api(), deployment.api()]
    deployment.worker()
    deployment.worker()
    sync = get_sync_client(url=apis[0].url, api_key=None)
    thread_id = sync.threads.create()["thread_id"]
    outcomes: list[tuple[str, str]] = []

    async def one(i: int) -> None:
        strategy = STRATEGIES[i % 4]
        client = get_client(url=apis[i % 2].url, api_key=None)
        last = None
        try:
            async for part in client.runs.stream(
                    thread_id, "slow", input={"x": i, "seconds": 0.05},
                    stream_mode="values", multitask_strategy=strategy):
                last = part.event
            outcomes.append((strategy, str(last)))
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            outcomes.append((strategy, f"{status}: {exc!r}"[:200]))

    async def storm() -> None:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(40))), 120)

    asyncio.run(storm())
    assert len(outcomes) == 40
    odd = [o for o in outcomes if o[1] not in ("end", "error")
           and not (o[0] == "reject" and o[1].startswith("409: "))]
    assert odd == [], odd
    _until(lambda: all(r["status"] not in ("pending", "running")
                       for r in sync.runs.list(thread_id, limit=100)),
           "every run of the thread to end")
    assert sync.threads.get(thread_id)["status"] == "idle"


def test_rejects_racing_at_two_api_processes_are_all_refused(
        deployment: Deployment) -> None:
    """While a run of the thread is running, 20 ``reject`` runs sent at once through
    2 API processes must all be refused with 409: none may slip in behind it."""
    apis = [deployment.api(), deployment.api()]
    deployment.worker()
    folder = deployment.folder
    sync = get_sync_client(url=apis[0].url, api_key=None)
    thread_id = sync.threads.create()["thread_id"]
    streamer = Streamer(apis[0].url, thread_id, folder)
    assert streamer.waiting.wait(30), streamer.error
    answers: list[str] = []

    async def one(i: int) -> None:
        client = get_client(url=apis[i % 2].url, api_key=None)
        try:
            await client.runs.create(thread_id, "chain3", input={"x": i},
                                     multitask_strategy="reject")
            answers.append("created")
        except Exception as exc:
            answers.append(str(getattr(getattr(exc, "response", None), "status_code", exc)))

    async def race() -> None:
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(20))), 60)

    asyncio.run(race())
    (folder / "go").touch()
    streamer.finish()
    assert sorted(answers) == ["409"] * 20
    assert len(sync.runs.list(thread_id, limit=100)) == 1


# ---------------------------------------------------------------- a cold start
def test_four_processes_start_at_once_on_an_empty_database(
        deployment: Deployment) -> None:
    """2 API processes and 2 workers started at the same moment on a new database (the
    migrations race): all start, and a run goes through."""
    started: list[RunningServer] = []
    errors: list[BaseException] = []

    def start(kind: Callable[[], RunningServer]) -> None:
        try:
            started.append(kind())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(k,)) for k in (
        deployment.api, deployment.api, deployment.worker, deployment.worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(started) == 4, errors
    api = next(s for s in started if s.url.startswith("http"))
    client = get_sync_client(url=api.url, api_key=None)
    assert client.runs.wait(None, "chain3", input={"x": 0}) == {"x": 3}
