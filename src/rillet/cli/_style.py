"""Terminal output: ANSI colours when they are wanted, JSON for anything a graph yields,
and the text of streamed message chunks (tokens and tool calls)."""

from __future__ import annotations

import os
from typing import Any, TextIO

from rillet._serde import dumps
from rillet.messages import AIMessageChunk, BaseMessage

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def wants_colour(stream: TextIO) -> bool:
    """Colour for a terminal only, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    """Wraps text in ANSI codes, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


# ------------------------------------------------------------------- JSON


def to_json(value: Any, *, brief: bool = False) -> str:
    """One line of JSON for ``value``, spaced as ``json.dumps`` spaces it; with
    ``brief``, a message keeps only its type, text and tool calls."""
    return dumps(value, separators=(", ", ": "), message=_brief_message if brief else None)


def _brief_message(message: BaseMessage) -> dict[str, Any]:
    brief: dict[str, Any] = {"type": message.type, "content": message.text}
    calls = getattr(message, "tool_calls", None)
    if calls:
        brief["tool_calls"] = [{"name": c["name"], "args": c["args"]} for c in calls]
    for field in ("name", "tool_call_id"):
        value = getattr(message, field, None)
        if value:
            brief[field] = value
    return brief


# ------------------------------------------------------------ chunk text


class ChunkText:
    """The text to show for each streamed chunk of one or more model answers.

    Content shows as it is; a tool call shows as ``name(`` when its name arrives,
    then its argument text piece by piece, and ``)`` when the next call starts or
    :meth:`close` is called.
    """

    def __init__(self, style: Style) -> None:
        self.style = style
        self.open_call: int | None = None  # index of the tool call being shown

    def feed(self, chunk: Any) -> str:
        if not isinstance(chunk, BaseMessage):  # a node writing raw provider chunks
            return chunk if isinstance(chunk, str) else to_json(chunk, brief=True)
        parts = [self.close(), chunk.text] if chunk.text else []
        if isinstance(chunk, AIMessageChunk):
            for piece in chunk.tool_call_chunks:
                parts.append(self._call_piece(piece))
        return "".join(parts)

    def close(self) -> str:
        """``)`` if a tool call is open, else nothing."""
        if self.open_call is None:
            return ""
        self.open_call = None
        return self.style(")", "cyan")

    def _call_piece(self, piece: Any) -> str:
        text = ""
        index = piece.get("index")
        if piece.get("name") or (index is not None and index != self.open_call):
            text += self.close()
            self.open_call = index if index is not None else -1
            text += self.style(f"{piece.get('name') or '?'}(", "cyan", "bold")
        return text + self.style(piece.get("args") or "", "cyan")
