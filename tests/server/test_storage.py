"""One suite of the server's storage interface, for every backend.

Every test in the first part takes ``storage``, a fresh :class:`SqliteStorage`
(``":memory:"``) or :class:`PostgresStorage` (a new database on the tests' real
PostgreSQL server), and asserts exact records, orders and totals: a difference between
the backends fails one of them. The last part checks what only PostgreSQL has (its
columns for the run queue, migrations raced by processes, a server that goes away).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from rillet.server.storage import Event, SqliteStorage, Storage
from rillet.server.storage.base import version_of
from tests._postgres import Server, drop_database, fresh_database

SRC = Path(__file__).parents[2] / "src"
BIG = 2**70 + 1
ODD = {"big": BIG, "neg": -BIG, "float": 1e20, "tiny": 5e-324, "zero": -0.0,
       "text": "héllo ✓ 🦜 \u2028", "nul": "a\x00b", "pua": "\ue000\ue001",
       "keys": {"b": 1, "a": 2, "\x00": 3}, "list": [True, 1, 1.5, None]}


@pytest.fixture(params=["sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "sqlite":
        made: Storage = SqliteStorage(":memory:")
    else:
        from rillet.server.storage.postgres import PostgresStorage

        made = PostgresStorage(request.getfixturevalue("postgres_fresh_dsn"), timeout=10)
    await asyncio.wait_for(made.setup(), 30)
    try:
        yield made
    finally:
        await made.close()


def assistant(aid: str, *, graph: str = "g", at: str = "2026-01-01T00:00:00Z",
              metadata: dict[str, Any] | None = None, name: str = "a", version: int = 1
              ) -> dict[str, Any]:
    return {"assistant_id": aid, "graph_id": graph, "config": {}, "context": {},
            "metadata": metadata or {}, "created_at": at, "updated_at": at,
            "version": version, "name": name, "description": None}


def thread(tid: str, *, at: str = "2026-01-01T00:00:00Z", status: str = "idle",
           metadata: dict[str, Any] | None = None, values: Any = None,
           state_at: str | None = None) -> dict[str, Any]:
    t = {"thread_id": tid, "created_at": at, "updated_at": at, "metadata": metadata or {},
         "status": status, "config": {}, "values": values}
    if state_at is not None:
        t["state_updated_at"] = state_at
    return t


def run(rid: str, tid: str = "t1", *, at: str = "2026-01-01T00:00:00Z",
        status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {"run_id": rid, "thread_id": tid, "assistant_id": "a", "created_at": at,
            "updated_at": at, "status": status, "metadata": {}, "kwargs": {"input": None},
            "multitask_strategy": "reject", **extra}


def ids(records: Sequence[dict[str, Any]], key: str) -> list[str]:
    return [r[key] for r in records]


# -- assistants -----------------------------------------------------------------------


async def test_assistant_put_get_replace(storage: Storage) -> None:
    a = assistant("a1", metadata=ODD)
    assert await storage.get_assistant("a1") is None
    await storage.put_assistant(a)
    assert await storage.get_assistant("a1") == a
    changed = {**a, "name": "renamed", "version": 2}
    await storage.put_assistant(changed)
    assert await storage.get_assistant("a1") == changed


async def test_create_assistant_makes_version_once(storage: Storage) -> None:
    a = assistant("a1", name="first")
    assert await storage.create_assistant(a) is True
    assert await storage.create_assistant({**a, "name": "second", "version": 1}) is False
    assert await storage.get_assistant("a1") == a
    assert await storage.get_assistant_version("a1", 1) == version_of(a)
    assert await storage.get_assistant_version("a1", 2) is None
    assert await storage.get_assistant_version("nope", 1) is None


async def test_search_assistants_order_filters_totals(storage: Storage) -> None:
    for aid, graph, at, meta, name in [
        ("b", "g1", "2026-01-02", {"k": 1, "n": {"x": 1, "y": 2}}, "Alpha bot"),
        ("a", "g1", "2026-01-02", {"k": True}, "beta"),
        ("c", "g2", "2026-01-03", {"k": 1, "other": None}, "alphabet"),
        ("d", "g1", "2026-01-01", {}, None),
    ]:
        await storage.put_assistant({**assistant(aid, graph=graph, at=at, metadata=meta),
                                     "name": name})

    async def search(**kw: Any) -> tuple[list[str], int]:
        args: dict[str, Any] = {"graph_id": None, "metadata": None, "limit": 10, "offset": 0,
                                **kw}
        page, total = await storage.search_assistants(**args)
        return ids(page, "assistant_id"), total

    assert await search() == (["c", "a", "b", "d"], 4)
    assert await search(limit=2, offset=1) == (["a", "b"], 4)
    assert await search(offset=9) == ([], 4)
    assert await search(graph_id="g1") == (["a", "b", "d"], 3)
    assert await search(graph_id="zz") == ([], 0)
    # per-key JSON equality: 1 is not true, a nested object must be equal, not contain
    assert await search(metadata={"k": 1}) == (["c", "b"], 2)
    assert await search(metadata={"k": True}) == (["a"], 1)
    assert await search(metadata={"k": 1.0}) == (["c", "b"], 2)
    assert await search(metadata={"n": {"x": 1}}) == ([], 0)
    assert await search(metadata={"n": {"y": 2, "x": 1}}) == (["b"], 1)
    # None matches a null value and a missing key, as dict.get has it
    assert await search(metadata={"other": None}) == (["c", "a", "b", "d"], 4)
    assert await search(name="lpha") == (["c", "b"], 2)
    assert await search(name="Alpha", graph_id="g1", metadata={"k": 1}) == (["b"], 1)
    assert await search(name="") == (["c", "a", "b", "d"], 4)


async def test_delete_assistant_deletes_versions(storage: Storage) -> None:
    await storage.create_assistant(assistant("a1"))
    await storage.put_assistant_version({**version_of(assistant("a1")), "version": 2})
    await storage.create_assistant(assistant("a2"))
    assert await storage.delete_assistant("a1") is True
    assert await storage.delete_assistant("a1") is False
    assert await storage.get_assistant("a1") is None
    assert await storage.list_assistant_versions("a1", metadata=None, limit=10, offset=0) == []
    assert await storage.get_assistant("a2") == assistant("a2")
    assert await storage.get_assistant_version("a2", 1) == version_of(assistant("a2"))


async def test_assistant_versions_newest_first(storage: Storage) -> None:
    base = version_of(assistant("a1"))
    versions = [{**base, "version": v, "metadata": {"even": v % 2 == 0, "v": v}}
                for v in (1, 3, 2, 4)]
    for v in versions:
        await storage.put_assistant_version(v)
    await storage.put_assistant_version({**version_of(assistant("other")), "version": 9})
    replaced = {**versions[0], "name": "again"}
    await storage.put_assistant_version(replaced)

    async def listed(**kw: Any) -> list[int]:
        args: dict[str, Any] = {"metadata": None, "limit": 10, "offset": 0, **kw}
        return [v["version"] for v in await storage.list_assistant_versions("a1", **args)]

    assert await listed() == [4, 3, 2, 1]
    assert await listed(limit=2, offset=1) == [3, 2]
    assert await listed(metadata={"even": True}) == [4, 2]
    assert await listed(metadata={"even": False}, offset=1) == [1]
    assert await storage.get_assistant_version("a1", 1) == replaced
    assert await storage.get_assistant_version("a1", 3) == versions[1]


# -- threads --------------------------------------------------------------------------


async def test_thread_create_get_update(storage: Storage) -> None:
    t = thread("t1", metadata=ODD, values=ODD)
    assert await storage.create_thread(t) is True
    assert await storage.create_thread({**t, "status": "busy"}) is False
    assert await storage.get_thread("t1") == t
    assert await storage.get_thread("nope") is None
    updated = await storage.update_thread("t1", status="busy", values={"n": BIG},
                                          updated_at="2026-02-01")
    assert updated == {**t, "status": "busy", "values": {"n": BIG}, "updated_at": "2026-02-01"}
    assert await storage.get_thread("t1") == updated
    assert await storage.update_thread("nope", status="busy") is None
    assert await storage.get_thread("nope") is None


async def _threads(storage: Storage) -> None:
    for t in [
        thread("t3", at="2026-01-02", status="busy", metadata={"user": "u1", "n": 1},
               values={"x": 1, "deep": {"a": [1, 2]}}, state_at="2026-01-05"),
        thread("t1", at="2026-01-02", status="idle", metadata={"user": "u2"},
               values={"x": 2}, state_at="2026-01-04"),
        thread("t2", at="2026-01-01", status="idle", metadata={"user": "u1", "n": True},
               values=[1, 2]),
        thread("t4", at="2026-01-03", status="error", metadata={}, values=None,
               state_at="2026-01-04"),
    ]:
        await storage.create_thread(t)
    await storage.update_thread("t2", updated_at="2026-01-09")


async def test_search_threads_sorts(storage: Storage) -> None:
    await _threads(storage)

    async def order(sort_by: str, sort_order: str) -> list[str]:
        page, total = await storage.search_threads(
            metadata=None, status=None, ids=None, limit=10, offset=0, sort_by=sort_by,
            sort_order=sort_order)
        assert total == 4
        return ids(page, "thread_id")

    assert await order("created_at", "desc") == ["t4", "t3", "t1", "t2"]
    assert await order("created_at", "asc") == ["t2", "t1", "t3", "t4"]
    assert await order("updated_at", "desc") == ["t2", "t4", "t3", "t1"]
    assert await order("thread_id", "ASC") == ["t1", "t2", "t3", "t4"]
    assert await order("status", "asc") == ["t3", "t4", "t1", "t2"]
    assert await order("status", "desc") == ["t2", "t1", "t4", "t3"]
    assert await order("state_updated_at", "desc") == ["t3", "t4", "t1", "t2"]
    assert await order("state_updated_at", "asc") == ["t2", "t1", "t4", "t3"]
    assert await order("no such column", "desc") == ["t4", "t3", "t1", "t2"]


async def test_search_and_count_threads_filters(storage: Storage) -> None:
    await _threads(storage)

    async def search(**kw: Any) -> tuple[list[str], int]:
        args: dict[str, Any] = {"metadata": None, "status": None, "ids": None, "limit": 10,
                                "offset": 0, "sort_by": "thread_id", "sort_order": "asc", **kw}
        page, total = await storage.search_threads(**args)
        count = await storage.count_threads(metadata=args["metadata"],
                                            values=args.get("values"), status=args["status"])
        if not args["ids"]:
            assert count == total
        return ids(page, "thread_id"), total

    assert await search(status="idle") == (["t1", "t2"], 2)
    assert await search(metadata={"user": "u1"}) == (["t2", "t3"], 2)
    assert await search(metadata={"user": "u1", "n": 1}) == (["t3"], 1)
    assert await search(metadata={"n": True}) == (["t2"], 1)
    assert await search(metadata={"n": None}) == (["t1", "t4"], 2)
    assert await search(ids=["t4", "t1", "zz"]) == (["t1", "t4"], 2)
    assert await search(ids=[]) == (["t1", "t2", "t3", "t4"], 4)
    assert await search(values={"x": 1}) == (["t3"], 1)
    assert await search(values={"deep": {"a": [1, 2]}}) == (["t3"], 1)
    assert await search(values={"deep": {"a": [1]}}) == ([], 0)
    assert await search(values={"x": 2}, status="idle") == (["t1"], 1)
    assert await search(values={"missing": None}) == (["t1", "t3"], 2)  # dicts only
    assert await search(values={}) == (["t1", "t2", "t3", "t4"], 4)
    assert await search(limit=2, offset=1) == (["t2", "t3"], 4)
    assert await search(offset=4) == ([], 4)
    assert await search(metadata={"user": "u1"}, limit=1, offset=1) == (["t3"], 2)
    assert await storage.count_threads(metadata=None, values=None, status=None) == 4


async def test_filters_with_odd_values(storage: Storage) -> None:
    await storage.create_thread(thread("odd", metadata=ODD, values=ODD))
    await storage.create_thread(thread("plain", metadata={"nul": "ab", "pua": "\x00"},
                                       values={"big": BIG - 1}))
    for key, value in ODD.items():
        page, total = await storage.search_threads(
            metadata={key: value}, values={key: value}, status=None, ids=None, limit=5,
            offset=0, sort_by="thread_id", sort_order="asc")
        assert (ids(page, "thread_id"), total) == (["odd"], 1), key
    assert await storage.count_threads(metadata={"\x00": 3}, values=None, status=None) == 0
    assert await storage.count_threads(metadata={"keys": {"a": 2, "b": 1, "\x00": 3}},
                                       values=None, status=None) == 1


async def test_delete_thread_cascades(storage: Storage) -> None:
    for tid in ("t1", "t2"):
        await storage.create_thread(thread(tid))
        for i in range(2):
            await storage.put_run(run(f"{tid}-r{i}", tid))
            await storage.append_events(f"{tid}-r{i}", [("values", b"{}")])
    assert await storage.delete_thread("t1") is True
    assert await storage.delete_thread("t1") is False
    assert await storage.get_thread("t1") is None
    assert await storage.get_run("t1-r0") is None
    assert await storage.read_events("t1-r0") == []
    assert await storage.read_events("t2-r1") == [Event(0, "values", b"{}")]
    assert await storage.delete_thread("t2", runs=False) is True
    assert await storage.get_run("t2-r1") == run("t2-r1", "t2")
    assert await storage.read_events("t2-r1") == [Event(0, "values", b"{}")]
    # runs of a thread without a record still go
    assert await storage.delete_thread("t2") is False
    assert await storage.get_run("t2-r1") is None
    assert await storage.read_events("t2-r1") == []


# -- runs -----------------------------------------------------------------------------


async def test_run_put_get_update(storage: Storage) -> None:
    r = run("r1", _output=ODD, _attempt=2)
    await storage.put_run(r)
    assert await storage.get_run("r1") == r
    assert await storage.get_run("nope") is None
    updated = await storage.update_run("r1", status="success", _ended_at=1234.5)
    assert updated == {**r, "status": "success", "_ended_at": 1234.5}
    assert await storage.get_run("r1") == updated
    assert await storage.update_run("nope", status="error") is None
    await storage.put_run(run("r1", status="pending"))
    assert await storage.get_run("r1") == run("r1")


async def test_list_and_unfinished_runs(storage: Storage) -> None:
    for rid, tid, at, status in [
        ("r2", "t1", "2026-01-02", "success"), ("r1", "t1", "2026-01-02", "pending"),
        ("r3", "t1", "2026-01-01", "running"), ("r4", "t1", "2026-01-03", "error"),
        ("r5", "t2", "2026-01-01", "pending"), ("r0", "t2", "2026-01-05", "running"),
    ]:
        await storage.put_run(run(rid, tid, at=at, status=status))

    async def listed(tid: str = "t1", **kw: Any) -> list[str]:
        args: dict[str, Any] = {"status": None, "limit": 10, "offset": 0, **kw}
        return ids(await storage.list_runs(tid, **args), "run_id")

    assert await listed() == ["r4", "r2", "r1", "r3"]
    assert await listed(limit=2, offset=1) == ["r2", "r1"]
    assert await listed(status="pending") == ["r1"]
    assert await listed(status="nope") == []
    assert await listed("t2") == ["r0", "r5"]
    assert await listed("none") == []
    assert ids(await storage.unfinished_runs(), "run_id") == ["r3", "r5", "r1", "r0"]


async def test_delete_run_and_its_log(storage: Storage) -> None:
    await storage.put_run(run("r1"))
    await storage.put_run(run("r2"))
    await storage.append_events("r1", [("a", b"1"), ("b", b"2")])
    await storage.append_events("r2", [("a", b"1")])
    assert await storage.delete_run("r1") is True
    assert await storage.delete_run("r1") is False
    assert await storage.get_run("r1") is None
    assert await storage.read_events("r1") == []
    assert await storage.read_events("r2") == [Event(0, "a", b"1")]
    # a log that starts again after its run went starts at 0
    assert await storage.append_events("r1", [("c", b"3")]) == 0


# -- event logs -----------------------------------------------------------------------


async def test_events_seqs_and_reads(storage: Storage) -> None:
    data = "✓🦜".encode() + b"\x00\xff"
    assert await storage.read_events("r1") == []
    assert await storage.append_events("r1", [("metadata", b'{"run_id":"r1"}')]) == 0
    assert await storage.append_events("r1", [("values", data), ("end", b"null")]) == 1
    assert await storage.append_events("r2", [("x", b"1")]) == 0
    assert await storage.append_events("r1", [("more", b"[]")]) == 3
    assert await storage.read_events("r1") == [
        Event(0, "metadata", b'{"run_id":"r1"}'), Event(1, "values", data),
        Event(2, "end", b"null"), Event(3, "more", b"[]")]
    assert await storage.read_events("r1", after=1) == [Event(2, "end", b"null"),
                                                        Event(3, "more", b"[]")]
    assert await storage.read_events("r1", after=0, limit=1) == [Event(1, "values", data)]
    assert await storage.read_events("r1", after=3) == []
    events = await storage.read_events("r1")
    assert all(type(e.seq) is int and type(e.data) is bytes for e in events)


async def test_concurrent_appends_to_one_run(storage: Storage) -> None:
    bursts = [[(f"e{i}", str(j).encode()) for j in range(1 + i % 3)] for i in range(40)]
    firsts = await asyncio.wait_for(
        asyncio.gather(*(storage.append_events("r1", b) for b in bursts)), 60)
    events = await storage.read_events("r1")
    assert [e.seq for e in events] == list(range(sum(len(b) for b in bursts)))
    for first, burst in zip(firsts, bursts, strict=True):  # each burst is contiguous
        assert [(e.event, e.data) for e in events[first : first + len(burst)]] == burst


async def test_delete_event_logs(storage: Storage) -> None:
    await storage.put_run(run("old", status="success", _ended_at=100.0))
    await storage.put_run(run("older", status="success", _ended_at=50.0))
    await storage.put_run(run("new", status="success", _ended_at=300.0))
    await storage.put_run(run("live", status="running"))
    await storage.put_run(run("nolog", status="success", _ended_at=10.0))
    for rid in ("old", "older", "new", "live"):
        await storage.append_events(rid, [("values", b"1"), ("end", b"2")])
    assert await storage.delete_event_logs(200.0) == 2
    assert await storage.read_events("old") == []
    assert await storage.read_events("older") == []
    assert len(await storage.read_events("new")) == 2
    assert len(await storage.read_events("live")) == 2
    assert await storage.get_run("old") == run("old", status="success", _ended_at=100.0)
    assert await storage.delete_event_logs(200.0) == 0
    await storage.update_run("live", status="success", _ended_at=150.0)
    assert await storage.delete_event_logs(200.0) == 1
    assert await storage.read_events("live") == []
    assert await storage.delete_event_logs(1000.0) == 1
    assert await storage.read_events("new") == []


async def test_empty_burst_stores_nothing(storage: Storage) -> None:
    assert await storage.append_events("r0", []) == 0
    assert await storage.read_events("r0") == []
    await storage.append_events("r1", [("a", b"1")])
    assert await storage.append_events("r1", []) == 1
    assert await storage.append_events("r1", [("b", b"2")]) == 1
    assert await storage.read_events("r1") == [Event(0, "a", b"1"), Event(1, "b", b"2")]


# -- PostgreSQL only ------------------------------------------------------------------


@pytest.fixture
async def pg(postgres_fresh_dsn: str) -> AsyncIterator[Any]:
    from rillet.server.storage.postgres import PostgresStorage

    made = PostgresStorage(postgres_fresh_dsn, timeout=10)
    await asyncio.wait_for(made.setup(), 30)
    try:
        yield made
    finally:
        await made.close()


async def _row(pg: Any, sql: str, *args: Any) -> tuple[Any, ...] | None:
    async with pg.transaction() as cur:
        await cur.execute(sql, args)
        row: tuple[Any, ...] | None = await cur.fetchone()
        return row


async def test_pg_run_columns_for_the_queue(pg: Any) -> None:
    cols = "status, start_at, ended_at, attempt, lease_until, worker, cancel, seq, log_deleted"
    sql = f"SELECT {cols} FROM rillet_server_runs WHERE run_id = %s"
    await pg.put_run(run("r1"))
    await pg.put_run(run("r2"))
    assert await _row(pg, sql, "r1") == ("pending", None, None, 1, None, None, None, 1, False)
    assert (await _row(pg, sql, "r2"))[-2] == 2  # type: ignore[index]
    async with pg.transaction() as cur:  # what the run queue writes
        await cur.execute("UPDATE rillet_server_runs SET lease_until = 99.5, worker = 'w1', "
                          "cancel = 'interrupt' WHERE run_id = 'r1'")
    await pg.update_run("r1", status="running", _start_at=10.5, _attempt=3)
    assert await _row(pg, sql, "r1") == ("running", 10.5, None, 3, 99.5, "w1", "interrupt", 1,
                                         False)
    await pg.put_run({**run("r1", status="success"), "_ended_at": 20.25, "_attempt": 3})
    assert await _row(pg, sql, "r1") == ("success", None, 20.25, 3, 99.5, "w1", "interrupt", 1,
                                         False)


async def test_pg_one_running_run_per_thread(pg: Any) -> None:
    import psycopg

    await pg.put_run(run("r1", status="running"))
    await pg.put_run(run("r2", status="pending"))
    await pg.put_run(run("r3", "t2", status="running"))
    # the running run itself may be written again, as a put or an update
    assert (await pg.update_run("r1", status="running", _attempt=2))["_attempt"] == 2
    await pg.put_run(run("r1", status="running", _attempt=2))
    with pytest.raises(psycopg.errors.UniqueViolation):
        await pg.update_run("r2", status="running")
    with pytest.raises(psycopg.errors.UniqueViolation):
        await pg.put_run(run("r4", status="running"))
    assert (await pg.get_run("r2"))["status"] == "pending"
    assert await pg.get_run("r4") is None
    await pg.update_run("r1", status="success")
    assert (await pg.update_run("r2", status="running"))["status"] == "running"


async def test_pg_setup_is_idempotent_and_raced(postgres_fresh_dsn: str) -> None:
    from rillet.server.storage.postgres import MIGRATIONS, PostgresStorage

    made = [PostgresStorage(postgres_fresh_dsn, timeout=10) for _ in range(4)]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.setup() for s in made)), 60)
        await made[0].setup()
        assert await _row(made[0], "SELECT array_agg(version ORDER BY version) FROM "
                          "rillet_server_schema") == (list(range(len(MIGRATIONS))),)
        assert await made[1].create_thread(thread("t1"))
        assert await made[2].get_thread("t1") == thread("t1")
    finally:
        for s in made:
            await s.close()


_SETUP_SCRIPT = """
import asyncio, sys
from rillet.server.storage.postgres import PostgresStorage

async def main():
    storage = PostgresStorage(sys.argv[1], timeout=20)
    await storage.setup()
    await storage.create_thread({"thread_id": sys.argv[2], "created_at": "x",
                                 "updated_at": "x", "status": "idle", "metadata": {},
                                 "values": None})
    await storage.close()

asyncio.run(main())
"""


def test_pg_setup_raced_by_processes(postgres_dsn: str) -> None:
    fresh = fresh_database(postgres_dsn)
    try:
        env = {"PYTHONPATH": str(SRC)}
        procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(_SETUP_SCRIPT), fresh,
                                   f"t{i}"], env=env, stderr=subprocess.PIPE, text=True)
                 for i in range(3)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        import psycopg

        with psycopg.connect(fresh) as conn:
            assert conn.execute("SELECT count(*) FROM rillet_server_schema").fetchone() == (1,)
            assert conn.execute("SELECT array_agg(thread_id ORDER BY thread_id) FROM "
                                "rillet_server_threads").fetchone() == (["t0", "t1", "t2"],)
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            assert tables == {"rillet_server_schema", "rillet_server_assistants",
                              "rillet_server_assistant_versions", "rillet_server_threads",
                              "rillet_server_runs", "rillet_server_run_events",
                              "rillet_server_event_seqs"}
    finally:
        drop_database(postgres_dsn, fresh)


async def test_pg_concurrent_appends_from_separate_pools(postgres_fresh_dsn: str) -> None:
    from rillet.server.storage.postgres import PostgresStorage

    made = [PostgresStorage(postgres_fresh_dsn, max_size=4, timeout=10) for _ in range(3)]
    try:
        for s in made:
            await s.setup()
        calls = [made[i % 3].append_events("r1", [("a", b"1"), ("b", b"2")]) for i in range(60)]
        firsts = await asyncio.wait_for(asyncio.gather(*calls), 60)
        assert sorted(firsts) == list(range(0, 120, 2))
        events = await made[0].read_events("r1", limit=1000)
        assert [e.seq for e in events] == list(range(120))
        assert [e.event for e in events] == ["a", "b"] * 60
    finally:
        for s in made:
            await s.close()


class MemoryLogs:
    """A second event-log backend (in memory), to check the delegation."""

    def __init__(self) -> None:
        self.logs: dict[str, list[Event]] = {}
        self.deleted: list[list[str]] = []

    async def append(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                     attempt: int | None = None) -> int:
        log = self.logs.setdefault(run_id, [])
        first = len(log)
        log.extend(Event(first + i, e, d) for i, (e, d) in enumerate(events))
        return first

    async def read(self, run_id: str, after: int, limit: int) -> list[Event]:
        return [e for e in self.logs.get(run_id, []) if e.seq > after][:limit]

    async def delete(self, run_ids: list[str]) -> None:
        self.deleted.append(sorted(run_ids))
        for run_id in run_ids:
            self.logs.pop(run_id, None)


async def test_pg_event_logs_elsewhere(postgres_fresh_dsn: str) -> None:
    from rillet.server.storage.postgres import PostgresStorage

    logs = MemoryLogs()
    storage = PostgresStorage(postgres_fresh_dsn, events=logs, timeout=10)
    await storage.setup()
    try:
        await storage.create_thread(thread("t1"))
        for rid, ended in [("r1", 10.0), ("r2", 20.0), ("r3", None), ("r4", 5.0)]:
            await storage.put_run(run(rid, "t1" if rid != "r4" else "t2", _ended_at=ended))
        assert await storage.append_events("r1", [("a", b"1"), ("b", b"2")]) == 0
        assert await storage.append_events("r2", [("a", b"1")]) == 0
        assert await storage.read_events("r1", after=0) == [Event(1, "b", b"2")]
        assert await _row(storage, "SELECT count(*) FROM rillet_server_run_events") == (0,)
        assert await storage.delete_event_logs(15.0) == 2
        assert logs.deleted == [["r1", "r4"]]
        assert await storage.delete_event_logs(15.0) == 0  # marked: not asked again
        assert logs.deleted == [["r1", "r4"]]
        assert await storage.delete_run("r2") is True
        assert logs.deleted[-1] == ["r2"]
        assert await storage.delete_thread("t1") is True
        assert logs.deleted[-1] == ["r1", "r3"]
        assert await storage.delete_thread("t1") is False
        assert logs.deleted[-1] == ["r1", "r3"]  # no runs left: not called
    finally:
        await storage.close()


async def test_pg_closed_pool_and_given_pool(postgres_fresh_dsn: str) -> None:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from rillet.server.storage.postgres import CONNECT_KWARGS, PostgresStorage

    storage = PostgresStorage(postgres_fresh_dsn, timeout=5)
    await storage.setup()
    await storage.close()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        await asyncio.wait_for(storage.get_thread("t1"), 10)
    assert time.monotonic() - started < 5
    async with AsyncConnectionPool(postgres_fresh_dsn, kwargs=CONNECT_KWARGS) as pool:
        given = PostgresStorage(pool=pool)
        assert given.pool is pool
        await given.setup()
        await given.create_thread(thread("t1"))
        await given.close()  # leaves the caller's pool open
        assert not pool.closed
        assert await PostgresStorage(pool=pool).get_thread("t1") == thread("t1")
    with pytest.raises(TypeError, match="a dsn or pool="):
        PostgresStorage()


async def test_pg_server_that_goes_away() -> None:
    import psycopg

    from rillet.server.storage.postgres import PostgresStorage

    server = Server()
    dsn = server.start()
    try:
        storage = PostgresStorage(dsn, timeout=3)
        await storage.setup()
        await storage.create_thread(thread("t1"))
        await asyncio.to_thread(server.stop)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await asyncio.wait_for(storage.get_thread("t1"), 20)
        assert time.monotonic() - started < 10
        await asyncio.wait_for(storage.close(), 10)
    finally:
        server.stop()
        server.remove()


def test_pg_without_the_extra_names_it() -> None:
    code = ("import sys; sys.modules['psycopg'] = None\n"
            "try:\n    import rillet.server.storage.postgres\n"
            "except ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)},
                         capture_output=True, text=True, timeout=60)
    assert "pip install 'rillet[postgres]'" in out.stdout, out.stderr
