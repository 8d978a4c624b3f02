"""A YAML writer for Mermaid front matter, matching ``yaml.dump(default_flow_style=False)``.

LangGraph writes the ``---`` front matter with PyYAML; rillet has no dependencies, and
the front matter is small: mappings (keys sorted, as PyYAML sorts them), lists and
scalars. Strings PyYAML would quote (``'#e2e2e2'``, ``'true'``, ``'1.5'``) are quoted the
same way; non-ASCII text is written as a double-quoted escape, as PyYAML does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_INDENT = "  "
# Plain strings PyYAML's resolver would read back as another type.
_IMPLICIT = re.compile(
    r"""^(?:
        yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL
      | [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
      | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
      | [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?.* | <<| =
    )$""",
    re.VERBOSE,
)
_LEADING_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


def dump_yaml(data: Mapping[str, Any]) -> str:
    """``data`` as block-style YAML, each line ending with a newline."""
    return "".join(f"{line}\n" for line in _mapping(data, 0))


def _mapping(data: Mapping[str, Any], depth: int) -> list[str]:
    if not data:
        return [_INDENT * depth + "{}"]
    lines: list[str] = []
    for key in sorted(data):
        value = data[key]
        head = _INDENT * depth + _scalar(key) + ":"
        if isinstance(value, Mapping) and value:
            lines.append(head)
            lines.extend(_mapping(value, depth + 1))
        elif isinstance(value, list | tuple) and value:
            lines.append(head)
            lines.extend(_sequence(value, depth))
        else:
            lines.append(f"{head} {_flow_empty(value)}")
    return lines


def _sequence(items: list[Any] | tuple[Any, ...], depth: int) -> list[str]:
    # PyYAML does not indent a list under its key.
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            nested = _mapping(item, depth + 1)
            lines.append(_INDENT * depth + "- " + nested[0].lstrip())
            lines.extend(nested[1:])
        else:
            lines.append(_INDENT * depth + "- " + _flow_empty(item))
    return lines


def _flow_empty(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    text = str(value)
    if not text.isascii() or any(not ch.isprintable() for ch in text):
        return _double_quoted(text)
    if _plain_ok(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _plain_ok(text: str) -> bool:
    if not text or _IMPLICIT.match(text):
        return False
    if text[0] in _LEADING_INDICATORS or text[0] == " " or text[-1] == " ":
        return False
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        return False
    if text.startswith(("---", "...")):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _double_quoted(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02X}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return '"' + "".join(out) + '"'
