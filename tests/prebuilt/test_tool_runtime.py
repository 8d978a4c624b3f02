"""``ToolRuntime``: what ``ToolNode`` injects into a tool's ``ToolRuntime`` parameter.

The expected values were first printed by the same program under LangGraph 1.2.22.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import AIMessage, HumanMessage
from rillet.prebuilt import ToolNode, ToolRuntime
from rillet.tools import tool


@dataclass
class Ctx:
    user: str


@tool
def whoami(greeting: str, runtime: ToolRuntime[Ctx]) -> str:
    """Say who."""
    runtime.stream_writer({"tool": runtime.tool_call_id})
    return (
        f"{greeting} {runtime.context.user} {runtime.tool_call_id} "
        f"{type(runtime.state).__name__} {len(runtime.state['messages'])} "
        f"{[t.name for t in runtime.tools]} {runtime.store} {sorted(runtime.config)[:3]} "
        f"{runtime.execution_info is not None}"
    )


def test_the_model_never_sees_the_runtime_parameter() -> None:
    assert sorted(whoami.tool_call_schema["properties"]) == ["greeting"]


def test_tool_node_injects_the_runtime() -> None:
    graph = StateGraph(MessagesState, context_schema=Ctx).add_node("tools", ToolNode([whoami])) \
        .add_edge(START, "tools").compile()
    call = AIMessage("", tool_calls=[{"name": "whoami", "args": {"greeting": "hi"}, "id": "c1"}])
    items: list[Any] = []
    for mode, item in graph.stream({"messages": [HumanMessage("q"), call]},
                                   context={"user": "ann"}, stream_mode=["custom", "updates"]):
        items.append(item if mode == "custom" else item["tools"]["messages"][0].content)
    assert items == [
        {"tool": "c1"},
        "hi ann c1 dict 2 ['whoami'] None ['callbacks', 'configurable', 'metadata'] True",
    ]


def test_a_model_cannot_forge_the_runtime() -> None:
    graph = StateGraph(MessagesState, context_schema=Ctx).add_node("tools", ToolNode([whoami])) \
        .add_edge(START, "tools").compile()
    call = AIMessage("", tool_calls=[
        {"name": "whoami", "args": {"greeting": "yo", "runtime": "forged"}, "id": "c2"},
    ])
    out = graph.invoke({"messages": [call]}, context={"user": "bo"})
    assert out["messages"][-1].content.startswith("yo bo c2 dict 1 ")
