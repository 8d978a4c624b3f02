"""parse_partial_json: cut-off JSON parses as far as it goes; broken JSON raises."""

import json
import math
from typing import Any

import pytest

from rillet.messages import parse_partial_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"place": "bed"}', {"place": "bed"}),
        ('{"place": "bed', {"place": "bed"}),
        ('{"place": "', {"place": ""}),
        ('{"place": ', {}),
        ('{"place":', {}),
        ('{"place"', {}),
        ('{"pla', {}),
        ("{", {}),
        ('{"a": 1, "b": [1, 2', {"a": 1, "b": [1, 2]}),
        ('{"a": 1, ', {"a": 1}),
        ('{"a": {"b": {"c": "d', {"a": {"b": {"c": "d"}}}),
        ('{"a": [', {"a": []}),
        ('{"a": [{"b": 1}, {"c', {"a": [{"b": 1}, {}]}),
        ("[1, 2", [1, 2]),
        ("[1,", [1]),
        ("[1.", [1]),
        ("[1.5e", [1.5]),
        ('{"a": -', {}),
        ('{"a": 12', {"a": 12}),
        ('{"a": tr', {}),
        ('{"a": true', {"a": True}),
        ('{"a": nul', {}),
        ('{"a": null, "b": fal', {"a": None}),
        ('"partial string', "partial string"),
        ('{"esc": "a\\"b', {"esc": 'a"b'}),
        ('{"esc": "a\\', {"esc": "a"}),
        ('{"esc": "a\\\\', {"esc": "a\\"}),
        ('{"esc": "a\\u00', {"esc": "a"}),
        ('{"esc": "a\\u00e9', {"esc": "aé"}),
        ('{"nl": "line\nbreak', {"nl": "line\nbreak"}),
        ('  {"a": 1}  ', {"a": 1}),
        ('{\n  "a": [\n    1,\n', {"a": [1]}),
    ],
)
def test_partial_documents(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


def test_every_prefix_of_a_document_parses() -> None:
    doc = {"q": 'hello "world"', "n": [1, -2.5, 3e2, True, False, None], "d": {"é": "☃"}}
    for dumped in (json.dumps(doc), json.dumps(doc, ensure_ascii=False), json.dumps(doc, indent=2)):
        for end in range(1, len(dumped) + 1):
            value = parse_partial_json(dumped[:end])
            assert isinstance(value, dict)
        assert parse_partial_json(dumped) == doc


def test_special_numbers() -> None:
    assert parse_partial_json("[Infinity, -Infinity") == [math.inf, -math.inf]
    assert math.isnan(parse_partial_json("[NaN")[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Expecting value"),
        ("   ", "Expecting value"),
        ("nul", "Expecting value"),
        ('{"a": 1}}', "Extra data"),
        ('{"a": 1} x', "Extra data"),
        ("{a: 1}", "Expecting property name enclosed in double quotes"),
        ('{"a": x}', "Expecting value"),
        ('{"a" 1', "Expecting ':' delimiter"),
        ('{"a": 1 "b"', "Expecting ',' delimiter"),
        ("[1 2", "Expecting ',' delimiter"),
        ("[1,]", "Expecting value"),
        ("[1.x", "Invalid number"),
        ('{"place": "bed", x', "Expecting property name enclosed in double quotes"),
    ],
)
def test_broken_documents_raise(text: str, message: str) -> None:
    with pytest.raises(json.JSONDecodeError, match=message):
        parse_partial_json(text)


def test_deep_nesting_raises_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        parse_partial_json("[" * 100_000)
