"""The checkpoint serializer: a graph's state as compact JSON bytes, and back.

:class:`Serializer` restores the state's own types as themselves, yet is safe by
default: stored data only ever *names* a class, and a name is looked up in the
serializer's registry, never imported. A tampered database can make :meth:`loads`
fail, or give back plain data, but cannot run code.

The format is UTF-8 JSON. Plain JSON data (strings, finite floats, ints, booleans,
``None``, lists, dicts with string keys) is written as itself, and any other value as
a one-key object ``{"!": [tag, ...]}``:

- ``["t", items]`` tuple, ``["s", items]`` set, ``["fs", items]`` frozenset,
  ``["dq", items, maxlen?]`` deque, ``["d", [[key, value], ...]]`` a dict whose keys
  are not all strings or that holds the key ``"!"``;
- ``["f", "nan"]`` a non-finite float, ``["i", hex]`` an int beyond 2**1024,
  ``["b", base64]`` bytes, ``["ba", base64]`` bytearray;
- ``["dt", iso, tzinfo?, fold?]`` datetime (the ISO text without offset, the tzinfo
  itself), ``["da", iso]`` date, ``["tm", iso, tzinfo?, fold?]`` time,
  ``["td", days, seconds, us]`` timedelta, ``["tz", seconds, us, name?]`` timezone,
  ``["zi", key]`` ZoneInfo, ``["u", text]`` UUID, ``["de", text]`` Decimal,
  ``["p", class, text]`` pathlib path, ``["re", pattern, flags]`` compiled regex;
- ``["e", name, value]`` an Enum member, ``["o", name, fields, fields_set?]`` a
  message, dataclass, NamedTuple, pydantic model or other registered class.

``name`` is ``"module:qualname"``, or the bare class name for rillet's own classes
(messages, ``Send``, ``Command``, ``Interrupt``, ``Overwrite``), so that moving a private module
never breaks old checkpoints. Values are encoded one by one, without shared
references, so a list encoded in pieces decodes to the same items as the whole.

Restoring runs none of the class's own code: a message, dataclass or registered class
gets its stored attributes set on a new instance, as ``copy`` and ``pickle`` do (so
``__post_init__`` and ``InitVar`` are not involved), and a field added to the class
since gets its default. A pydantic model is made with ``model_construct``: the stored
fields are those of a model that was valid when written, so validating them again
would cost time and could change them (a validator that is not idempotent, an alias),
and ``model_fields_set`` is kept. Safety comes from the registry, not from validation.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import pathlib
import re
import typing
import uuid
import warnings
import zoneinfo
from collections import deque
from collections.abc import Callable
from typing import Any

from rillet import types as _types
from rillet.errors import RilletError
from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["SerializationError", "SerializationWarning", "Serializer"]


class SerializationError(RilletError, TypeError):
    """A value cannot be stored (:meth:`Serializer.dumps`), or stored bytes cannot be
    read back (:meth:`Serializer.loads`: not UTF-8 JSON, an unknown tag, a bad shape)."""


class SerializationWarning(UserWarning):
    """Stored data names a class that is not registered, so it comes back as plain data."""


_TAG = "!"
_BIG = 1 << 1024  # ints beyond this are written in hex: decimal text has a length limit


def _json_encoder() -> Callable[[Any], str]:
    """JSON text of JSON data. The C encoder is called directly where there is one:
    ``JSONEncoder.encode`` makes a new one on every call."""
    encoder = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    chunks = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",",
                  False, False, False)
    join = "".join
    return lambda data: join(chunks(data, 0))


_JSON = _json_encoder()
_PARSE = json.JSONDecoder().decode
_isfinite = math.isfinite
_MISSING: Any = object()

_MESSAGES = (BaseMessage, BaseMessageChunk, SystemMessage, HumanMessage, AIMessage,
             AIMessageChunk, ToolMessage, RemoveMessage)
_MESSAGE_EMPTY: dict[str, type] = {
    "additional_kwargs": dict, "response_metadata": dict, "tool_calls": list,
    "invalid_tool_calls": list, "tool_call_chunks": list,
}
"""Message fields left out while empty; any other field is left out while ``None``."""

_NONE: Callable[[], None] = type(None)  # NoneType() is None, and faster than a lambda
_PATHS = {cls.__name__: cls for cls in (pathlib.PosixPath, pathlib.WindowsPath,
                                        pathlib.PurePosixPath, pathlib.PureWindowsPath)}


_Makers = tuple[tuple[str, Callable[[], Any] | None], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Codec:
    """How instances of one class are encoded and restored."""

    kind: str  # "enum", "nt", "pd", "fields" (messages, dataclasses), "obj" (registered)
    name: str
    fields: tuple[str, ...] = ()
    omit: dict[str, type | None] | None = None
    """Messages: fields left out while empty (``dict``, ``list``) or ``None``."""
    makers: _Makers = ()
    """Each field, and what makes its value when stored data lacks it (a field added
    since), or None for a required field."""
    put: Callable[[Any, str, Any], None] = object.__setattr__  # frozen dataclasses too


class Serializer:
    """Encodes values to bytes and back; see the module docstring for the format.

    Restores these as themselves: JSON data, tuples, sets, frozensets, deques, bytes,
    bytearrays, dicts with any keys, big ints, non-finite floats, datetimes (with
    their tzinfo), dates, times, timedeltas, timezones, ZoneInfos, UUIDs, Decimals,
    paths and compiled regexes; rillet messages, ``Send``, ``Command`` and
    ``Interrupt``; and the dataclasses, pydantic models, NamedTuples, Enums and
    other classes that are registered (:meth:`register`, :meth:`register_annotations`).
    """

    def __init__(self) -> None:
        self._classes: dict[str, type] = {}  # stored name -> class
        self._codecs: dict[type, _Codec] = {}
        self._aliases: dict[type, str] = {}
        self._warned: set[str] = set()
        self._decoders: dict[str, Callable[..., Any]] = {
            **_DECODERS, "o": self._object, "e": self._enum,
        }
        self._parse = json.JSONDecoder(object_hook=self._hook).decode
        interrupt = getattr(_types, "Interrupt", None)
        overwrite = getattr(_types, "Overwrite", None)
        for cls in (*_MESSAGES, _types.Send, _types.Command, interrupt, overwrite):
            if isinstance(cls, type):
                self._aliases[cls] = cls.__name__
                self._classes[cls.__name__] = cls

    # ------------------------------------------------------------ registry

    def register(self, *types: type) -> None:
        """Restore instances of ``types`` as themselves.

        Dataclasses, pydantic models, NamedTuples and Enums are encoded without this,
        but come back as plain data unless registered by the time they are loaded.
        Any other class is stored only once registered: its ``__dict__`` and slots,
        restored without calling ``__init__`` (as ``copy`` and ``pickle`` do).
        A class registered under the name of an earlier one (``module:qualname``; a
        class defined again in a notebook) replaces it.

        :raises SerializationError: for something that is not a class, or a class whose
            instances cannot be rebuilt from their attributes (a subclass of a builtin).
        """
        for cls in types:
            if not isinstance(cls, type):
                raise SerializationError(
                    f"register() takes classes, got {cls!r}; for a type hint such as "
                    "list[Model], use register_annotations()"
                )
            kind = _kind(cls)
            if kind is None and cls.__new__ is not object.__new__:  # type: ignore[comparison-overlap]
                raise SerializationError(
                    f"cannot register {cls.__qualname__}: it is not a dataclass, pydantic "
                    "model, NamedTuple or Enum, and its instances are not plain objects"
                )
            name = self._aliases.get(cls) or f"{cls.__module__}:{cls.__qualname__}"
            self._classes[name] = cls
            self._codecs.pop(cls, None)

    def register_annotations(self, tp: Any) -> None:
        """Register every dataclass, pydantic model, NamedTuple and Enum that the type
        hint ``tp`` names, however deeply: the fields of TypedDicts, dataclasses,
        pydantic models and NamedTuples, ``Annotated``, unions, ``list[X]``,
        ``dict[K, V]`` and other generics. Forward references are resolved where
        ``typing.get_type_hints`` can; the graph compiler calls this with the state
        schema."""
        self._walk(tp, {})

    def _walk(self, tp: Any, seen: dict[int, Any]) -> None:
        if id(tp) in seen:
            return
        seen[id(tp)] = tp  # kept alive, so that ids stay unique during the walk
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            return
        if origin is not None:
            args = typing.get_args(tp)
            if origin is typing.Annotated:
                args = args[:1]  # the metadata (a reducer, ...) is not a type
            elif isinstance(origin, type):
                self._walk(origin, seen)  # a user's generic class, Model[int]
            for arg in args:
                self._walk(arg, seen)
            return
        if tp in self._aliases:  # rillet's own classes are registered already
            return
        if not isinstance(tp, type):  # TypeVar, NewType, a type alias
            for attr in ("__bound__", "__supertype__", "__value__"):
                self._walk(getattr(tp, attr, None), seen)
            for arg in getattr(tp, "__constraints__", ()):
                self._walk(arg, seen)
            return
        kind = _kind(tp)
        if kind is not None:
            self.register(tp)
        if kind in ("msg", "nt", "dc", "pd") or typing.is_typeddict(tp):
            for hint in _hints(tp):
                self._walk(hint, seen)

    # ------------------------------------------------------------ encoding

    def dumps(self, obj: Any) -> bytes:
        """``obj`` as UTF-8 JSON bytes.

        :raises SerializationError: for an object of a class that cannot be stored (see
            :meth:`register`), or a value nested too deeply or holding itself.
        """
        if obj.__class__ is int and -_BIG < obj < _BIG:
            return int.__repr__(obj).encode()
        return _JSON(self.encode(obj)).encode("utf-8", "surrogatepass")

    def encode(self, obj: Any) -> Any:
        """``obj`` as the JSON data that :meth:`dumps` writes (tagged values and all),
        to build a larger document of (:meth:`dumps_encoded`).

        :raises SerializationError: as :meth:`dumps`.
        """
        try:
            return self._enc(obj)
        except RecursionError:
            raise SerializationError(
                "cannot checkpoint a value nested this deeply, or a container that holds "
                "itself"
            ) from None

    @staticmethod
    def dumps_encoded(data: Any) -> bytes:
        """JSON data as bytes, written as it is: parts from :meth:`encode`, and plain
        JSON data (exact ``dict``/``list``/``str``/``int``/``bool``/``float``/``None``,
        string keys, no key ``"!"``, no int beyond 2**1024 or non-finite float)."""
        return _JSON(data).encode("utf-8", "surrogatepass")

    def _enc(self, obj: Any) -> Any:
        kind = obj.__class__
        if kind is str or obj is None or kind is bool:
            return obj
        if kind is int:
            return obj if -_BIG < obj < _BIG else {_TAG: ["i", hex(obj)]}
        if kind is float:
            return obj if _isfinite(obj) else {_TAG: ["f", repr(obj)]}
        if kind is dict:
            return self._dict(obj)
        if kind is list:
            return [self._enc(item) for item in obj]
        encode = _ENCODERS.get(kind)
        if encode is not None:
            return {_TAG: encode(self._enc, obj)}
        return {_TAG: self._custom(obj)}

    def _dict(self, obj: dict[Any, Any]) -> Any:
        if _TAG not in obj:
            enc = self._enc
            out = {}
            for key, value in obj.items():
                if key.__class__ is not str:
                    break
                out[key] = enc(value)
            else:
                return out
        return {_TAG: ["d", [[self._enc(k), self._enc(v)] for k, v in obj.items()]]}

    def _custom(self, obj: Any) -> list[Any]:
        codec = self._codecs.get(obj.__class__) or self._codec(obj.__class__)
        kind, enc = codec.kind, self._enc
        if kind == "enum":
            return ["e", codec.name, enc(obj.value)]
        if kind == "fields":
            fields, omit = {}, codec.omit
            for field in codec.fields:
                value = getattr(obj, field, _MISSING)
                if value is _MISSING:
                    continue
                if omit is not None:
                    empty = omit[field]
                    if value is None if empty is None else value.__class__ is empty and not value:
                        continue
                fields[field] = value if value.__class__ is str else enc(value)
            return ["o", codec.name, fields]
        if kind == "nt":
            return ["o", codec.name, {f: enc(v) for f, v in zip(codec.fields, obj, strict=True)}]
        if kind == "pd":
            state = {f: v for f in codec.fields if (v := getattr(obj, f, _MISSING)) is not _MISSING}
            state.update(obj.model_extra or {})
            encoded = ["o", codec.name, self._dict(state)]
            if obj.model_fields_set != state.keys():
                encoded.append(sorted(obj.model_fields_set))
            return encoded
        return ["o", codec.name, self._dict(_attributes(obj))]

    def _codec(self, cls: type) -> _Codec:
        """How to encode and restore instances of ``cls``, cached per class."""
        kind = _kind(cls)
        name = self._aliases.get(cls) or f"{cls.__module__}:{cls.__qualname__}"
        if kind is None and self._classes.get(name) is cls:
            kind = "obj"
        if kind is None:
            raise SerializationError(
                f"cannot checkpoint a {cls.__qualname__} object (from {cls.__module__}): "
                "state values must be plain data, dataclasses, pydantic models, NamedTuples "
                f"or Enums. Make {cls.__qualname__} a dataclass or a pydantic model, store "
                f"a plain dict instead, or call saver.serde.register({cls.__qualname__})"
            )
        codec = _Codec(kind, name)
        if kind == "msg":
            fields = tuple(cls._fields)  # type: ignore[attr-defined]
            omit = {f: _MESSAGE_EMPTY.get(f) for f in fields}
            makers: _Makers = tuple((f, _MESSAGE_EMPTY.get(f, _NONE)) for f in fields)
            codec = _Codec("fields", name, fields, omit, makers, setattr)
        elif kind == "dc":
            specs = dataclasses.fields(cls)
            makers = tuple((f.name, _default(f)) for f in specs)
            codec = _Codec("fields", name, tuple(f.name for f in specs), None, makers)
        elif kind == "nt":
            codec = _Codec(kind, name, tuple(cls._fields))  # type: ignore[attr-defined]
        elif kind == "pd":
            codec = _Codec(kind, name, tuple(cls.model_fields))  # type: ignore[attr-defined]
        self._codecs[cls] = codec
        return codec

    # ------------------------------------------------------------ decoding

    def loads(self, data: bytes) -> Any:
        """The value that :meth:`dumps` made ``data`` from (``bytes``, ``bytearray`` or
        ``memoryview``).

        A class the data names that is not registered comes back as a dict of its
        fields (an Enum member as its value), with a :class:`SerializationWarning`
        once per class.

        :raises SerializationError: if ``data`` is not what :meth:`dumps` writes: not
            UTF-8 JSON, nested too deeply, an unknown tag, a payload of the wrong shape,
            or a registered class that refuses its stored fields.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SerializationError(f"loads() takes bytes, got {type(data).__name__}")
        try:
            text = str(data, "utf-8", "surrogatepass")
            return _PARSE(text) if '"!"' not in text else self._parse(text)
        except (SerializationError, Warning):
            raise
        except UnicodeDecodeError as exc:
            raise SerializationError(f"checkpoint data is not UTF-8 text: {exc}") from None
        except RecursionError:
            raise SerializationError("checkpoint data is nested too deeply") from None
        except Exception as exc:
            raise SerializationError(f"malformed checkpoint data: {exc}") from exc

    def _hook(self, obj: dict[str, Any]) -> Any:
        if _TAG not in obj:
            return obj
        spec = obj[_TAG]
        if len(obj) != 1 or spec.__class__ is not list or not spec:
            raise SerializationError(f"malformed tagged value in checkpoint data: {obj!r:.200}")
        decode = self._decoders.get(spec[0]) if spec[0].__class__ is str else None
        if decode is None:
            raise SerializationError(f"unknown tag in checkpoint data: {spec[0]!r:.100}")
        try:
            return decode(*spec[1:])
        except SerializationError:
            raise
        except TypeError as exc:  # a payload with too many or too few parts
            raise SerializationError(f"malformed {spec[0]!r} value: {exc}") from None

    def _object(self, name: str, fields: dict[str, Any], fields_set: Any = None) -> Any:
        cls = self._classes.get(_expect(name, str))
        if cls is None:
            self._warn(name, "a dict of its fields")
            return _expect(fields, dict)
        codec = self._codecs.get(cls) or self._codec(cls)
        try:
            return _restore(cls, codec, _expect(fields, dict), fields_set)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"cannot restore a {name} from {fields!r:.200}: {exc}"
            ) from exc

    def _enum(self, name: str, value: Any) -> Any:
        cls = self._classes.get(_expect(name, str))
        if cls is None:
            self._warn(name, "its value")
            return value
        if not issubclass(cls, enum.Enum):
            raise SerializationError(f"checkpoint data holds {name} as an Enum; it is not one")
        try:
            return cls(value)
        except ValueError as exc:
            raise SerializationError(f"cannot restore {name}: {exc}") from None

    def _warn(self, name: str, instead: str) -> None:
        if name in self._warned:
            return
        self._warned.add(name)
        qualname = name.rpartition(":")[2]
        warnings.warn(
            f"checkpoint data holds a {name} but that class is not registered, so it is "
            f"restored as {instead}; call saver.serde.register({qualname}) (or name the "
            "class in the graph's state schema) to get it back as itself",
            SerializationWarning,
            stacklevel=2,
        )


def _kind(cls: type) -> str | None:
    """The kind of a class whose instances are encoded with their class name, or None."""
    if issubclass(cls, enum.Enum):
        return "enum"
    if issubclass(cls, BaseMessage):
        return "msg"
    if issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return "nt"
    if dataclasses.is_dataclass(cls):
        return "dc"
    if isinstance(getattr(cls, "model_fields", None), dict) and callable(
        getattr(cls, "model_construct", None)
    ):  # pydantic v2, detected without importing it
        return "pd"
    return None


def _hints(cls: type) -> list[Any]:
    """The field type hints of ``cls``, forward references resolved where possible."""
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):  # pydantic has resolved them already
        return [getattr(f, "annotation", None) for f in fields.values()]
    try:
        return list(typing.get_type_hints(cls, include_extras=True).values())
    except Exception:  # an unresolvable forward reference: the raw hints (strings skipped)
        return [h for k in cls.__mro__ for h in getattr(k, "__annotations__", {}).values()]


def _default(spec: dataclasses.Field[Any]) -> Callable[[], Any] | None:
    if spec.default is not dataclasses.MISSING:
        return lambda: spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory
    return None


def _attributes(obj: Any) -> dict[str, Any]:
    state = dict(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                state[slot] = getattr(obj, slot)
    return state


def _restore(cls: Any, codec: _Codec, fields: dict[str, Any], fields_set: Any) -> Any:
    """An instance of ``cls`` from its decoded fields, without running ``__init__``
    (messages, dataclasses, plain classes) or validation (pydantic)."""
    kind = codec.kind
    if kind == "fields":
        obj, put = object.__new__(cls), codec.put
        for field, make in codec.makers:
            if field in fields:
                put(obj, field, fields[field])
            elif make is not None:
                put(obj, field, make())
            else:
                raise SerializationError(f"stored {codec.name} has no field {field!r}")
        return obj
    if kind == "nt":
        return cls(**{f: fields[f] for f in codec.fields if f in fields})
    if kind == "pd":
        if fields_set is not None:
            fields_set = {_expect(f, str) for f in _expect(fields_set, list)}
        return cls.model_construct(fields_set, **fields)
    if kind == "enum":
        raise SerializationError(f"checkpoint data holds {codec.name} as an object; it is an Enum")
    obj = object.__new__(cls)
    for key, value in fields.items():
        if _expect(key, str).startswith("__") and key.endswith("__"):
            raise SerializationError(f"stored {codec.name} sets the attribute {key!r}")
        object.__setattr__(obj, key, value)
    return obj


T = typing.TypeVar("T")


def _expect(value: Any, kind: type[T]) -> T:
    if value.__class__ is not kind or not isinstance(value, kind):
        raise SerializationError(
            f"malformed checkpoint data: expected {kind.__name__}, got {value!r:.100}"
        )
    return value


# --------------------------------------------------------------- standard types

def _b64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")


def _with_tz(tag: str, iso: str, tz: Any, fold: int, enc: Callable[[Any], Any]) -> list[Any]:
    if fold:
        return [tag, iso, enc(tz), fold]
    return [tag, iso] if tz is None else [tag, iso, enc(tz)]


def _timezone(enc: Any, tz: datetime.timezone) -> list[Any]:
    offset = tz.utcoffset(None)
    encoded: list[Any] = ["tz", offset.days * 86400 + offset.seconds, offset.microseconds]
    if tz.tzname(None) != datetime.timezone(offset).tzname(None):
        encoded.append(tz.tzname(None))
    return encoded


def _zone(enc: Any, tz: zoneinfo.ZoneInfo) -> list[Any]:
    if tz.key is None:
        raise SerializationError("cannot checkpoint a ZoneInfo made from a file: it has no key")
    return ["zi", tz.key]


_Encode = Callable[[Callable[[Any], Any], Any], list[Any]]
_ENCODERS: dict[type, _Encode] = {
    tuple: lambda enc, o: ["t", [enc(x) for x in o]],
    set: lambda enc, o: ["s", [enc(x) for x in o]],
    frozenset: lambda enc, o: ["fs", [enc(x) for x in o]],
    deque: lambda enc, o: ["dq", [enc(x) for x in o], *(() if o.maxlen is None else (o.maxlen,))],
    bytes: lambda enc, o: ["b", _b64(o)],
    bytearray: lambda enc, o: ["ba", _b64(o)],
    datetime.datetime: lambda enc, o: _with_tz(
        "dt", o.replace(tzinfo=None).isoformat(), o.tzinfo, o.fold, enc),
    datetime.date: lambda enc, o: ["da", o.isoformat()],
    datetime.time: lambda enc, o: _with_tz(
        "tm", o.replace(tzinfo=None).isoformat(), o.tzinfo, o.fold, enc),
    datetime.timedelta: lambda enc, o: ["td", o.days, o.seconds, o.microseconds],
    datetime.timezone: _timezone,
    zoneinfo.ZoneInfo: _zone,
    uuid.UUID: lambda enc, o: ["u", str(o)],
    decimal.Decimal: lambda enc, o: ["de", str(o)],
    re.Pattern: lambda enc, o: ["re", enc(o.pattern), o.flags],
    **{cls: (lambda enc, o: ["p", type(o).__name__, str(o)]) for cls in _PATHS.values()},
}


def _tzinfo(value: Any) -> datetime.tzinfo | None:
    if value is None or isinstance(value, datetime.tzinfo):
        return value
    raise SerializationError(f"malformed checkpoint data: expected a tzinfo, got {value!r:.100}")


def _pairs(value: Any) -> dict[Any, Any]:
    pairs = _expect(value, list)
    if not all(p.__class__ is list and len(p) == 2 for p in pairs):
        raise SerializationError("malformed checkpoint data: a dict must be [key, value] pairs")
    return dict(pairs)


def _float(text: Any) -> float:
    if text not in ("nan", "inf", "-inf"):
        raise SerializationError(f"malformed checkpoint data: not a float: {text!r:.100}")
    return float(text)


def _ints(*values: Any) -> list[int]:
    return [_expect(v, int) for v in values]


_DECODERS: dict[str, Callable[..., Any]] = {
    "t": lambda v: tuple(_expect(v, list)),
    "s": lambda v: set(_expect(v, list)),
    "fs": lambda v: frozenset(_expect(v, list)),
    "dq": lambda v, maxlen=None: deque(_expect(v, list), maxlen and _expect(maxlen, int)),
    "d": _pairs,
    "f": _float,
    "i": lambda v: int(_expect(v, str), 16),
    "b": lambda v: base64.b64decode(_expect(v, str), validate=True),
    "ba": lambda v: bytearray(base64.b64decode(_expect(v, str), validate=True)),
    "dt": lambda iso, tz=None, fold=0: datetime.datetime.fromisoformat(
        _expect(iso, str)).replace(tzinfo=_tzinfo(tz), fold=_expect(fold, int)),
    "da": lambda iso: datetime.date.fromisoformat(_expect(iso, str)),
    "tm": lambda iso, tz=None, fold=0: datetime.time.fromisoformat(
        _expect(iso, str)).replace(tzinfo=_tzinfo(tz), fold=_expect(fold, int)),
    "td": lambda days, s, us: datetime.timedelta(*_ints(days, s, us)),
    "tz": lambda s, us, *name: datetime.timezone(
        datetime.timedelta(seconds=_expect(s, int), microseconds=_expect(us, int)),
        *(_expect(n, str) for n in name)),
    "zi": lambda key: zoneinfo.ZoneInfo(_expect(key, str)),
    "u": lambda v: uuid.UUID(_expect(v, str)),
    "de": lambda v: decimal.Decimal(_expect(v, str)),
    "re": lambda pattern, flags: re.compile(pattern, _expect(flags, int)),
    "p": lambda kind, text: _PATHS[_expect(kind, str)](_expect(text, str)),
}
