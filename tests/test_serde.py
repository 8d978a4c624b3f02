"""``rillet._serde``: JSON for any object, never raising."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid
from collections import OrderedDict, deque
from typing import Any

import pytest
from pydantic import BaseModel

from rillet._serde import dumps, to_jsonable
from rillet.messages import AIMessage, HumanMessage


@dataclasses.dataclass
class Point:
    x: int
    y: tuple[int, int]


class Colour(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    BIG = 3


class Address(BaseModel):
    city: str
    since: datetime.date


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque>"

    def __str__(self) -> str:
        return "opaque as str"


class Broken:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        (1.5, 1.5),
        ("é", "é"),
        (float("nan"), None),
        (float("-inf"), None),
        ((1, (2, 3)), [1, [2, 3]]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ({1, "a"}, ["a", 1]),  # not comparable: in repr order ("'a'" < "1")
        (b"caf\xc3\xa9", "café"),
        (b"\xff\x00", "/wA="),
        (bytearray(b"ab"), "ab"),
        (datetime.datetime(2024, 5, 1, 12, 30), "2024-05-01T12:30:00"),
        (datetime.date(2024, 5, 1), "2024-05-01"),
        (datetime.time(8, 15), "08:15:00"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (decimal.Decimal("1.10"), "1.10"),
        (pathlib.PurePosixPath("/tmp/x"), "/tmp/x"),
        (Colour.RED, "red"),
        (Size.BIG, 3),
        (ValueError("bad"), {"type": "ValueError", "message": "bad"}),
        (KeyError("k"), {"type": "KeyError", "message": "'k'"}),
        (Point(1, (2, 3)), {"x": 1, "y": [2, 3]}),
        (Address(city="Oslo", since=datetime.date(2020, 1, 2)),
         {"city": "Oslo", "since": "2020-01-02"}),
        (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
        (deque([1, 2]), [1, 2]),
        ({1: "a", None: "b", False: "c", 2.5: "d", ("t", 1): "e", Colour.RED: "f"},
         {"1": "a", "null": "b", "false": "c", "2.5": "d", "('t', 1)": "e", "red": "f"}),
        (Opaque(), "<Opaque>"),
        (int, "<class 'int'>"),
        (Broken(), "<Broken object>"),
    ],
)
def test_to_jsonable(value: Any, expected: Any) -> None:
    assert to_jsonable(value) == expected


def test_messages_become_their_dict_form() -> None:
    message = AIMessage("hi", tool_calls=[{"name": "t", "args": {"s": {1}}, "id": "1"}])
    assert to_jsonable(message) == {
        **message.to_dict(),
        "tool_calls": [{"name": "t", "args": {"s": [1]}, "id": "1", "type": "tool_call"}],
    }
    brief = to_jsonable([HumanMessage("q")], message=lambda m: {"type": m.type, "text": m.text})
    assert brief == [{"type": "human", "text": "q"}]


def test_unknown_objects_use_the_hook() -> None:
    assert to_jsonable({"o": Opaque()}, unknown=str) == {"o": "opaque as str"}
    assert to_jsonable(Broken(), unknown=repr) == "<Broken object>"


def test_cycles_and_deep_nesting_do_not_raise() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert to_jsonable(loop) == [1, "[1, [...]]"]
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    assert json.loads(dumps(deep))  # cut off, but valid JSON


def test_dumps_is_compact_valid_json() -> None:
    value = {"a": (1, float("nan")), "s": {2, 1}, "b": b"\xff", "é": Colour.RED}
    assert dumps(value) == '{"a":[1,null],"s":[1,2],"b":"/w==","é":"red"}'
    assert dumps(value, separators=(", ", ": ")) == (
        '{"a": [1, null], "s": [1, 2], "b": "/w==", "é": "red"}'
    )
    assert dumps(Broken()) == '"<Broken object>"'


def test_dumps_survives_a_hook_that_fails() -> None:
    def bad_hook(obj: Any) -> Any:
        raise RuntimeError("hook failed")

    assert dumps(Opaque(), unknown=bad_hook) == '"<Opaque object>"'
    assert dumps(HumanMessage("x"), message=lambda m: {"odd": Opaque()}) == '{"odd":"<Opaque>"}'


def test_a_stream_event_is_encoded_with_its_kind_run_and_seq() -> None:
    from rillet._serde import dumps
    from rillet.stream._events import CustomEvent, TaskResultEvent

    custom = CustomEvent(("sub:1",), {"n": {1, 2}})
    custom.run, custom.seq = "r1", 7
    assert dumps(custom) == (
        '{"kind":"custom","ns":["sub:1"],"run":"r1","seq":7,"data":{"n":[1,2]}}'
    )
    failed = TaskResultEvent((), 1, "t", "id", "node", KeyError("k"), {})
    assert dumps(failed) == (
        '{"kind":"task_result","ns":[],"run":"","seq":-1,"step":1,"timestamp":"t",'
        '"id":"id","name":"node","error":{"type":"KeyError","message":"\'k\'"},'
        '"result":{},"interrupts":[]}'
    )
