"""The Vercel AI SDK's UI message stream (v1), for ``useChat`` and its transports.

``POST /vercel/{graph_id}`` takes the chat transport's body ``{id, messages, trigger}``:
the chat ``id`` is the server's thread (made on its first run). A thread with no
messages yet takes every message of ``messages`` (a history the client starts from);
after that only the last one, a user message the thread has not got (``useChat``
sends the whole history each time, with the new message last). The run's answer is
one UI message whose id is the run's id (a resumed run's: the id of the request's
last message when that is the interrupted assistant message, so the answer goes
on): ``start``, ``start-step``/``finish-step``
per node of the root graph, ``text-*``, ``reasoning-*``, ``tool-input-start`` /
``-delta`` / ``-available`` and ``tool-output-available``, ``data-<name>`` for what a
node gives the stream writer (``<name>``: the value's ``"type"`` when it is an
object with a string ``type``, else ``custom``; the whole value is ``data``),
``error``, ``finish``, then ``data: [DONE]``.

An interrupt sends ``data-interrupt`` (``id``: the interrupt's id, ``data``: ``{id,
value}``) before ``finish`` (``finishReason: "other"``). The next request resumes
the thread with a ``resume`` field in the body (the value ``interrupt()`` returns,
or ``{interrupt_id: value}``), e.g. ``sendMessage(undefined, {body: {resume}})``.
``trigger: "regenerate-message"`` is refused (422) for now.

``GET /vercel/{graph_id}/{chat_id}/stream`` streams the chat's run in progress from
the start of its log (the SDK's ``resumeStream``; a replay), or answers 204 when
there is none.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.server._errors import ApiError, read_body
from rillet.server.api._common import authorized_thread, server_of
from rillet.server.frontends import _parts as p
from rillet.server.frontends._run import (
    DataStream,
    follow_parts,
    known_thread,
    start_run,
    thread_values,
)

__all__ = ["HEADERS", "ROUTES", "encode", "from_ui_messages"]

HEADERS = {"x-vercel-ai-ui-message-stream": "v1", "x-accel-buffering": "no",
           "Connection": "keep-alive"}
_DONE = b"data: [DONE]\n\n"


def encode(part: p.Part, message_id: str | None = None) -> list[dict[str, Any]]:
    """The UI message stream chunks for one part; ``message_id``: the UI message the
    run's answer goes to (the run's id when not given)."""
    match part:
        case p.RunStart(run_id=run_id):
            return [{"type": "start", "messageId": message_id or run_id}]
        case p.StepStart(namespace=()):
            return [{"type": "start-step"}]
        case p.StepEnd(namespace=()):
            return [{"type": "finish-step"}]
        case p.TextStart(message_id=mid):
            return [{"type": "text-start", "id": mid}]
        case p.TextDelta(message_id=mid, delta=delta):
            return [{"type": "text-delta", "id": mid, "delta": delta}]
        case p.TextEnd(message_id=mid):
            return [{"type": "text-end", "id": mid}]
        case p.ReasoningStart(message_id=mid):
            return [{"type": "reasoning-start", "id": f"{mid}-reasoning"}]
        case p.ReasoningDelta(message_id=mid, delta=delta):
            return [{"type": "reasoning-delta", "id": f"{mid}-reasoning", "delta": delta}]
        case p.ReasoningEnd(message_id=mid):
            return [{"type": "reasoning-end", "id": f"{mid}-reasoning"}]
        case p.ToolCallStart(tool_call_id=tid, name=name):
            return [{"type": "tool-input-start", "toolCallId": tid, "toolName": name}]
        case p.ToolCallArgsDelta(tool_call_id=tid, delta=delta):
            return [{"type": "tool-input-delta", "toolCallId": tid, "inputTextDelta": delta}]
        case p.ToolCallEnd(tool_call_id=tid, name=name, args=args):
            return [{"type": "tool-input-available", "toolCallId": tid, "toolName": name,
                     "input": args}]
        case p.ToolResult(tool_call_id=tid, content=content):
            return [{"type": "tool-output-available", "toolCallId": tid, "output": content}]
        case p.Custom(name=name, value=value):
            return [{"type": f"data-{name}", "data": value}]
        case p.Interrupt(id=iid, value=value):
            return [{"type": "data-interrupt", "id": iid, "data": {"id": iid, "value": value}}]
        case p.RunError(message=message):
            return [{"type": "error", "errorText": message},
                    {"type": "finish", "finishReason": "error"}]
        case p.RunEnd(interrupts=interrupts):
            return [{"type": "finish", "finishReason": "other" if interrupts else "stop"}]
    return []  # state and messages snapshots: the UI message is the client's own


def _text(parts: list[Any]) -> str:
    return "".join(part["text"] for part in parts
                   if isinstance(part, dict) and part.get("type") == "text"
                   and isinstance(part.get("text"), str))


def from_ui_messages(messages: list[Any], where: str = "messages") -> list[dict[str, Any]]:
    """UI messages as rillet message dicts: text parts become the content; an
    assistant's tool parts (``tool-<name>``, ``dynamic-tool``) its tool calls, and
    those with output a tool message each. :raises ApiError: 422 naming the field."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("id"), str) or not m["id"]:
            raise ApiError(422, f"'{at}' must be a UI message with an 'id' (a string)")
        parts = m.get("parts")
        if not isinstance(parts, list):
            raise ApiError(422, f"'{at}.parts' must be a list of parts, got {parts!r}")
        role = m.get("role")
        if role == "user":
            out.append({"type": "human", "id": m["id"], "content": _text(parts)})
        elif role == "system":
            out.append({"type": "system", "id": m["id"], "content": _text(parts)})
        elif role == "assistant":
            out += _assistant(m["id"], parts)
        else:
            raise ApiError(422, f"'{at}.role' must be user, assistant or system, got {role!r}")
    return out


def _assistant(message_id: str, parts: list[Any]) -> list[dict[str, Any]]:
    tools = [part for part in parts if isinstance(part, dict) and isinstance(
        part.get("type"), str) and (part["type"].startswith("tool-")
                                    or part["type"] == "dynamic-tool")]
    calls = [{"id": str(t.get("toolCallId")), "args": t.get("input") or {},
              "name": t.get("toolName") or t["type"].removeprefix("tool-")} for t in tools]
    results = [{"type": "tool", "id": f"{t.get('toolCallId')}-output",
                "tool_call_id": str(t.get("toolCallId")),
                "content": t["output"] if isinstance(t["output"], str)
                else json.dumps(t["output"])} for t in tools if "output" in t]
    return [{"type": "ai", "id": message_id, "content": _text(parts), "tool_calls": calls},
            *results]


async def chat(request: Request) -> Response:
    body = await read_body(request)
    chat_id = body.get("id")
    if not isinstance(chat_id, str) or not chat_id:
        raise ApiError(422, "'id' is required: the chat's id (a string)")
    trigger = body.get("trigger", "submit-message")
    if trigger == "regenerate-message":
        raise ApiError(422, "'trigger': regenerate-message is not supported yet; send a "
                       "new message (or fork the thread from a checkpoint with the API)")
    if trigger != "submit-message":
        raise ApiError(422, f"'trigger' must be submit-message, got {trigger!r}")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ApiError(422, f"'messages' must be a list of UI messages, got {messages!r}")
    known = thread_values(await known_thread(request, chat_id)).get("messages") or []
    if not known:
        new = from_ui_messages(messages)
    elif messages:
        last = from_ui_messages(messages[-1:], f"messages[{len(messages) - 1}]")
        seen = {str(m.get("id")) for m in known if isinstance(m, dict)}
        new = [m for m in last if m["type"] == "human" and m["id"] not in seen]
    else:
        new = []
    command, run_input, message_id = None, None, None
    if "resume" in body:
        if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
            message_id = str(messages[-1].get("id"))  # the interrupted answer goes on
        command = {"resume": body["resume"], **({"update": {"messages": new}} if new else {})}
    else:
        run_input = {"messages": new}
    server, run = await start_run(request, request.path_params["graph_id"], chat_id,
                                  input=run_input, command=command,
                                  metadata={"frontend": "vercel-ai"})
    return DataStream(follow_parts(server, run), lambda part: encode(part, message_id),
                      headers=HEADERS, last=_DONE)


async def resume_stream(request: Request) -> Response:
    chat_id = request.path_params["chat_id"]
    server = server_of(request)
    if await server.storage.get_thread(chat_id) is None:
        return Response(status_code=204)
    await authorized_thread(request, "read", chat_id)
    runs = await server.storage.list_runs(chat_id, status=None, limit=100, offset=0)
    active = [r for r in runs if r["status"] in ("pending", "running")]
    if not active:
        return Response(status_code=204)
    run = min(active, key=lambda r: r["created_at"])  # the one that runs (others wait)
    return DataStream(follow_parts(server, run), encode, headers=HEADERS, last=_DONE)


ROUTES = [
    Route("/vercel/{graph_id}", chat, methods=["POST"]),
    Route("/vercel/{graph_id}/{chat_id}/stream", resume_stream, methods=["GET"]),
]
