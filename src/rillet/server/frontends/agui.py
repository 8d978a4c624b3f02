"""AG-UI: ``POST /agui/{graph_id}`` takes a ``RunAgentInput`` and streams AG-UI events.

The AG-UI thread is the server's thread (``threadId``; made on its first run); the
run is an ordinary server run of the graph (its ``runId`` kept in the run's metadata
as ``agui_run_id``). The input is the messages of ``messages`` the thread has not got
yet (clients send the whole history each time; matched by id), and the keys of
``state`` whose value differs from the thread's. ``tools`` and ``context`` reach the
graph as ``config["configurable"]["ag_ui"]`` (``{"tools", "context"}``).

An interrupt ends the run with ``RUN_FINISHED`` ``outcome: {"type": "interrupt",
"interrupts": [{id, reason: "interrupt", message?, metadata: {value}}]}`` (AG-UI 1.0),
after a ``CUSTOM`` ``on_interrupt`` event per interrupt (its value: the interrupt's
value, as CopilotKit's LangGraph integration reads it). The next ``RunAgentInput``
resumes it with ``resume: [{interruptId, status: "resolved", payload}]`` (a
``"cancelled"`` entry resumes with ``None``), or with ``forwardedProps.command``
(``{"resume": ...}``, LangGraph's command, as CopilotKit sends it).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.server._errors import ApiError, read_body
from rillet.server.frontends import _parts as p
from rillet.server.frontends._run import (
    DataStream,
    follow_parts,
    known_thread,
    pending_interrupts,
    start_run,
    thread_values,
)

__all__ = ["ROUTES", "encode", "from_agui_messages", "to_agui_messages"]


def encode(part: p.Part, thread_id: str, run_id: str) -> list[dict[str, Any]]:
    """The AG-UI events for one part (``thread_id``, ``run_id``: the client's)."""
    match part:
        case p.RunStart():
            return [{"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id}]
        case p.StepStart(name=name, namespace=ns):
            return [{"type": "STEP_STARTED", "stepName": "/".join([*ns, name])}]
        case p.StepEnd(name=name, namespace=ns):
            return [{"type": "STEP_FINISHED", "stepName": "/".join([*ns, name])}]
        case p.TextStart(message_id=mid):
            return [{"type": "TEXT_MESSAGE_START", "messageId": mid, "role": "assistant"}]
        case p.TextDelta(message_id=mid, delta=delta):
            return [{"type": "TEXT_MESSAGE_CONTENT", "messageId": mid, "delta": delta}]
        case p.TextEnd(message_id=mid):
            return [{"type": "TEXT_MESSAGE_END", "messageId": mid}]
        case p.ReasoningStart(message_id=mid):
            rid = f"{mid}-reasoning"  # a reasoning message of its own in AG-UI
            return [{"type": "REASONING_START", "messageId": rid},
                    {"type": "REASONING_MESSAGE_START", "messageId": rid, "role": "reasoning"}]
        case p.ReasoningDelta(message_id=mid, delta=delta):
            return [{"type": "REASONING_MESSAGE_CONTENT", "messageId": f"{mid}-reasoning",
                     "delta": delta}]
        case p.ReasoningEnd(message_id=mid):
            return [{"type": "REASONING_MESSAGE_END", "messageId": f"{mid}-reasoning"},
                    {"type": "REASONING_END", "messageId": f"{mid}-reasoning"}]
        case p.ToolCallStart(tool_call_id=tid, name=name, message_id=mid):
            return [{"type": "TOOL_CALL_START", "toolCallId": tid, "toolCallName": name,
                     "parentMessageId": mid}]
        case p.ToolCallArgsDelta(tool_call_id=tid, delta=delta):
            return [{"type": "TOOL_CALL_ARGS", "toolCallId": tid, "delta": delta}]
        case p.ToolCallEnd(tool_call_id=tid):
            return [{"type": "TOOL_CALL_END", "toolCallId": tid}]
        case p.ToolResult(tool_call_id=tid, message_id=mid, content=content):
            return [{"type": "TOOL_CALL_RESULT", "messageId": mid, "toolCallId": tid,
                     "content": _string(content), "role": "tool"}]
        case p.StateSnapshot(values=values):
            return [{"type": "STATE_SNAPSHOT", "snapshot": values}]
        case p.StateDelta(patch=patch):
            return [{"type": "STATE_DELTA", "delta": patch}]
        case p.MessagesSnapshot(messages=messages):
            return [{"type": "MESSAGES_SNAPSHOT", "messages": to_agui_messages(messages)}]
        case p.Custom(name=name, value=value):
            return [{"type": "CUSTOM", "name": name, "value": value}]
        case p.Interrupt(value=value):
            return [{"type": "CUSTOM", "name": "on_interrupt", "value": value}]
        case p.RunError(message=message, code=code):
            return [{"type": "RUN_ERROR", "message": message,
                     **({"code": code} if code else {})}]
        case p.RunEnd(interrupts=interrupts):
            outcome: dict[str, Any] = {"type": "success"}
            if interrupts:
                outcome = {"type": "interrupt", "interrupts": [_interrupt(i) for i in interrupts]}
            return [{"type": "RUN_FINISHED", "threadId": thread_id, "runId": run_id,
                     "outcome": outcome}]
    return []


def _interrupt(interrupt: p.Interrupt) -> dict[str, Any]:
    out: dict[str, Any] = {"id": interrupt.id, "reason": "interrupt"}
    if isinstance(interrupt.value, str):
        out["message"] = interrupt.value
    out["metadata"] = {"value": interrupt.value}
    return out


def _string(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content
                       if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else str(content)


def to_agui_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """rillet messages (as the API shows them) as AG-UI messages."""
    out: list[dict[str, Any]] = []
    for m in messages:
        kind, base = m.get("type"), {"id": str(m.get("id"))}
        if kind == "human":
            out.append({**base, "role": "user", "content": _text(m.get("content"))})
        elif kind == "system":
            out.append({**base, "role": "system", "content": _text(m.get("content"))})
        elif kind == "tool":
            out.append({**base, "role": "tool", "content": _text(m.get("content")),
                        "toolCallId": str(m.get("tool_call_id"))})
        elif kind == "ai":
            message = {**base, "role": "assistant", "content": _text(m.get("content"))}
            calls = [{"id": str(c.get("id")), "type": "function", "function": {
                "name": c.get("name"), "arguments": json.dumps(c.get("args"))}}
                for c in m.get("tool_calls") or ()]
            out.append({**message, "toolCalls": calls} if calls else message)
    return out


def _field(value: Any, where: str, kind: type, what: str) -> Any:
    if not isinstance(value, kind) or (kind is str and not value):
        raise ApiError(422, f"'{where}' must be {what}, got {value!r}")
    return value


def _user_content(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    parts = _field(content, where, list, "a string or a list of content parts")
    blocks = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or part.get("type") != "text" \
                or not isinstance(part.get("text"), str):
            raise ApiError(422, f"'{where}[{i}]' must be a text part "
                           '({"type": "text", "text": ...}): other parts are not '
                           "supported yet")
        blocks.append({"type": "text", "text": part["text"]})
    return blocks


def from_agui_messages(messages: Any) -> list[dict[str, Any]]:
    """AG-UI messages as rillet message dicts; reasoning and activity messages (the
    client's own records) are left out. :raises ApiError: 422 naming the field."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(_field(messages, "messages", list, "a list of messages")):
        where = f"messages[{i}]"
        _field(m, where, dict, "a message object")
        mid = _field(m.get("id"), f"{where}.id", str, "a message id (a string)")
        role = m.get("role")
        if role == "user":
            out.append({"type": "human", "id": mid,
                        "content": _user_content(m.get("content"), f"{where}.content")})
        elif role in ("system", "developer"):
            out.append({"type": "system", "id": mid, "content": _field(
                m.get("content"), f"{where}.content", str, "a string")})
        elif role == "tool":
            out.append({"type": "tool", "id": mid, "content": str(m.get("content") or ""),
                        "tool_call_id": _field(m.get("toolCallId"), f"{where}.toolCallId",
                                               str, "the id of the tool call answered")})
        elif role == "assistant":
            out.append({"type": "ai", "id": mid, "content": m.get("content") or "",
                        "tool_calls": _tool_calls(m.get("toolCalls"), f"{where}.toolCalls")})
        elif role not in ("reasoning", "activity"):
            raise ApiError(422, f"'{where}.role' must be user, assistant, tool, system, "
                           f"developer, reasoning or activity, got {role!r}")
    return out


def _tool_calls(calls: Any, where: str) -> list[dict[str, Any]]:
    out = []
    for i, call in enumerate(_field(calls or [], where, list, "a list of tool calls")):
        at = f"{where}[{i}]"
        function = _field(call.get("function") if isinstance(call, dict) else None,
                          f"{at}.function", dict, "an object {name, arguments}")
        try:
            args = json.loads(function.get("arguments") or "{}")
        except (TypeError, ValueError):
            raise ApiError(422, f"'{at}.function.arguments' must be a JSON string, got "
                           f"{function.get('arguments')!r}") from None
        out.append({"id": _field(call.get("id"), f"{at}.id", str, "a string"),
                    "name": _field(function.get("name"), f"{at}.function.name", str,
                                   "a string"), "args": args})
    return out


def _resume(body: dict[str, Any], pending: list[str]) -> dict[str, Any] | None:
    """The command that resumes the thread: from ``resume`` entries, or
    ``forwardedProps.command``."""
    entries = body.get("resume")
    forwarded = body.get("forwardedProps")
    command = forwarded.get("command") if isinstance(forwarded, dict) else None
    if entries is None or entries == []:
        return dict(command) if isinstance(command, dict) else None
    answers = {}
    for i, entry in enumerate(_field(entries, "resume", list, "a list of resume entries")):
        at = f"resume[{i}]"
        _field(entry, at, dict, "an object {interruptId, status, payload}")
        iid = _field(entry.get("interruptId"), f"{at}.interruptId", str, "an interrupt id")
        if entry.get("status") not in ("resolved", "cancelled"):
            raise ApiError(422, f"'{at}.status' must be resolved or cancelled, got "
                           f"{entry.get('status')!r}")
        if iid not in pending:
            raise ApiError(409, f"'{at}.interruptId': the thread is not waiting on "
                           f"interrupt {iid!r} (waiting on: {', '.join(pending) or 'none'})")
        answers[iid] = entry.get("payload") if entry["status"] == "resolved" else None
    return {"resume": answers}


async def run(request: Request) -> Response:
    body = await read_body(request)
    thread_id = _field(body.get("threadId"), "threadId", str, "the thread id (a string)")
    run_id = _field(body.get("runId"), "runId", str, "the run id (a string)")
    if "messages" not in body:
        raise ApiError(422, "'messages' is required: the conversation (a list, may be [])")
    messages = from_agui_messages(body["messages"])
    state = body.get("state")
    if state is not None and not isinstance(state, dict):
        raise ApiError(422, f"'state' must be an object, got {state!r}")
    extras = {key: _field([] if body.get(key) is None else body[key], key, list, "a list")
              for key in ("tools", "context")}
    thread = await known_thread(request, thread_id)
    known = thread_values(thread)
    seen = {str(m.get("id")) for m in known.get("messages") or () if isinstance(m, dict)}
    new = [m for m in messages if m["id"] not in seen]
    changed = {k: v for k, v in (state or {}).items()
               if k not in ("messages", "__interrupt__") and known.get(k) != v}
    command = _resume(body, pending_interrupts(thread))
    run_input = None
    if command is not None:
        if new or changed:
            command["update"] = {**changed, **({"messages": new} if new else {})}
    else:
        run_input = {**changed, "messages": new}
    config = {"configurable": {"ag_ui": extras}} if any(extras.values()) else {}
    server, record = await start_run(
        request, request.path_params["graph_id"], thread_id, input=run_input,
        command=command, metadata={"frontend": "ag-ui", "agui_run_id": run_id}, config=config)
    return DataStream(follow_parts(server, record),
                      lambda part: encode(part, thread_id, run_id))


ROUTES = [Route("/agui/{graph_id}", run, methods=["POST"])]
