"""``Tool`` and the ``@tool`` decorator: functions a model can call."""

from __future__ import annotations

import inspect
import json
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, Literal, overload

from rillet._serde import dumps, to_jsonable
from rillet.errors import ToolArgumentError, UsageError
from rillet.messages import ToolMessage
from rillet.runtime._context import current_task
from rillet.runtime._workers import run_coroutine, to_thread
from rillet.stream._events import RunEvent
from rillet.tools._injected import (
    TOOL_CALL_ID_REQUIRED,
    InjectedToolCallId,
    injected_markers,
    is_injection,
)
from rillet.tools._schema import INJECTED, ArgumentError, argument_errors, function_schema
from rillet.types import Command

TOOL_INVOCATION_ERROR_TEMPLATE = (
    "Error invoking tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)
"""LangGraph's wording for a tool called with arguments that do not fit its schema."""

#: ``ToolMessage`` content blocks a tool may return as they are (as in LangChain).
TOOL_MESSAGE_BLOCK_TYPES = (
    "text", "image_url", "image", "json", "search_result", "custom_tool_call_output",
    "document", "file",
)


class ToolInvocationError(ToolArgumentError):
    """A tool was called with arguments that do not fit its schema (LangGraph's
    ``ToolInvocationError``). ``ToolNode`` hands ``message`` to the model by default.

    :ivar errors: each problem, ``{"loc": ("limit",), "msg": "Input should be ..."}``.
    """

    def __init__(
        self, tool_name: str, tool_kwargs: Any, errors: list[ArgumentError]
    ) -> None:
        lines = "\n".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in errors
        )
        self.message = TOOL_INVOCATION_ERROR_TEMPLATE.format(
            tool_name=tool_name, tool_kwargs=tool_kwargs, error=lines
        )
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.errors = errors
        super().__init__(self.message)


class Tool:
    """A function a model can call, with the JSON schema of its arguments.

    ``invoke(args)`` runs it with a dict of arguments and returns what it returns;
    ``invoke(tool_call)`` with a model's tool call (``{"name", "args", "id",
    "type": "tool_call"}``) returns a ``ToolMessage``. Inside a graph run the tool
    streams like a node: ``get_stream_writer()`` and model calls inside it stream with
    the calling node's metadata (``langgraph_node == "tools"`` in a ReAct agent).

    As in LangChain, arguments the schema does not name are dropped (unless the
    function takes ``**kwargs``), and a tool that returns a ``ToolMessage`` or a
    ``Command`` returns it as it is. ``args_schema`` is the JSON schema of every
    argument, ``InjectedToolArg`` ones included; ``tool_call_schema`` (and ``args``)
    what the model sees.

    :raises UsageError: if ``fn`` is not callable, or takes ``*args`` (a tool call
        passes named arguments only).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        return_direct: bool = False,
        response_format: Literal["content", "content_and_artifact"] = "content",
    ) -> None:
        if response_format not in ("content", "content_and_artifact"):
            raise UsageError(
                f"Tool(response_format=...): 'content' or 'content_and_artifact', "
                f"got {response_format!r}"
            )
        self.response_format = response_format
        if not callable(fn):
            raise UsageError(f"Tool(fn): fn must be a function, got {fn!r}")
        fn_name, doc, schema = function_schema(fn, include_injected=True)
        self.fn = fn
        self.name = name or fn_name
        if description is None and not inspect.getdoc(fn):
            raise ValueError(
                f"Tool {self.name!r} needs a description: give the function a docstring or "
                f"pass description=... (the model reads it to decide when to call the tool)"
            )
        self.description = description or doc
        self.args_schema: dict[str, Any] = schema
        self.tool_call_schema: dict[str, Any] = function_schema(fn)[2]
        markers = injected_markers(fn)
        self._call_id_params = [
            n for n, m in markers.items() if is_injection(m, InjectedToolCallId)
        ]
        # Injected values are whatever the caller holds (a store, a state object):
        # only their presence is checked, never their JSON type.
        self._check_schema = {
            **schema,
            "properties": {
                k: {} if k in markers else v for k, v in schema["properties"].items()
            },
        }
        self.return_direct = return_direct
        self.is_async = inspect.iscoroutinefunction(fn)
        params = _parameters(fn)
        for param in params:
            if param.kind is param.VAR_POSITIONAL:
                raise UsageError(
                    f"Tool {self.name!r} takes *{param.name}, which a tool call cannot "
                    f"fill (it passes named arguments); take a list instead, such as "
                    f"`{param.name}: list[str]`"
                )
        self._injected = {p.name for p in params if p.name in INJECTED}
        #: Positional-only parameters, in order, with their defaults.
        self._positional = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_ONLY]
        #: Whether the function takes ``**kwargs``, so any extra argument is welcome.
        self._extra = any(p.kind is p.VAR_KEYWORD for p in params)
        self._models = _pydantic_params(fn)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly."""
        return self.fn(*args, **kwargs)

    @property
    def args(self) -> dict[str, Any]:
        """The JSON schema of each argument the model fills in, as LangChain shows it
        (pydantic's way: each with a ``title``, keys in alphabetical order)."""
        props: dict[str, Any] = self.tool_call_schema.get("properties", {})
        return {
            name: dict(sorted({"title": name.title().replace("_", " "), **prop}.items()))
            for name, prop in props.items()
        }

    def to_openai_tool(self) -> dict[str, Any]:
        """The tool in OpenAI's ``tools=[...]`` format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.tool_call_schema,
            },
        }

    # ------------------------------------------------------------- invoking

    def invoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        """Run the tool: see the class docstring for what ``input`` may be.

        :raises ToolInvocationError: if the arguments do not fit the schema (a
            ``ToolArgumentError``).
        """
        call_id, args = self._parse_input(input)
        positional, kwargs = self._arguments(args, config, call_id)
        run_id = self._start(args)
        try:
            if self.is_async:
                result = run_coroutine(self.fn(*positional, **kwargs))
            else:
                result = self.fn(*positional, **kwargs)
        except Exception as exc:
            self._error(run_id, exc)
            raise
        return self._finish(run_id, args, result, call_id)

    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        """Async :meth:`invoke`; a sync tool runs on a worker thread."""
        call_id, args = self._parse_input(input)
        positional, kwargs = self._arguments(args, config, call_id)
        run_id = self._start(args)
        try:
            if self.is_async:
                result = await self.fn(*positional, **kwargs)
            else:
                result = await to_thread(lambda: self.fn(*positional, **kwargs))
        except Exception as exc:
            self._error(run_id, exc)
            raise
        return self._finish(run_id, args, result, call_id)

    def _parse_input(self, input: Any) -> tuple[str | None, dict[str, Any]]:
        if isinstance(input, dict) and input.get("type") == "tool_call" and "args" in input:
            args = input["args"]
            call_id = input.get("id")
        elif isinstance(input, dict):
            args, call_id = input, None
        elif isinstance(input, str) and len(self.args) == 1:
            args, call_id = {next(iter(self.args)): input}, None
        else:
            raise ToolArgumentError(
                f"Tool {self.name!r} takes a dict of arguments or a tool call, got {input!r}"
            )
        if not isinstance(args, dict):
            raise ToolInvocationError(
                self.name, args, [{"loc": (), "msg": "Input should be a valid dictionary"}]
            )
        return call_id, args

    def _arguments(
        self, args: dict[str, Any], config: dict[str, Any] | None, call_id: str | None
    ) -> tuple[list[Any], dict[str, Any]]:
        kwargs = dict(args)
        if self._call_id_params:
            if call_id is None:
                raise ValueError(TOOL_CALL_ID_REQUIRED)
            kwargs.update(dict.fromkeys(self._call_id_params, call_id))
        errors = argument_errors(self._check_schema, kwargs, extra=True)
        if not self._extra:  # as in LangChain, arguments it does not take are dropped
            known = self.args_schema["properties"]
            kwargs = {k: v for k, v in kwargs.items() if k in known}
        for name, model in self._models.items():
            if isinstance(kwargs.get(name), dict):
                try:
                    kwargs[name] = model.model_validate(kwargs[name])
                except ValueError as exc:  # pydantic's ValidationError
                    errors.extend(_pydantic_errors(exc, name))
        if errors:
            raise ToolInvocationError(self.name, args, errors)
        if self._injected:
            task = current_task.get()
            if "config" in self._injected:
                kwargs["config"] = config or (task.config if task is not None else {})
            if "writer" in self._injected:
                kwargs["writer"] = task.writer if task is not None else (lambda _: None)
        positional = self._take_positional(kwargs)
        return positional, kwargs

    def _take_positional(self, kwargs: dict[str, Any]) -> list[Any]:
        """Pop the positional-only arguments out of ``kwargs``, in order (a missing
        one before a given one takes its default)."""
        if not self._positional:
            return []
        given = [i for i, (name, _) in enumerate(self._positional) if name in kwargs]
        if not given:
            return []
        return [
            kwargs.pop(name) if name in kwargs else default
            for name, default in self._positional[: given[-1] + 1]
        ]

    # -------------------------------------------------------------- events

    def _start(self, args: dict[str, Any]) -> str | None:
        task = current_task.get()
        if task is None or not task.run.want_events:
            return None
        run_id = str(uuid.uuid4())
        task.run.put(
            RunEvent(task.run.ns, "on_tool_start", self.name, run_id,
                     (*task.run.parent_ids, task.id), list(task.event_tags), task.metadata,
                     {"input": args})
        )
        return run_id

    def _finish(self, run_id: str | None, args: dict[str, Any], result: Any,
                call_id: str | None) -> Any:
        if run_id is not None:
            task = current_task.get()
            if task is not None:
                task.run.put(
                    RunEvent(task.run.ns, "on_tool_end", self.name, run_id,
                             (*task.run.parent_ids, task.id), list(task.event_tags),
                             task.metadata, {"output": result, "input": args})
                )
        if isinstance(result, ToolMessage | Command):
            return result
        artifact = None
        if self.response_format == "content_and_artifact":
            if not (isinstance(result, tuple) and len(result) == 2):
                raise ValueError(
                    f"Since response_format='content_and_artifact' a two-tuple of the "
                    f"message content and raw tool output is expected. Instead generated "
                    f"response of type: {type(result)}."
                )
            result, artifact = result
        if call_id is None:
            return result
        return ToolMessage(
            content=tool_content(result), tool_call_id=call_id, name=self.name, artifact=artifact
        )

    def _error(self, run_id: str | None, exc: Exception) -> None:
        if run_id is None:
            return
        task = current_task.get()
        if task is not None:
            task.run.put(
                RunEvent(task.run.ns, "on_tool_error", self.name, run_id,
                         (*task.run.parent_ids, task.id), list(task.event_tags),
                         task.metadata, {"error": exc})
            )


def tool_content(result: Any) -> str | list[Any]:
    """A tool's result as ``ToolMessage`` content, as LangGraph's ``ToolNode`` makes it:
    a str as it is, a list of content blocks as it is, JSON for anything else.

    JSON that ``json.dumps`` can write comes out exactly as it writes it; for other
    values (sets, bytes, NaN, dataclasses, datetimes) :mod:`rillet._serde` writes valid
    JSON, and an object of no known kind becomes its ``str()``.
    """
    if isinstance(result, str) or (
        isinstance(result, list)
        and all(isinstance(b, dict) and b.get("type") in TOOL_MESSAGE_BLOCK_TYPES for b in result)
    ):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        pass
    data = to_jsonable(result, unknown=str)
    return data if isinstance(data, str) else dumps(data, separators=(", ", ": "))


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature
        return []


def _pydantic_params(fn: Callable[..., Any]) -> dict[str, Any]:
    """The parameters typed as a pydantic model (or an optional one)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return {}
    models: dict[str, Any] = {}
    for name, hint in hints.items():
        options = typing.get_args(hint) if _is_union(hint) else (hint,)
        found = [o for o in options if isinstance(o, type) and hasattr(o, "model_validate")]
        if len(found) == 1:
            models[name] = found[0]
    return models


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _pydantic_errors(exc: ValueError, name: str) -> list[ArgumentError]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [{"loc": (name,), "msg": str(exc)}]
    return [{"loc": (name, *e.get("loc", ())), "msg": e.get("msg", "")} for e in errors()]


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    name: str | None = None,
    /,
    *,
    description: str | None = None,
    return_direct: bool = False,
    response_format: Literal["content", "content_and_artifact"] = "content",
    parse_docstring: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn_or_name: Callable[..., Any] | str | None = None,
    /,
    *,
    description: str | None = None,
    return_direct: bool = False,
    response_format: Literal["content", "content_and_artifact"] = "content",
    parse_docstring: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a sync or async function into a :class:`Tool`.

    Use as ``@tool``, ``@tool("name")`` or ``@tool(description="...")``. The
    function's docstring describes the tool (its ``Args:`` section describes the
    arguments); type hints, defaults and ``Annotated[T, "description"]`` give the
    JSON schema. Parameters named ``config`` or ``writer`` are injected, never shown
    to the model, as are ``Annotated[T, InjectedToolArg]`` ones (the caller passes
    them) and an ``Annotated[str, InjectedToolCallId]`` one (the id of the tool call);
    ``**kwargs`` takes any extra argument the model sends, and without it extra
    arguments are dropped.

    ``response_format="content_and_artifact"``: the function returns ``(content,
    artifact)``; the ``ToolMessage`` carries both, a plain ``invoke`` returns the
    content. ``parse_docstring`` is accepted for LangChain compatibility: rillet always
    reads the ``Args:`` section (LangChain only with ``parse_docstring=True``).
    """
    del parse_docstring  # always on in rillet
    if callable(fn_or_name):
        return Tool(fn_or_name, description=description, return_direct=return_direct,
                    response_format=response_format)

    def decorate(fn: Callable[..., Any]) -> Tool:
        return Tool(fn, name=fn_or_name, description=description, return_direct=return_direct,
                    response_format=response_format)

    return decorate
