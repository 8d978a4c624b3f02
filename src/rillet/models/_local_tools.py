"""Tool calling for ``LocalChatModel``: the plan, the GBNF grammar, the tools prompt,
the chat-message rendering and the streaming tool-call parser.

With tools bound, a llama.cpp grammar (GBNF) constrains the output, so even a
tiny model writes a well-formed call ``{"name": ..., "arguments": {...}}`` whose
arguments follow the tool's JSON schema. ``tool_choice="required"`` (``"any"``, or a
tool name) admits only a call; ``"auto"`` a call or plain text not starting with
``{``, the model choosing; ``"none"`` leaves the output free. A call
streams as tool-call chunks: name and id first, then the arguments' JSON text as it
is generated. Earlier calls and tool results are written into the prompt as text (a
call as its JSON, a result as a user turn ``Result of <tool>: ...`` followed by the
user's question again, which a small model needs to use the result), so that any chat
template renders them.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

from rillet.messages import AIMessageChunk, BaseMessage, to_openai_dicts, tool_call_chunk


@dataclass(frozen=True, slots=True)
class _Plan:
    """What an answer may be: ``auto`` text or a call, ``call`` a call only, ``text``
    text only (not starting with ``{``); a call names one of ``names``."""

    mode: Literal["auto", "call", "text"]
    names: tuple[str, ...]


def _plan(choice: Any, tools: list[dict[str, Any]]) -> _Plan | None:
    """The plan for ``tool_choice`` and the tools (``None``: output left free).
    :raises ValueError: if ``choice`` names no bound tool."""
    if not tools or choice == "none":
        return None
    names = tuple(t["function"]["name"] for t in tools)
    if choice is None or choice == "auto":
        return _Plan("auto", names)
    if choice in ("required", "any") or choice is True:
        return _Plan("call", names)
    if isinstance(choice, dict):  # {"type": "function", "function": {"name": ...}}
        choice = (choice.get("function") or choice).get("name")
    if choice not in names:
        raise ValueError(
            f"tool_choice must be 'auto', 'required', 'none' or the name of a bound "
            f"tool {list(names)}, got {choice!r}"
        )
    return _Plan("call", (str(choice),))


def _chat_messages(
    messages: list[BaseMessage], plan: _Plan | None, tools: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Chat Completions dicts that any chat template renders: text content, only the
    system/user/assistant roles, tool calls and results written out as text."""
    chat: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}
    question = ""
    for item in to_openai_dicts(messages):
        role, content = item["role"], _text(item.get("content"))
        if role == "developer":
            role = "system"
        elif role == "assistant" and item.get("tool_calls"):
            calls = []
            for call in item["tool_calls"]:
                function = call["function"]
                tool_names[call["id"]] = function["name"]
                calls.append(f'{{"name": {json.dumps(function["name"])}, '
                             f'"arguments": {function["arguments"] or "{}"}}}')
            content = "\n".join([content, *calls] if content else calls)
        elif role == "tool":
            name = tool_names.get(item.get("tool_call_id", ""), "the tool")
            role, content = "user", f"Result of {name}: {content}"
            if question:  # a small model answers best when the question is repeated
                content = f"{content}\n\nUsing this result, answer: {question}"
        elif role == "user":
            question = content
        chat.append({"role": role, "content": content})
    if plan is not None and plan.mode != "text":
        prompt = _tools_prompt(plan, tools)
        if chat and chat[0]["role"] == "system":
            chat[0] = {"role": "system", "content": f"{chat[0]['content']}\n\n{prompt}"}
        else:
            chat.insert(0, {"role": "system", "content": prompt})
    return chat


def _text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


def _tools_prompt(plan: _Plan, tools: list[dict[str, Any]]) -> str:
    lines = ["You can call these tools:"]
    for tool in tools:
        function = tool["function"]
        if function["name"] in plan.names:
            properties = (function.get("parameters") or {}).get("properties", {})
            lines.append(f"- {function['name']}: {function.get('description') or ''} "
                         f"Arguments: {json.dumps(properties)}")
    lines.append('To call a tool, answer with only a JSON object: '
                 '{"name": <tool name>, "arguments": {<arguments>}}.')
    if plan.mode == "auto":
        lines.append("Call a tool when the question needs what it gives; "
                     "otherwise answer in plain text.")
    else:
        lines.append(f"Call the tool {plan.names[0]}." if len(plan.names) == 1
                     else "Call one of the tools.")
    return "\n".join(lines)


_TEXT_RULE: Final = r"rillet-text ::= [^{ \t\r\n] .*"


def _grammar(plan: _Plan, tools: list[dict[str, Any]]) -> str:
    """GBNF for ``{"name": "<tool>", "arguments": <args>}`` and/or text, per ``plan``.

    Each tool's arguments follow its parameters' JSON schema, converted by
    llama-cpp-python's converter; a schema it cannot convert admits any JSON object.
    """
    if plan.mode == "text":
        return f"root ::= rillet-text\n{_TEXT_RULE}"
    return _tools_grammar(plan, json.dumps(tools))  # key order matters: not sorted


@functools.lru_cache(maxsize=64)
def _tools_grammar(plan: _Plan, tools_json: str) -> str:
    from llama_cpp.llama_grammar import SchemaConverter

    tools = json.loads(tools_json)  # a copy: the converter rewrites schemas' $refs

    converter: Any = SchemaConverter(  # type: ignore[no-untyped-call]
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    branches = []
    for index, tool in enumerate(tools):
        name = tool["function"]["name"]
        if name not in plan.names:
            continue
        schema = tool["function"].get("parameters") or {"type": "object", "properties": {}}
        try:
            args = converter.visit(converter.resolve_refs(schema, f"tool{index}"), f"args{index}")
        except Exception:  # a schema feature the converter lacks: any object will do
            args = converter.visit({"type": "object"}, f"args{index}")
        head = json.dumps(name) + ', "arguments": '
        branches.append(f"{json.dumps(head)} {args}")  # a JSON string is a GBNF literal
    return "\n".join([
        "root ::= rillet-call | rillet-text" if plan.mode == "auto" else "root ::= rillet-call",
        f'rillet-call ::= "{{\\"name\\": " ( {" | ".join(branches)} ) "}}"',
        _TEXT_RULE,
        converter.format_grammar(),
    ])


class _ToolOutput:
    """Turns the text of a grammar-constrained answer into chunks as it arrives:
    plain text as content, a tool call as tool-call chunks (name and id once the name
    is complete, then the arguments' JSON text piece by piece)."""

    _HEAD = '{"name": "'
    _ARGS = '", "arguments": '

    def __init__(self, *, forced: bool) -> None:
        self.mode = "call" if forced else "start"
        self.head = ""  # the call's text before its arguments
        self.call_id: str | None = None
        self.depth = 0
        self.in_string = self.escaped = False

    def feed(self, text: str) -> Iterator[AIMessageChunk]:
        if self.mode == "start":
            self.mode = "call" if text.startswith("{") else "text"
        if self.mode == "text":
            yield AIMessageChunk(content=text)
        elif self.mode == "call":
            self.head += text
            end = self.head.find(self._ARGS, len(self._HEAD))
            if end < 0:
                return
            self.call_id = f"call_{uuid.uuid4().hex[:24]}"
            name = json.loads(self.head[len(self._HEAD) - 1 : end + 1])
            chunk = tool_call_chunk(name=name, args="", id=self.call_id, index=0)
            yield AIMessageChunk(content="", tool_call_chunks=[chunk])
            self.mode = "args"
            if rest := self.head[end + len(self._ARGS) :]:
                yield from self.feed(rest)
        elif self.mode == "args" and (args := self._scan(text)):
            yield AIMessageChunk(content="", tool_call_chunks=[tool_call_chunk(args=args, index=0)])

    def _scan(self, text: str) -> str:
        """The part of ``text`` up to the end of the arguments object."""
        for position, char in enumerate(text):
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif char == "\\":
                    self.escaped = True
                elif char == '"':
                    self.in_string = False
            elif char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 0:
                    self.mode = "done"
                    return text[: position + 1]
        return text
