"""A run's logged events, mapped once into protocol-neutral parts.

A front-end protocol (AG-UI, the Vercel AI SDK's UI message stream) is a thin encoder
over these parts (``agui.py``, ``vercel.py``); a third protocol is one more file.
:class:`PartMapper` reads the SSE events a run logs for the stream modes of
:data:`STREAM_MODES` (with subgraphs: an event name is ``mode`` or ``mode|ns|...``)
and yields parts in an order every protocol accepts: a text, reasoning or tool-call
stream is closed before anything else is said, and a run ends with its messages,
its interrupts (if any) and one :class:`RunEnd` or :class:`RunError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "STREAM_MODES", "Custom", "Interrupt", "MessagesSnapshot", "Part", "PartMapper",
    "ReasoningDelta", "ReasoningEnd", "ReasoningStart", "RunEnd", "RunError", "RunStart",
    "StateDelta", "StateSnapshot", "StepEnd", "StepStart", "TextDelta", "TextEnd",
    "TextStart", "ToolCallArgsDelta", "ToolCallEnd", "ToolCallStart", "ToolResult",
    "json_patch",
]

#: What a front-end run asks the server to log (with ``stream_subgraphs``).
STREAM_MODES = ["messages-tuple", "tasks", "updates", "values", "custom"]


@dataclass(frozen=True)
class RunStart:
    run_id: str
    thread_id: str


@dataclass(frozen=True)
class StepStart:
    """A node's task began; ``namespace`` names the subgraphs it runs in (outermost
    first), empty at the root."""
    name: str
    namespace: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepEnd:
    name: str
    namespace: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextStart:
    message_id: str


@dataclass(frozen=True)
class TextDelta:
    message_id: str
    delta: str  # never empty


@dataclass(frozen=True)
class TextEnd:
    message_id: str


@dataclass(frozen=True)
class ReasoningStart:
    message_id: str  # the message whose reasoning this is


@dataclass(frozen=True)
class ReasoningDelta:
    message_id: str
    delta: str


@dataclass(frozen=True)
class ReasoningEnd:
    message_id: str


@dataclass(frozen=True)
class ToolCallStart:
    tool_call_id: str
    name: str
    message_id: str  # the AI message that calls it


@dataclass(frozen=True)
class ToolCallArgsDelta:
    tool_call_id: str
    delta: str


@dataclass(frozen=True)
class ToolCallEnd:
    tool_call_id: str
    name: str
    args: Any  # the arguments parsed (the text itself when it is not JSON)


@dataclass(frozen=True)
class ToolResult:
    tool_call_id: str
    message_id: str
    content: Any
    name: str | None = None


@dataclass(frozen=True)
class StateSnapshot:
    """The root graph's values without ``messages`` (see :class:`MessagesSnapshot`)."""
    values: dict[str, Any]


@dataclass(frozen=True)
class StateDelta:
    """RFC 6902 operations from the previous snapshot (or delta) to these values."""
    patch: list[dict[str, Any]]


@dataclass(frozen=True)
class MessagesSnapshot:
    messages: list[dict[str, Any]]  # rillet messages as the API shows them


@dataclass(frozen=True)
class Custom:
    """What a node gave the stream writer: ``name`` is the value's ``"type"`` when it
    is an object with a string ``type``, else ``"custom"``."""
    name: str
    value: Any


@dataclass(frozen=True)
class Interrupt:
    """``interrupt(value)`` stopped the run; resume it by ``id``."""
    id: str
    value: Any


@dataclass(frozen=True)
class RunEnd:
    interrupts: tuple[Interrupt, ...] = ()


@dataclass(frozen=True)
class RunError:
    message: str
    code: str | None = None


Part = (RunStart | StepStart | StepEnd | TextStart | TextDelta | TextEnd | ReasoningStart
        | ReasoningDelta | ReasoningEnd | ToolCallStart | ToolCallArgsDelta | ToolCallEnd
        | ToolResult | StateSnapshot | StateDelta | MessagesSnapshot | Custom | Interrupt
        | RunEnd | RunError)


@dataclass
class _Call:
    id: str
    name: str
    args: str = ""


@dataclass
class PartMapper:
    """Turns one run's events, in log order, into parts (keeps what is open)."""

    thread_id: str
    _started: bool = False
    _text: str | None = None  # message id of the open text
    _reasoning: str | None = None
    _calls: dict[tuple[str, int], _Call] = field(default_factory=dict)  # open tool calls
    _streamed: set[str] = field(default_factory=set)  # message ids seen as chunks
    _state: dict[str, Any] | None = None
    _messages: list[dict[str, Any]] | None = None
    _interrupts: dict[str, Interrupt] = field(default_factory=dict)
    _failed: bool = False

    def feed(self, event: str, data: Any) -> list[Part]:
        """The parts for one logged event (``event`` its SSE name, ``data`` decoded)."""
        mode, *namespace = event.split("|")
        if mode == "metadata":
            if self._started:  # a restarted run's next attempt: the same run goes on
                return []
            self._started = True
            return [RunStart(str(data["run_id"]), self.thread_id)]
        if mode == "messages":
            return self._message(*data)
        out = self._close()
        if mode == "tasks":
            name = str(data.get("name"))
            ns = tuple(part.split(":")[0] for part in namespace)
            out.append(StepStart(name, ns) if "input" in data else StepEnd(name, ns))
        elif mode == "values" and not namespace and isinstance(data, dict):
            out += self._values(data)
        elif mode == "updates" and not namespace and isinstance(data, dict):
            for item in data.get("__interrupt__") or ():
                self._interrupts[str(item.get("id"))] = Interrupt(str(item.get("id")),
                                                                  item.get("value"))
        elif mode == "custom":
            kind = data.get("type") if isinstance(data, dict) else None
            out.append(Custom(kind if isinstance(kind, str) and kind else "custom", data))
        elif mode == "error":
            self._failed = True
            message = data.get("message") if isinstance(data, dict) else None
            code = data.get("error") if isinstance(data, dict) else None
            out.append(RunError(str(message or data), code))
        elif mode == "end" and not self._failed:
            if self._messages is not None:
                out.append(MessagesSnapshot(self._messages))
            interrupts = tuple(self._interrupts.values())
            out += [*interrupts, RunEnd(interrupts)]
        return out

    def _values(self, values: dict[str, Any]) -> list[Part]:
        messages = values.get("messages")
        if isinstance(messages, list):
            self._messages = messages
        state = {k: v for k, v in values.items() if k not in ("messages", "__interrupt__")}
        previous, self._state = self._state, state
        if previous is None:
            return [StateSnapshot(state)]
        patch = json_patch(previous, state)
        return [StateDelta(patch)] if patch else []

    def _message(self, message: dict[str, Any], metadata: Any = None) -> list[Part]:
        kind, message_id = message.get("type"), str(message.get("id"))
        if kind == "tool":
            return [*self._close(), ToolResult(str(message.get("tool_call_id")), message_id,
                                               message.get("content"), message.get("name"))]
        if kind == "AIMessageChunk":
            self._streamed.add(message_id)
            return self._chunk(message_id, message)
        if kind == "ai" and message_id not in self._streamed:  # a whole message, not streamed
            self._streamed.add(message_id)
            out = self._chunk(message_id, {**message, "tool_call_chunks": [
                {"id": c.get("id"), "name": c.get("name"), "index": i,
                 "args": json.dumps(c.get("args"), separators=(",", ":"))}
                for i, c in enumerate(message.get("tool_calls") or ())]})
            return out + self._close()
        return []

    def _chunk(self, message_id: str, chunk: dict[str, Any]) -> list[Part]:
        out: list[Part] = []
        if message_id not in (self._text, self._reasoning) and not any(
                key[0] == message_id for key in self._calls):
            out += self._close()
        reasoning, text = _reasoning(chunk), _text(chunk.get("content"))
        if reasoning:
            if self._reasoning != message_id:
                out += self._close()
                self._reasoning = message_id
                out.append(ReasoningStart(message_id))
            out.append(ReasoningDelta(message_id, reasoning))
        if text:
            if self._text != message_id:
                out += self._close()
                self._text = message_id
                out.append(TextStart(message_id))
            out.append(TextDelta(message_id, text))
        for piece in chunk.get("tool_call_chunks") or ():
            out += self._tool_chunk(message_id, piece)
        return out

    def _tool_chunk(self, message_id: str, piece: dict[str, Any]) -> list[Part]:
        out: list[Part] = []
        key = (message_id, int(piece.get("index") or 0))
        call = self._calls.get(key)
        if call is None or (piece.get("id") and piece.get("id") != call.id):
            out += self._close()
            call = self._calls[key] = _Call(str(piece.get("id")), str(piece.get("name") or ""))
            out.append(ToolCallStart(call.id, call.name, message_id))
        elif self._text is not None or self._reasoning is not None:
            out += self._close(calls=False)
        if piece.get("args"):
            call.args += piece["args"]
            out.append(ToolCallArgsDelta(call.id, piece["args"]))
        return out

    def _close(self, *, calls: bool = True) -> list[Part]:
        """End what is open: reasoning, text, then the tool calls."""
        out: list[Part] = []
        if self._reasoning is not None:
            out.append(ReasoningEnd(self._reasoning))
            self._reasoning = None
        if self._text is not None:
            out.append(TextEnd(self._text))
            self._text = None
        if calls:
            for call in self._calls.values():
                out.append(ToolCallEnd(call.id, call.name, _args(call.args)))
            self._calls.clear()
        return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content
                       if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _reasoning(chunk: dict[str, Any]) -> str:
    """Reasoning as providers send it: ``additional_kwargs.reasoning_content``, or
    ``reasoning`` / ``thinking`` content blocks."""
    found = (chunk.get("additional_kwargs") or {}).get("reasoning_content")
    if isinstance(found, str) and found:
        return found
    content = chunk.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(str(b.get(b["type"], "")) for b in content
                   if isinstance(b, dict) and b.get("type") in ("reasoning", "thinking"))


def _args(text: str) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text


def json_patch(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """RFC 6902 operations turning ``old`` into ``new`` (objects key by key; a list
    or a scalar that changed is replaced whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in new.items():
            if key not in old:
                ops.append({"op": "add", "path": f"{path}/{_escape(key)}", "value": value})
            else:
                ops += json_patch(old[key], value, f"{path}/{_escape(key)}")
        return ops
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": path, "value": new}]


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
