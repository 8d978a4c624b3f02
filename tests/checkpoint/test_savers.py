"""One conformance suite for every checkpoint saver, and each face of it.

Every test takes ``saver``: an object with the blocking names (``save``, ``load``,
...). For an async face those names drive the ``a``-methods on an event loop thread,
so the same assertions check both faces.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rillet.checkpoint.base import (
    BaseCheckpointSaver,
    Blob,
    CheckpointRecord,
    PendingWrite,
    new_checkpoint_id,
    new_checkpoint_seed,
)
from rillet.checkpoint.memory import InMemorySaver, MemorySaver
from rillet.checkpoint.sqlite import SqliteSaver
from rillet.checkpoint.sqlite.aio import AsyncSqliteSaver
from rillet.errors import UsageError
from tests._postgres import fresh_database

# -- faces and fixtures ---------------------------------------------------------------


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class AsyncFace:
    """The blocking names, each awaiting the saver's ``a``-method on ``loop``."""

    def __init__(self, raw: BaseCheckpointSaver, loop: LoopThread) -> None:
        self.raw = raw
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.raw, "a" + name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._loop.run(method(*args, **kwargs))
            return iter(result) if name == "history" else result

        return call


class SyncFace:
    def __init__(self, raw: BaseCheckpointSaver) -> None:
        self.raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


PG_KINDS = ["postgres", "postgres-async", "postgres-async-sync-face", "postgres-async-conn"]
SQL_KINDS = ["sqlite-file", "sqlite-memory", "sqlite-async", *PG_KINDS]
KINDS = ["memory", "memory-async", *SQL_KINDS]
TABLES = "rillet_checkpoints, rillet_checkpoint_blobs, rillet_checkpoint_writes"


@pytest.fixture(scope="module")
def pg_module_dsn(postgres_dsn: str) -> str:
    return fresh_database(postgres_dsn)


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> str:
    """A database of this module with empty tables."""
    dsn: str = request.getfixturevalue("pg_module_dsn")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('rillet_checkpoints')").fetchone() != (None,):
            conn.execute(f"TRUNCATE {TABLES}")
    return dsn


@contextmanager
def make_saver(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    loop = LoopThread()
    try:
        if kind == "memory":
            yield SyncFace(InMemorySaver())
        elif kind == "memory-async":
            yield AsyncFace(InMemorySaver(), loop)
        elif kind == "sqlite-file":
            with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as s:
                yield SyncFace(s)
        elif kind == "sqlite-memory":
            with SqliteSaver.from_conn_string(":memory:") as s:
                yield SyncFace(s)
        elif kind == "sqlite-async":
            cm = AsyncSqliteSaver.from_conn_string(str(tmp_path / "cp.db"))
            saver = loop.run(cm.__aenter__())
            try:
                yield AsyncFace(saver, loop)
            finally:
                loop.run(cm.__aexit__(None, None, None))
        elif kind == "postgres":
            from rillet.checkpoint.postgres import PostgresSaver

            with PostgresSaver.from_conn_string(request.getfixturevalue("pg")) as s:
                yield SyncFace(s)
        else:
            yield from _async_postgres(kind, request.getfixturevalue("pg"), loop)
    finally:
        loop.close()


def _async_postgres(kind: str, dsn: str, loop: LoopThread) -> Iterator[Any]:
    import psycopg

    from rillet.checkpoint.postgres.aio import AsyncPostgresSaver

    if kind == "postgres-async-conn":  # made outside any loop: the private loop serves it
        conn = asyncio.run(psycopg.AsyncConnection.connect(
            dsn, autocommit=True, prepare_threshold=None))
        try:
            yield SyncFace(AsyncPostgresSaver(conn))
        finally:
            asyncio.run(conn.close())
        return
    cm = AsyncPostgresSaver.from_conn_string(dsn)
    saver = loop.run(_enter(cm))  # made on the loop thread: its home loop serves it
    try:
        yield AsyncFace(saver, loop) if kind == "postgres-async" else SyncFace(saver)
    finally:
        loop.run(cm.__aexit__(None, None, None))


async def _enter(cm: Any) -> Any:
    return await cm.__aenter__()


@pytest.fixture(params=KINDS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with make_saver(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture(params=SQL_KINDS)
def sql_saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with make_saver(request.param, request, tmp_path) as s:
        s.kind = request.param
        yield s


def rec(
    thread: str = "t", ns: str = "", parent: str | None = None, *, cid: str | None = None,
    metadata: dict[str, Any] | None = None, state: bytes = b"state",
    versions: dict[str, str] | None = None,
) -> CheckpointRecord:
    return CheckpointRecord(
        thread_id=thread, checkpoint_ns=ns, checkpoint_id=cid or new_checkpoint_id(),
        parent_id=parent, created_at="2026-01-01T00:00:00+00:00",
        metadata={"step": 1} if metadata is None else metadata, state=state,
        versions=versions or {},
    )


# -- records --------------------------------------------------------------------------


def test_unknown_thread(saver: Any) -> None:
    assert saver.load("nope", "", None) is None
    assert saver.load("nope", "", new_checkpoint_id()) is None
    assert list(saver.history("nope", None)) == []
    assert saver.load_blobs("nope", "", [("c", "1")]) == {}
    assert saver.prune("nope", 1) == 0
    saver.delete_thread("nope")
    saver.copy_thread("nope", "other")
    assert list(saver.history("other", None)) == []


def test_save_then_load_newest_and_by_id(saver: Any) -> None:
    r1 = rec(metadata={"source": "input", "step": -1}, state=b"one", versions={"a": "1"})
    saver.save(r1, {("a", "1"): Blob(b"A1")})
    r2 = rec(parent=r1.checkpoint_id, state=b"two", versions={"a": "1"})
    saver.save(r2, {})
    assert saver.load("t", "", None) == (r2, [])
    assert saver.load("t", "", r1.checkpoint_id) == (r1, [])
    assert saver.load("t", "", r2.checkpoint_id)[0].parent_id == r1.checkpoint_id
    assert saver.load("t", "", "0" * 36) is None
    assert saver.load("t", "sub", None) is None


def test_save_same_id_replaces(saver: Any) -> None:
    r = rec(state=b"old")
    saver.save(r, {})
    saver.save(rec(cid=r.checkpoint_id, state=b"new", metadata={"x": True}), {})
    loaded, _ = saver.load("t", "", None)
    assert (loaded.state, loaded.metadata) == (b"new", {"x": True})
    assert [h.checkpoint_id for h in saver.history("t")] == [r.checkpoint_id]


def test_namespaces_are_apart(saver: Any) -> None:
    root, sub = rec(ns="", state=b"root"), rec(ns="sub:1", state=b"sub")
    saver.save(root, {("c", "1"): Blob(b"root-c")})
    saver.save(sub, {("c", "1"): Blob(b"sub-c")})
    assert saver.load("t", "", None) == (root, [])
    assert saver.load("t", "sub:1", None) == (sub, [])
    assert saver.load_blobs("t", "", [("c", "1")]) == {("c", "1"): [b"root-c"]}
    assert saver.load_blobs("t", "sub:1", [("c", "1")]) == {("c", "1"): [b"sub-c"]}
    assert saver.load_blobs("u", "", [("c", "1")]) == {}


def test_metadata_is_json_and_loses_nul(saver: Any) -> None:
    meta = {"a\x00b": "c\x00d", "nested": {"list": [1, 2.5, None, True, "x"]}}
    saver.save(rec(metadata=meta), {})
    assert saver.load("t", "", None)[0].metadata == {
        "ab": "cd", "nested": {"list": [1, 2.5, None, True, "x"]}
    }


@pytest.mark.parametrize("extra", [{}, {"tuple": ("a\x00", 1)}])  # plain, and through JSON
def test_metadata_keeps_a_written_backslash_u0000(saver: Any, extra: dict) -> None:
    meta = {"path": "C:\\u0000dir", "n\x00": ["\\u0000", "\x00"], **extra}
    saver.save(rec(metadata=meta), {})
    expected = {"path": "C:\\u0000dir", "n": ["\\u0000", ""]}
    if extra:
        expected["tuple"] = ["a", 1]
    assert saver.load("t", "", None)[0].metadata == expected
    assert meta["n\x00"] == ["\\u0000", "\x00"]  # the caller's dict is not changed


# -- history --------------------------------------------------------------------------


def test_history_order_before_limit(saver: Any) -> None:
    records = [rec(metadata={"step": i}) for i in range(5)]
    for r in records:
        saver.save(r, {})
    ids = [r.checkpoint_id for r in records]
    assert [h.checkpoint_id for h in saver.history("t")] == ids[::-1]
    assert next(iter(saver.history("t"))) == records[-1]
    assert [h.checkpoint_id for h in saver.history("t", before=ids[3])] == ids[2::-1]
    assert [h.checkpoint_id for h in saver.history("t", limit=2)] == [ids[4], ids[3]]
    assert [h.checkpoint_id for h in saver.history("t", before=ids[3], limit=2)] == [
        ids[2], ids[1],
    ]
    assert list(saver.history("t", limit=0)) == []
    assert list(saver.history("t", "other")) == []


def test_history_many_pages(saver: Any) -> None:
    records = [rec(metadata={"step": i, "even": i % 2 == 0}) for i in range(250)]
    for r in records:
        saver.save(r, {})
    assert [h.metadata["step"] for h in saver.history("t")] == list(range(249, -1, -1))
    assert [h.metadata["step"] for h in saver.history("t", filter={"even": False}, limit=3)
            ] == [249, 247, 245]


def test_history_every_namespace(saver: Any) -> None:
    a, b, c = rec(ns=""), rec(ns="sub:1"), rec(ns="")
    for r in (a, b, c):
        saver.save(r, {})
    saver.save(rec(thread="other"), {})
    assert [h.checkpoint_id for h in saver.history("t", None)] == [
        c.checkpoint_id, b.checkpoint_id, a.checkpoint_id,
    ]
    assert [h.checkpoint_ns for h in saver.history("t", None, before=c.checkpoint_id)] == [
        "sub:1", "",
    ]
    assert [h.checkpoint_id for h in saver.history("t", "sub:1")] == [b.checkpoint_id]


def test_history_filter_is_json_equality(saver: Any) -> None:
    metas = [
        {"source": "input", "step": -1},
        {"source": "loop", "step": 1, "parents": {"": "p1"}},
        {"source": "loop", "step": 2, "flag": True},
        {"source": "update", "step": 1.0, "tags": ["a", "b"]},
    ]
    for m in metas:
        saver.save(rec(metadata=m), {})

    def steps(**filter: Any) -> list[Any]:
        return [h.metadata["step"] for h in saver.history("t", filter=filter)]

    assert steps(source="loop") == [2, 1]
    assert steps(step=1) == [1.0, 1]
    assert steps(source="loop", step=1) == [1]
    assert steps(parents={"": "p1"}) == [1]
    assert steps(parents={}) == []
    assert steps(flag=True) == [2]
    assert steps(flag=1) == []
    assert steps(step=True) == []
    assert steps(tags=["a", "b"]) == [1.0]
    assert steps(tags=["b", "a"]) == []
    assert steps(missing=None) == []
    assert steps() == [1.0, 2, 1, -1]
    assert [h.metadata["step"] for h in saver.history("t", filter={"source": "loop"}, limit=1)
            ] == [2]


# -- writes ---------------------------------------------------------------------------


def test_writes_normal_kept_special_replaced(saver: Any) -> None:
    r = rec()
    saver.save(r, {})
    cid = r.checkpoint_id
    saver.save_writes("t", "", cid, [
        PendingWrite("task-b", 0, "x", b"b0"), PendingWrite("task-b", 1, "y", b"b1"),
        PendingWrite("task-a", -1, "__error__", b"err1", "path"),
    ])
    saver.save_writes("t", "", cid, [
        PendingWrite("task-b", 0, "x", b"REPLAYED"), PendingWrite("task-a", -1, "__error__",
                                                                  b"err2", "path"),
        PendingWrite("task-a", 0, "z", b"a0"),
    ])
    assert saver.load("t", "", None)[1] == [
        PendingWrite("task-a", 0, "z", b"a0"),
        PendingWrite("task-b", 0, "x", b"b0"),
        PendingWrite("task-b", 1, "y", b"b1"),
        PendingWrite("task-a", -1, "__error__", b"err2", "path"),
    ]


def test_writes_duplicates_in_one_call(saver: Any) -> None:
    r = rec()
    saver.save(r, {})
    saver.save_writes("t", "", r.checkpoint_id, [
        PendingWrite("a", 0, "x", b"first"), PendingWrite("a", 0, "x", b"second"),
        PendingWrite("a", -3, "__interrupt__", b"i1"),
        PendingWrite("a", -3, "__interrupt__", b"i2"),
    ])
    assert saver.load("t", "", None)[1] == [
        PendingWrite("a", -3, "__interrupt__", b"i2"), PendingWrite("a", 0, "x", b"first"),
    ]


def test_writes_belong_to_their_checkpoint(saver: Any) -> None:
    r1, r2 = rec(), rec()
    saver.save(r1, {})
    saver.save_writes("t", "", r1.checkpoint_id, [PendingWrite("a", 0, "x", b"1")])
    saver.save(r2, {})
    saver.save_writes("t", "sub", r2.checkpoint_id, [PendingWrite("a", 0, "x", b"sub")])
    saver.save_writes("t", "", r2.checkpoint_id, [])
    assert saver.load("t", "", None) == (r2, [])
    assert saver.load("t", "", r1.checkpoint_id) == (r1, [PendingWrite("a", 0, "x", b"1")])


# -- blobs ----------------------------------------------------------------------------


def test_blob_already_stored_is_kept(saver: Any) -> None:
    saver.save(rec(versions={"c": "1"}), {("c", "1"): Blob(b"original")})
    saver.save(rec(versions={"c": "1"}), {("c", "1"): Blob(b"other")})
    assert saver.load_blobs("t", "", [("c", "1")]) == {("c", "1"): [b"original"]}


def chain_versions(n: int) -> list[str]:
    return [f"{i:08d}" for i in range(n)]


def test_chain_of_300_deltas_in_one_call(saver: Any) -> None:
    versions = chain_versions(301)
    saver.save(rec(versions={"msgs": versions[0]}), {("msgs", versions[0]): Blob(b"full")})
    for i in range(1, 301):
        saver.save(rec(versions={"msgs": versions[i]}),
                   {("msgs", versions[i]): Blob(f"d{i}".encode(), base=versions[i - 1])})
    keys = [("msgs", versions[300]), ("msgs", versions[150]), ("msgs", "nope")]
    got = saver.load_blobs("t", "", keys)
    assert set(got) == {keys[0], keys[1]}
    assert got[keys[0]] == [b"full", *(f"d{i}".encode() for i in range(1, 301))]
    assert got[keys[1]] == [b"full", *(f"d{i}".encode() for i in range(1, 151))]


def test_sqlite_chain_is_one_query(tmp_path: Path) -> None:
    versions = chain_versions(301)
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as saver:
        blobs = {("c", versions[0]): Blob(b"full")}
        blobs |= {("c", versions[i]): Blob(b"d", versions[i - 1]) for i in range(1, 301)}
        saver.save(rec(versions={"c": versions[300]}), blobs)
        statements: list[str] = []
        saver.conn.set_trace_callback(statements.append)
        assert len(saver.load_blobs("t", "", [("c", versions[300])])[("c", versions[300])]) == 301
        assert [s.split()[0] for s in statements] == ["BEGIN", "WITH", "COMMIT"]


def test_forks_share_a_base(saver: Any) -> None:
    saver.save(rec(versions={"c": "1"}), {("c", "1"): Blob(b"base")})
    saver.save(rec(versions={"c": "2a"}), {("c", "2a"): Blob(b"left", base="1")})
    saver.save(rec(versions={"c": "2b"}), {("c", "2b"): Blob(b"right", base="1")})
    saver.save(rec(versions={"c": "3b"}), {("c", "3b"): Blob(b"right2", base="2b")})
    assert saver.load_blobs("t", "", [("c", "2a"), ("c", "3b"), ("c", "1")]) == {
        ("c", "2a"): [b"base", b"left"],
        ("c", "3b"): [b"base", b"right", b"right2"],
        ("c", "1"): [b"base"],
    }


def test_chain_without_its_base_is_absent(saver: Any) -> None:
    saver.save(rec(versions={"c": "2"}), {("c", "2"): Blob(b"delta", base="1"),
                                          ("d", "1"): Blob(b"ok")})
    assert saver.load_blobs("t", "", [("c", "2"), ("d", "1")]) == {("d", "1"): [b"ok"]}


# -- prune, delete, copy --------------------------------------------------------------


def test_prune_keeps_needed_chains(saver: Any) -> None:
    a = rec(versions={"c": "1", "x": "1"})
    saver.save(a, {("c", "1"): Blob(b"c1"), ("x", "1"): Blob(b"x1"), ("o", "1"): Blob(b"orphan")})
    saver.save_writes("t", "", a.checkpoint_id, [PendingWrite("task", 0, "c", b"w")])
    b = rec(versions={"c": "2", "x": "2"})
    saver.save(b, {("c", "2"): Blob(b"c2", base="1"), ("x", "2"): Blob(b"x2")})
    c = rec(versions={"c": "3", "x": "2"})
    saver.save(c, {("c", "3"): Blob(b"c3", base="2")})
    subs = [rec(ns="sub:1", versions={"s": str(i)}) for i in range(3)]
    for i, s in enumerate(subs):
        saver.save(s, {("s", str(i)): Blob(f"s{i}".encode())})

    assert saver.prune("t", 1) == 4
    assert [h.checkpoint_id for h in saver.history("t", None)] == [
        subs[2].checkpoint_id, c.checkpoint_id,
    ]
    assert saver.load("t", "", None) == (c, [])
    assert saver.load("t", "", a.checkpoint_id) is None
    everything = [(ch, v) for ch in "cxos" for v in "0123"]
    assert saver.load_blobs("t", "", everything) == {
        ("c", "1"): [b"c1"], ("c", "2"): [b"c1", b"c2"], ("c", "3"): [b"c1", b"c2", b"c3"],
        ("x", "2"): [b"x2"],
    }
    assert saver.load_blobs("t", "sub:1", everything) == {("s", "2"): [b"s2"]}
    saver.save(a, {})  # the same id again: its old writes were deleted with it
    assert saver.load("t", "", a.checkpoint_id) == (a, [])
    assert saver.prune("t", 5) == 0


def test_prune_to_zero_and_other_threads(saver: Any) -> None:
    saver.save(rec(versions={"c": "1"}), {("c", "1"): Blob(b"c1")})
    saver.save(rec(thread="u", versions={"c": "1"}), {("c", "1"): Blob(b"u1")})
    assert saver.prune("t", 0) == 1
    assert list(saver.history("t", None)) == []
    assert saver.load_blobs("t", "", [("c", "1")]) == {}
    assert saver.load_blobs("u", "", [("c", "1")]) == {("c", "1"): [b"u1"]}
    with pytest.raises(ValueError, match="keep_last"):
        saver.prune("t", -1)


def test_delete_thread(saver: Any) -> None:
    r, sub = rec(versions={"c": "1"}), rec(ns="sub:1")
    saver.save(r, {("c", "1"): Blob(b"c1")})
    saver.save(sub, {("s", "1"): Blob(b"s1")})
    saver.save_writes("t", "", r.checkpoint_id, [PendingWrite("a", 0, "c", b"w")])
    keep = rec(thread="u", versions={"c": "1"})
    saver.save(keep, {("c", "1"): Blob(b"u1")})
    saver.delete_thread("t")
    assert list(saver.history("t", None)) == []
    assert saver.load_blobs("t", "", [("c", "1")]) == {}
    assert saver.load_blobs("t", "sub:1", [("s", "1")]) == {}
    saver.save(r, {})
    assert saver.load("t", "", None) == (r, [])
    assert saver.load("u", "", None) == (keep, [])
    assert saver.load_blobs("u", "", [("c", "1")]) == {("c", "1"): [b"u1"]}


def test_copy_thread(saver: Any) -> None:
    r1 = rec(versions={"c": "1"})
    saver.save(r1, {("c", "1"): Blob(b"c1")})
    r2 = rec(parent=r1.checkpoint_id, versions={"c": "2"})
    saver.save(r2, {("c", "2"): Blob(b"c2", base="1")})
    saver.save_writes("t", "", r2.checkpoint_id, [PendingWrite("a", 0, "c", b"w", "p")])
    sub = rec(ns="sub:1")
    saver.save(sub, {})
    saver.copy_thread("t", "copy")

    def moved(r: CheckpointRecord) -> CheckpointRecord:
        return CheckpointRecord("copy", *[getattr(r, f) for f in (
            "checkpoint_ns", "checkpoint_id", "parent_id", "created_at", "metadata", "state",
            "versions")])

    assert list(saver.history("copy", None)) == [moved(sub), moved(r2), moved(r1)]
    assert saver.load("copy", "", None) == (moved(r2), [PendingWrite("a", 0, "c", b"w", "p")])
    assert saver.load_blobs("copy", "", [("c", "2")]) == {("c", "2"): [b"c1", b"c2"]}
    assert saver.load("t", "", None) == (r2, [PendingWrite("a", 0, "c", b"w", "p")])


def test_delete_for_runs(saver: Any) -> None:
    def by(run: Any, **kw: Any) -> CheckpointRecord:
        return rec(metadata={"run_id": run, "step": 1}, **kw)

    a = by("r1", versions={"c": "1", "x": "1"})
    saver.save(a, {("c", "1"): Blob(b"c1"), ("x", "1"): Blob(b"x1"), ("o", "1"): Blob(b"o")})
    b = by("r2", parent=a.checkpoint_id, versions={"c": "2", "x": "1"})
    saver.save(b, {("c", "2"): Blob(b"c2", base="1"), ("d", "1"): Blob(b"d1")})
    saver.save_writes("t", "", b.checkpoint_id, [PendingWrite("task", 0, "c", b"w")])
    sub = by("r2", ns="sub:1", versions={"s": "1"})
    saver.save(sub, {("s", "1"): Blob(b"s1")})
    keep_sub = by("r1", ns="sub:1", versions={"s": "0"})
    saver.save(keep_sub, {("s", "0"): Blob(b"s0")})
    c = by("r3", parent=b.checkpoint_id, versions={"c": "3", "x": "1"})
    saver.save(c, {("c", "3"): Blob(b"c3", base="2")})
    number = rec(metadata={"run_id": 2}, versions={"c": "1"})  # not the string "2"
    saver.save(number, {})
    no_run = rec(metadata={}, versions={})
    saver.save(no_run, {})
    other = by("r2", thread="u", versions={"c": "2"})
    saver.save(other, {("c", "2"): Blob(b"u2")})

    assert saver.delete_for_runs("t", []) == 0
    assert saver.delete_for_runs("t", ["r2", "2", "nope"]) == 2
    assert [h.checkpoint_id for h in saver.history("t", None)] == [
        no_run.checkpoint_id, number.checkpoint_id, c.checkpoint_id,
        keep_sub.checkpoint_id, a.checkpoint_id]
    assert saver.load("t", "", b.checkpoint_id) is None
    everything = [(ch, v) for ch in "cxdos" for v in "0123"]
    # c2 stays: c3 (kept) is a delta over it
    assert saver.load_blobs("t", "", everything) == {
        ("c", "1"): [b"c1"], ("c", "2"): [b"c1", b"c2"], ("c", "3"): [b"c1", b"c2", b"c3"],
        ("x", "1"): [b"x1"]}
    assert saver.load_blobs("t", "sub:1", everything) == {("s", "0"): [b"s0"]}
    saver.save(b, {})  # the same id again: its old writes went with it
    assert saver.load("t", "", b.checkpoint_id) == (b, [])
    assert saver.load("u", "", None) == (other, [])
    assert saver.load_blobs("u", "", [("c", "2")]) == {("c", "2"): [b"u2"]}
    assert saver.delete_for_runs("t", ["r1", "r2", "r3"]) == 4
    assert [h.checkpoint_id for h in saver.history("t", None)] == [
        no_run.checkpoint_id, number.checkpoint_id]
    assert saver.load_blobs("t", "", everything) == {("c", "1"): [b"c1"]}


def test_newest_after_copy_prune_and_delete(saver: Any) -> None:
    older = rec("copy")  # made first: its id is the oldest
    early = [new_checkpoint_id(), new_checkpoint_id()]  # older than what they follow
    saver.save(older, {})
    assert saver.load("copy", "", None)[0] == older
    r1 = rec()
    saver.save(r1, {})
    assert saver.load("t", "", None)[0] == r1
    r2 = rec(parent=r1.checkpoint_id)
    saver.save(r2, {})
    assert saver.load("t", "", None)[0] == r2
    saver.copy_thread("t", "copy")
    assert saver.load("copy", "", None)[0].checkpoint_id == r2.checkpoint_id
    assert saver.prune("t", 0) == 2
    assert saver.load("t", "", None) is None
    r3 = rec(cid=early[0])
    saver.save(r3, {})
    assert saver.load("t", "", None)[0] == r3
    saver.save(rec(), {})
    saver.load("t", "", None)
    saver.delete_thread("t")
    assert saver.load("t", "", None) is None
    r4 = rec(cid=early[1])
    saver.save(r4, {})
    assert saver.load("t", "", None)[0] == r4
    assert [h.checkpoint_id for h in saver.history("copy", None)] == [
        r2.checkpoint_id, r1.checkpoint_id, older.checkpoint_id,
    ]


# -- failures and concurrency ---------------------------------------------------------


def test_failed_save_leaves_previous_checkpoint(saver: Any) -> None:
    good = rec(versions={"c": "1"})
    saver.save(good, {("c", "1"): Blob(b"c1")})
    bad = rec(versions={"c": "2", "d": "1"})
    with pytest.raises(TypeError, match="bytes"):
        saver.save(bad, {("d", "1"): Blob(b"d1"), ("c", "2"): Blob("not bytes")})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        saver.save(rec(state="text"), {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JSON"):
        saver.save(rec(metadata={"x": object()}), {})
    with pytest.raises(TypeError, match="bytes"):
        saver.save_writes("t", "", good.checkpoint_id, [PendingWrite("a", 0, "c", 1)])  # type: ignore[arg-type]
    assert saver.load("t", "", None) == (good, [])
    assert saver.load_blobs("t", "", [("c", "2"), ("d", "1")]) == {}


@contextmanager
def blob_inserts_fail(sql_saver: Any) -> Iterator[None]:
    """Make the database itself reject a blob of channel ``boom``, mid-statement."""
    if sql_saver.kind.startswith("sqlite"):
        conn = sql_saver.raw.conn
        conn.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON rillet_checkpoint_blobs "
                     "WHEN NEW.channel = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END")
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER temp.boom")
        return
    import psycopg

    with psycopg.connect(sql_saver.dsn, autocommit=True) as conn:
        conn.execute("""
            CREATE OR REPLACE FUNCTION rillet_boom() RETURNS trigger AS $$
            BEGIN IF NEW.channel = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql""")
        conn.execute("CREATE TRIGGER boom BEFORE INSERT ON rillet_checkpoint_blobs "
                     "FOR EACH ROW EXECUTE FUNCTION rillet_boom()")
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER boom ON rillet_checkpoint_blobs")


def test_failure_inside_the_database_rolls_back(sql_saver: Any, request: Any) -> None:
    if "postgres" in sql_saver.kind:
        sql_saver.dsn = request.getfixturevalue("pg")
    good = rec(versions={"c": "1"})
    sql_saver.save(good, {("c", "1"): Blob(b"c1")})
    bad = rec(versions={"a": "1", "boom": "1"})
    with blob_inserts_fail(sql_saver), pytest.raises(Exception, match="boom"):
        sql_saver.save(bad, {("a", "1"): Blob(b"a1"), ("boom", "1"): Blob(b"x"),
                             ("z", "1"): Blob(b"z1")})
    assert sql_saver.load("t", "", None) == (good, [])
    assert sql_saver.load_blobs("t", "", [("a", "1"), ("boom", "1"), ("z", "1")]) == {}
    newer = rec(versions={"a": "1"})
    sql_saver.save(newer, {("a", "1"): Blob(b"a1")})
    assert sql_saver.load("t", "", None) == (newer, [])


def test_concurrent_saves_from_8_threads(saver: Any) -> None:
    start = threading.Barrier(8)
    errors: list[BaseException] = []
    made: dict[int, list[CheckpointRecord]] = {}

    def work(n: int) -> None:
        try:
            start.wait(timeout=30)
            mine = made.setdefault(n, [])
            for i in range(25):
                r = rec(thread="shared", versions={f"c{n}": str(i)}, metadata={"n": n, "i": i})
                saver.save(r, {(f"c{n}", str(i)): Blob(f"{n}-{i}".encode())})
                saver.save_writes("shared", "", r.checkpoint_id, [PendingWrite("w", 0, "c", b"x")])
                assert saver.load("shared", "", r.checkpoint_id) == (
                    r, [PendingWrite("w", 0, "c", b"x")])
                mine.append(r)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    assert errors == []
    everything = sorted((r for rs in made.values() for r in rs), key=lambda r: r.checkpoint_id)
    assert list(saver.history("shared")) == everything[::-1]
    keys = [(f"c{n}", str(i)) for n in range(8) for i in range(25)]
    assert saver.load_blobs("shared", "", keys) == {
        (f"c{n}", str(i)): [f"{n}-{i}".encode()] for n in range(8) for i in range(25)
    }


_WORKER = textwrap.dedent("""
    import os, sys, time
    from rillet.checkpoint.base import Blob, CheckpointRecord, new_checkpoint_id
    from rillet.checkpoint.sqlite import SqliteSaver
    path, go, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    with SqliteSaver.from_conn_string(path) as saver:
        for i in range(200):
            cid = new_checkpoint_id()
            saver.save(CheckpointRecord("t", "", cid, None, "now", {"p": n, "i": i}, b"s",
                                        {"c": cid}), {("c", cid): Blob(b"%d" % i)})
""")


def test_sqlite_several_processes_one_file(tmp_path: Path) -> None:
    path, go = tmp_path / "shared.db", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(path), str(go), str(n)],
                              env=env, stderr=subprocess.PIPE) for n in range(4)]
    go.touch()
    results = [(p.wait(timeout=100), p.stderr.read().decode() if p.stderr else "")
               for p in procs]
    assert results == [(0, "")] * 4
    with SqliteSaver.from_conn_string(str(path)) as saver:
        found = sorted((r.metadata["p"], r.metadata["i"]) for r in saver.history("t"))
        assert found == [(p, i) for p in range(4) for i in range(200)]
        assert saver.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- engine specifics -----------------------------------------------------------------


def test_sqlite_takes_only_a_sqlite3_connection() -> None:
    with pytest.raises(UsageError, match=r"sqlite3\.Connection"):
        SqliteSaver(object())  # type: ignore[arg-type]


def test_sqlite_connection_of_another_thread_says_what_to_do(tmp_path: Path) -> None:
    saver = SqliteSaver(sqlite3.connect(tmp_path / "x.db"))
    box: Future[None] = Future()
    threading.Thread(target=lambda: _into(box, lambda: saver.load("t", "", None))).start()
    with pytest.raises(UsageError, match="check_same_thread=False"):
        box.result(timeout=30)
    saver.conn.close()


def _into(box: Future[None], fn: Callable[[], Any]) -> None:
    try:
        box.set_result(fn())
    except BaseException as exc:
        box.set_exception(exc)


def test_sqlite_setup_is_idempotent_and_user_connection_works(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", check_same_thread=False)  # legacy transactions
    saver = SqliteSaver(conn)
    saver.setup()
    saver.setup()
    r = rec()
    saver.save(r, {})
    assert SqliteSaver(conn).load("t", "", None) == (r, [])
    assert conn.execute("SELECT v FROM rillet_migrations ORDER BY v").fetchall() == [
        (0,), (1,), (2,), (3,)]
    conn.close()


async def test_async_sqlite_context_manager(tmp_path: Path) -> None:
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.db")) as saver:
        await saver.setup()
        r = rec()
        await saver.asave(r, {})
        assert await saver.aload("t", "", None) == (r, [])
        assert await saver.ahistory("t") == [r]


def test_postgres_setup_races_and_transaction_modes(pg: str) -> None:
    import psycopg

    from rillet.checkpoint.postgres import PostgresSaver

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLES}, rillet_migrations")
    start, errors = threading.Barrier(4), []

    def racer() -> None:
        try:
            with psycopg.connect(pg, autocommit=False, prepare_threshold=None) as conn:
                start.wait(timeout=30)
                PostgresSaver(conn).setup()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    # LangGraph's own default (prepare_threshold=0) would prepare every statement:
    with psycopg.connect(pg, autocommit=False, prepare_threshold=0) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        for _ in range(10):
            r = rec()
            saver.save(r, {("c", r.checkpoint_id): Blob(b"x")})
            saver.save_writes("t", "", r.checkpoint_id, [PendingWrite("a", 0, "c", b"w")])
            assert saver.load("t", "", None) == (r, [PendingWrite("a", 0, "c", b"w")])
            list(saver.history("t", filter={"step": 1}))
        saver.prune("t", 1)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute(  # asked unprepared: this connection prepares everything else
            "SELECT statement FROM pg_prepared_statements", prepare=False).fetchall() == []
        assert conn.execute("SELECT v FROM rillet_migrations ORDER BY v").fetchall() == [
            (0,), (1,), (2,), (3,)]


def test_postgres_inside_a_callers_transaction(pg: str) -> None:
    import psycopg

    from rillet.checkpoint.postgres import PostgresSaver

    with psycopg.connect(pg, autocommit=False) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        conn.commit()
        conn.execute("SELECT 1")  # the caller's transaction is open
        saver.save(rec(thread="rolled-back"), {})
        conn.rollback()  # ours was a savepoint inside it
        assert saver.load("rolled-back", "", None) is None


async def test_async_postgres_blocking_call_on_its_own_loop(pg: str) -> None:
    from rillet.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(pg) as saver:
        await saver.setup()
        with pytest.raises(UsageError, match="await the async method"):
            saver.load("t", "", None)
        r = rec()
        await saver.asave(r, {})
        assert await asyncio.to_thread(saver.load, "t", "", None) == (r, [])


def test_async_postgres_made_outside_a_loop_blocks_on_its_busy_pool(pg: str) -> None:
    """A saver made before its loop runs (as ``rillet serve`` makes it), on a pool whose
    one connection is taken: a blocking call from a thread waits for the connection on
    the pool's loop. It ran on a private loop instead, and failed once the pool had a
    waiter ("Lock ... is bound to a different event loop"): under load, a scaled
    server's run ended ``error`` reading its thread's state."""
    from psycopg_pool import AsyncConnectionPool

    from rillet.checkpoint.postgres import CONNECT_KWARGS
    from rillet.checkpoint.postgres.aio import AsyncPostgresSaver

    pool = AsyncConnectionPool(pg, min_size=1, max_size=1, kwargs=CONNECT_KWARGS,
                               open=False)
    saver = AsyncPostgresSaver(pool)  # no loop runs here

    async def main() -> Any:
        await pool.open(wait=True)
        try:
            await saver.setup()
            r = rec(thread="busy-pool")
            await saver.asave(r, {})
            async with pool.connection():  # the only connection, held
                loads = [asyncio.ensure_future(asyncio.to_thread(
                    saver.load, "busy-pool", "", None)) for _ in range(2)]

                async def both_waiting() -> None:
                    while pool.get_stats().get("requests_waiting", 0) < 2:
                        assert not any(f.done() for f in loads), [
                            f.result() for f in loads if f.done()]
                        await asyncio.sleep(0.01)

                await asyncio.wait_for(both_waiting(), 30)
            return r, await asyncio.wait_for(asyncio.gather(*loads), 30)
        finally:
            await pool.close()

    r, got = asyncio.run(main())
    assert got == [(r, []), (r, [])]


def test_postgres_without_the_extra_names_it() -> None:
    code = "import sys; sys.modules['psycopg'] = None; import rillet.checkpoint.postgres"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    assert "pip install 'rillet[postgres]'" in done.stderr


# -- the base class -------------------------------------------------------------------


def test_checkpoint_ids_are_ordered_unique_uuid7() -> None:
    ids = [new_checkpoint_id() for _ in range(50_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert {uuid.UUID(i).variant for i in ids} == {uuid.RFC_4122}


def test_checkpoint_seed_is_the_id_as_a_uuid() -> None:
    for _ in range(1000):
        text, seed = new_checkpoint_seed()
        parsed = uuid.UUID(text)
        assert str(seed) == text
        assert seed == parsed and hash(seed) == hash(parsed)
        assert (seed.int, seed.version, seed.variant) == (parsed.int, 7, uuid.RFC_4122)
        assert seed.is_safe is uuid.SafeUUID.unknown
        assert uuid.uuid5(seed, "task") == uuid.uuid5(parsed, "task")


class SyncOnly(BaseCheckpointSaver):
    def load(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None) -> Any:
        return ("sync", threading.current_thread().name)


class AsyncOnly(BaseCheckpointSaver):
    async def aload(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None) -> Any:
        return ("async", threading.current_thread().name)


async def test_faces_are_derived() -> None:
    assert (await SyncOnly().aload("t", "", None))[0] == "sync"
    assert await SyncOnly().aload("t", "", None) != ("sync", threading.current_thread().name)
    assert await asyncio.to_thread(AsyncOnly().load, "t", "", None) == (
        "async", threading.current_thread().name)  # the home loop: this one
    with pytest.raises(UsageError, match="deadlock"):
        AsyncOnly().load("t", "", None)
    with pytest.raises(NotImplementedError, match=r"neither save\(\) nor asave\(\)"):
        SyncOnly().save(rec(), {})
    with pytest.raises(NotImplementedError, match=r"neither aprune\(\) nor prune\(\)"):
        await SyncOnly().aprune("t", 1)
    with pytest.raises(NotImplementedError,
                       match=r"neither adelete_for_runs\(\) nor delete_for_runs\(\)"):
        await SyncOnly().adelete_for_runs("t", ["r"])
    with pytest.raises(NotImplementedError,
                       match=r"neither delete_for_runs\(\) nor adelete_for_runs\(\)"):
        SyncOnly().delete_for_runs("t", ["r"])


def test_sync_face_of_async_saver_without_a_loop_uses_a_private_one() -> None:
    saver = AsyncOnly()
    kind, thread = saver.load("t", "", None)
    assert (kind, thread) == ("async", "rillet-saver-loop")
    assert saver.load("t", "", None) == ("async", "rillet-saver-loop")


def test_memory_saver_names() -> None:
    assert MemorySaver is InMemorySaver
    assert InMemorySaver.blocking is False
