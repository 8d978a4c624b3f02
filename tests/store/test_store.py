"""The store suite, run on every engine: InMemoryStore, SqliteStore (file and
``:memory:``), PostgresStore (connection and pool) and AsyncPostgresStore.

Expected outputs marked "LangGraph 1.2.22" were observed by running the same calls on
LangGraph's ``InMemoryStore`` (langgraph 1.2.22, langgraph-checkpoint 4.3.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rillet.errors import ConfigError, UsageError
from rillet.store import BaseStore, InMemoryStore, InvalidNamespaceError, Item, SearchItem
from rillet.store.sqlite import SqliteStore

VOCAB = ["cat", "dog", "fish", "bird"]
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def embed(texts: list[str]) -> list[list[float]]:
    """A deterministic toy embedding: how often each word of VOCAB occurs."""
    return [[float(t.count(w)) for w in VOCAB] for t in texts]


def brief(items: list[SearchItem]) -> list[tuple[Any, ...]]:
    return [
        (it.namespace, it.key, it.value) if it.score is None
        else (it.namespace, it.key, it.value, round(it.score, 6))
        for it in items
    ]


# --- engines ---------------------------------------------------------------------------

Make = Callable[..., BaseStore]


def _postgres_dsn(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("postgres_dsn"))  # a server the fixture starts


@contextlib.contextmanager
def _fresh_schema(request: pytest.FixtureRequest) -> Iterator[str]:
    """A DSN whose connections use a new, empty schema, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    dsn = _postgres_dsn(request)
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(dsn, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


ENGINES = ["memory", "sqlite-memory", "sqlite-file", "postgres", "postgres-pool"]


@pytest.fixture(params=ENGINES)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    """``make(index=..., ttl=...)``: a new, empty store of the engine under test (for
    Postgres, in a schema of its own)."""
    engine = request.param
    with contextlib.ExitStack() as stack:

        def make(**config: Any) -> BaseStore:
            store: Any
            if engine == "memory":
                return InMemoryStore(**config)
            if engine.startswith("sqlite"):
                name = f"{uuid.uuid4().hex}.db"
                path = ":memory:" if engine == "sqlite-memory" else str(tmp_path / name)
                store = stack.enter_context(SqliteStore.from_conn_string(path, **config))
            else:
                from rillet.store.postgres import PostgresStore

                dsn = stack.enter_context(_fresh_schema(request))
                pool = {"min_size": 1, "max_size": 4} if engine == "postgres-pool" else None
                store = stack.enter_context(
                    PostgresStore.from_conn_string(dsn, pool_config=pool, **config)
                )
            store.setup()
            return store  # type: ignore[no-any-return]

        yield make


# --- scenarios checked against LangGraph 1.2.22 -----------------------------------------


def s_crud(store: BaseStore) -> Any:
    store.put(("users", "1"), "prefs", {"theme": "dark"})
    a = store.get(("users", "1"), "prefs")
    store.put(("users", "1"), "prefs", {"theme": "light", "size": 2})
    b = store.get(("users", "1"), "prefs")
    assert a is not None and b is not None
    result: dict[str, Any] = {"value": (a.value, b.value, b.namespace, b.key)}
    result["missing"] = store.get(("users", "1"), "nope"), store.get(("users", "2"), "prefs")
    store.delete(("users", "1"), "prefs")
    result["deleted"] = store.get(("users", "1"), "prefs")
    store.delete(("users", "1"), "never-there")
    return result


def s_prefix(store: BaseStore) -> Any:
    store.put(("docs", "a"), "k1", {"n": 1})
    store.put(("docs", "b"), "k1", {"n": 2})
    store.put(("docs", "a"), "k2", {"n": 3})
    store.put(("notes",), "n1", {"n": 4})
    store.put(("docs", "a"), "k1", {"n": 5})
    store.put(("docs", "ab"), "k1", {"n": 6})
    return {
        "docs": brief(store.search(("docs",))),
        "all": brief(store.search(())),
        "docs_a": brief(store.search(("docs", "a"))),
        "doc": brief(store.search(("doc",))),
        "deep": brief(store.search(("docs", "a", "x"))),
    }


ITEMS = [
    ("red", 4.5, ["a", "b"], {"lang": "en"}),
    ("blue", 3, ["a"], {"lang": "fr"}),
    ("red", 9, [], {"lang": "en", "x": 1}),
    ("green", 7.25, ["b", "a"], {"lang": "de"}),
]
FILTERS: list[dict[str, Any]] = [
    {"color": "red"}, {"score": {"$gt": 4}}, {"score": {"$gte": 4.5, "$lt": 9}},
    {"color": {"$ne": "red"}}, {"meta": {"lang": "en"}}, {"tags": ["a", "b"]},
    {"score": {"$lte": 3}}, {"color": {"$eq": "blue"}}, {"color": "red", "score": 9},
    {"missing": None}, {"color": "purple"},
]


def s_filter(store: BaseStore) -> Any:
    for i, (color, score, tags, meta) in enumerate(ITEMS):
        value = {"color": color, "score": score, "tags": tags, "meta": meta}
        store.put(("shop",), f"i{i}", value)
    return [[it.key for it in store.search(("shop",), filter=f)] for f in FILTERS]


def s_paging(store: BaseStore) -> Any:
    for i in range(5):
        store.put(("p",), f"k{i}", {"i": i})
    cases = [(2, 0), (2, 1), (10, 4), (10, 5), (0, 0), (3, 3)]
    return [[it.key for it in store.search(("p",), limit=n, offset=o)] for n, o in cases]


NAMESPACES = [
    ("a", "b", "c"), ("a", "b", "d"), ("a", "e"), ("f", "b", "c"), ("g",), ("a", "b", "c", "d"),
]
LIST_CASES: list[dict[str, Any]] = [
    {}, {"prefix": ("a",)}, {"prefix": ("a", "*", "c")}, {"suffix": ("c",)},
    {"suffix": ("*", "c")}, {"prefix": ("a",), "suffix": ("d",)}, {"max_depth": 1},
    {"prefix": ("a",), "max_depth": 2}, {"limit": 2, "offset": 1}, {"prefix": ("*", "b")},
    {"prefix": ("x",)}, {"suffix": ("b", "c", "d", "e", "f")}, {"max_depth": 2, "limit": 3},
]


def s_namespaces(store: BaseStore) -> Any:
    for ns in NAMESPACES:
        store.put(ns, "k", {"v": 1})
    return [store.list_namespaces(**case) for case in LIST_CASES]


def s_semantic(store: BaseStore) -> Any:
    store.put(("pets",), "p1", {"text": "cat cat dog"})
    store.put(("pets",), "p2", {"text": "dog fish"})
    store.put(("pets",), "p3", {"text": "bird"})
    store.put(("pets",), "p4", {"text": "cat"})
    store.put(("pets",), "p5", {"text": "cat cat"}, index=False)
    store.put(("pets",), "p6", {"text": "fish", "tags": ["cat", "bird"]}, index=["tags[*]"])
    store.put(("pets",), "p7", {"other": "cat"})
    return {
        "cat": brief(store.search(("pets",), query="cat")),
        "dog": brief(store.search(("pets",), query="dog fish", limit=3)),
        "filtered": brief(store.search(("pets",), query="bird", filter={"text": "fish"})),
        "noquery": brief(store.search(("pets",), limit=2)),
    }


def s_semantic_paging(store: BaseStore) -> Any:
    for i, text in enumerate(["cat", "cat dog", "dog", "cat cat cat dog", "fish"]):
        store.put(("s",), f"d{i}", {"text": text})
    return [brief(store.search(("s",), query="cat", limit=2, offset=o)) for o in (0, 2, 4)]


def s_whole_doc(store: BaseStore) -> Any:
    store.put(("w",), "a", {"title": "dog", "body": {"x": "fish fish"}})
    store.put(("w",), "b", {"title": "cat"})
    return brief(store.search(("w",), query="fish"))


async def s_async(store: BaseStore) -> Any:
    await store.aput(("as", "x"), "k", {"v": 1})
    await store.aput(("as", "y"), "k", {"v": 2})
    got = await store.aget(("as", "x"), "k")
    found = await store.asearch(("as",), filter={"v": {"$gt": 1}})
    spaces = await store.alist_namespaces(prefix=("as",))
    await store.adelete(("as", "x"), "k")
    gone = await store.aget(("as", "x"), "k")
    assert got is not None
    return {"got": got.value, "found": brief(found), "spaces": spaces, "gone": gone}


LANGGRAPH: dict[str, Any] = {
    "crud": {
        "value": ({"theme": "dark"}, {"theme": "light", "size": 2}, ("users", "1"), "prefs"),
        "missing": (None, None),
        "deleted": None,
    },
    "prefix": {
        "docs": [
            (("docs", "a"), "k1", {"n": 5}),
            (("docs", "a"), "k2", {"n": 3}),
            (("docs", "b"), "k1", {"n": 2}),
            (("docs", "ab"), "k1", {"n": 6}),
        ],
        "all": [
            (("docs", "a"), "k1", {"n": 5}),
            (("docs", "a"), "k2", {"n": 3}),
            (("docs", "b"), "k1", {"n": 2}),
            (("notes",), "n1", {"n": 4}),
            (("docs", "ab"), "k1", {"n": 6}),
        ],
        "docs_a": [(("docs", "a"), "k1", {"n": 5}), (("docs", "a"), "k2", {"n": 3})],
        "doc": [],
        "deep": [],
    },
    "filter": [
        ["i0", "i2"], ["i0", "i2", "i3"], ["i0", "i3"], ["i1", "i3"], ["i0", "i2"], ["i0"],
        ["i1"], ["i1"], ["i2"], ["i0", "i1", "i2", "i3"], [],
    ],
    "paging": [["k0", "k1"], ["k1", "k2"], ["k4"], [], [], ["k3", "k4"]],
    "namespaces": [
        [("a", "b", "c"), ("a", "b", "c", "d"), ("a", "b", "d"), ("a", "e"), ("f", "b", "c"),
         ("g",)],
        [("a", "b", "c"), ("a", "b", "c", "d"), ("a", "b", "d"), ("a", "e")],
        [("a", "b", "c"), ("a", "b", "c", "d")],
        [("a", "b", "c"), ("f", "b", "c")],
        [("a", "b", "c"), ("f", "b", "c")],
        [("a", "b", "c", "d"), ("a", "b", "d")],
        [("a",), ("f",), ("g",)],
        [("a", "b"), ("a", "e")],
        [("a", "b", "c", "d"), ("a", "b", "d")],
        [("a", "b", "c"), ("a", "b", "c", "d"), ("a", "b", "d"), ("f", "b", "c")],
        [],
        [],
        [("a", "b"), ("a", "e"), ("f", "b")],
    ],
    "semantic": {
        "cat": [
            (("pets",), "p4", {"text": "cat"}, 1.0),
            (("pets",), "p6", {"text": "fish", "tags": ["cat", "bird"]}, 1.0),
            (("pets",), "p1", {"text": "cat cat dog"}, 0.894427),
            (("pets",), "p2", {"text": "dog fish"}, 0.0),
            (("pets",), "p3", {"text": "bird"}, 0.0),
            (("pets",), "p5", {"text": "cat cat"}),
            (("pets",), "p7", {"other": "cat"}),
        ],
        "dog": [
            (("pets",), "p2", {"text": "dog fish"}, 1.0),
            (("pets",), "p1", {"text": "cat cat dog"}, 0.316228),
            (("pets",), "p3", {"text": "bird"}, 0.0),
        ],
        "filtered": [(("pets",), "p6", {"text": "fish", "tags": ["cat", "bird"]}, 1.0)],
        "noquery": [
            (("pets",), "p1", {"text": "cat cat dog"}), (("pets",), "p2", {"text": "dog fish"}),
        ],
    },
    "semantic_paging": [
        [
            (("s",), "d0", {"text": "cat"}, 1.0),
            (("s",), "d3", {"text": "cat cat cat dog"}, 0.948683),
        ],
        [(("s",), "d1", {"text": "cat dog"}, 0.707107), (("s",), "d2", {"text": "dog"}, 0.0)],
        [(("s",), "d4", {"text": "fish"}, 0.0)],
    ],
    "whole_doc": [
        (("w",), "a", {"title": "dog", "body": {"x": "fish fish"}}, 0.894427),
        (("w",), "b", {"title": "cat"}, 0.0),
    ],
    "async": {
        "got": {"v": 1},
        "found": [(("as", "y"), "k", {"v": 2})],
        "spaces": [("as", "x"), ("as", "y")],
        "gone": None,
    },
}
INDEXES: dict[str, dict[str, Any]] = {
    "semantic": {"dims": 4, "embed": embed, "fields": ["text"]},
    "semantic_paging": {"dims": 4, "embed": embed, "fields": ["text"]},
    "whole_doc": {"dims": 4, "embed": embed},
}


@pytest.mark.parametrize("scenario", list(LANGGRAPH))
def test_matches_langgraph(make: Make, scenario: str) -> None:
    store = make(index=INDEXES.get(scenario))
    run = globals()[f"s_{scenario}"]
    result = asyncio.run(run(store)) if scenario == "async" else run(store)
    assert result == LANGGRAPH[scenario]


# --- items ---------------------------------------------------------------------------


def test_item_repr_dict_and_equality_are_langgraphs() -> None:
    item = Item(value={"a": 1}, key="k", namespace=("x", "y"), created_at=T0, updated_at=T0)
    assert repr(item) == (  # LangGraph 1.2.22
        "Item(namespace=['x', 'y'], key='k', value={'a': 1}, "
        "created_at='2024-01-02T03:04:05+00:00', updated_at='2024-01-02T03:04:05+00:00')"
    )
    hit = SearchItem(("x",), "k", {"a": 1}, T0, T0, 0.5)
    assert repr(hit) == (  # LangGraph 1.2.22
        "Item(namespace=['x'], key='k', value={'a': 1}, created_at='2024-01-02T03:04:05+00:00', "
        "updated_at='2024-01-02T03:04:05+00:00', score=0.5)"
    )
    assert hit.dict()["score"] == 0.5
    same = Item(value={"a": 1}, key="k", namespace=("x", "y"), created_at=T0.isoformat(),
                updated_at=T0)
    assert same == item and hash(same) == hash(item)
    assert item != Item(value={"a": 2}, key="k", namespace=("x", "y"), created_at=T0,
                        updated_at=T0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def clocked(store: BaseStore, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(store, "_now", clock)
    return clock


def test_update_keeps_created_at_and_moves_updated_at(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make()
    clock = clocked(store, monkeypatch)
    store.put(("n",), "k", {"v": 1})
    clock.advance(seconds=90)
    store.put(("n",), "k", {"v": 2})
    item = store.get(("n",), "k")
    assert item is not None
    assert (item.value, item.created_at, item.updated_at) == (
        {"v": 2}, T0, T0 + timedelta(seconds=90)
    )
    assert item.created_at.tzinfo is not None and item.created_at.utcoffset() == timedelta(0)
    [hit] = store.search(("n",))
    assert hit == item and hit.score is None


def test_values_are_stored_as_json_copies(make: Make) -> None:
    store = make()
    value = {"list": [1, 2], "tuple": (3, 4), "nested": {"a": None}}
    store.put(("n",), "k", value)
    value["list"].append(99)
    item = store.get(("n",), "k")
    assert item is not None
    assert item.value == {"list": [1, 2], "tuple": [3, 4], "nested": {"a": None}}
    item.value["list"].append(100)
    again = store.get(("n",), "k")
    assert again is not None and again.value["list"] == [1, 2]


def test_put_value_none_deletes(make: Make) -> None:
    store = make()
    store.put(("n",), "k", {"v": 1})
    store.put(("n",), "k", None)  # type: ignore[arg-type]
    assert store.get(("n",), "k") is None
    assert store.list_namespaces() == []


# --- TTL -----------------------------------------------------------------------------


def test_ttl_expiry_hides_items_and_sweep_deletes_them(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make()
    clock = clocked(store, monkeypatch)
    store.put(("t",), "short", {"v": 1}, ttl=1)
    store.put(("t",), "long", {"v": 2}, ttl=10)
    store.put(("t", "x"), "gone", {"v": 3}, ttl=1)
    store.put(("t",), "forever", {"v": 4})
    clock.advance(seconds=59)
    assert store.get(("t",), "short", refresh_ttl=False) is not None
    clock.advance(seconds=2)
    assert store.get(("t",), "short") is None
    assert [i.key for i in store.search(("t",))] == ["long", "forever"]
    assert store.list_namespaces() == [("t",)]
    assert store.sweep_ttl() == 2  # type: ignore[attr-defined]
    assert store.sweep_ttl() == 0  # type: ignore[attr-defined]
    clock.advance(days=365)
    assert [i.key for i in store.search(())] == ["forever"]


def test_reads_refresh_ttl_unless_told_not_to(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make()
    clock = clocked(store, monkeypatch)
    store.put(("t",), "a", {"v": 1}, ttl=1)
    store.put(("t",), "b", {"v": 2}, ttl=1)
    clock.advance(seconds=50)
    assert store.get(("t",), "a") is not None  # refreshed: now expires at +110 s
    assert store.get(("t",), "b", refresh_ttl=False) is not None
    clock.advance(seconds=20)
    assert store.get(("t",), "b") is None
    assert [i.key for i in store.search(("t",))] == ["a"]  # refreshed again: +130 s
    clock.advance(seconds=55)
    assert [i.key for i in store.search(("t",), refresh_ttl=False)] == ["a"]
    clock.advance(seconds=10)
    assert store.search(("t",)) == []


def test_ttl_config_default_and_refresh_on_read(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make(ttl={"default_ttl": 2, "refresh_on_read": False})
    clock = clocked(store, monkeypatch)
    store.put(("t",), "default", {"v": 1})
    store.put(("t",), "none", {"v": 2}, ttl=None)
    clock.advance(seconds=100)
    assert store.get(("t",), "default") is not None  # not refreshed by default
    clock.advance(seconds=30)
    assert store.get(("t",), "default") is None
    assert store.get(("t",), "none") is not None
    store.put(("t",), "explicit", {"v": 3}, ttl=1)
    clock.advance(seconds=45)
    store.get(("t",), "explicit", refresh_ttl=True)
    clock.advance(seconds=45)
    assert store.get(("t",), "explicit") is not None


def test_ttl_in_async_methods(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make()
    clock = clocked(store, monkeypatch)

    async def main() -> tuple[Any, ...]:
        await store.aput(("t",), "k", {"v": 1}, ttl=1)
        clock.advance(minutes=2)
        return await store.aget(("t",), "k"), await store.asweep_ttl()  # type: ignore[attr-defined]

    assert asyncio.run(main()) == (None, 1)


# --- semantic search -----------------------------------------------------------------


def test_reput_without_index_drops_old_vectors(make: Make) -> None:
    store = make(index={"dims": 4, "embed": embed, "fields": ["text"]})
    store.put(("d",), "a", {"text": "cat"})
    store.put(("d",), "b", {"text": "dog"})
    store.put(("d",), "a", {"text": "cat"}, index=False)
    assert brief(store.search(("d",), query="cat")) == [
        (("d",), "b", {"text": "dog"}, 0.0), (("d",), "a", {"text": "cat"}),
    ]


class ToyEmbeddings:
    """The shape of LangChain's Embeddings, without LangChain."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(("documents", list(texts)))
        return embed(texts)

    def embed_query(self, text: str) -> list[float]:
        self.calls.append(("query", text))
        return embed([text])[0]


def test_embeddings_object_and_async_embed_function(make: Make) -> None:
    embeddings = ToyEmbeddings()
    store = make(index={"dims": 4, "embed": embeddings, "fields": ["text"]})
    store.put(("d",), "a", {"text": "cat dog"})
    store.put(("d",), "b", {"text": "cat"})
    assert [i.key for i in store.search(("d",), query="cat")] == ["b", "a"]
    assert embeddings.calls == [
        ("documents", ["cat dog"]), ("documents", ["cat"]), ("query", "cat"),
    ]

    async def aembed(texts: list[str]) -> list[list[float]]:
        return embed(texts)

    astore = make(index={"dims": 4, "embed": aembed, "fields": ["text"]})

    async def main() -> list[str]:
        await astore.aput(("d",), "a", {"text": "dog"})
        await astore.aput(("d",), "b", {"text": "dog dog fish"})
        return [i.key for i in await astore.asearch(("d",), query="fish")]

    assert asyncio.run(main()) == ["b", "a"]
    with pytest.raises(UsageError, match="embed function is async"):
        astore.put(("d",), "c", {"text": "cat"})


def test_query_without_index_is_ignored(make: Make) -> None:
    store = make()
    store.put(("d",), "a", {"text": "cat"})
    assert brief(store.search(("d",), query="cat")) == [(("d",), "a", {"text": "cat"})]


# --- bad input -----------------------------------------------------------------------

BAD_NAMESPACES = [  # LangGraph 1.2.22's messages, word for word
    ((), "Namespace cannot be empty."),
    (("a.b",), "Invalid namespace label 'a.b' found in ('a.b',). Namespace labels cannot "
     "contain periods ('.')."),
    (("",), "Namespace labels cannot be empty strings. Got  in ('',)"),
    (("langgraph",), 'Root label for namespace cannot be "langgraph". Got: (\'langgraph\',)'),
    ((1,), "Invalid namespace label '1' found in (1,). Namespace labels must be strings, but "
     "got int."),
    (("a\x00",), "Invalid namespace label 'a\x00' found in ('a\\x00',). Namespace labels "
     "cannot contain NUL bytes ('\\x00')."),
]


@pytest.mark.parametrize(("namespace", "message"), BAD_NAMESPACES)
def test_bad_namespaces(make: Make, namespace: Any, message: str) -> None:
    store = make()
    with pytest.raises(InvalidNamespaceError) as info:
        store.put(namespace, "k", {})
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_reads_validate_labels_but_allow_empty_and_reserved(make: Make) -> None:
    store = make()
    assert store.get((), "k") is None  # as in LangGraph
    assert store.get(("langgraph",), "k") is None
    period = (
        "Invalid namespace label 'a.b' found in ('a.b',). Namespace labels cannot contain "
        "periods ('.')."
    )
    for call in (
        lambda: store.search(("a.b",)),
        lambda: store.list_namespaces(prefix=("a.b",)),
        lambda: store.delete(("a.b",), "k"),
        lambda: asyncio.run(store.aget(("a.b",), "k")),
    ):
        with pytest.raises(InvalidNamespaceError) as info:
            call()
        assert str(info.value) == period


def test_bad_values_and_filters(make: Make) -> None:
    store = make()
    with pytest.raises(UsageError) as info:
        store.put(("n",), "k", "not a dict")  # type: ignore[arg-type]
    assert str(info.value) == "Store values must be dicts; got str for key 'k' in ('n',)."
    with pytest.raises(UsageError) as info:
        store.put(("n",), "k", {"x": object()})
    assert str(info.value) == (
        "The value for key 'k' in ('n',) cannot be stored as JSON: "
        "Object of type object is not JSON serializable"
    )
    with pytest.raises(UsageError, match="cannot be stored as JSON: Out of range float"):
        store.put(("n",), "k", {"x": float("nan")})
    with pytest.raises(ConfigError) as config_info:
        store.search(("n",), filter={"x": {"$foo": 1}})
    assert str(config_info.value) == "Unsupported operator: $foo"  # LangGraph 1.2.22
    assert store.get(("n",), "k") is None


def test_ordering_filters_skip_values_they_cannot_compare(make: Make) -> None:
    # LangGraph's InMemoryStore raises TypeError here (float(None)); rillet skips the item.
    store = make()
    store.put(("n",), "a", {"score": 5})
    store.put(("n",), "b", {"other": 1})
    store.put(("n",), "c", {"score": "7"})
    store.put(("n",), "d", {"score": "high"})
    assert [i.key for i in store.search(("n",), filter={"score": {"$gt": 4}})] == ["a", "c"]
    assert [i.key for i in store.search(("n",), filter={"score": {"$gt": "a"}})] == ["d"]


# --- concurrency ---------------------------------------------------------------------


def test_eight_threads_put_at_once(make: Make) -> None:
    store = make()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(25):
                store.put(("c", str(n)), f"k{i}", {"n": n, "i": i})
                assert store.get(("c", str(n)), f"k{i}") is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(store.search(("c",), limit=1000)) == 200
    assert store.list_namespaces() == [("c", str(n)) for n in range(8)]


# --- SQLite --------------------------------------------------------------------------


def test_sqlite_file_persists_and_uses_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
        store.put(("n",), "k", {"v": 1})
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
        item = store.get(("n",), "k")
        assert item is not None and item.value == {"v": 1}
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_without_setup_says_what_to_do() -> None:
    store = SqliteStore(sqlite3.connect(":memory:"))
    with pytest.raises(ConfigError) as info:
        store.get(("n",), "k")
    assert str(info.value) == "The store's table does not exist: call store.setup() once first."


def test_sqlite_with_callers_connection_in_default_mode(tmp_path: Path) -> None:
    conn = sqlite3.connect(str(tmp_path / "own.db"), check_same_thread=False)
    store = SqliteStore(conn)
    store.setup()
    store.put(("n",), "k", {"v": 1})
    assert not conn.in_transaction
    other = sqlite3.connect(str(tmp_path / "own.db"))
    assert other.execute("SELECT key FROM store_items").fetchall() == [("k",)]
    other.close()
    conn.close()


# --- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture
def pg_dsn(request: pytest.FixtureRequest) -> Iterator[str]:
    with _fresh_schema(request) as dsn:
        yield dsn


def test_postgres_setup_from_many_processes_at_once(pg_dsn: str) -> None:
    import psycopg

    from rillet.store.postgres import PostgresStore

    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def setup(autocommit: bool) -> None:
        try:
            with psycopg.connect(pg_dsn, autocommit=autocommit, prepare_threshold=None) as conn:
                store = PostgresStore(conn)
                barrier.wait(timeout=10)
                store.setup()
                store.put(("s",), f"k{threading.get_ident()}", {"v": 1})
                conn.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=setup, args=(n % 2 == 0,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with PostgresStore.from_conn_string(pg_dsn) as store:
        assert len(store.search(("s",))) == 6


def test_postgres_inside_callers_transaction(pg_dsn: str) -> None:
    import psycopg

    from rillet.store.postgres import PostgresStore

    with psycopg.connect(pg_dsn) as conn:  # not autocommit
        store = PostgresStore(conn)
        conn.execute("SELECT 1")  # the caller's transaction is open
        store.setup()
        store.put(("n",), "k", {"v": 1})
        conn.rollback()  # the caller decides: setup and put go with it
        with pytest.raises(ConfigError, match=r"call store\.setup"):
            store.get(("n",), "k")
        store.setup()
        store.put(("n",), "k", {"v": 2})
        conn.commit()
    with PostgresStore.from_conn_string(pg_dsn) as store:
        item = store.get(("n",), "k")
        assert item is not None and item.value == {"v": 2}


def test_postgres_schema(pg_dsn: str) -> None:
    import psycopg

    from rillet.store.postgres import PostgresStore

    with PostgresStore.from_conn_string(pg_dsn) as store:
        store.setup()
        store.put(("a", "b"), "k", {"v": [1, "x"]}, ttl=5)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT prefix, key, value, pg_typeof(value)::text, ttl_minutes,"
            " expires_at - updated_at FROM store_items"
        ).fetchone()
    assert row == ("a.b", "k", {"v": [1, "x"]}, "jsonb", 5.0, timedelta(minutes=5))


def test_async_postgres_store(pg_dsn: str) -> None:
    from rillet.store.postgres.aio import AsyncPostgresStore

    async def main(pool: dict[str, Any] | None) -> Any:
        async with AsyncPostgresStore.from_conn_string(pg_dsn, pool_config=pool) as store:
            await store.setup()
            result = await s_async(store)
            await store.aput(("sync",), "k", {"v": 3})
            from_thread = await asyncio.to_thread(store.get, ("sync",), "k")
            with pytest.raises(UsageError, match="use the async methods"):
                store.get(("sync",), "k")
            await store.adelete(("sync",), "k")
            return result, from_thread.value if from_thread else None

    assert asyncio.run(main(None)) == (LANGGRAPH["async"], {"v": 3})
    assert asyncio.run(main({"min_size": 1, "max_size": 2})) == (LANGGRAPH["async"], {"v": 3})


def test_async_postgres_semantic_search(pg_dsn: str) -> None:
    from rillet.store.postgres.aio import AsyncPostgresStore

    async def main() -> Any:
        index = {"dims": 4, "embed": embed, "fields": ["text"]}
        async with AsyncPostgresStore.from_conn_string(pg_dsn, index=index) as store:  # type: ignore[arg-type]
            await store.setup()
            await store.aput(("s",), "a", {"text": "dog"})
            await store.aput(("s",), "b", {"text": "cat dog"})
            return brief(await store.asearch(("s",), query="cat"))

    assert asyncio.run(main()) == [
        (("s",), "b", {"text": "cat dog"}, 0.707107), (("s",), "a", {"text": "dog"}, 0.0),
    ]


def test_postgres_without_psycopg_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "try:\n    import rillet.store.postgres\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "rillet.store.postgres needs psycopg: pip install 'rillet[postgres]'\n"


def test_importing_the_store_loads_no_driver_nor_asyncio() -> None:
    code = (
        "import sys, rillet.store, rillet.store.sqlite\n"
        "print(sorted({'psycopg', 'asyncio', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
