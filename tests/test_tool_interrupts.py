"""``interrupt()`` in parallel tool calls: one pause for all of them, resumed by id.

Observed on LangGraph 1.2.22 (langgraph-prebuilt 1.1.3) with the same agent: with
``version="v1"`` (one ``tools`` task) LangGraph pauses with the first call's interrupt
only and gives every interrupt of the task the same id (langgraph#6626); rillet pauses
with all of them, in call order, each with its own id. The final messages are the
same in both, and so is ``version="v2"`` (one task per call) except for the order of
``__interrupt__``, which is completion order in LangGraph and call order here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Literal

import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.errors import CheckpointError
from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, create_react_agent
from rillet.runtime._interrupts import interrupt_id
from rillet.tools import Tool, tool
from rillet.types import Command, Interrupt, interrupt

Mode = Literal["invoke", "ainvoke", "ainvoke-sync-tools"]
MODES: list[Mode] = ["invoke", "ainvoke", "ainvoke-sync-tools"]

CALLS = [
    {"name": "ask_city", "args": {"q": "a"}, "id": "c1"},
    {"name": "clock", "args": {}, "id": "c0"},
    {"name": "ask_date", "args": {"q": "b"}, "id": "c2"},
]
CFG = {"configurable": {"thread_id": "t"}}


def model() -> FakeChatModel:
    return FakeChatModel([AIMessage("", id="ai1", tool_calls=CALLS), AIMessage("done", id="ai2")])


def tools(mode: Mode, runs: list[str], together: int = 0) -> list[Tool]:
    """``ask_city`` and ``ask_date`` interrupt, ``clock`` answers. With ``together``,
    each asker waits until that many askers run at once (async tools under
    ``ainvoke``, sync ones otherwise)."""
    if mode == "ainvoke":
        return _async_tools(runs, together)
    barrier = threading.Barrier(together, timeout=10) if together else None

    def asker(kind: str) -> Tool:
        def ask(q: str) -> str:
            runs.append(kind)
            if barrier is not None:
                barrier.wait()
            return f"{kind}=" + interrupt(f"{kind}? {q}")

        return tool(f"ask_{kind}", description=f"Ask for a {kind}.")(ask)

    @tool
    def clock() -> str:
        """Tell the time."""
        runs.append("clock")
        return "noon"

    return [asker("city"), asker("date"), clock]


def _async_tools(runs: list[str], together: int) -> list[Tool]:
    barrier = asyncio.Barrier(together) if together else None

    def asker(kind: str) -> Tool:
        async def ask(q: str) -> str:
            runs.append(kind)
            if barrier is not None:
                async with asyncio.timeout(10):
                    await barrier.wait()
            return f"{kind}=" + interrupt(f"{kind}? {q}")

        return tool(f"ask_{kind}", description=f"Ask for a {kind}.")(ask)

    @tool
    async def clock() -> str:
        """Tell the time."""
        runs.append("clock")
        return "noon"

    return [asker("city"), asker("date"), clock]


async def run(app: Any, mode: Mode, input: Any) -> dict[str, Any]:
    if mode == "invoke":
        out: dict[str, Any] = app.invoke(input, CFG)
    else:
        out = await app.ainvoke(input, CFG)
    return out


def without_ids(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The messages with the random ids of the ``ToolMessage`` s left out."""
    return [m.model_copy(update={"id": None}) if isinstance(m, ToolMessage) else m
            for m in messages]


START_MESSAGES = [HumanMessage("hi", id="h1"), AIMessage("", id="ai1", tool_calls=CALLS)]
FINAL_MESSAGES = [
    *START_MESSAGES,
    ToolMessage("city=Paris", name="ask_city", tool_call_id="c1"),
    ToolMessage("noon", name="clock", tool_call_id="c0"),
    ToolMessage("date=Monday", name="ask_date", tool_call_id="c2"),
    AIMessage("done", id="ai2"),
]


@pytest.mark.parametrize("mode", MODES)
async def test_v1_pauses_once_with_every_calls_interrupt_and_resumes_by_id(mode: Mode) -> None:
    runs: list[str] = []
    app = create_react_agent(model(), tools(mode, runs, together=2),
                             checkpointer=InMemorySaver(), version="v1")
    out = await run(app, mode, {"messages": [HumanMessage("hi", id="h1")]})
    (task,) = app.get_state(CFG).tasks
    ns = f"tools:{task.id}"
    city = Interrupt("city? a", interrupt_id(ns, "c1", 0))
    date = Interrupt("date? b", interrupt_id(ns, "c2", 0))
    assert out == {"messages": START_MESSAGES, "__interrupt__": [city, date]}
    assert sorted(runs) == ["city", "clock", "date"]
    state = app.get_state(CFG)
    assert (state.next, state.interrupts, state.tasks[0].interrupts) == (
        ("tools",), (city, date), (city, date))

    with pytest.raises(CheckpointError, match="2 interrupts are pending"):
        await run(app, mode, Command(resume="Paris"))

    runs.clear()
    out = await run(app, mode, Command(resume={city.id: "Paris"}))
    assert out == {"messages": START_MESSAGES, "__interrupt__": [date]}  # same id again
    assert sorted(runs) == ["city", "clock", "date"]  # the whole node ran again
    assert app.get_state(CFG).interrupts == (date,)

    runs.clear()
    out = await run(app, mode, Command(resume={date.id: "Monday"}))
    assert without_ids(out["messages"]) == FINAL_MESSAGES
    assert "__interrupt__" not in out
    assert sorted(runs) == ["city", "clock", "date"]
    state = app.get_state(CFG)
    assert (state.next, state.interrupts) == ((), ())


@pytest.mark.parametrize("mode", MODES)
async def test_v1_answers_for_all_at_once_finish_the_tools(mode: Mode) -> None:
    runs: list[str] = []
    app = create_react_agent(model(), tools(mode, runs), checkpointer=InMemorySaver(),
                             version="v1")
    first = await run(app, mode, {"messages": [HumanMessage("hi", id="h1")]})
    city, date = first["__interrupt__"]
    out = await run(app, mode, Command(resume={city.id: "Paris", date.id: "Monday"}))
    assert without_ids(out["messages"]) == FINAL_MESSAGES
    assert "__interrupt__" not in out


@pytest.mark.parametrize("use_async", [False, True])
async def test_v1_streams_one_interrupt_update_with_both(use_async: bool) -> None:
    mode: Mode = "ainvoke" if use_async else "invoke"
    app = create_react_agent(model(), tools(mode, [], together=2),
                             checkpointer=InMemorySaver(), version="v1")
    input = {"messages": [HumanMessage("hi", id="h1")]}
    if use_async:
        chunks = [c async for c in app.astream(input, CFG, stream_mode="updates")]
    else:
        chunks = list(app.stream(input, CFG, stream_mode="updates"))
    ns = f"tools:{app.get_state(CFG).tasks[0].id}"
    assert chunks == [
        {"agent": {"messages": [START_MESSAGES[1]]}},
        {"__interrupt__": (Interrupt("city? a", interrupt_id(ns, "c1", 0)),
                           Interrupt("date? b", interrupt_id(ns, "c2", 0)))},
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_v2_each_call_pauses_in_its_own_task(mode: Mode) -> None:
    runs: list[str] = []
    app = create_react_agent(model(), tools(mode, runs), checkpointer=InMemorySaver())
    out = await run(app, mode, {"messages": [HumanMessage("hi", id="h1")]})
    city_task, _clock, date_task = app.get_state(CFG).tasks
    city = Interrupt("city? a", interrupt_id(f"tools:{city_task.id}", "c1", 0))
    date = Interrupt("date? b", interrupt_id(f"tools:{date_task.id}", "c2", 0))
    clock_message = ToolMessage("noon", name="clock", tool_call_id="c0")
    # as LangGraph shows it: the finished call's message is in the output already
    assert without_ids(out["messages"]) == [*START_MESSAGES, clock_message]
    assert out["__interrupt__"] == [city, date]
    state = app.get_state(CFG)
    assert (state.next, state.interrupts) == (("tools", "tools"), (city, date))
    assert [t.interrupts for t in state.tasks] == [(city,), (), (date,)]

    runs.clear()
    out = await run(app, mode, Command(resume={city.id: "Paris"}))
    assert without_ids(out["messages"]) == [
        *START_MESSAGES, FINAL_MESSAGES[2], clock_message]
    assert out["__interrupt__"] == [date]
    assert runs == ["city"]  # a task still waiting for its answer does not run again

    runs.clear()
    out = await run(app, mode, Command(resume={date.id: "Monday"}))
    assert without_ids(out["messages"]) == FINAL_MESSAGES
    assert "__interrupt__" not in out
    assert runs == ["date"]


def test_v2_state_after_a_partial_resume_shows_only_what_is_pending() -> None:
    app = create_react_agent(model(), tools("invoke", []), checkpointer=InMemorySaver())
    city, date = app.invoke({"messages": [HumanMessage("hi", id="h1")]}, CFG)["__interrupt__"]
    app.invoke(Command(resume={city.id: "Paris"}), CFG)
    assert app.get_state(CFG).interrupts == (date,)


def form_graph(tool_list: list[Tool | Callable[..., Any]], **kwargs: Any) -> Any:
    b = StateGraph(MessagesState)
    b.add_node("tools", ToolNode(tool_list, **kwargs))
    b.add_edge(START, "tools")
    return b.compile(checkpointer=InMemorySaver())


def two_calls(*names: str) -> dict[str, Any]:
    calls = [{"name": n, "args": {}, "id": f"c{i}"} for i, n in enumerate(names, 1)]
    return {"messages": [AIMessage("", id="ai1", tool_calls=calls)]}


def test_a_call_asking_twice_keeps_its_own_sequence_of_ids() -> None:
    @tool
    def form() -> str:
        """Ask for a name, then an age."""
        return f"{interrupt('name?')}:{interrupt('age?')}"

    @tool
    def confirm() -> str:
        """Ask to confirm."""
        return str(interrupt("sure?"))

    app = form_graph([form, confirm])
    out = app.invoke(two_calls("form", "confirm"), CFG)
    ns = f"tools:{app.get_state(CFG).tasks[0].id}"
    name, sure = Interrupt("name?", interrupt_id(ns, "c1", 0)), Interrupt(
        "sure?", interrupt_id(ns, "c2", 0))
    assert out["__interrupt__"] == [name, sure]
    out = app.invoke(Command(resume={name.id: "Ada", sure.id: "yes"}), CFG)
    age = Interrupt("age?", interrupt_id(ns, "c1", 1))
    assert out["__interrupt__"] == [age]
    out = app.invoke(Command(resume={age.id: "36"}), CFG)
    assert [(m.tool_call_id, m.content) for m in out["messages"][1:]] == [
        ("c1", "Ada:36"), ("c2", "yes")]


@pytest.mark.parametrize("handle", [False, True])
def test_an_unhandled_error_wins_over_the_other_calls_interrupt(handle: bool) -> None:
    @tool
    def ask() -> str:
        """Ask."""
        return str(interrupt("ok?"))

    @tool
    def broken() -> str:
        """Fail."""
        raise ValueError("down")

    app = form_graph([ask, broken], handle_tool_errors=handle)
    if not handle:
        with pytest.raises(ValueError, match="down"):
            app.invoke(two_calls("ask", "broken"), CFG)
        return
    out = app.invoke(two_calls("ask", "broken"), CFG)
    assert [i.value for i in out["__interrupt__"]] == ["ok?"]
    (iid,) = [i.id for i in out["__interrupt__"]]
    out = app.invoke(Command(resume={iid: "sure"}), CFG)
    assert [(m.tool_call_id, m.status, m.content) for m in out["messages"][1:]] == [
        ("c1", "success", "sure"),
        ("c2", "error", "Error: ValueError('down')\n Please fix your mistakes."),
    ]
