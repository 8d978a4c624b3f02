"""Merging streamed chunks, in one pass.

The rules are LangChain's (``merge_content``, ``merge_dicts``, ``merge_lists``,
``add_usage`` and ``add_ai_message_chunks``): strings concatenate, dicts merge key
by key, list items that carry the same ``index`` merge into one, token counts add
up. A left fold with ``+`` would copy the growing text at every step, which is
quadratic in the number of chunks, so :func:`merge_chunks` keeps what grows in
accumulators (a string as a list of parts, a dict or list as a mutable copy) and
builds the real values once, at the end. ``a + b`` is ``merge_chunks([a, b])``:
there is one implementation of the rules, and the fold gives the same result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

if TYPE_CHECKING:
    from rillet.messages._ai import AIMessageChunk, UsageMetadata
    from rillet.messages._base import Content

__all__ = ["add_usage", "merge_chunks"]

ChunkT = TypeVar("ChunkT", bound="AIMessageChunk")

_MISSING: Final = object()
# String values under these keys are kept, not concatenated, when they repeat.
_SAME_VALUE_KEYS: Final = frozenset({"id", "output_version", "model_provider"})
# Int values under these keys identify or timestamp; the last one wins.
_LAST_WINS_KEYS: Final = frozenset({"index", "created", "timestamp"})


class _Text:
    """A string being built from parts."""

    __slots__ = ("parts",)

    def __init__(self, *parts: str) -> None:
        self.parts = list(parts)

    def value(self) -> str:
        if len(self.parts) != 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0]


class _DictAcc:
    """A dict being merged with ``merge_dicts`` rules; its values may be accumulators."""

    __slots__ = ("items",)

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.items: dict[str, Any] = dict(base)

    def merge(self, right: Mapping[str, Any]) -> None:
        items = self.items
        for key, new in right.items():
            old = items.get(key, _MISSING)
            if old is _MISSING or (new is not None and old is None):
                items[key] = new
            elif new is not None:
                items[key] = _merge_value(key, old, new)

    def get_value(self, key: str) -> Any:
        value = self.items.get(key)
        return value.value() if isinstance(value, _Text) else value

    def build(self) -> dict[str, Any]:
        return {key: _build(value) for key, value in self.items.items()}


class _ListAcc:
    """A list being merged with ``merge_lists`` rules: same-``index`` dicts merge."""

    __slots__ = ("by_index", "items")

    def __init__(self, base: Iterable[Any]) -> None:
        self.items: list[Any] = []
        self.by_index: dict[Any, list[int]] = {}
        for element in base:
            self.append(element)

    def append(self, element: Any) -> None:
        if isinstance(element, dict) and "index" in element:
            # An unhashable index never equals an int or "lc_" one: no need to find it.
            with contextlib.suppress(TypeError):
                self.by_index.setdefault(element["index"], []).append(len(self.items))
        self.items.append(element)

    def extend(self, others: Iterable[Any]) -> None:
        for element in others:
            target = self._target(element)
            if target is None:
                self.append(element)
                continue
            current = self.items[target]
            acc = current if isinstance(current, _DictAcc) else _DictAcc(current)
            if "type" in element:
                element = {k: v for k, v in element.items() if k != "type"}
            acc.merge(element)
            self.items[target] = acc

    def _target(self, element: Any) -> int | None:
        """Return the position ``element`` merges into, or None to append it."""
        if not isinstance(element, dict) or "index" not in element:
            return None
        index = element["index"]
        if not (isinstance(index, int) or (isinstance(index, str) and index.startswith("lc_"))):
            return None
        new_id = element.get("id")
        for position in self.by_index.get(index, ()):
            current = self.items[position]
            old_id = current.get_value("id") if isinstance(current, _DictAcc) else current.get("id")
            # Pieces of one item share its index; a different id means another item.
            if old_id in (None, "") or new_id in (None, "") or old_id == new_id:
                return position
        return None

    def build(self) -> list[Any]:
        return [_build(element) for element in self.items]


def _kind(value: Any) -> type:
    if isinstance(value, _Text):
        return str
    if isinstance(value, _DictAcc):
        return dict
    if isinstance(value, _ListAcc):
        return list
    return type(value)


def _same_kind(old: Any, new: Any) -> bool:
    return _kind(old) is type(new)


def _build(value: Any) -> Any:
    if isinstance(value, _Text):
        return value.value()
    if isinstance(value, _DictAcc | _ListAcc):
        return value.build()
    return value


def _merge_value(key: str, old: Any, new: Any) -> Any:
    """Merge ``new`` into ``old`` (both present, neither None); return the result."""
    if not _same_kind(old, new):
        raise TypeError(
            f'additional_kwargs["{key}"] already exists in this message, but with a different type.'
        )
    if isinstance(old, str | _Text):
        if key == "index" or key in _SAME_VALUE_KEYS:
            current = old.value() if isinstance(old, _Text) else old
            if (key == "index" and current.startswith("lc_")) or current == new:
                return old
        if isinstance(old, _Text):
            old.parts.append(new)
            return old
        return _Text(old, new)
    if isinstance(old, dict | _DictAcc):
        dict_acc = old if isinstance(old, _DictAcc) else _DictAcc(old)
        dict_acc.merge(new)
        return dict_acc
    if isinstance(old, list | _ListAcc):
        list_acc = old if isinstance(old, _ListAcc) else _ListAcc(old)
        list_acc.extend(new)
        return list_acc
    if old == new:
        return old
    if isinstance(old, int) and not isinstance(old, bool):
        return new if key in _LAST_WINS_KEYS else old + new
    raise TypeError(
        f"additional_kwargs[{key!r}] already exists with value {old!r}, and {new!r} "
        f"cannot be merged into it: only str, dict, list and int values merge."
    )


class _ContentAcc:
    """Content being merged with ``merge_content`` rules."""

    __slots__ = ("state",)

    def __init__(self, first: Content) -> None:
        self.state: _Text | _ListAcc = _Text(first) if isinstance(first, str) else _ListAcc(first)

    def add(self, content: Content) -> None:
        state = self.state
        if isinstance(state, _Text):
            if isinstance(content, str):
                state.parts.append(content)
            else:  # text, then blocks: the text becomes the first item
                self.state = _ListAcc([state, *content])
        elif isinstance(content, list):
            state.extend(content)
        elif state.items and isinstance(last := state.items[-1], str | _Text):
            if isinstance(last, _Text):
                last.parts.append(content)
            else:
                state.items[-1] = _Text(last, content)
        elif content:
            # LangChain drops text that follows an empty list; it is kept here.
            state.append(content)

    def build(self) -> Content:
        state = self.state
        return state.value() if isinstance(state, _Text) else state.build()


def _id_rank(message_id: str) -> int:
    """Rank an id: a provider's beats a LangChain run's beats other ``lc_`` ids."""
    if message_id.startswith(("run-", "lc_run-")):
        return 1
    if message_id.startswith("lc_"):
        return 0
    return 2


def merge_chunks(chunks: Iterable[ChunkT]) -> ChunkT:
    """Merge streamed chunks, in order, into one chunk of the first one's class.

    Gives what ``chunks[0] + chunks[1] + ...`` gives, in time linear in the total
    size: content concatenated (content-block lists merged by ``index``),
    ``additional_kwargs`` and ``response_metadata`` merged, tool-call chunks merged
    by ``index``, usage added up, the first provider id kept (over ``run-`` ids),
    ``chunk_position="last"`` if any chunk has it.

    :raises ValueError: if ``chunks`` is empty.
    :raises TypeError: if two chunks hold values of different types under one key.
    """
    iterator = iter(chunks)
    first = next(iterator, None)
    if first is None:
        raise ValueError("merge_chunks needs at least one chunk, got none")
    content = _ContentAcc(first.content)
    kwargs = _DictAcc(first.additional_kwargs)
    metadata = _DictAcc(first.response_metadata)
    tool_chunks = _ListAcc(first.tool_call_chunks)
    # LangChain sums usage if the first chunk has some or any later one is not None.
    usage = first.usage_metadata
    sum_usage = bool(usage)
    name = first.name
    best_id, best_rank = None, -1
    if first.id:
        best_id, best_rank = first.id, _id_rank(first.id)
    last = first.chunk_position == "last"
    # Fast path for the common case, text after text: one append per chunk.
    text = content.state.parts.append if isinstance(content.state, _Text) else None
    for chunk in iterator:
        part = chunk.content
        if text is not None and part.__class__ is str:
            text(part)
        else:
            content.add(part)
            text = content.state.parts.append if isinstance(content.state, _Text) else None
        if chunk.additional_kwargs:
            kwargs.merge(chunk.additional_kwargs)
        if chunk.response_metadata:
            metadata.merge(chunk.response_metadata)
        if chunk.tool_call_chunks:
            tool_chunks.extend(chunk.tool_call_chunks)
        if chunk.usage_metadata is not None:
            sum_usage = True
            usage = add_usage(usage, chunk.usage_metadata)
        if name is None:
            name = chunk.name
        chunk_id = chunk.id
        if (
            best_rank < 2
            and chunk_id
            and chunk_id != best_id
            and (rank := _id_rank(chunk_id)) > best_rank
        ):
            best_id, best_rank = chunk_id, rank
        if chunk.chunk_position == "last":
            last = True
    return first.__class__(
        content.build(),
        additional_kwargs=kwargs.build(),
        response_metadata=metadata.build(),
        name=name,
        id=best_id,
        usage_metadata=usage if sum_usage else None,
        tool_call_chunks=tool_chunks.build(),
        chunk_position="last" if last else None,
    )


def add_usage(left: UsageMetadata | None, right: UsageMetadata | None) -> UsageMetadata:
    """Add two token-usage dicts key by key (nested dicts too); None counts as zero."""
    if not (left or right):
        return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    if not (left and right):
        return cast("UsageMetadata", left or right)
    return cast("UsageMetadata", _add_counts(left, right, depth=0))


def _add_counts(left: Mapping[str, Any], right: Mapping[str, Any], depth: int) -> dict[str, Any]:
    if depth > 100:
        raise ValueError("usage_metadata is nested more than 100 levels deep")
    result: dict[str, Any] = {}
    for key in {**left, **right}:
        old, new = left.get(key, 0), right.get(key, 0)
        if isinstance(old, int) and isinstance(new, int):
            result[key] = old + new
            continue
        old, new = left.get(key, {}), right.get(key, {})
        if isinstance(old, dict) and isinstance(new, dict):
            result[key] = _add_counts(old, new, depth + 1)
            continue
        raise ValueError(
            f"cannot add usage_metadata[{key!r}]: {left.get(key)!r} and {right.get(key)!r} "
            "(only int and dict values add up)"
        )
    return result


class ChunkAccumulator:
    """Merges chunks as they stream, holding at most a small batch of them alive.

    Keeping thousands of chunks in a list until the end makes the cyclic garbage
    collector scan them again and again; merging in batches of ``batch`` (merging is
    associative) keeps the live set small. ``result()`` equals ``merge_chunks`` of
    every chunk added.
    """

    __slots__ = ("_batch", "_partials", "batch")

    def __init__(self, batch: int = 256) -> None:
        self.batch = batch
        self._batch: list[Any] = []
        self._partials: list[Any] = []

    def add(self, chunk: Any) -> None:
        pending = self._batch
        pending.append(chunk)
        if len(pending) >= self.batch:
            self._partials.append(merge_chunks(pending))
            self._batch = []

    def __bool__(self) -> bool:
        return bool(self._batch or self._partials)

    def result(self) -> Any:
        """The merged chunk. :raises ValueError: if nothing was added."""
        parts = self._partials
        if self._batch:
            parts = [*parts, merge_chunks(self._batch)]
        return parts[0] if len(parts) == 1 else merge_chunks(parts)
