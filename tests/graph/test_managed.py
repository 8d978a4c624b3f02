"""``rillet.managed``: ``RemainingSteps`` and ``IsLastStep`` state keys.

Every expected value here was first printed by the same program run under LangGraph
1.2.22 (imports changed from ``langgraph`` to ``rillet``; lists instead of tuples in
saved state, since LangGraph's serializer turns tuples into lists).
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel

from rillet.checkpoint.memory import InMemorySaver
from rillet.config import get_config
from rillet.graph import END, START, StateGraph
from rillet.managed import IsLastStep, RemainingSteps
from rillet.types import Command, Send, interrupt


class State(TypedDict):
    log: Annotated[list[Any], operator.add]
    remaining_steps: RemainingSteps
    is_last_step: IsLastStep


def looping() -> Any:
    def node(state: State) -> dict[str, Any]:
        # The write to the managed key is ignored, as in LangGraph.
        return {"log": [["a", state["remaining_steps"], state["is_last_step"]]],
                "remaining_steps": 100}

    def route(state: State) -> str:
        return END if state["is_last_step"] or len(state["log"]) > 10 else "a"

    graph = StateGraph(State).add_node("a", node).add_edge(START, "a")
    return graph.add_conditional_edges("a", route).compile()


def test_remaining_steps_and_is_last_step() -> None:
    out = looping().invoke({"log": []}, {"recursion_limit": 5})
    assert out == {"log": [["a", 4, False], ["a", 3, False], ["a", 2, False], ["a", 1, True]]}


def test_a_managed_key_in_the_input_is_ignored() -> None:
    out = looping().invoke({"log": [], "remaining_steps": 3}, {"recursion_limit": 4})
    assert out == {"log": [["a", 3, False], ["a", 2, False], ["a", 1, True]]}


def test_managed_keys_never_show_in_items() -> None:
    graph = looping()
    assert list(graph.stream({"log": []}, {"recursion_limit": 3}, stream_mode="values")) == [
        {"log": []}, {"log": [["a", 2, False]]}, {"log": [["a", 2, False], ["a", 1, True]]},
    ]
    assert list(graph.stream({"log": []}, {"recursion_limit": 3})) == [
        {"a": {"log": [["a", 2, False]]}}, {"a": {"log": [["a", 1, True]]}},
    ]


def test_async_run() -> None:
    out = asyncio.run(looping().ainvoke({"log": []}, {"recursion_limit": 3}))
    assert out == {"log": [["a", 2, False], ["a", 1, True]]}


def test_subgraph_counts_its_own_steps() -> None:
    class Sub(TypedDict):
        log: Annotated[list[Any], operator.add]
        remaining_steps: RemainingSteps

    def s1(state: Sub) -> dict[str, Any]:
        return {"log": [["s1", state["remaining_steps"]]]}

    def pa(state: State) -> dict[str, Any]:
        return {"log": [["pa", state["remaining_steps"]]]}

    sub = StateGraph(Sub).add_node("s1", s1).add_node("s2", s1) \
        .add_edge(START, "s1").add_edge("s1", "s2").compile()
    parent = StateGraph(State).add_node("pa", pa).add_node("sub", sub).add_node("pb", pa) \
        .add_edge(START, "pa").add_edge("pa", "sub").add_edge("sub", "pb").compile()
    # The subgraph returns its whole log, so the parent's "pa" entry comes back twice.
    assert parent.invoke({"log": []}, {"recursion_limit": 10}) == {
        "log": [["pa", 9], ["pa", 9], ["s1", 9], ["s1", 8], ["pa", 7]],
    }


def resumable(**compile_options: Any) -> Any:
    def step(state: State) -> dict[str, Any]:
        return {"log": [["pa", get_config()["metadata"]["langgraph_step"],
                         state["remaining_steps"]]]}

    def asks(state: State) -> dict[str, Any]:
        answer = interrupt("q")
        return {"log": [["ia", get_config()["metadata"]["langgraph_step"],
                         state["remaining_steps"], answer]]}

    graph = StateGraph(State).add_node("pa", step).add_node("ia", asks).add_node("pb", step) \
        .add_edge(START, "pa").add_edge("pa", "ia").add_edge("ia", "pb")
    return graph.compile(checkpointer=InMemorySaver(), **compile_options)


def test_resume_counts_from_the_saved_checkpoint_as_langgraph() -> None:
    graph = resumable()
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 10}
    first = graph.invoke({"log": []}, config)
    assert first["log"] == [["pa", 1, 9]]
    assert graph.get_state(config).values == {"log": [["pa", 1, 9]]}
    assert graph.invoke(Command(resume="yes"), config) == {
        "log": [["pa", 1, 9], ["ia", 2, 11, "yes"], ["pa", 3, 10]],
    }
    # A new input on the thread counts from the input again.
    assert graph.invoke({"log": []}, config)["log"][-1] == ["pa", 6, 9]
    assert graph.invoke(Command(resume="2"), config)["log"][-2:] == [
        ["ia", 7, 11, "2"], ["pa", 8, 10],
    ]
    assert list(graph.get_state(config).values) == ["log"]


def test_interrupt_before_then_continue() -> None:
    graph = resumable(interrupt_before=["pb"])
    config = {"configurable": {"thread_id": "t2"}, "recursion_limit": 10}
    graph.invoke({"log": []}, config)
    graph.invoke(Command(resume="x"), config)
    assert graph.invoke(None, config) == {
        "log": [["pa", 1, 9], ["ia", 2, 11, "x"], ["pa", 3, 11]],
    }


def test_recursion_limit_after_resume_allows_two_more_steps() -> None:
    def step(state: State) -> dict[str, Any]:
        return {"log": ["pa"]}

    def asks(state: State) -> dict[str, Any]:
        interrupt("q")
        return {"log": ["ia"]}

    graph = StateGraph(State).add_node("pa", step).add_node("ia", asks).add_node("pb", step) \
        .add_edge(START, "pa").add_edge("pa", "ia").add_edge("ia", "pb").add_edge("pb", "pb") \
        .compile(checkpointer=InMemorySaver())
    for limit, runs in ((2, 3), (3, 4), (5, 6)):
        config = {"configurable": {"thread_id": str(limit)}, "recursion_limit": limit}
        graph.invoke({"log": []}, config)
        try:
            graph.invoke(Command(resume="y"), config)
        except Exception as exc:
            assert type(exc).__name__ == "GraphRecursionError"
        assert graph.get_state(config).values == {"log": ["pa", "ia", *["pa"] * runs]}


def test_pydantic_and_dataclass_states() -> None:
    class Model(BaseModel):
        log: Annotated[list[Any], operator.add] = []
        remaining_steps: RemainingSteps = 0
        last: IsLastStep = False

    def pn(state: Model) -> dict[str, Any]:
        return {"log": [[state.remaining_steps, state.last]]}

    graph = StateGraph(Model).add_node("pn", pn).add_edge(START, "pn") \
        .add_conditional_edges("pn", lambda s: END if s.last else "pn").compile()
    assert graph.invoke({"log": []}, {"recursion_limit": 3}) == {"log": [[2, False], [1, True]]}

    @dataclass
    class Data:
        log: Annotated[list[Any], operator.add] = dataclasses.field(default_factory=list)
        remaining_steps: RemainingSteps = 0

    def dn(state: Data) -> dict[str, Any]:
        return {"log": [state.remaining_steps]}

    graph = StateGraph(Data).add_node("dn", dn).add_edge(START, "dn").compile()
    assert graph.invoke({"log": [], "remaining_steps": 99}, {"recursion_limit": 7}) == {
        "log": [6],
    }


def test_send_arguments_get_no_managed_values() -> None:
    class Fan(TypedDict):
        log: Annotated[list[Any], operator.add]
        remaining_steps: RemainingSteps

    def fan(state: Fan) -> list[Send]:
        return [Send("worker", {"log": [], "n": i}) for i in range(2)]

    def worker(arg: dict[str, Any]) -> dict[str, Any]:
        return {"log": [sorted(arg)]}

    def plain(state: Fan) -> dict[str, Any]:
        return {"log": [["plain", state["remaining_steps"]]]}

    graph = StateGraph(Fan).add_node("worker", worker).add_node("plain", plain) \
        .add_conditional_edges(START, fan).add_edge("worker", "plain").compile()
    assert graph.invoke({"log": []}, {"recursion_limit": 6}) == {
        "log": [["log", "n"], ["log", "n"], ["plain", 4]],
    }
