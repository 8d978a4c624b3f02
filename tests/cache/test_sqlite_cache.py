"""``SqliteCache``: shared by connections and processes, safe against tampering.

LangGraph 1.2.22's core has no SQLite cache (``langgraph.cache.sqlite`` ships with
``langgraph-checkpoint-sqlite``); rillet's takes the same ``path=`` argument.
"""

from __future__ import annotations

import json
import logging
import operator
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from rillet.cache.sqlite import SqliteCache
from rillet.graph import START, StateGraph
from rillet.types import CachePolicy


class State(TypedDict):
    x: int
    log: Annotated[list[Any], operator.add]


def graph_on(cache: SqliteCache, calls: list[int]) -> Any:
    def double(state: State) -> dict[str, Any]:
        calls.append(state["x"])
        return {"x": state["x"] * 2, "log": [state["x"]]}

    builder = StateGraph(State)
    builder.add_node("double", double, cache_policy=CachePolicy())
    builder.add_edge(START, "double")
    return builder.compile(cache=cache)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_two_connections_share_entries(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    calls: list[int] = []
    first = graph_on(SqliteCache(path=path), calls)
    second = graph_on(SqliteCache(path=path), calls)
    assert first.invoke({"x": 3}) == {"x": 6, "log": [3]}
    assert list(second.stream({"x": 3}, stream_mode="updates")) == [
        {"double": {"x": 6, "log": [3]}, "__metadata__": {"cached": True}},
    ]
    assert calls == [3]
    second.clear_cache()
    assert first.invoke({"x": 3}) == {"x": 6, "log": [3]}
    assert calls == [3, 3]


CHILD = """
import operator, sys
from typing import Annotated, Any, TypedDict
from rillet.cache.sqlite import SqliteCache
from rillet.graph import START, StateGraph
from rillet.types import CachePolicy

class State(TypedDict):
    x: int
    log: Annotated[list[Any], operator.add]

def double(state):
    print("ran", flush=True)
    return {"x": state["x"] * 2, "log": [state["x"]]}

builder = StateGraph(State)
builder.add_node("double", double, cache_policy=CachePolicy())
builder.add_edge(START, "double")
graph = builder.compile(cache=SqliteCache(path=sys.argv[1]))
print(graph.invoke({"x": 3}))
"""


def test_a_second_process_finds_the_first_ones_entries(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    runs = [
        subprocess.run([sys.executable, str(script), path], capture_output=True, text=True,
                       check=True, timeout=120).stdout
        for _ in range(2)
    ]
    assert runs == ["ran\n{'x': 6, 'log': [3]}\n", "{'x': 6, 'log': [3]}\n"]


def test_ttl_and_expired_rows_are_dropped(tmp_path: Path) -> None:
    clock = Clock()
    cache = SqliteCache(path=str(tmp_path / "cache.db"), clock=clock)
    calls: list[int] = []
    builder = StateGraph(State)
    builder.add_node("n", lambda s: calls.append(1) or {"log": [1]},
                     cache_policy=CachePolicy(ttl=5))
    builder.add_edge(START, "n")
    graph = builder.compile(cache=cache)
    graph.invoke({"x": 0})
    clock.now = 1004.0
    graph.invoke({"x": 0})
    clock.now = 1005.0
    graph.invoke({"x": 0})
    assert calls == [1, 1]
    cache.set({(("other",), "k"): ("v", None)})  # a write drops what has expired
    rows = sqlite3.connect(tmp_path / "cache.db").execute(
        "SELECT ns, expiry FROM cache_entries ORDER BY ns").fetchall()
    node_ns = ("__pregel_ns_writes", "tests.cache.test_sqlite_cache."
               "test_ttl_and_expired_rows_are_dropped.<locals>.<lambda>", "n")
    assert rows == [(json.dumps(node_ns, separators=(",", ":")), 1010.0), ('["other"]', None)]


def _tamper(path: Path, value: bytes) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE cache_entries SET value = ?", (value,))
    conn.close()


@pytest.mark.filterwarnings("ignore::rillet.checkpoint.serde.SerializationWarning")
@pytest.mark.parametrize("payload", [
    # A pickle that would run os.system if anything unpickled it.
    b"cos\nsystem\n(S'touch PWNED'\ntR.",
    # Rillet's own format naming a class that was never registered.
    json.dumps({"!": ["o", "os:system", {"command": "touch PWNED"}]}).encode(),
    b"\xff\xfe not even text",
])
def test_tampered_entries_run_nothing_and_are_misses(
    tmp_path: Path, payload: bytes, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cache.db"
    calls: list[int] = []
    graph = graph_on(SqliteCache(path=str(path)), calls)
    graph.invoke({"x": 3})
    _tamper(path, payload)
    with caplog.at_level(logging.WARNING, logger="rillet.cache"):
        assert graph.invoke({"x": 3}) == {"x": 6, "log": [3]}
    assert calls == [3, 3]  # the node ran again
    assert not (tmp_path / "PWNED").exists()
    assert caplog.records  # said why
    # The run overwrote the bad entry: the next one hits.
    assert graph.invoke({"x": 3}) == {"x": 6, "log": [3]}
    assert calls == [3, 3]
