"""Runs across processes: PostgreSQL holds them and their queue, Redis their logs and signals.

In a scaled deployment (``rillet serve --database postgresql://... --redis redis://...``)
API processes answer clients and worker processes execute runs; any process may be
both (``--role all``). Nothing about a run lives in one process only:

- **The queue** is the runs table. An API process stores a run ``pending`` and signals
  ``queued``; a worker with a free job slot *claims* one: the oldest run that is the
  oldest unfinished run of its thread (so runs of a thread go one at a time, in order),
  ``pending`` and due (``after_seconds``), or ``running`` with an expired lease (its
  worker died). The claim locks the run's row ``FOR UPDATE SKIP LOCKED`` and its thread
  with a transaction-scoped advisory lock (two workers never take two runs of one
  thread; a unique index on running runs per thread backs that up), and sets the
  run ``running`` under the worker's *lease*, which the worker renews every third of
  the lease time.
- **A takeover**: a worker that dies (kill -9, a lost machine) stops renewing; once its
  lease has expired the next claim takes the run as its next attempt (``attempt`` + 1,
  at most ``max_attempts``, then the run fails with ``RunAttemptsExhausted``), resumed
  as a restarted embedded server resumes it: from the thread's last checkpoint when the
  run had saved one (the steps it finished do not run again; the step that was cut does).
  A worker that finds, at renewal, that it no longer owns a run (its lease ran out while
  it was stalled, and another worker took it) abandons it without recording anything;
  until then the run's *fence* (``_fence``) keeps it from writing anything once the
  worker's own clock says the lease it last confirmed has run out.
- **Graceful drain** (SIGTERM, Ctrl-C): a worker stops claiming, lets each running run
  go on to its next checkpoint (``--drain-timeout``), then hands them back (lease
  expired at once), so another worker continues them right away.
- **Event logs** are in Redis (``_redis``); any API process follows any run's log, so a
  client may reconnect anywhere with ``Last-Event-ID``.
- **Cancel** marks the run in the database and signals ``cancel``; the worker running it
  stops it (a worker that missed the signal sees the mark at its next renewal). A run
  cancelled while pending is ended by the API process itself.

When PostgreSQL is away, requests answer 503 (``_app``) and workers keep retrying their
claims and renewals; a run whose checkpoint could not be saved is left to its lease and
taken again later, from its last saved checkpoint. When Redis is away, appends and reads
retry (``RedisBus.retry_for``); signals are lost but every waiter polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from rillet.graph import CompiledStateGraph
from rillet.server import _json
from rillet.server._fence import FENCE, LeaseLost
from rillet.server._redis import TRANSIENT as REDIS_TRANSIENT
from rillet.server._redis import RedisBus, StaleAttempt
from rillet.server._runs import RunManager, RunSpec, ServerStopping
from rillet.server._time import now as stamp
from rillet.server.storage import Event, Storage

__all__ = ["ClusterRuns", "Worker", "transient"]

log = logging.getLogger("rillet.server")

#: Statuses of a run that has not ended.
_UNFINISHED = ("pending", "running")
_RUNS = "rillet_server_runs"
#: Seconds a follower waits for the ``end`` event of a run recorded as ended.
_END_GRACE = 5.0


def _pg_transient() -> tuple[type[BaseException], ...]:
    import psycopg
    from psycopg_pool import PoolTimeout

    return (psycopg.OperationalError, PoolTimeout)


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` comes from PostgreSQL or Redis being away for a while (the run
    may go on later, the request may be retried), rather than from the run or request;
    or from this process's attempt of a run being stale (another worker owns it now: it
    stops without recording anything)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    kinds = (*_pg_transient(), *REDIS_TRANSIENT, StaleAttempt, LeaseLost)
    while error is not None and id(error) not in seen:
        if isinstance(error, kinds):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _thread_key(thread_id: str) -> str:
    return f"rillet-thread:{thread_id}"


#: A worker's claim, one statement: up to ``n`` runs that are due (pending and past
#: their ``start_at``, or running under a lease that expired) and the oldest unfinished
#: run of their thread (so a thread's runs go one at a time, in order), not already
#: here (``mine``), taken ``running`` under this worker's lease; the previous status
#: and the attempt (the next one when taken from a lost worker). The candidates are
#: a few rows first, so that the thread's advisory lock (which :meth:`ClusterRuns.holding`
#: holds while it rolls runs back) is tried on them only; a locked row is skipped.
_CLAIM = f"""
WITH candidates AS MATERIALIZED (
    SELECT r.run_id, r.thread_id FROM {_RUNS} AS r
    WHERE ((r.status = 'pending' AND (r.start_at IS NULL OR r.start_at <= %(now)s))
           OR (r.status = 'running' AND r.lease_until < %(now)s))
      AND r.run_id <> ALL(%(mine)s::text[])
      AND NOT EXISTS (SELECT 1 FROM {_RUNS} AS o WHERE o.thread_id = r.thread_id
                      AND o.status IN ('pending', 'running') AND o.seq < r.seq)
    ORDER BY r.seq LIMIT 32),
due AS (
    SELECT r.run_id, r.status FROM {_RUNS} AS r JOIN candidates AS c USING (run_id)
    WHERE ((r.status = 'pending' AND (r.start_at IS NULL OR r.start_at <= %(now)s))
           OR (r.status = 'running' AND r.lease_until < %(now)s))
      AND pg_try_advisory_xact_lock(hashtextextended('rillet-thread:' || c.thread_id, 0))
    ORDER BY r.seq LIMIT %(n)s
    FOR UPDATE OF r SKIP LOCKED)
UPDATE {_RUNS} AS t SET status = 'running', attempt = t.attempt + (due.status = 'running')::int,
    worker = %(worker)s, lease_until = %(until)s
FROM due WHERE t.run_id = due.run_id
RETURNING t.run_id, due.status, t.attempt, t.cancel, t.data"""


class ClusterRuns:
    """The run manager of an API process (the interface the routes use, as
    :class:`RunManager`'s), for runs that workers anywhere execute."""

    def __init__(self, storage: Storage, bus: RedisBus, graphs: dict[str, CompiledStateGraph],
                 saver: Any = None, *, log_ttl: float = 3600.0, lease: float = 30.0,
                 clock: Callable[[], float] = time.time, poll: float = 1.0) -> None:
        self.storage, self.bus, self.graphs = storage, bus, graphs
        self.log_ttl, self.lease, self.clock, self.poll = log_ttl, lease, clock, poll
        # ends runs cancelled before a worker took them (its log, output, thread state)
        self.local = RunManager(storage, saver, log_ttl=log_ttl, clock=clock)
        self._draining = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def pool(self) -> Any:
        return self.storage.pool  # type: ignore[attr-defined]

    @property
    def draining(self) -> bool:
        return self._draining

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def thread_busy(self, thread_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT 1 FROM {_RUNS} WHERE thread_id = %s AND status IN "
                "('pending', 'running') LIMIT 1", (thread_id,))
            return await cur.fetchone() is not None

    def start(self, spec: RunSpec) -> None:
        """The run is stored ``pending``: tell the workers."""
        self._spawn(self.bus.signal("queued", spec.run_id))

    async def _unfinished(self, thread_ids: list[str]) -> list[str]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT run_id FROM {_RUNS} WHERE thread_id = ANY(%s) AND status IN "
                "('pending', 'running') ORDER BY seq", (thread_ids,))
            return [row[0] for row in await cur.fetchall()]

    async def cancel(self, run_id: str) -> bool:
        """Stop a pending or running run wherever it is; ``False`` if it has ended."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE {_RUNS} SET cancel = 'interrupt' WHERE run_id = %s AND status IN "
                "('pending', 'running') RETURNING status", (run_id,))
            row = await cur.fetchone()
            if row is None:
                return False
            taken = None
            if row[0] == "pending":  # no worker has it: end it here
                cur = await conn.execute(
                    f"UPDATE {_RUNS} SET status = 'interrupted' WHERE run_id = %s AND "
                    "status = 'pending' RETURNING run_id", (run_id,))
                taken = await cur.fetchone()
        if taken is not None:
            record = await self.storage.get_run(run_id)
            if record is not None:
                spec = await self.local._resumed_spec({**record, "status": "pending"},
                                                      self.graphs)
                await self.local.end_unstarted(spec)
            return True
        await self.bus.signal("cancel", run_id)
        return True

    async def cancel_thread(self, thread_id: str) -> None:
        run_ids = await self._unfinished([thread_id])
        for run_id in run_ids:
            await self.cancel(run_id)
        for run_id in run_ids:
            await self.wait(run_id)

    @contextlib.asynccontextmanager
    async def holding(self, thread_ids: list[str], cancel: list[str] | None = None,
                      ) -> AsyncIterator[list[str]]:
        """As :meth:`RunManager.holding`: no worker claims a run of these threads until
        the block ends (a session advisory lock per thread, which claims try for)."""
        threads = sorted(set(thread_ids))
        async with self.pool.connection() as conn:  # autocommit: session locks
            try:
                for thread_id in threads:
                    await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                                       (_thread_key(thread_id),))
                if cancel is None:  # after the locks: a claim before them is visible now
                    cancel = await self._unfinished(threads)
                for run_id in cancel:
                    await self.cancel(run_id)
                for run_id in cancel:
                    await self.wait(run_id)
                yield cancel
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock_all()")

    async def wait(self, run_id: str) -> None:
        """Return once the run has ended (or is gone): its log's last event is ``end``
        (which comes after its outcome is stored), read at the ``ended`` signal, or
        without one after ``poll`` seconds, then twice that, up to 5 polls (what a lost
        signal costs); or its record says so, read every 5 polls (a record costs more
        than a log's tail: 500 runs waiting in the queue would read 500 a second), and
        at once at the start and when an ``ended`` signal finds no ``end`` (the run was
        deleted: a rollback ran meanwhile)."""
        loop = asyncio.get_running_loop()
        # ``woken`` at first: a run deleted before this wait began sends no signal
        checked, pause, woken = loop.time(), self.poll, True
        while not self._draining:
            ended = self.bus.ended(run_id)
            try:
                if await self.bus.last(run_id) == "end":
                    return
            except Exception as exc:
                if not transient(exc):
                    raise
            if not woken:
                try:
                    await asyncio.wait_for(asyncio.shield(ended), pause)
                    woken = True  # and no ``end`` next: its log was deleted, read the record
                    continue
                except TimeoutError:
                    pause = min(pause * 2, 5 * self.poll)
                if loop.time() - checked < 5 * self.poll:
                    continue
            woken, checked = False, loop.time()
            try:
                run = await self.storage.get_run(run_id)
                if run is None or run["status"] not in _UNFINISHED:
                    return
            except Exception as exc:
                if not transient(exc):
                    raise

    async def follow(self, run_id: str, after: int = -1, *,
                     idle: float | None = None) -> AsyncIterator[list[Event]]:
        """As :meth:`RunManager.follow`, reading the run's log wherever it was written: on
        each ``wake`` signal, and every ``poll`` seconds (to see a run that ended with a
        lost signal), and its record every 5 polls (deleted? ended with its log gone?).
        Through an outage it waits."""
        loop = asyncio.get_running_loop()
        quiet_since = checked = loop.time()
        last = None
        ended_seen: float | None = None  # when a poll first found the run ended, no end
        while True:
            if self._draining and last != "end":
                raise ServerStopping(run_id)
            changed = self.bus.changed(run_id)
            try:
                events = await self.storage.read_events(run_id, after)
            except Exception as exc:
                if not transient(exc):
                    raise
                events = []
            if events:
                after, last = events[-1].seq, events[-1].event
                yield events
                quiet_since = loop.time()
                if last == "end":
                    return
                continue
            timeout = self.poll
            if idle is not None:
                timeout = min(timeout, max(quiet_since + idle - loop.time(), 0.0))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(changed), timeout)
                continue
            if idle is not None and loop.time() - quiet_since >= idle:
                yield []
                quiet_since = loop.time()
            if loop.time() - checked < 5 * self.poll:  # the log says more, and costs less
                continue
            checked = loop.time()
            try:
                run = await self.storage.get_run(run_id)
            except Exception as exc:
                if not transient(exc):
                    raise
                continue
            if run is None:
                yield [Event(after + 1, "error", _json.dumps({
                    "error": "RunDeleted", "message": f"run {run_id} was deleted before it "
                    "ended (rolled back by a later run, or its thread deleted)"}))]
                return
            if run["status"] not in _UNFINISHED:
                tail = await self.storage.read_events(run_id, after)
                if not tail:
                    # Its worker records the status, then appends ``end``: wait for that
                    # a while; no ``end`` by then, its log is gone (swept) or its worker
                    # died in between.
                    ended_seen = loop.time() if ended_seen is None else ended_seen
                    if loop.time() - ended_seen < _END_GRACE:
                        continue
                    return
                after, last = tail[-1].seq, tail[-1].event
                yield tail
                if last == "end":
                    return

    async def drain(self) -> None:
        """This API process stops: its streams are cut (the clients reconnect to another)."""
        self._draining = True
        self.bus._wake_all()
        for task in list(self._tasks):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 1.0)

    aclose = drain

    async def recover(self, graphs: dict[str, CompiledStateGraph]) -> int:
        """Nothing to do here: workers take the runs a stopped process left."""
        return 0

    async def sweep_logs(self) -> int:
        return await self.local.sweep_logs()

    def sweep_interval(self) -> float:
        return self.local.sweep_interval()

    async def sweep_forever(self, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        await self.local.sweep_forever(sleep)


class Worker:
    """Claims runs from the queue and executes them (see the module doc).

    ``jobs`` runs at most at once; ``lease`` seconds of ownership, renewed every third of
    it; ``poll`` seconds between claims when no ``queued`` signal comes.
    """

    def __init__(self, storage: Storage, bus: RedisBus, graphs: dict[str, CompiledStateGraph],
                 saver: Any = None, *, jobs: int = 10, lease: float = 30.0,
                 max_attempts: int = 3, drain_timeout: float = 10.0, log_ttl: float = 3600.0,
                 poll: float = 1.0, clock: Callable[[], float] = time.time,
                 worker_id: str | None = None) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs!r}")
        if not lease > 0:
            raise ValueError(f"lease must be a number of seconds > 0, got {lease!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self.storage, self.bus, self.graphs = storage, bus, graphs
        self.jobs, self.lease, self.max_attempts, self.poll = jobs, lease, max_attempts, poll
        self.clock = clock
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.runs = RunManager(storage, saver, log_ttl=log_ttl, drain_timeout=drain_timeout,
                               clock=clock, max_running=jobs, retryable=transient)
        self._active: dict[str, str] = {}  # run id -> thread id, runs executing here
        # run id -> until when (time.monotonic()) its lease is surely ours: its fence
        self._held_until: dict[str, float] = {}
        self._cancels: set[str] = set()  # cancel signals for runs being claimed
        self._stateless: set[str] = set()  # runs executing here whose thread is their own
        self._kick = asyncio.Event()
        # whether the last claim may have left due runs behind (it filled every free
        # slot): a run's end then claims again; else only a ``queued`` signal does
        self._more = True
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> Any:
        return self.storage.pool  # type: ignore[attr-defined]

    def start(self) -> None:
        """Start claiming and renewing in the background (until :meth:`stop`)."""
        self.bus.handlers["queued"] = lambda _run_id: self._kick.set()
        self.bus.handlers["cancel"] = self._on_cancel
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._claim_forever()),
                       loop.create_task(self._renew_forever())]

    def _on_cancel(self, run_id: str) -> None:
        self._cancels.add(run_id)
        if run_id in self._active:
            asyncio.get_running_loop().create_task(self.runs.cancel(run_id))

    async def stop(self) -> None:
        """Graceful drain: stop claiming, let the runs reach their next checkpoint
        (``drain_timeout``), then hand them back to the queue."""
        self._stopping = True
        self._kick.set()
        claimer = self._tasks[0] if self._tasks else None
        if claimer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await claimer  # not in the middle of a claim
        await self.runs.drain()
        for task in self._tasks[1:]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    f"UPDATE {_RUNS} SET lease_until = 0, worker = NULL WHERE worker = %s "
                    "AND status = 'running' RETURNING run_id", (self.id,))
                handed = [row[0] for row in await cur.fetchall()]
        except Exception as exc:  # their leases run out instead
            log.warning("worker %s: cannot hand its runs back: %r", self.id, exc)
            return
        for run_id in handed:
            await self.bus.signal("queued", run_id)
        if handed:
            log.warning("worker %s: handed %d run(s) back to the queue", self.id, len(handed))

    # ------------------------------------------------------------ claiming
    async def _claim_forever(self) -> None:
        pause = 0.05
        while not self._stopping:
            self._kick.clear()  # a kick from here on (a signal during the claim) counts
            try:
                claimed = await self.claim()
                pause = 0.05
            except Exception as exc:
                if not transient(exc):
                    log.exception("worker %s: claim failed", self.id)
                else:
                    log.warning("worker %s: cannot claim (%r): retrying", self.id, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.poll)
                continue
            if claimed and self._more:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.poll)

    async def claim(self) -> int:
        """Take up to as many runs from the queue as there are free job slots, and
        start them; how many."""
        free = self.jobs - len(self._active)
        self._more = True
        if free < 1:
            return 0
        now, sent = self.clock(), time.monotonic()
        # pipelined: BEGIN and the claim go at once, the records' update and COMMIT too
        async with self.storage.pipelined() as cur:  # type: ignore[attr-defined]
            await cur.execute(_CLAIM, {"now": now, "mine": list(self._active), "n": free,
                                       "worker": self.id, "until": now + self.lease})
            taken, stored = [], {}
            for run_id, status, attempt, cancel, data in await cur.fetchall():
                record = _json.loads(data)
                taken.append(({**record, "status": status}, status, cancel))
                stored[run_id] = _json.dumps({**record, "status": "running",
                                              "updated_at": stamp(), "_attempt": attempt})
            if stored:  # the record's JSON says so too, as the storage keeps it
                await cur.execute(
                    f"UPDATE {_RUNS} AS r SET data = v.data FROM unnest(%s::text[], "
                    "%s::bytea[]) AS v(run_id, data) WHERE r.run_id = v.run_id",
                    (list(stored), list(stored.values())))
        self._more = len(taken) == free  # else the queue had no more for this worker
        for record, status, cancel in sorted(taken, key=lambda t: t[0]["created_at"]):
            self._held_until[record["run_id"]] = sent + self.lease
            await self._begin(record, status, cancel)
        return len(taken)

    async def _begin(self, record: dict[str, Any], status: str, cancel: str | None) -> None:
        run_id, thread_id = record["run_id"], record["thread_id"]
        spec = await self.runs._resumed_spec(record, self.graphs)
        spec.claimed = True
        if spec.attempt > self.max_attempts:
            spec.refusal = {"error": "RunAttemptsExhausted", "message":
                            f"run {run_id} was started {spec.attempt - 1} times and its "
                            f"worker was lost each time (at most {self.max_attempts} "
                            "attempts)"}
        self._active[run_id] = thread_id
        if spec.temporary:
            self._stateless.add(run_id)
        fenced = FENCE.set(lambda: self._fence(run_id))  # the run's task inherits it
        try:
            self.runs.start(spec, on_done=self._done)
        finally:
            FENCE.reset(fenced)
        if cancel or run_id in self._cancels:
            await self.runs.cancel(run_id)

    def _fence(self, run_id: str) -> None:
        if time.monotonic() >= self._held_until.get(run_id, 0.0):
            raise LeaseLost(f"worker {self.id}: the lease of run {run_id} has run out")

    def _done(self, run_id: str) -> None:
        thread_id = self._active.pop(run_id, None)
        self._held_until.pop(run_id, None)
        self._cancels.discard(run_id)
        if self._more:  # runs may be waiting for a slot here
            self._kick.set()
        stateless = run_id in self._stateless
        self._stateless.discard(run_id)
        if not self._stopping and not stateless and thread_id is not None:
            # the thread's next run may go now, on any worker; outside the run's fence
            asyncio.get_running_loop().create_task(self._next_of(thread_id, run_id),
                                                   context=contextvars.Context())

    async def _next_of(self, thread_id: str, run_id: str) -> None:
        """Signal ``queued`` if a run of the thread is pending (only then: every worker
        with a free slot would claim at the signal)."""
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(f"SELECT 1 FROM {_RUNS} WHERE thread_id = %s AND "
                                         "status = 'pending' LIMIT 1", (thread_id,))
                waiting = await cur.fetchone() is not None
        except Exception as exc:  # the workers' polls find it
            log.warning("worker %s: cannot look for the next run of thread %s: %r",
                        self.id, thread_id, exc)
            return
        if waiting:
            await self.bus.signal("queued", run_id)

    # ------------------------------------------------------------ leases
    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            if not self._active:
                continue
            try:
                await self.renew()
            except Exception as exc:
                log.warning("worker %s: cannot renew its leases (%r)", self.id, exc)

    async def renew(self) -> None:
        """Extend the leases of the runs executing here; abandon those it lost, stop
        those cancelled."""
        run_ids = list(self._active)
        sent = time.monotonic()
        # Not only those running: one that has just recorded its end is still ours
        # until its ``end`` event is logged.
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE {_RUNS} SET lease_until = %s WHERE worker = %s AND run_id = ANY(%s) "
                "RETURNING run_id, status, cancel",
                (self.clock() + self.lease, self.id, run_ids))
            rows = await cur.fetchall()
        kept = {run_id: (status, cancel) for run_id, status, cancel in rows}
        for run_id in run_ids:
            if run_id not in self._active:
                continue  # ended meanwhile
            if run_id not in kept:  # another worker took it, or it was deleted
                log.warning("worker %s: run %s is no longer ours: abandoned", self.id, run_id)
                self.runs.abandon(run_id)
            else:
                self._held_until[run_id] = sent + self.lease
                status, cancel = kept[run_id]
                if status == "running" and cancel:
                    await self.runs.cancel(run_id)
