"""Runs that are saved and continued: what rillet does beyond LangGraph's outputs
(those are pinned in test_langgraph_scenarios.py)."""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from typing import Annotated, TypedDict

import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.checkpoint.sqlite import SqliteSaver
from rillet.errors import CheckpointError, GraphInterrupt, UsageError
from rillet.graph import END, START, MessagesState, StateGraph
from rillet.messages import AIMessage, HumanMessage
from rillet.runtime._interrupts import interrupt_scope
from rillet.types import Command, interrupt


class Log(TypedDict):
    log: Annotated[list, operator.add]


def thread(name: str) -> dict:
    return {"configurable": {"thread_id": name}}


def chain(saver, n: int = 3, calls: list | None = None):
    b = StateGraph(Log)
    prev = START
    for i in range(n):
        def node(state, i=i):
            if calls is not None:
                calls.append(f"n{i}")
            return {"log": [f"n{i}"]}
        b.add_node(f"n{i}", node)
        b.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    b.add_edge(prev, END)
    return b.compile(checkpointer=saver)


# ------------------------------------------------------------------ interrupts


def two_askers(saver):
    """One node asking two questions at once (as ToolNode's parallel tools do)."""

    def ask_both(state):
        errors: list[GraphInterrupt] = []
        answers: dict[str, str] = {}

        def ask(key: str) -> None:
            with interrupt_scope(key):
                try:
                    answers[key] = interrupt(f"{key}?")
                except GraphInterrupt as exc:
                    errors.append(exc)

        for key in ("left", "right"):
            ask(key)
        if errors:
            raise GraphInterrupt([i for e in errors for i in e.interrupts])
        return {"log": [answers["left"], answers["right"]]}

    b = StateGraph(Log)
    b.add_node("ask_both", ask_both)
    b.add_edge(START, "ask_both")
    return b.compile(checkpointer=saver)


def test_interrupts_pending_at_once_have_distinct_ids_and_resume_by_id() -> None:
    app = two_askers(InMemorySaver())
    cfg = thread("both")
    out = app.invoke({"log": []}, cfg)
    left, right = out["__interrupt__"]
    assert (left.value, right.value) == ("left?", "right?")
    assert left.id != right.id
    with pytest.raises(CheckpointError, match="2 interrupts are pending"):
        app.invoke(Command(resume="yes"), cfg)
    partial = app.invoke(Command(resume={left.id: "L"}), cfg)
    assert [i.id for i in partial["__interrupt__"]] == [right.id]
    assert app.invoke(Command(resume={right.id: "R"}), cfg) == {"log": ["L", "R"]}


def test_a_resume_map_naming_no_pending_interrupt_is_an_error() -> None:
    app = two_askers(InMemorySaver())
    cfg = thread("map")
    app.invoke({"log": []}, cfg)
    with pytest.raises(CheckpointError, match="not pending"):
        app.invoke(Command(resume={"0" * 32: "x"}), cfg)


def test_a_node_re_runs_and_its_answered_interrupts_return_their_answers() -> None:
    runs: list[str] = []

    def form(state):
        runs.append("form")
        name = interrupt("name?")
        age = interrupt("age?")
        return {"log": [f"{name}:{age}"]}

    b = StateGraph(Log)
    b.add_node("form", form)
    b.add_edge(START, "form")
    app = b.compile(checkpointer=InMemorySaver())
    cfg = thread("form")
    assert app.invoke({"log": []}, cfg)["__interrupt__"][0].value == "name?"
    assert app.invoke(Command(resume="Ada"), cfg)["__interrupt__"][0].value == "age?"
    assert app.invoke(Command(resume="36"), cfg) == {"log": ["Ada:36"]}
    assert runs == ["form", "form", "form"]


def test_a_failed_step_keeps_its_finished_siblings_writes() -> None:
    calls: list[str] = []
    fail = threading.Event()
    fail.set()
    ok_done = threading.Event()

    def ok(state):
        calls.append("ok")
        return {"log": ["ok"]}

    def flaky(state):
        if fail.is_set():
            assert ok_done.wait(30)  # the sibling has finished before this fails
            calls.append("flaky")
            raise RuntimeError("down")
        calls.append("flaky")
        return {"log": ["flaky"]}

    b = StateGraph(Log)
    b.add_node("ok", ok)
    b.add_node("flaky", flaky)
    b.add_edge(START, "ok")
    b.add_edge(START, "flaky")
    class Observed(InMemorySaver):
        pass

    app = b.compile(checkpointer=InMemorySaver())
    from rillet.runtime import _observe

    class Done(_observe.RunObserver):
        def task_finished(self, loop, task):
            if task.name == "ok":
                ok_done.set()

    cfg = thread("fail")
    original = _observe.observers_for
    _observe_loop = __import__("rillet.runtime._loop", fromlist=["observers_for"])
    _observe_loop.observers_for = lambda run: (*original(run), Done())
    try:
        with pytest.raises(RuntimeError, match="down"):
            app.invoke({"log": []}, cfg)
    finally:
        _observe_loop.observers_for = original
    state = app.get_state(cfg)
    assert state.next == ("flaky",)
    assert state.values == {"log": ["ok"]}
    fail.clear()
    assert app.invoke(None, cfg) == {"log": ["flaky", "ok"]}  # task order, as uncut
    assert calls == ["ok", "flaky", "flaky"]


# ----------------------------------------------------------- durable storage


def test_sqlite_thread_survives_the_process_and_ainvoke_works(tmp_path) -> None:
    path = str(tmp_path / "t.db")
    with SqliteSaver.from_conn_string(path) as saver:
        app = chain(saver)
        assert asyncio.run(app.ainvoke({"log": []}, thread("a"))) == {"log": ["n0", "n1", "n2"]}
    with SqliteSaver.from_conn_string(path) as saver:
        app = chain(saver)
        assert app.get_state(thread("a")).values == {"log": ["n0", "n1", "n2"]}
        assert app.invoke({"log": ["again"]}, thread("a"))["log"][-4:] == [
            "again", "n0", "n1", "n2"
        ]


KILLED = textwrap.dedent(
    """
    import operator, os, signal, sys
    from typing import Annotated, TypedDict
    from rillet.checkpoint.sqlite import SqliteSaver
    from rillet.graph import END, START, StateGraph

    class Log(TypedDict):
        log: Annotated[list, operator.add]

    def node(i):
        def run(state):
            if i == 2 and sys.argv[2] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            return {"log": [f"n{i}"]}
        return run

    b = StateGraph(Log)
    prev = START
    for i in range(4):
        b.add_node(f"n{i}", node(i))
        b.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    b.add_edge(prev, END)
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        app = b.compile(checkpointer=saver)
        cfg = {"configurable": {"thread_id": "k"}}
        if sys.argv[2] == "kill":
            app.invoke({"log": []}, cfg)
        else:
            print(app.get_state(cfg).next, app.invoke(None, cfg))
    """
)


def test_a_run_killed_mid_step_continues_from_its_last_saved_step(tmp_path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    db = str(tmp_path / "k.db")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, str(script), db, "kill"], env=env, timeout=60,
                            capture_output=True, text=True)
    assert killed.returncode == -9
    resumed = subprocess.run([sys.executable, str(script), db, "resume"], env=env,
                             timeout=60, capture_output=True, text=True)
    assert (resumed.returncode, resumed.stderr) == (0, "")
    assert resumed.stdout == "('n2',) {'log': ['n0', 'n1', 'n2', 'n3']}\n"


def test_chat_storage_grows_with_what_changed_and_every_checkpoint_reads_back(
    tmp_path,
) -> None:
    def bot(state):
        return {"messages": [AIMessage("echo: " + state["messages"][-1].content, id=None)]}

    b = StateGraph(MessagesState)
    b.add_node("bot", bot)
    b.add_edge(START, "bot")
    path = str(tmp_path / "chat.db")
    text = "lorem ipsum " * 20
    with SqliteSaver.from_conn_string(path) as saver:
        app = b.compile(checkpointer=saver)
        cfg = thread("chat")
        for turn in range(200):
            out = app.invoke({"messages": [HumanMessage(f"turn {turn} {text}")]}, cfg)
        assert len(out["messages"]) == 400
        history = list(app.get_state_history(cfg))
        assert len(history) == 600  # input, after input, after bot: per turn
        middle = next(h for h in history if h.metadata["step"] == 3 * 50 + 2)
        assert [m.content for m in middle.values["messages"]][-2:] == [
            f"turn 50 {text}", f"echo: turn 50 {text}"
        ]
        assert len(middle.values["messages"]) == 102
    with SqliteSaver.from_conn_string(path) as saver:  # cold: no decoded state in memory
        again = b.compile(checkpointer=saver).get_state(cfg).values["messages"]
        assert [m.content for m in again] == [m.content for m in out["messages"]]
    raw = 400 * len(f"turn 100 {text}")
    assert os.path.getsize(path) < 12 * raw  # LangGraph's file: ~200x the raw text


def test_a_failing_save_leaves_the_last_checkpoint_intact() -> None:
    class Flaky(InMemorySaver):
        fail_at = 3

        def save(self, record, blobs):
            if record.metadata["step"] == self.fail_at:
                raise OSError("disk full")
            super().save(record, blobs)

    saver = Flaky()
    calls: list[str] = []
    app = chain(saver, 4, calls)
    cfg = thread("flaky")
    with pytest.raises(OSError, match="disk full"):
        app.invoke({"log": []}, cfg)
    assert app.get_state(cfg).values == {"log": ["n0", "n1"]}
    assert app.get_state(cfg).next == ("n2",)
    saver.fail_at = -99
    assert app.invoke(None, cfg) == {"log": ["n0", "n1", "n2", "n3"]}
    assert calls == ["n0", "n1", "n2", "n2", "n3"]


def test_tampered_data_cannot_run_code(tmp_path) -> None:
    path = str(tmp_path / "t.db")
    marker = tmp_path / "pwned"
    with SqliteSaver.from_conn_string(path) as saver:
        chain(saver).invoke({"log": []}, thread("t"))
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    blob_table = next(t for t in tables if "blob" in t)
    named = f'{{"!": ["o", "os:system", {{"command": "touch {marker}"}}]}}'
    conn.execute(f"update {blob_table} set data = ?", (named.encode(),))
    conn.commit()
    # the name is looked up, never imported: plain data, which is not a list here
    with (
        SqliteSaver.from_conn_string(path) as saver,
        pytest.warns(UserWarning, match="os:system"),
        pytest.raises(CheckpointError, match="corrupt"),
    ):
        chain(saver).get_state(thread("t"))
    conn.execute(f"update {blob_table} set data = ?", (b"\xff\xfe not json",))
    conn.commit()
    conn.close()
    with SqliteSaver.from_conn_string(path) as saver, pytest.raises(Exception) as caught:
        chain(saver).get_state(thread("t"))
    assert type(caught.value).__name__ == "SerializationError"
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_node_and_a_key_named_like_the_serializer_tag(kind, tmp_path) -> None:
    class Odd(TypedDict):
        log: Annotated[list, operator.add]
        bang: str

    def odd_graph(saver):
        b = StateGraph(Odd)
        b.add_node("!", lambda s: {"log": ["!"], "bang": "ran"})
        b.add_node("after", lambda s: {"log": ["after"]})
        b.add_edge(START, "!")
        b.add_edge("!", "after")
        return b.compile(checkpointer=saver, interrupt_before=["!", "after"])

    def open_saver(memory):
        if kind == "sqlite":
            return SqliteSaver.from_conn_string(str(tmp_path / "odd.db"))
        return contextlib.nullcontext(memory)

    with open_saver(InMemorySaver()) as saver:
        app, cfg = odd_graph(saver), thread("odd")
        app.invoke({"log": [], "bang": "x"}, cfg)
        assert app.get_state(cfg).next == ("!",)
        assert app.invoke(None, cfg) == {"log": ["!"], "bang": "ran"}
        assert app.get_state(cfg).next == ("after",)
    with open_saver(saver) as saver:
        app = odd_graph(saver)  # SQLite: read back, not from the decoded-state cache
        assert app.invoke(None, cfg) == {"log": ["!", "after"], "bang": "ran"}
        assert [s.next for s in app.get_state_history(cfg)] == [
            (), ("after",), ("!",), ("__start__",),
        ]


def test_a_serializer_that_overrides_dumps_writes_every_record() -> None:
    from rillet.checkpoint.serde import Serializer

    class Sealed(Serializer):
        def dumps(self, obj):
            return b"sealed:" + super().dumps(obj)

        def loads(self, data):
            assert data.startswith(b"sealed:"), data
            return super().loads(data[len(b"sealed:"):])

    saver = InMemorySaver(serde=Sealed())
    app, cfg = chain(saver), thread("sealed")
    assert app.invoke({"log": []}, cfg) == {"log": ["n0", "n1", "n2"]}
    records = list(saver.history("sealed", None))
    assert len(records) == 5
    assert all(r.state.startswith(b"sealed:") for r in records)
    assert app.get_state(cfg).values == {"log": ["n0", "n1", "n2"]}


# ------------------------------------------------------------------ options


def test_durability_decides_which_steps_are_saved() -> None:
    saver = InMemorySaver()
    app = chain(saver, 3)
    for mode, count in (("sync", 5), ("async", 5), ("exit", 1)):
        cfg = thread(f"d-{mode}")
        app.invoke({"log": []}, cfg, durability=mode)
        assert len(list(app.get_state_history(cfg))) == count
        assert app.get_state(cfg).values == {"log": ["n0", "n1", "n2"]}


def test_bad_persistence_input_says_what_to_fix() -> None:
    app = chain(InMemorySaver())
    with pytest.raises(Exception, match="needs a thread"):
        app.invoke({"log": []})
    with pytest.raises(CheckpointError, match="has no checkpoint 'nope'"):
        app.invoke(None, {"configurable": {"thread_id": "x", "checkpoint_id": "nope"}})
    with pytest.raises(UsageError, match="takes a rillet checkpoint saver"):
        StateGraph(Log).add_node("a", lambda s: s).add_edge(START, "a").compile(
            checkpointer=object()
        )
    with pytest.raises(Exception, match="durability must be"):
        app.invoke({"log": []}, thread("x"), durability="later")
    with pytest.raises(CheckpointError, match="no checkpointer"):
        chain(None).get_state(thread("x"))


# -------------------------------------------------------------------- store


def test_a_node_reaches_the_store_by_parameter_and_by_get_store() -> None:
    from rillet.config import get_store
    from rillet.store.memory import InMemoryStore

    class Chat(TypedDict):
        user: str
        seen: list

    def remember(state, store, config):
        store.put(("memories", state["user"]), config["configurable"]["thread_id"],
                  {"said": "hi"})
        return {}

    def recall(state):
        items = get_store().search(("memories", state["user"]))
        return {"seen": [(i.key, i.value) for i in items]}

    b = StateGraph(Chat)
    b.add_node("remember", remember)
    b.add_node("recall", recall)
    b.add_edge(START, "remember")
    b.add_edge("remember", "recall")
    store = InMemoryStore()
    app = b.compile(checkpointer=InMemorySaver(), store=store)
    app.invoke({"user": "ada", "seen": []}, thread("t1"))
    out = app.invoke({"user": "ada", "seen": []}, thread("t2"))
    assert out["seen"] == [("t1", {"said": "hi"}), ("t2", {"said": "hi"})]
    assert [i.key for i in store.search(("memories",))] == ["t1", "t2"]


def test_sqlite_delete_for_runs_takes_back_a_runs_checkpoints(tmp_path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        app = chain(saver, n=2)

        def run(run_id: str) -> None:
            app.invoke({"log": [run_id]}, {**thread("a"), "metadata": {"run_id": run_id}})

        run("first")
        kept = [s.config for s in app.get_state_history(thread("a"))]
        run("second")
        assert app.get_state(thread("a")).values["log"][-3:] == ["second", "n0", "n1"]
        assert saver.delete_for_runs("a", ["second", "no such run"]) == 4
        assert [s.config for s in app.get_state_history(thread("a"))] == kept
        assert app.get_state(thread("a")).values == {"log": ["first", "n0", "n1"]}
        assert saver.delete_for_runs("a", []) == 0
        run("third")  # the thread goes on from the first run's last checkpoint
        assert app.get_state(thread("a")).values == {
            "log": ["first", "n0", "n1", "third", "n0", "n1"]}
