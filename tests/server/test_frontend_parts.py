"""The part model (``frontends/_parts.py``) and the two encoders over it, as pure
functions: logged events in, parts out; parts in, protocol events out."""

from __future__ import annotations

from typing import Any

from rillet.server.frontends import _parts as p
from rillet.server.frontends import agui, vercel


def chunk(mid: str, content: Any = "", **more: Any) -> list[Any]:
    return [{"type": "AIMessageChunk", "id": mid, "content": content, **more}, {}]


def feed(events: list[tuple[str, Any]]) -> list[p.Part]:
    mapper = p.PartMapper("t")
    return [part for event, data in events for part in mapper.feed(event, data)]


def test_a_tool_calling_turn() -> None:
    parts = feed([
        ("metadata", {"run_id": "r", "attempt": 1}),
        ("values", {"messages": [], "n": 1}),
        ("tasks", {"id": "1", "name": "model", "input": {}, "triggers": []}),
        ("messages", chunk("m1", "Hi")),
        ("messages", chunk("m1", " there", tool_call_chunks=[
            {"id": "c1", "name": "add", "args": "", "index": 0}])),
        ("messages", chunk("m1", tool_call_chunks=[
            {"id": None, "name": None, "args": '{"a": 1}', "index": 0}])),
        ("tasks", {"id": "1", "name": "model", "result": {}, "error": None}),
        ("messages", [{"type": "tool", "id": "t1", "tool_call_id": "c1", "content": "2",
                       "name": "add"}, {}]),
        ("custom", {"type": "progress", "at": 1}),
        ("custom", [1, 2]),
        ("values", {"messages": [{"type": "human", "id": "u"}], "n": 2}),
        ("metadata", {"run_id": "r", "attempt": 2}),  # a restart's next attempt
        ("end", None),
    ])
    assert parts == [
        p.RunStart("r", "t"), p.StateSnapshot({"n": 1}), p.StepStart("model"),
        p.TextStart("m1"), p.TextDelta("m1", "Hi"), p.TextDelta("m1", " there"),
        p.TextEnd("m1"), p.ToolCallStart("c1", "add", "m1"),
        p.ToolCallArgsDelta("c1", '{"a": 1}'), p.ToolCallEnd("c1", "add", {"a": 1}),
        p.StepEnd("model"), p.ToolResult("c1", "t1", "2", "add"),
        p.Custom("progress", {"type": "progress", "at": 1}), p.Custom("custom", [1, 2]),
        p.StateDelta([{"op": "replace", "path": "/n", "value": 2}]),
        p.MessagesSnapshot([{"type": "human", "id": "u"}]), p.RunEnd(),
    ]


def test_reasoning_a_whole_message_subgraph_steps_and_an_interrupt() -> None:
    parts = feed([
        ("tasks|sub:abc", {"id": "2", "name": "inner", "input": {}}),
        ("messages|sub:abc", chunk("m2", [{"type": "reasoning", "reasoning": "hmm"}])),
        ("messages|sub:abc", chunk("m2", additional_kwargs={"reasoning_content": "!"})),
        ("messages|sub:abc", chunk("m2", [{"type": "text", "text": "ok"}])),
        ("messages|sub:abc", [{"type": "ai", "id": "m2", "content": "ok"}, {}]),  # streamed
        ("messages", [{"type": "ai", "id": "m3", "content": "whole", "tool_calls": [
            {"id": "c2", "name": "f", "args": {"x": 1}}]}, {}]),
        ("tasks|sub:abc", {"id": "2", "name": "inner", "result": {}, "error": None}),
        ("updates|sub:abc", {"__interrupt__": [{"id": "sub-only", "value": 0}]}),
        ("updates", {"__interrupt__": [{"id": "i1", "value": {"q": "?"}}]}),
        ("end", None),
    ])
    assert parts == [
        p.StepStart("inner", ("sub",)), p.ReasoningStart("m2"), p.ReasoningDelta("m2", "hmm"),
        p.ReasoningDelta("m2", "!"), p.ReasoningEnd("m2"), p.TextStart("m2"),
        p.TextDelta("m2", "ok"), p.TextEnd("m2"), p.TextStart("m3"), p.TextDelta("m3", "whole"),
        p.TextEnd("m3"), p.ToolCallStart("c2", "f", "m3"), p.ToolCallArgsDelta("c2", '{"x":1}'),
        p.ToolCallEnd("c2", "f", {"x": 1}), p.StepEnd("inner", ("sub",)),
        p.Interrupt("i1", {"q": "?"}), p.RunEnd((p.Interrupt("i1", {"q": "?"}),)),
    ]


def test_a_failed_run_ends_with_its_error_only() -> None:
    parts = feed([("messages", chunk("m", "a")),
                  ("error", {"error": "ValueError", "message": "no good"}), ("end", None)])
    assert parts == [p.TextStart("m"), p.TextDelta("m", "a"), p.TextEnd("m"),
                     p.RunError("no good", "ValueError")]


def test_json_patch() -> None:
    assert p.json_patch({"a": 1, "b": {"c": [1]}, "d~/": 0, "gone": 1},
                        {"a": 1, "b": {"c": [1, 2]}, "d~/": 1, "new": None}) == [
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/b/c", "value": [1, 2]},
        {"op": "replace", "path": "/d~0~1", "value": 1},
        {"op": "add", "path": "/new", "value": None},
    ]
    assert p.json_patch({"x": 1}, {"x": 1.0}) == [{"op": "replace", "path": "/x", "value": 1.0}]
    assert p.json_patch({}, {}) == []


PARTS: list[p.Part] = [
    p.RunStart("r", "t"), p.StepStart("n", ("sub",)), p.StepStart("n"),
    p.ReasoningStart("m"), p.ReasoningDelta("m", "r"), p.ReasoningEnd("m"),
    p.TextStart("m"), p.TextDelta("m", "hi"), p.TextEnd("m"),
    p.ToolCallStart("c", "add", "m"), p.ToolCallArgsDelta("c", "{}"),
    p.ToolCallEnd("c", "add", {}), p.ToolResult("c", "tm", {"v": 1}),
    p.StateSnapshot({"n": 1}), p.StateDelta([{"op": "add", "path": "/x", "value": 1}]),
    p.MessagesSnapshot([{"type": "human", "id": "u", "content": [
        {"type": "text", "text": "a"}]}, {"type": "ai", "id": "m", "content": "hi",
                                         "tool_calls": [{"id": "c", "name": "add", "args": {}}]},
        {"type": "tool", "id": "tm", "content": "1", "tool_call_id": "c"},
        {"type": "system", "id": "s", "content": "be kind"}]),
    p.Custom("progress", 1), p.Interrupt("i", "ok?"), p.StepEnd("n"),
    p.RunEnd((p.Interrupt("i", "ok?"),)), p.RunError("bad", "ValueError"), p.RunEnd(),
]


def test_agui_encoding() -> None:
    assert [e for part in PARTS for e in agui.encode(part, "T", "R")] == [
        {"type": "RUN_STARTED", "threadId": "T", "runId": "R"},
        {"type": "STEP_STARTED", "stepName": "sub/n"},
        {"type": "STEP_STARTED", "stepName": "n"},
        {"type": "REASONING_START", "messageId": "m-reasoning"},
        {"type": "REASONING_MESSAGE_START", "messageId": "m-reasoning", "role": "reasoning"},
        {"type": "REASONING_MESSAGE_CONTENT", "messageId": "m-reasoning", "delta": "r"},
        {"type": "REASONING_MESSAGE_END", "messageId": "m-reasoning"},
        {"type": "REASONING_END", "messageId": "m-reasoning"},
        {"type": "TEXT_MESSAGE_START", "messageId": "m", "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "hi"},
        {"type": "TEXT_MESSAGE_END", "messageId": "m"},
        {"type": "TOOL_CALL_START", "toolCallId": "c", "toolCallName": "add",
         "parentMessageId": "m"},
        {"type": "TOOL_CALL_ARGS", "toolCallId": "c", "delta": "{}"},
        {"type": "TOOL_CALL_END", "toolCallId": "c"},
        {"type": "TOOL_CALL_RESULT", "messageId": "tm", "toolCallId": "c",
         "content": '{"v": 1}', "role": "tool"},
        {"type": "STATE_SNAPSHOT", "snapshot": {"n": 1}},
        {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "/x", "value": 1}]},
        {"type": "MESSAGES_SNAPSHOT", "messages": [
            {"id": "u", "role": "user", "content": "a"},
            {"id": "m", "role": "assistant", "content": "hi", "toolCalls": [
                {"id": "c", "type": "function", "function": {"name": "add", "arguments": "{}"}}]},
            {"id": "tm", "role": "tool", "content": "1", "toolCallId": "c"},
            {"id": "s", "role": "system", "content": "be kind"}]},
        {"type": "CUSTOM", "name": "progress", "value": 1},
        {"type": "CUSTOM", "name": "on_interrupt", "value": "ok?"},
        {"type": "STEP_FINISHED", "stepName": "n"},
        {"type": "RUN_FINISHED", "threadId": "T", "runId": "R", "outcome": {
            "type": "interrupt", "interrupts": [
                {"id": "i", "reason": "interrupt", "message": "ok?",
                 "metadata": {"value": "ok?"}}]}},
        {"type": "RUN_ERROR", "message": "bad", "code": "ValueError"},
        {"type": "RUN_FINISHED", "threadId": "T", "runId": "R", "outcome": {"type": "success"}},
    ]


def test_vercel_encoding() -> None:
    assert [c for part in PARTS for c in vercel.encode(part)] == [
        {"type": "start", "messageId": "r"},
        {"type": "start-step"},  # the root graph's steps only
        {"type": "reasoning-start", "id": "m-reasoning"},
        {"type": "reasoning-delta", "id": "m-reasoning", "delta": "r"},
        {"type": "reasoning-end", "id": "m-reasoning"},
        {"type": "text-start", "id": "m"}, {"type": "text-delta", "id": "m", "delta": "hi"},
        {"type": "text-end", "id": "m"},
        {"type": "tool-input-start", "toolCallId": "c", "toolName": "add"},
        {"type": "tool-input-delta", "toolCallId": "c", "inputTextDelta": "{}"},
        {"type": "tool-input-available", "toolCallId": "c", "toolName": "add", "input": {}},
        {"type": "tool-output-available", "toolCallId": "c", "output": {"v": 1}},
        {"type": "data-progress", "data": 1},
        {"type": "data-interrupt", "id": "i", "data": {"id": "i", "value": "ok?"}},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "other"},
        {"type": "error", "errorText": "bad"}, {"type": "finish", "finishReason": "error"},
        {"type": "finish", "finishReason": "stop"},
    ]
    assert vercel.encode(p.RunStart("r", "t"), "ui-1") == [
        {"type": "start", "messageId": "ui-1"}]


def test_messages_from_the_clients() -> None:
    assert agui.from_agui_messages([
        {"id": "u", "role": "user", "content": [{"type": "text", "text": "a"}]},
        {"id": "d", "role": "developer", "content": "rules"},
        {"id": "r", "role": "reasoning", "content": "mine"},
        {"id": "a", "role": "assistant", "toolCalls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
        {"id": "t", "role": "tool", "content": "1", "toolCallId": "c"},
    ]) == [
        {"type": "human", "id": "u", "content": [{"type": "text", "text": "a"}]},
        {"type": "system", "id": "d", "content": "rules"},
        {"type": "ai", "id": "a", "content": "", "tool_calls": [
            {"id": "c", "name": "f", "args": {"x": 1}}]},
        {"type": "tool", "id": "t", "content": "1", "tool_call_id": "c"},
    ]
    assert vercel.from_ui_messages([
        {"id": "s", "role": "system", "parts": [{"type": "text", "text": "be kind"}]},
        {"id": "u", "role": "user", "parts": [{"type": "text", "text": "a"},
                                               {"type": "text", "text": "b"}]},
        {"id": "a", "role": "assistant", "parts": [
            {"type": "step-start"}, {"type": "text", "text": "ok"},
            {"type": "tool-add", "toolCallId": "c", "state": "output-available",
             "input": {"a": 1}, "output": 2},
            {"type": "dynamic-tool", "toolName": "g", "toolCallId": "d",
             "state": "input-available", "input": {}}]},
    ]) == [
        {"type": "system", "id": "s", "content": "be kind"},
        {"type": "human", "id": "u", "content": "ab"},
        {"type": "ai", "id": "a", "content": "ok", "tool_calls": [
            {"id": "c", "args": {"a": 1}, "name": "add"},
            {"id": "d", "args": {}, "name": "g"}]},
        {"type": "tool", "id": "c-output", "tool_call_id": "c", "content": "2"},
    ]
