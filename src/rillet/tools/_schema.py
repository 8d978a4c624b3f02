"""JSON schemas for tools, from function signatures and docstrings."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

from rillet.tools._injected import injected_markers

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


def function_schema(
    fn: Callable[..., Any], *, include_injected: bool = False
) -> tuple[str, str, dict[str, Any]]:
    """(name, description, JSON schema of the parameters) of a function.

    The description is the docstring before its ``Args:`` section; parameter
    descriptions come from ``Args:`` entries or ``Annotated[T, "description"]``.
    Parameters marked ``InjectedToolArg`` are left out unless ``include_injected``
    (the model never sees them; ``Tool.args_schema`` shows them, as LangChain's does).
    """
    hidden = set() if include_injected else set(injected_markers(fn))
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
        if param.name in INJECTED or param.name in hidden or param.kind in (
            param.VAR_POSITIONAL, param.VAR_KEYWORD
        ):
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
        # As pydantic (and so LangChain) shows it: Optional[int] is
        # {"anyOf": [{"type": "integer"}, {"type": "null"}]}, so a model may send null.
        return {"anyOf": [json_schema(a) for a in get_args(annotation)]}
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


# ------------------------------------------------------------ checking arguments

ArgumentError = dict[str, Any]
"""One problem with a tool's arguments: ``{"loc": ("limit",), "msg": "..."}``, worded
as pydantic words its errors (so LangGraph's ``ToolNode`` messages come out the same)."""

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}

_TYPE_MESSAGES = {
    "string": "Input should be a valid string",
    "integer": "Input should be a valid integer",
    "number": "Input should be a valid number",
    "boolean": "Input should be a valid boolean",
    "array": "Input should be a valid list",
    "object": "Input should be a valid dictionary",
    "null": "Input should be None",
}


def argument_errors(
    schema: dict[str, Any], args: dict[str, Any], *, extra: bool = False
) -> list[ArgumentError]:
    """What is wrong with ``args`` for a tool with this parameters ``schema``: missing
    required arguments, values of the wrong JSON type or not in an enum, and (unless
    ``extra``, for a function taking ``**kwargs``) unknown arguments. In pydantic's
    order: the parameters in order, then the unknown arguments."""
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    errors: list[ArgumentError] = []
    for name, prop in props.items():
        if name in args:
            errors.extend(_value_errors(prop, args[name], (name,)))
        elif name in required:
            errors.append({"loc": (name,), "msg": "Field required"})
    if not extra:
        errors.extend(
            {"loc": (name,), "msg": "Extra inputs are not permitted"}
            for name in args if name not in props
        )
    return errors


def _value_errors(schema: dict[str, Any], value: Any, loc: tuple[Any, ...]) -> list[ArgumentError]:
    options = schema.get("anyOf")
    if isinstance(options, list) and options:
        found = [_value_errors(option, value, loc) for option in options]
        if any(not problems for problems in found):
            return []
        real = [o for o, problems in zip(options, found, strict=True) if o.get("type") != "null"]
        if len(real) == 1:  # Optional[T]: only T's complaint is worth showing
            return _value_errors(real[0], value, loc)
        return [problem for problems in found for problem in problems]
    expected = schema.get("type")
    if isinstance(expected, str) and expected in _JSON_TYPES:
        is_bool = isinstance(value, bool)
        if not isinstance(value, _JSON_TYPES[expected]) or (
            is_bool and expected in ("integer", "number")
        ):
            return [{"loc": loc, "msg": _TYPE_MESSAGES[expected]}]
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return [{"loc": loc, "msg": f"Input should be {_either(enum)}"}]
    items = schema.get("items")
    if expected == "array" and isinstance(items, dict) and items:
        return [
            problem
            for index, item in enumerate(value)
            for problem in _value_errors(items, item, (*loc, index))
        ]
    return []


def _either(values: list[Any]) -> str:
    shown = [repr(v) for v in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
