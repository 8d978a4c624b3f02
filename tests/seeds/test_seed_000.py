"""Seed 000, in Python: stream LLM tokens without a model wrapper.

A model node streams a raw ``openai`` client (against a scripted OpenAI-compatible
server on loopback) and forwards each token and tool-call delta with
``adispatch_custom_event``; a tools node runs the tool; conditional edges loop until
the model answers. ``astream_events`` shows the custom events, as in the seed.
"""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

from openai import AsyncOpenAI

from rillet.callbacks import adispatch_custom_event
from rillet.graph import END, START, StateGraph
from tests.models.servers import ScriptedServer, sse, text_chunks, tool_delta

TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": "get_items",
        "description": "Use this tool to look up which items are in the given place.",
        "parameters": {
            "type": "object",
            "properties": {"place": {"type": "string"}},
            "required": ["place"],
        },
    },
}


class State(TypedDict):
    messages: Annotated[list[dict[str, Any]], operator.add]


def build_graph(client: AsyncOpenAI):
    async def call_model(state: State) -> dict:
        stream = await client.chat.completions.create(
            messages=state["messages"], model="gpt-4o-mini", tools=[TOOL_SCHEMA], stream=True
        )
        content, role = "", "assistant"
        tool_id = tool_name = None
        tool_args = ""
        async for chunk in stream:
            delta = chunk.choices[0].delta
            if delta.role is not None:
                role = delta.role
            if delta.content:
                content += delta.content
                await adispatch_custom_event("streamed_token", {"content": delta.content})
            if delta.tool_calls:
                tool_call = delta.tool_calls[0]
                if tool_call.function and tool_call.function.name:
                    tool_name = tool_call.function.name
                if tool_call.id:
                    tool_id = tool_call.id
                await adispatch_custom_event(
                    "streamed_tool_call_chunk", tool_call.model_dump(exclude_none=True)
                )
                tool_args += (tool_call.function.arguments or "") if tool_call.function else ""
        message: dict[str, Any] = {"role": role, "content": content}
        if tool_name and tool_id:
            message["tool_calls"] = [
                {"id": tool_id, "type": "function",
                 "function": {"name": tool_name, "arguments": tool_args}}
            ]
        return {"messages": [message]}

    async def get_items(place: str) -> str:
        if "bed" in place.lower():
            return "socks, shoes and dust bunnies"
        if "shelf" in place.lower():
            return "books, pencils and pictures"
        return "cat snacks"

    async def call_tools(state: State) -> dict:
        tool_calls = state["messages"][-1].get("tool_calls")
        if not tool_calls:
            raise ValueError("No tool calls passed to node.")
        call = tool_calls[0]
        result = await get_items(**json.loads(call["function"]["arguments"]))
        return {"messages": [{"tool_call_id": call["id"], "role": "tool",
                              "name": call["function"]["name"], "content": result}]}

    def should_continue(state: State) -> str:
        last = state["messages"][-1]
        return "tools" if last.get("tool_calls") else "__end__"

    return (
        StateGraph(State)
        .add_node("model", call_model)
        .add_node("tools", call_tools)
        .add_edge(START, "model")
        .add_conditional_edges("model", should_continue, {"tools": "tools", "__end__": END})
        .add_edge("tools", "model")
        .compile()
    )


def script() -> tuple[Any, Any]:
    first = sse(
        tool_delta(0, "", id="call_v99", name="get_items"),
        tool_delta(0, '{"'), tool_delta(0, "place"), tool_delta(0, '":"'),
        tool_delta(0, "bed"), tool_delta(0, "room"), tool_delta(0, '"}'),
    )
    second = sse(*text_chunks("In", " the", " bedroom", ",", " you", " can", " find", " socks"))
    return first, second


async def test_seed_000_stream_events() -> None:
    with ScriptedServer(*script()) as server:
        graph = build_graph(AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0))
        seen = []
        async for event in graph.astream_events(
            {"messages": [{"role": "user", "content": "what's in the bedroom?"}]}, version="v2"
        ):
            if event["event"] == "on_custom_event":
                seen.append((event["name"], event["data"]))
        result_messages = server.requests[1]["messages"]
    assert seen[:7] == [
        ("streamed_tool_call_chunk", {"index": 0, "id": "call_v99", "type": "function",
                                      "function": {"name": "get_items", "arguments": ""}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": '{"'}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": "place"}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": '":"'}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": "bed"}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": "room"}}),
        ("streamed_tool_call_chunk", {"index": 0, "function": {"arguments": '"}'}}),
    ]
    assert [data["content"] for name, data in seen[7:]] == [
        "In", " the", " bedroom", ",", " you", " can", " find", " socks"
    ]
    assert result_messages[-1] == {
        "tool_call_id": "call_v99", "role": "tool", "name": "get_items",
        "content": "socks, shoes and dust bunnies",
    }


async def test_seed_000_graph_drawing_and_updates() -> None:
    with ScriptedServer(*script()) as server:
        graph = build_graph(AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0))
        updates = [
            list(u) async for u in graph.astream(
                {"messages": [{"role": "user", "content": "what's in the bedroom?"}]}
            )
        ]
    assert updates == [["model"], ["tools"], ["model"]]
    mermaid = graph.get_graph().draw_mermaid()
    assert "\tmodel -.-> tools;\n" in mermaid and "\ttools --> model;\n" in mermaid
    assert "\tmodel -. &nbsp;__end__&nbsp; .-> __end__;\n" not in mermaid
