"""``Tool`` and the ``@tool`` decorator: functions a model can call."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Callable
from typing import Any, overload

from rillet.errors import ToolArgumentError
from rillet.runtime._context import current_task
from rillet.stream._events import RunEvent
from rillet.tools._schema import INJECTED, function_schema


class Tool:
    """A function a model can call, with the JSON schema of its arguments.

    ``invoke(args)`` runs it with a dict of arguments and returns what it returns;
    ``invoke(tool_call)`` with a model's tool call (``{"name", "args", "id",
    "type": "tool_call"}``) returns a ``ToolMessage``. Inside a graph run the tool
    streams like a node: ``get_stream_writer()`` and model calls inside it stream with
    the calling node's metadata (``langgraph_node == "tools"`` in a ReAct agent).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        return_direct: bool = False,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"Tool(fn): fn must be a function, got {fn!r}")
        fn_name, doc, schema = function_schema(fn)
        self.fn = fn
        self.name = name or fn_name
        if description is None and not inspect.getdoc(fn):
            raise ValueError(
                f"Tool {self.name!r} needs a description: give the function a docstring or "
                f"pass description=... (the model reads it to decide when to call the tool)"
            )
        self.description = description or doc
        self.args_schema: dict[str, Any] = schema
        self.return_direct = return_direct
        self.is_async = inspect.iscoroutinefunction(fn)
        params = inspect.signature(fn).parameters
        self._injected = {p for p in params if p in INJECTED}
        self._models = _pydantic_params(fn)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly."""
        return self.fn(*args, **kwargs)

    @property
    def args(self) -> dict[str, Any]:
        """The JSON schema of each argument."""
        props: dict[str, Any] = self.args_schema.get("properties", {})
        return props

    def to_openai_tool(self) -> dict[str, Any]:
        """The tool in OpenAI's ``tools=[...]`` format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.args_schema,
            },
        }

    # ------------------------------------------------------------- invoking

    def invoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        """Run the tool: see the class docstring for what ``input`` may be."""
        call_id, args = self._parse_input(input)
        kwargs = self._arguments(args, config)
        run_id = self._start(args)
        try:
            if self.is_async:
                from rillet.runtime._sync import run_coroutine_sync

                result = run_coroutine_sync(self.fn(**kwargs))
            else:
                result = self.fn(**kwargs)
        except Exception as exc:
            self._error(run_id, exc)
            raise
        return self._finish(run_id, args, result, call_id)

    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None) -> Any:
        """Async :meth:`invoke`; a sync tool runs on a worker thread."""
        call_id, args = self._parse_input(input)
        kwargs = self._arguments(args, config)
        run_id = self._start(args)
        try:
            if self.is_async:
                result = await self.fn(**kwargs)
            else:
                from rillet.runtime._async import run_in_thread

                result = await run_in_thread(lambda: self.fn(**kwargs))
        except asyncio.CancelledError:
            raise
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
            raise ToolArgumentError(
                f"Tool {self.name!r}: the arguments must be a JSON object, got {args!r}"
            )
        return call_id, args

    def _arguments(self, args: dict[str, Any], config: dict[str, Any] | None) -> dict[str, Any]:
        check_arguments(self.name, self.args_schema, args)
        kwargs = dict(args)
        for name, model in self._models.items():
            if name in kwargs and isinstance(kwargs[name], dict):
                kwargs[name] = model.model_validate(kwargs[name])
        if self._injected:
            task = current_task.get()
            if "config" in self._injected:
                kwargs["config"] = config or (task.config if task is not None else {})
            if "writer" in self._injected:
                kwargs["writer"] = task.writer if task is not None else (lambda _: None)
        return kwargs

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
        if call_id is None:
            return result
        from rillet.messages import ToolMessage

        return ToolMessage(content=_as_content(result), tool_call_id=call_id, name=self.name)

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


def _as_content(result: Any) -> str:
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)


def _pydantic_params(fn: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return {}
    return {
        name: hint for name, hint in hints.items()
        if isinstance(hint, type) and hasattr(hint, "model_validate")
    }


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def check_arguments(tool: str, schema: dict[str, Any], args: dict[str, Any]) -> None:
    """Check ``args`` against a tool's schema: required, unknown and basic types.

    :raises ToolArgumentError: naming the tool and the argument at fault.
    """
    props: dict[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in args]
    if missing:
        raise ToolArgumentError(
            f"Tool {tool!r} is missing required argument(s) {', '.join(map(repr, missing))}; "
            f"it takes {', '.join(props) or 'no arguments'}"
        )
    for name, value in args.items():
        if name not in props:
            raise ToolArgumentError(
                f"Tool {tool!r} got unknown argument {name!r}; it takes "
                f"{', '.join(map(repr, props)) or 'no arguments'}"
            )
        expected = props[name].get("type")
        kinds = _JSON_TYPES.get(expected) if isinstance(expected, str) else None
        bad_bool = isinstance(value, bool) and expected in ("integer", "number")
        if kinds is not None and (not isinstance(value, kinds) or bad_bool):
            raise ToolArgumentError(
                f"Tool {tool!r}: argument {name!r} must be {expected}, got "
                f"{type(value).__name__} {value!r}"
            )
        enum = props[name].get("enum")
        if enum is not None and value not in enum:
            raise ToolArgumentError(
                f"Tool {tool!r}: argument {name!r} must be one of {enum!r}, got {value!r}"
            )


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    name: str | None = None, /, *, description: str | None = None, return_direct: bool = False
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn_or_name: Callable[..., Any] | str | None = None,
    /,
    *,
    description: str | None = None,
    return_direct: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a sync or async function into a :class:`Tool`.

    Use as ``@tool``, ``@tool("name")`` or ``@tool(description="...")``. The
    function's docstring describes the tool (its ``Args:`` section describes the
    arguments); type hints, defaults and ``Annotated[T, "description"]`` give the
    JSON schema. Parameters named ``config`` or ``writer`` are injected, never shown
    to the model.
    """
    if callable(fn_or_name):
        return Tool(fn_or_name, description=description, return_direct=return_direct)

    def decorate(fn: Callable[..., Any]) -> Tool:
        return Tool(fn, name=fn_or_name, description=description, return_direct=return_direct)

    return decorate
