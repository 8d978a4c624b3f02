"""``rillet.checkpoint.serde``: every stored type comes back as itself, and stored data
never makes the serializer import or call anything outside its registry."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import uuid
import warnings
import zoneinfo
from collections import deque
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field

from rillet.checkpoint.serde import SerializationError, SerializationWarning, Serializer
from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    add_messages,
    tool_call,
    tool_call_chunk,
)
from rillet.types import Command, Interrupt, Overwrite, Send


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (``1 == 1.0 == True`` does not do)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            same(ka, kb) and same(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, list | tuple | deque):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def roundtrip(value: Any, serde: Serializer | None = None) -> Any:
    serde = serde or Serializer()
    data = serde.dumps(value)
    assert isinstance(data, bytes)
    return serde.loads(data)


def dumped(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# ------------------------------------------------------------------ standard types

@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -7, 2**63, -(2**200), 10**5000, -(10**5000), 1.5, -0.0,
        float("inf"), float("-inf"), "", "héllo ☃", "lone \ud800 surrogate", b"", b"\x00\xff",
        bytearray(b"ab"), [], [1, [2, [3]]], (), (1, "a", (2.5, None)), {}, {"a": 1},
        {"a": {"b": [1, {"c": None}]}}, {1: "int", None: "none", False: "bool", 2.5: "float"},
        {(1, 2): "tuple key", frozenset({1}): "frozenset key"},
        {"!": 1}, {"!": ["t", [1]]}, {"x": {"!": ["o", "os:system", {"command": "ls"}]}},
        ["!"], "!", '"!"', set(), {1, 2, 3}, frozenset({"a", "b"}), {(1, 2)},
        deque([1, 2]), deque([1, (2, 3)], maxlen=5),
    ],
    ids=lambda value: type(value).__name__,  # str() of 10**5000 raises
)
def test_builtin_values_round_trip_with_their_types(value: Any) -> None:
    assert same(roundtrip(value), value)


def test_nan_and_negative_zero() -> None:
    assert math.isnan(roundtrip(float("nan")))
    assert math.copysign(1.0, roundtrip(-0.0)) == -1.0


def test_plain_json_is_written_as_itself() -> None:
    serde = Serializer()
    assert serde.dumps({"x": 1, "y": [1.5, "é", None, True]}) == (
        '{"x":1,"y":[1.5,"é",null,true]}'.encode()
    )
    assert serde.dumps(42) == b"42"
    assert serde.dumps((1, 2)) == b'{"!":["t",[1,2]]}'


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
        datetime.datetime(2024, 5, 6, 7, 8, tzinfo=datetime.UTC),
        datetime.datetime(2024, 5, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=-3))),
        datetime.datetime(2024, 5, 6, tzinfo=datetime.timezone(
            datetime.timedelta(hours=5, minutes=30, microseconds=7), "IST")),
        datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        datetime.date(1999, 12, 31),
        datetime.time(23, 59, 59, 999999),
        datetime.time(1, 2, tzinfo=datetime.UTC),
        datetime.timedelta(days=-3, seconds=5, microseconds=7),
        datetime.UTC,
        datetime.timezone(datetime.timedelta(hours=2), "CEST"),
        zoneinfo.ZoneInfo("America/New_York"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        decimal.Decimal("1.10"),
        decimal.Decimal("-1E+999999"),
        pathlib.PurePosixPath("/a/b.txt"),
        pathlib.PureWindowsPath(r"C:\a\b.txt"),
        pathlib.Path("rel/path"),
        re.compile(r"a+\d", re.IGNORECASE),
        re.compile(rb"\x00+"),
    ],
)
def test_standard_library_values_round_trip(value: Any) -> None:
    back = roundtrip(value)
    assert type(back) is type(value)
    assert back == value


def test_deque_keeps_its_maxlen() -> None:  # deque equality ignores maxlen
    assert [roundtrip(deque([1], maxlen=n)).maxlen for n in (None, 0, 3)] == [None, 0, 3]


def test_datetime_keeps_tzinfo_name_and_fold() -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    ambiguous = datetime.datetime(2024, 10, 27, 2, 30, tzinfo=paris, fold=1)
    back = roundtrip(ambiguous)
    assert back.tzinfo is paris  # ZoneInfo caches one instance per key
    assert back.fold == 1
    assert back.utcoffset() == datetime.timedelta(hours=1)
    named = datetime.timezone(datetime.timedelta(hours=2), "CEST")
    assert roundtrip(datetime.datetime(2024, 1, 1, tzinfo=named)).tzname() == "CEST"
    assert roundtrip(datetime.UTC) is datetime.UTC
    assert str(roundtrip(decimal.Decimal("1.10"))) == "1.10"


def test_dict_order_is_kept() -> None:
    value = {"b": 1, "a": 2, 3: "c"}
    assert list(roundtrip(value)) == ["b", "a", 3]


# ------------------------------------------------------------------ user classes

class Colour(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    LOW = 1


class Perm(enum.Flag):
    R = 1
    W = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Frozen:
    point: Point
    tags: list[str] = dataclasses.field(default_factory=list)
    colour: Colour = Colour.RED


@dataclasses.dataclass
class Derived:
    base: int
    double: int = dataclasses.field(init=False)
    secret: dataclasses.InitVar[str] = "s"

    def __post_init__(self, secret: str) -> None:
        self.double = self.base * 2


class Pair(NamedTuple):
    left: Any
    right: Any = None


class Inner(BaseModel):
    n: int
    when: datetime.datetime | None = None


class Outer(BaseModel):
    name: str
    inner: Inner
    many: list[Inner] = []
    tags: set[str] = Field(default_factory=set)
    shape: tuple[int, ...] = ()


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    x: int = Field(alias="X", default=0)


class Plain:
    def __init__(self, a: Any) -> None:
        self.a = a


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slotted) and (self.a, self.b) == (other.a, other.b)


def registered(*types: type) -> Serializer:
    serde = Serializer()
    serde.register(*types)
    return serde


@pytest.mark.parametrize(
    "value",
    [Colour.RED, Colour.PAIR, Level.LOW, Perm.R | Perm.W, Perm(0)],
)
def test_registered_enums_round_trip(value: enum.Enum) -> None:
    back = roundtrip(value, registered(Colour, Level, Perm))
    assert back is value


def test_registered_dataclasses_round_trip() -> None:
    serde = registered(Point, Frozen, Colour, Derived)
    value = Frozen(Point(1, 2), ["a"], Colour.PAIR)
    back = roundtrip(value, serde)
    assert same(back, value)
    assert type(back.point) is Point and back.colour is Colour.PAIR
    derived = roundtrip(Derived(3), serde)
    assert (type(derived), derived.base, derived.double) == (Derived, 3, 6)


def test_dataclass_field_added_since_the_data_was_written_gets_its_default() -> None:
    serde = registered(Frozen, Point, Colour)
    data = serde.dumps(Frozen(Point(1)))
    data = data.replace(b',"tags":[]', b"")
    assert b"tags" not in data
    back = serde.loads(data)
    assert back.tags == [] and back.colour is Colour.RED


def test_named_tuples_round_trip() -> None:
    back = roundtrip([Pair(1, (2, 3)), Pair("x")], registered(Pair))
    assert same(back, [Pair(1, (2, 3)), Pair("x")])
    assert all(type(p) is Pair for p in back)


def test_pydantic_models_round_trip_with_nested_types_and_fields_set() -> None:
    serde = registered(Outer, Inner)
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    value = Outer(name="o", inner=Inner(n=1, when=when), many=[Inner(n=2)], tags={"t"},
                  shape=(1, 2))
    back = roundtrip(value, serde)
    assert back == value
    assert type(back.inner) is Inner and type(back.many[0]) is Inner
    assert back.tags == {"t"} and back.shape == (1, 2) and back.inner.when == when
    assert back.model_fields_set == {"name", "inner", "many", "tags", "shape"}
    assert back.many[0].model_fields_set == {"n"}
    assert back.many[0].model_dump(exclude_unset=True) == {"n": 2}


def test_pydantic_extra_fields_and_aliases_round_trip() -> None:
    value = Extra.model_validate({"X": 5, "other": (1, 2)})
    back = roundtrip(value, registered(Extra))
    assert back == value
    assert back.x == 5 and back.model_extra == {"other": (1, 2)}


def test_rillet_types_round_trip() -> None:
    sends = [Send("node", {"arg": (1, 2)}), Send("other", Point(1))]
    command = Command(graph=Command.PARENT, update={"x": 1}, resume={"id": "yes"},
                      goto=[Send("a", 1), "b"])
    interrupt = Interrupt(value={"question": "ok?"}, id="abc")
    serde = registered(Point)
    assert same(roundtrip(sends, serde), sends)
    back = roundtrip(command, serde)
    assert type(back) is Command and back == command
    assert same(back.goto, command.goto)
    assert roundtrip(Command(), serde).goto == ()
    assert roundtrip(interrupt, serde) == interrupt
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # known without being registered
        back = roundtrip(Overwrite([Point(1)]), serde)
    assert type(back) is Overwrite and same(back.value, [Point(1)])


# ------------------------------------------------------------------ messages

MESSAGES: list[BaseMessage] = [
    HumanMessage("hi", id="h1", name="ann"),
    HumanMessage(["a", {"type": "text", "text": "b"}], additional_kwargs={"k": (1,)}),
    SystemMessage("be brief", response_metadata={"model": "m"}),
    AIMessage(
        "calling", id="a1",
        tool_calls=[tool_call(name="add", args={"a": 1}, id="c1")],
        invalid_tool_calls=[{"name": "bad", "args": "{", "id": "c2", "error": "json"}],
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        response_metadata={"finish_reason": "tool_calls"},
    ),
    AIMessageChunk("par", id="a2", tool_call_chunks=[
        tool_call_chunk(name="add", args='{"a": 1', id="c1", index=0)], chunk_position="last"),
    AIMessageChunk(""),
    ToolMessage("3", tool_call_id="c1", artifact={"raw": b"\x00"}, status="error", id="t1"),
    RemoveMessage(id="h1"),
    BaseMessage("base"),
]


def test_every_message_class_round_trips_field_for_field() -> None:
    back = roundtrip(MESSAGES)
    for original, restored in zip(MESSAGES, back, strict=True):
        assert type(restored) is type(original)
        for field in original._fields:
            assert same(getattr(restored, field), getattr(original, field)), field


def test_message_fields_are_restored_exactly_not_renormalised() -> None:
    odd = AIMessage("x")
    odd.additional_kwargs = None  # type: ignore[assignment]
    odd.tool_calls = [{"name": "n", "args": {}, "id": None}]  # no "type" key
    back = roundtrip(odd)
    assert back.additional_kwargs is None
    assert back.tool_calls == [{"name": "n", "args": {}, "id": None}]
    empty = roundtrip(AIMessage("y"))
    assert empty.additional_kwargs == {} and empty.tool_calls == []
    assert empty.additional_kwargs is not roundtrip(AIMessage("z")).additional_kwargs


def test_a_list_tail_encoded_apart_decodes_to_the_same_items() -> None:
    serde = Serializer()
    head = [HumanMessage("q", id="1"), AIMessage("a", id="2"), (1, 2)]
    tail = [AIMessage("b", id="3"), {"!": 1}, Point(1)]
    serde.register(Point)
    whole = serde.loads(serde.dumps(head + tail))
    pieces = serde.loads(serde.dumps(head)) + serde.loads(serde.dumps(tail))
    assert same(pieces, whole) and same(whole, head + tail)


# ------------------------------------------------------------------ unregistered classes

def test_unregistered_classes_are_stored_and_come_back_as_plain_data() -> None:
    serde = Serializer()
    value = [Point(1, 2), Pair(1), Inner(n=3), Colour.PAIR]
    data = serde.dumps(value)
    with pytest.warns(SerializationWarning) as caught:
        back = serde.loads(data)
    assert same(back, [{"x": 1, "y": 2}, {"left": 1, "right": None}, {"n": 3, "when": None},
                       (1, 2)])
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 4
    assert any(f"{__name__}:Point" in m and "register(Point)" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert serde.loads(data) == back  # warned once per class only
    serde.register(Point, Pair, Inner, Colour)
    assert same(serde.loads(data), value)


def test_a_warning_turned_into_an_error_is_not_swallowed() -> None:
    serde = Serializer()
    data = serde.dumps(Point(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SerializationWarning):
            serde.loads(data)


def test_an_arbitrary_object_is_refused_with_the_fix() -> None:
    serde = Serializer()
    with pytest.raises(SerializationError) as caught:
        serde.dumps({"x": [Plain(1)]})
    message = str(caught.value)
    assert "Plain" in message and "dataclass" in message and "serde.register(Plain)" in message
    assert isinstance(caught.value, TypeError)
    for value in (object(), lambda: 1, Plain, len, 1j, Exception("e")):
        with pytest.raises(SerializationError):
            serde.dumps(value)


def test_registered_plain_classes_round_trip_without_calling_init() -> None:
    serde = registered(Plain, Slotted)
    with pytest.warns(SerializationWarning, match="Point"):
        back = roundtrip([Plain((1, 2)), Slotted(Point(1), {"!": 2})], serde)
    assert type(back[0]) is Plain and back[0].a == (1, 2)
    assert type(back[1]) is Slotted and back[1].b == {"!": 2}
    assert back[1].a == {"x": 1, "y": 0}  # Point is not registered here


def test_register_refuses_what_it_cannot_restore() -> None:
    serde = Serializer()
    with pytest.raises(SerializationError, match="register_annotations"):
        serde.register(list[Point])  # type: ignore[arg-type]

    class MyList(list[int]):
        pass

    with pytest.raises(SerializationError, match="MyList"):
        serde.register(MyList)


def test_the_last_class_registered_under_a_name_wins() -> None:
    def define() -> type:
        @dataclasses.dataclass
        class Again:
            v: int

        return Again

    first, second = define(), define()
    assert f"{first.__module__}:{first.__qualname__}" == (
        f"{second.__module__}:{second.__qualname__}"
    )
    serde = registered(first, second)
    back = serde.loads(serde.dumps(first(1)))
    assert type(back) is second and back.v == 1


# ------------------------------------------------------------------ register_annotations

class Node(BaseModel):
    label: str
    children: list[Node] = []
    colour: Optional[Colour] = None  # noqa: UP045 (the old spelling must work too)


class ChatState(TypedDict):
    messages: Annotated[list[Inner], add_messages]
    pairs: dict[str, tuple[Pair, ...]]
    maybe: Union[Point, None]  # noqa: UP007
    seq: Sequence[Level]
    mode: Literal["a", "b"]
    node: Node


@dataclasses.dataclass
class DataState:
    colour: Colour
    frozen: Frozen
    history: list[Point] = dataclasses.field(default_factory=list)


class ModelState(BaseModel):
    outer: Outer | None = None
    perms: list[Perm] = []


def test_register_annotations_walks_typeddict_fields_and_generics() -> None:
    serde = Serializer()
    serde.register_annotations(ChatState)
    value = {"messages": [Inner(n=1)], "pairs": {"k": (Pair(1),)}, "maybe": Point(2),
             "seq": [Level.LOW], "mode": "a",
             "node": Node(label="a", children=[Node(label="b", colour=Colour.RED)])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert same(roundtrip(value, serde), value)


def test_register_annotations_walks_a_dataclass_state() -> None:
    serde = Serializer()
    serde.register_annotations(DataState)
    value = DataState(Colour.PAIR, Frozen(Point(1)), [Point(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = roundtrip(value, serde)
    assert type(back) is DataState and back == value and type(back.frozen.point) is Point


def test_register_annotations_walks_a_pydantic_state() -> None:
    serde = Serializer()
    serde.register_annotations(ModelState)
    value = ModelState(outer=Outer(name="o", inner=Inner(n=1)), perms=[Perm.R])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = roundtrip(value, serde)
    assert back == value and type(back.outer.inner) is Inner


def test_register_annotations_survives_unresolvable_hints_and_odd_forms() -> None:
    @dataclasses.dataclass
    class Local:
        ref: UnknownName  # type: ignore[name-defined]  # noqa: F821
        point: Point

    serde = Serializer()
    for hint in (Local, int, None, Any, "Point", list, dict[str, Any], Literal[Colour.RED]):
        serde.register_annotations(hint)
    assert type(roundtrip(Local(1, Point(1)), registered(Local, Point))) is Local
    with pytest.warns(SerializationWarning, match="Point"):  # "Point" was not resolved
        back = serde.loads(serde.dumps(Local(1, Point(1))))
    assert type(back) is Local and back.ref == 1
    with pytest.warns(SerializationWarning, match="Colour"):
        assert serde.loads(serde.dumps(Colour.RED)) == "red"  # a Literal registers nothing


# ------------------------------------------------------------------ hostile data

def test_tampered_names_are_never_imported_or_called(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: called.append(a))
    serde = Serializer()
    payloads = [
        {"!": ["o", "os:system", {"command": "touch /tmp/pwned"}]},
        {"!": ["o", "subprocess:Popen", {"args": ["ls"]}]},
        {"!": ["e", "builtins:eval", "__import__('os').system('ls')"]},
        {"!": ["o", "builtins:object", {}]},
    ]
    with pytest.warns(SerializationWarning):
        back = [serde.loads(dumped(p)) for p in payloads]
    assert back == [{"command": "touch /tmp/pwned"}, {"args": ["ls"]},
                    "__import__('os').system('ls')", {}]
    assert called == []


@pytest.mark.parametrize(
    "data",
    [
        b"", b"{", b"[1,]", b"1 2", b"\xff\xfe\x00garbage", b"\x80abc", "1" * 10000,
        b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        dumped({"!": "t"}), dumped({"!": []}), dumped({"!": [1, 2]}), dumped({"!": ["nope"]}),
        dumped({"!": ["os:system", "ls"]}), dumped({"!": ["t", [1]], "x": 2}),
        dumped({"!": ["t", "abc"]}), dumped({"!": ["t", [1], "extra"]}), dumped({"!": ["t"]}),
        dumped({"!": ["dt", 5]}), dumped({"!": ["dt", "not a date"]}),
        dumped({"!": ["dt", "2024-01-01", "UTC"]}), dumped({"!": ["d", [["ab"]]]}),
        dumped({"!": ["d", [[[1], 2]]]}), dumped({"!": ["s", [[1]]]}),
        dumped({"!": ["b", "***"]}), dumped({"!": ["i", "zz"]}), dumped({"!": ["f", "1e5"]}),
        dumped({"!": ["td", 1, 2, True]}), dumped({"!": ["td", 10**12, 0, 0]}),
        dumped({"!": ["tz", 90000, 0]}), dumped({"!": ["zi", "../../etc/passwd"]}),
        dumped({"!": ["zi", "No/Such_Zone"]}), dumped({"!": ["u", "x"]}),
        dumped({"!": ["de", "1.2.3"]}), dumped({"!": ["p", "os:system", "ls"]}),
        dumped({"!": ["re", "(", 0]}), dumped({"!": ["re", 5, 0]}),
        dumped({"!": ["o", "AIMessage", [1]]}), dumped({"!": ["o", 5, {}]}),
        dumped({"!": ["o", "Send", {"__class__": 1, "node": "x"}]}),
        dumped({"!": ["o", "Send", {"__dict__": {}}]}),
        dumped({"!": ["o", "Interrupt", {"value": 1}]}),
        dumped({"!": ["e", "Send", 1]}), dumped({"!": ["o", "Send", {}, ["x"], "more"]}),
    ],
)
def test_malformed_data_raises_serialization_error(data: bytes | str) -> None:
    serde = Serializer()
    with pytest.raises(SerializationError):
        serde.loads(data.encode() if isinstance(data, str) else data)


def test_tampered_fields_of_registered_classes_raise_serialization_error() -> None:
    serde = registered(Colour, Outer, Pair, Point)
    for payload in (
        {"!": ["e", f"{__name__}:Colour", "blue"]},
        {"!": ["o", f"{__name__}:Colour", {}]},
        {"!": ["o", f"{__name__}:Outer", {"_fields_set": 1}]},
        {"!": ["o", f"{__name__}:Outer", {}, "not a list"]},
        {"!": ["o", f"{__name__}:Pair", {}]},
        {"!": ["o", f"{__name__}:Point", {}]},
    ):
        with pytest.raises(SerializationError):
            serde.loads(dumped(payload))


def test_loads_takes_bytes_like_values_only() -> None:
    serde = Serializer()
    data = serde.dumps([(1,)])
    assert serde.loads(bytearray(data)) == [(1,)]
    assert serde.loads(memoryview(data)) == [(1,)]
    with pytest.raises(SerializationError, match="bytes"):
        serde.loads(data.decode())  # type: ignore[arg-type]


def test_dumps_refuses_cycles_and_absurd_depth() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    serde = Serializer()
    for value in (cycle, deep):
        with pytest.raises(SerializationError, match="nested"):
            serde.dumps(value)


def test_importing_the_serializer_does_not_import_pydantic() -> None:
    code = "import sys, rillet.checkpoint.serde; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_public_surface() -> None:
    import rillet.checkpoint.serde as serde

    assert serde.__all__ == ["SerializationError", "SerializationWarning", "Serializer"]
    assert issubclass(SerializationError, TypeError)
