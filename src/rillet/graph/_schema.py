"""State schemas (TypedDict, dataclass, pydantic model) -> channels and node input."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, get_args, get_origin, get_type_hints

from rillet._constants import ROOT
from rillet._objects import object_updates
from rillet.channels import MISSING, Channel, LastValue, Reducer
from rillet.errors import EmptyInputError, GraphBuildError, InvalidUpdateError, UsageError
from rillet.managed import ManagedValue, managed_of, unwrap_required


class StateSchema:
    """What the builder and the runtime need to know about a state class."""

    __slots__ = ("channels", "cls", "defaults", "kind", "managed", "name", "to_node_input")

    def __init__(self, cls: type[Any], what: str = "StateGraph(state_schema)") -> None:
        self.cls = cls
        self.name = getattr(cls, "__name__", repr(cls))
        self.kind = _kind_of(cls, what)
        hints = _hints(cls, self.kind)
        #: Keys the runtime fills in (``rillet.managed``): no channel, never written.
        self.managed: dict[str, type[ManagedValue]] = {}
        for key, hint in hints.items():
            manager = managed_of(hint)
            if manager is not None:
                self.managed[key] = manager
        self.channels: dict[str, Channel] = {
            k: _channel(k, t) for k, t in hints.items() if k not in self.managed
        }
        self.defaults = _defaults(cls, self.kind)
        self.to_node_input: Callable[[Mapping[str, Any]], Any] = (
            dict if self.kind == "typeddict" else self._instantiate
        )

    def _instantiate(self, values: Mapping[str, Any]) -> Any:
        return self.cls(**values)

    def input_updates(self, value: Any) -> dict[str, Any]:
        """The run input as an update: a dict (or an instance of the state class)."""
        if isinstance(value, Mapping):
            updates = dict(value)
        elif self.kind != "typeddict" and isinstance(value, self.cls):
            updates = object_updates(value, all_fields=True)
        else:
            raise InvalidUpdateError(
                f"The graph input must be a dict of state keys ({', '.join(self.channels)}), "
                f"got {type(value).__name__}: {value!r}"
            )
        return updates

    def as_object(self, values: Any) -> Any:
        """``values`` (a dict) built as the schema's class, from the keys it declares
        (``version="v2"`` output of a pydantic or dataclass schema)."""
        if not isinstance(values, Mapping):
            return values
        return self.cls(**{k: values[k] for k in self.channels if k in values})

    def reader(self, exact: bool) -> Callable[[Mapping[str, Any]], Any]:
        """How a node whose input is this schema reads the graph's values: all of them
        when the graph has exactly this schema's keys (``exact``), else only its own."""
        convert = self.to_node_input
        if exact:
            return convert
        keys = (*self.channels, *self.managed)

        def read(values: Mapping[str, Any]) -> Any:
            return convert({k: values[k] for k in keys if k in values})

        return read

    def update_items(self, update: Any) -> list[tuple[str, Any]] | None:
        """A node's return value (or a ``Command``'s ``update``) as writes: a dict, a
        list of ``(key, value)`` pairs or an instance of the state class; ``None``
        when it is none of those."""
        if update.__class__ is dict or isinstance(update, Mapping):
            return list(update.items())
        if isinstance(update, list | tuple) and all(
            isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in update
        ):
            return list(update)
        if self.kind != "typeddict" and isinstance(update, self.cls):
            return list(object_updates(update).items())
        return None

    def view(self, values: Mapping[str, Any], keys: Iterable[str]) -> Any:
        """What a run shows of its values (its output, ``values`` items, snapshots):
        a new dict of those of ``keys`` that have a value."""
        return {k: values[k] for k in keys if k in values}

    def with_interrupts(self, view: Any, interrupts: Any) -> Any:
        """The view of a paused run, with its pending interrupts."""
        return {**view, "__interrupt__": interrupts}


class RootSchema(StateSchema):
    """A state that is one value rather than keys: ``StateGraph(Annotated[list,
    add_messages])``, ``StateGraph(int)``. As in LangGraph it is kept in one channel,
    ``__root__`` (with the annotation's reducer, if any): nodes get the value and
    return an update of it (anything but ``None``), and a run shows the value itself.
    """

    __slots__ = ()

    def __init__(self, cls: Any, what: str = "StateGraph(state_schema)") -> None:
        self.cls = cls
        self.name = _type_name(cls)
        self.kind = "root"
        self.channels = {ROOT: _channel(ROOT, cls)}
        self.defaults = {}
        self.managed = {}
        self.to_node_input = _root_value

    def input_updates(self, value: Any) -> dict[str, Any]:
        if value is None:
            raise EmptyInputError(
                f"Received no input for __start__: the state {self.name} is one value; "
                f"pass it as the input"
            )
        return {ROOT: value}

    def reader(self, exact: bool) -> Callable[[Mapping[str, Any]], Any]:
        return _root_value

    def update_items(self, update: Any) -> list[tuple[str, Any]] | None:
        return [(ROOT, update)]

    def view(self, values: Mapping[str, Any], keys: Iterable[str]) -> Any:
        return values.get(ROOT)

    def with_interrupts(self, view: Any, interrupts: Any) -> Any:
        return {"__interrupt__": interrupts}


def _type_name(tp: Any) -> str:
    """``Annotated[list, add]`` for error messages (``repr`` names the module, and
    shows a reducer as ``<built-in function add>``)."""
    if get_origin(tp) is typing.Annotated:
        base, *extras = get_args(tp)
        names = [getattr(x, "__name__", None) or repr(x) for x in extras]
        return f"Annotated[{_type_name(base)}, {', '.join(names)}]"
    if isinstance(tp, type) and get_origin(tp) is None:
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _root_value(values: Mapping[str, Any]) -> Any:
    return values.get(ROOT)


def schema_of(cls: Any, what: str = "StateGraph(state_schema)") -> StateSchema:
    """The schema of ``cls``: keys for a TypedDict, dataclass or pydantic model, one
    value for any other type (``int``, ``list[str]``, ``Annotated[list, reducer]``).

    :raises UsageError: for something that is not a type.
    :raises GraphBuildError: for a class with annotations of another kind.
    """
    base = get_args(cls)[0] if get_origin(cls) is typing.Annotated else cls
    base = get_origin(base) or base
    # LangGraph's test: a class that can have annotations (any class defined in
    # Python) has keys; a builtin (int, list, dict) or a typing form is one value.
    if isinstance(base, type) and not hasattr(base, "__annotations__"):
        return RootSchema(cls, what)
    if not isinstance(base, type) and get_origin(cls) is not None:
        return RootSchema(cls, what)  # Union, Literal...
    return StateSchema(cls, what)


class GraphKeys:
    """Every key of one graph: the state's, then those of the input, output and node
    input schemas registered with it (LangGraph's "private state"), in that order."""

    __slots__ = ("channels", "managed", "schemas")

    def __init__(self, state: StateSchema) -> None:
        self.schemas: dict[Any, StateSchema] = {state.cls: state}
        self.channels: dict[str, Channel] = dict(state.channels)
        self.managed: dict[str, type[ManagedValue]] = dict(state.managed)

    def add(self, cls: Any, what: str) -> StateSchema:
        """Register ``cls`` (once) and its keys; return its schema.

        :raises GraphBuildError: if a key it shares with an earlier schema has another
            reducer there (a plain key may repeat a reducer key: the reducer applies).
        """
        schema = self.schemas.get(cls)
        if schema is not None:
            return schema
        schema = schema_of(cls, what)
        state = next(iter(self.schemas.values()))
        self.managed.update(schema.managed)
        if (schema.kind == "root") != (state.kind == "root"):
            one, keyed = (state, schema) if state.kind == "root" else (schema, state)
            raise GraphBuildError(
                f"{what}: {one.name} is one value (LangGraph's root channel) and "
                f"{keyed.name} has keys; a graph's schemas are either all one value or "
                f"all classes with keys"
            )
        for key, channel in schema.channels.items():
            known = self.channels.get(key)
            if known is None:
                self.channels[key] = channel
            elif isinstance(channel, Reducer) and not (
                isinstance(known, Reducer) and known.reducer == channel.reducer
            ):
                raise GraphBuildError(
                    f"State key {key!r} of {schema.name} has another reducer than in an "
                    f"earlier schema of the graph: give it the same annotation in both"
                )
        self.schemas[cls] = schema
        return schema


def _kind_of(cls: Any, what: str) -> str:
    if not isinstance(cls, type):
        raise UsageError(
            f"{what}: expected a TypedDict, dataclass or pydantic model class, or the "
            f"type of a state that is one value (e.g. Annotated[list, operator.add]), "
            f"got {cls!r}"
        )
    if typing.is_typeddict(cls):
        return "typeddict"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    if hasattr(cls, "model_fields") and hasattr(cls, "model_validate"):
        return "pydantic"
    if issubclass(cls, dict) and getattr(cls, "__annotations__", None):
        return "typeddict"
    raise GraphBuildError(
        f"StateGraph({cls.__name__}): the state must be a TypedDict, a dataclass or a "
        f"pydantic model, with one annotated attribute per state key"
    )


def _hints(cls: type[Any], kind: str) -> dict[str, Any]:
    try:
        hints = get_type_hints(cls, include_extras=True)
    except Exception as exc:
        raise GraphBuildError(
            f"Cannot read the annotations of state {cls.__name__}: {exc}"
        ) from exc
    if kind == "pydantic":
        hints = {k: hints.get(k, f.annotation) for k, f in cls.model_fields.items()}
    elif kind == "dataclass":
        hints = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    hints = {k: v for k, v in hints.items() if get_origin(v) is not typing.ClassVar}
    if not hints:
        raise GraphBuildError(f"State {cls.__name__} has no keys: annotate at least one")
    return hints


def _defaults(cls: type[Any], kind: str) -> dict[str, Any]:
    if kind == "dataclass":
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
        return out
    if kind == "pydantic":
        out = {}
        for name, field in cls.model_fields.items():
            if not field.is_required():
                out[name] = field.get_default(call_default_factory=True)
        return out
    return {}


def _channel(key: str, annotation: Any) -> Channel:
    annotation = unwrap_required(annotation)
    if get_origin(annotation) is typing.Annotated:
        base, *extras = get_args(annotation)
        for extra in reversed(extras):
            if callable(extra) and not isinstance(extra, type):
                return Reducer(key, extra, _empty_factory(base))
    return LastValue(key)


def _empty_factory(annotation: Any) -> Any:
    origin = get_origin(annotation) or annotation
    if origin in (list, dict, set, tuple, str, int, float, frozenset):
        return origin
    if isinstance(origin, type) and origin.__module__ == "collections.abc":
        return MISSING
    return MISSING
