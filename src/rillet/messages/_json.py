"""Parse JSON that a model is still streaming.

A tool call's arguments arrive a few characters at a time, so mid-stream they are
a *prefix* of a JSON document: ``{"place": "bed``. :func:`parse_partial_json`
returns the value that prefix stands for so far (``{"place": "bed"}``):

- an unterminated string is closed, keeping what it has;
- a number cut short keeps its valid part (``1.`` -> ``1``);
- open objects and arrays are closed;
- a key with no value yet, or a ``true``/``false``/``null`` cut short, is left out.

Text that cannot be the beginning of a JSON document (``{"a": 1}}``, ``{a: 1}``)
raises :class:`json.JSONDecodeError`: a partial parser that also forgave mistakes
would turn a model's garbage into a believable tool call.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, cast

__all__ = ["parse_partial_json"]

_WHITESPACE = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*")
# The rest of a string after its opening quote, if the string is closed.
_CLOSED_STRING = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
_TRAILING_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(?:u[0-9a-fA-F]{0,3})?\Z")
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": math.nan,
    "Infinity": math.inf,
    "-Infinity": -math.inf,
}

_NOT_A_LITERAL: Any = object()


class _Truncated(Exception):
    """The text ended inside a value that has nothing worth keeping yet."""


def parse_partial_json(text: str) -> Any:
    """Return the value that ``text``, possibly a cut-off JSON document, holds so far.

    :raises json.JSONDecodeError: if ``text`` is empty, or is not the beginning of
        a JSON document.
    """
    parser = _PartialParser(text)
    try:
        try:
            return json.loads(text, strict=False)
        except json.JSONDecodeError:
            return parser.parse_document()
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", text, parser.pos) from None


class _PartialParser:
    """A recursive-descent JSON parser that stops gracefully at end of input."""

    __slots__ = ("end", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.end = len(text)

    def parse_document(self) -> Any:
        self._skip_whitespace()
        try:
            value = self._value()
        except _Truncated:
            raise json.JSONDecodeError("Expecting value", self.text, self.pos) from None
        self._skip_whitespace()
        if self.pos < self.end:
            raise json.JSONDecodeError("Extra data", self.text, self.pos)
        return value

    def _error(self, message: str) -> json.JSONDecodeError:
        return json.JSONDecodeError(message, self.text, self.pos)

    def _skip_whitespace(self) -> None:
        text, pos, end = self.text, self.pos, self.end
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def _at_end(self) -> bool:
        self._skip_whitespace()
        return self.pos >= self.end

    def _value(self) -> Any:
        if self.pos >= self.end:
            raise _Truncated
        char = self.text[self.pos]
        if char == "{":
            return self._object()
        if char == "[":
            return self._array()
        if char == '"':
            return self._string()
        if char == "-" or char.isdigit():
            literal = self._literal()
            if literal is not _NOT_A_LITERAL:
                return literal
            return self._number()
        literal = self._literal()
        if literal is _NOT_A_LITERAL:
            raise self._error("Expecting value")
        return literal

    def _object(self) -> dict[str, Any]:
        self.pos += 1  # "{"
        result: dict[str, Any] = {}
        if self._at_end():
            return result
        if self.text[self.pos] == "}":
            self.pos += 1
            return result
        while True:
            if self.text[self.pos] != '"':
                raise self._error("Expecting property name enclosed in double quotes")
            key = self._string()
            if self._at_end():
                return result  # the key, or the text, stopped before its value
            if self.text[self.pos] != ":":
                raise self._error("Expecting ':' delimiter")
            self.pos += 1
            if self._at_end():
                return result
            try:
                result[key] = self._value()
            except _Truncated:
                return result
            if self._at_end():
                return result
            char = self.text[self.pos]
            self.pos += 1
            if char == "}":
                return result
            if char != ",":
                self.pos -= 1
                raise self._error("Expecting ',' delimiter")
            if self._at_end():
                return result

    def _array(self) -> list[Any]:
        self.pos += 1  # "["
        result: list[Any] = []
        if self._at_end():
            return result
        if self.text[self.pos] == "]":
            self.pos += 1
            return result
        while True:
            try:
                result.append(self._value())
            except _Truncated:
                return result
            if self._at_end():
                return result
            char = self.text[self.pos]
            self.pos += 1
            if char == "]":
                return result
            if char != ",":
                self.pos -= 1
                raise self._error("Expecting ',' delimiter")
            if self._at_end():
                return result

    def _string(self) -> str:
        start = self.pos
        closed = _CLOSED_STRING.match(self.text, start + 1)
        if closed:
            self.pos = closed.end()
            return cast(str, json.loads(self.text[start : self.pos], strict=False))
        # Cut short: keep what arrived, minus a half-written escape sequence.
        tail = _TRAILING_ESCAPE.sub(r"\1", self.text[start + 1 :])
        self.pos = self.end
        return cast(str, json.loads(f'"{tail}"', strict=False))

    def _literal(self) -> Any:
        rest = self.text[self.pos : self.pos + 9]
        for word, value in _LITERALS.items():
            if rest.startswith(word):
                self.pos += len(word)
                return value
            if word.startswith(rest) and self.pos + len(rest) == self.end:
                self.pos = self.end
                raise _Truncated
        return _NOT_A_LITERAL

    def _number(self) -> int | float:
        match = _NUMBER.match(self.text, self.pos)
        tail = _NUMBER_TAIL.match(self.text, match.end() if match else self.pos)
        assert tail is not None  # the pattern matches the empty string
        if tail.end() > (match.end() if match else self.pos):
            if tail.end() < self.end:
                self.pos = tail.end()
                raise self._error("Invalid number")
            # The number was cut short ("1.", "-", "2e"): keep its valid part.
            self.pos = self.end
            if match is None:
                raise _Truncated
        elif match is None:
            raise self._error("Expecting value")
        else:
            self.pos = match.end()
        number = match.group()
        if number.isdigit() or (number[0] == "-" and number[1:].isdigit()):
            return int(number)
        return float(number)
