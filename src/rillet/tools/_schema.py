"""JSON schemas for tools, from function signatures and docstrings."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

#: Parameters a tool function may take that are injected, never shown to the model.
INJECTED = frozenset({"config", "writer", "callbacks", "run_manager"})


def to_openai_tool(tool: Any) -> dict[str, Any]:
    """An OpenAI ``{"type": "function", "function": {...}}`` tool definition for a
    rillet ``Tool``, a plain function, a pydantic model class or a tool dict."""
    if isinstance(tool, dict):
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            return tool
        if isinstance(tool.get("name"), str):
            return {"type": "function", "function": tool}
        raise TypeError(
            f"A tool dict must be OpenAI's {{'type': 'function', 'function': {{...}}}} or a "
            f"function schema with a 'name', got {tool!r}"
        )
    convert = getattr(tool, "to_openai_tool", None)
    if callable(convert):
        result: dict[str, Any] = convert()
        return result
    if isinstance(tool, type) and hasattr(tool, "model_json_schema"):
        schema = dict(tool.model_json_schema())
        description = schema.pop("description", None) or f"Fill in a {tool.__name__}."
        schema.pop("title", None)
        return _function(tool.__name__, description, schema)
    if callable(tool):
        name, description, schema = function_schema(tool)
        return _function(name, description, schema)
    raise TypeError(
        f"Cannot turn {tool!r} into a tool: pass a function, a rillet Tool, a pydantic "
        f"model class or an OpenAI tool dict"
    )


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def function_schema(fn: Callable[..., Any]) -> tuple[str, str, dict[str, Any]]:
    """(name, description, JSON schema of the parameters) of a function.

    The description is the docstring before its ``Args:`` section; parameter
    descriptions come from ``Args:`` entries or ``Annotated[T, "description"]``.
    """
    name = getattr(fn, "__name__", None) or type(fn).__name__
    doc = inspect.getdoc(fn) or ""
    description, arg_docs = parse_docstring(doc)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(fn).parameters.values():
        if param.name in INJECTED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, Any)
        prop = json_schema(annotation)
        if param.name in arg_docs and "description" not in prop:
            prop["description"] = arg_docs[param.name]
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif _jsonable(param.default):
            prop["default"] = param.default
        properties[param.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return name, description or f"Call {name}.", schema


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and its ``Args:`` entries."""
    parts = re.split(r"^\s*(?:Args|Arguments|Parameters):\s*$", doc, maxsplit=1, flags=re.M)
    summary = parts[0].strip()
    args: dict[str, str] = {}
    if len(parts) == 2:
        current: str | None = None
        for line in parts[1].splitlines():
            if re.match(r"^\s*(Returns|Raises|Yields|Examples?):\s*$", line):
                break
            match = re.match(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", line)
            if match:
                current = match.group(1).lstrip("*")
                args[current] = match.group(2).strip()
            elif current and line.strip():
                args[current] = f"{args[current]} {line.strip()}".strip()
    return summary, args


def json_schema(annotation: Any) -> dict[str, Any]:
    """The JSON schema of a Python type annotation (the common cases)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        base, *extras = get_args(annotation)
        schema = json_schema(base)
        for extra in extras:
            if isinstance(extra, str):
                schema["description"] = extra
        return schema
    if annotation is Any or annotation is inspect.Parameter.empty:
        return {}
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation is type(None):
        return {"type": "null"}
    if origin is typing.Literal:
        values = list(get_args(annotation))
        schema = {"enum": values}
        kinds = {type(v) for v in values}
        if kinds == {str}:
            schema["type"] = "string"
        return schema
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return json_schema(options[0])
        return {"anyOf": [json_schema(a) for a in options]}
    if annotation in (list, tuple, set) or origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        schema = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = json_schema(args[0])
        return schema
    if annotation is dict or origin is dict:
        return {"type": "object"}
    if isinstance(annotation, type) and hasattr(annotation, "model_json_schema"):
        schema = dict(annotation.model_json_schema())
        schema.pop("title", None)
        return schema
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation, include_extras=True)
        return {
            "type": "object",
            "properties": {k: json_schema(v) for k, v in hints.items()},
            "required": sorted(getattr(annotation, "__required_keys__", hints)),
        }
    return {}


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
