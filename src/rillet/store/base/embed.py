"""Embeddings for semantic search: the ``embed`` of an :class:`~rillet.store.base.IndexConfig`.

``embed`` may be a function ``list[str] -> list[list[float]]`` (sync or async), an object
shaped like LangChain's ``Embeddings`` (``embed_documents``/``embed_query``, optionally
``aembed_documents``/``aembed_query``), or a ``"provider:model"`` string, which needs
LangChain's ``init_embeddings``. :func:`ensure_embeddings` turns any of them into one
:class:`Embedder`.

Which text of a value gets embedded is chosen by paths (``"$"`` for the whole value,
``"a.b"``, ``"items[*].text"``, ``"items[-1]"``, ``"{title, body}"``), read by
:func:`get_text_at_path` as LangGraph reads them.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from rillet.errors import ConfigError, UsageError

__all__ = [
    "AEmbeddingsFunc",
    "Embedder",
    "Embeddings",
    "EmbeddingsFunc",
    "cosine_similarity",
    "ensure_embeddings",
    "get_text_at_path",
    "tokenize_path",
]

EmbeddingsFunc = Callable[[Sequence[str]], list[list[float]]]
"""A function that embeds a batch of texts."""
AEmbeddingsFunc = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
"""An async function that embeds a batch of texts."""


@runtime_checkable
class Embeddings(Protocol):
    """The two methods of LangChain's ``Embeddings`` a store uses."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class Embedder:
    """One interface over every accepted ``embed``: sync and async, documents and queries."""

    def __init__(self, embed: Any) -> None:
        self._embed = embed
        self._is_object = isinstance(embed, Embeddings)
        self._is_async = not self._is_object and (
            inspect.iscoroutinefunction(embed)
            or inspect.iscoroutinefunction(embed.__call__)
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._is_object:
            return list(self._embed.embed_documents(texts))
        if self._is_async:
            raise UsageError(
                "The store's embed function is async; call the async methods "
                "(aput, asearch, abatch) or pass a sync function."
            )
        return list(self._embed(texts))

    def embed_query(self, text: str) -> list[float]:
        if self._is_object:
            return list(self._embed.embed_query(text))
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._is_async:
            return list(await self._embed(texts))
        method = getattr(self._embed, "aembed_documents", None) if self._is_object else None
        if method is not None:
            return list(await method(texts))
        import asyncio  # here, so importing the store does not load asyncio

        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        method = getattr(self._embed, "aembed_query", None) if self._is_object else None
        if method is not None:
            return list(await method(text))
        if self._is_object:
            import asyncio

            return await asyncio.to_thread(self.embed_query, text)
        return (await self.aembed_documents([text]))[0]


def ensure_embeddings(embed: Any) -> Embedder:
    """An :class:`Embedder` for ``embed`` (a function, an Embeddings-like object or a
    ``"provider:model"`` string).

    :raises ConfigError: if ``embed`` is missing, or a string and LangChain is not installed.
    """
    if embed is None:
        raise ConfigError('The store\'s index config needs "embed": a function or Embeddings.')
    if isinstance(embed, str):
        try:
            from langchain.embeddings import init_embeddings  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ConfigError(
                f"embed={embed!r} needs LangChain's init_embeddings: pip install "
                "'langchain>=0.3.9' and the provider's package, or pass an Embeddings "
                "object or a function instead."
            ) from exc
        embed = init_embeddings(embed)
    elif not (isinstance(embed, Embeddings) or callable(embed)):
        raise ConfigError(
            f"embed must be a function or an object with embed_documents/embed_query, "
            f"got {type(embed).__name__}."
        )
    return Embedder(embed)


def cosine_similarity(query: Sequence[float], vector: Sequence[float]) -> float:
    """Cosine of the angle between two vectors; 0.0 when either is all zeros."""
    dot = sum(a * b for a, b in zip(query, vector, strict=False))
    norm_q = sum(a * a for a in query) ** 0.5
    norm_v = sum(b * b for b in vector) ** 0.5
    return dot / (norm_q * norm_v) if norm_q > 0 and norm_v > 0 else 0.0


def tokenize_path(path: str) -> list[str]:
    """``"a.b[0].{c, d}"`` -> ``["a", "b", "[0]", "{c, d}"]``: dots split names; brackets
    and braces (nested ones included) stay whole tokens."""
    tokens: list[str] = []
    name = ""
    i = 0
    while i < len(path):
        char = path[i]
        if char in "[{":
            if name:
                tokens.append(name)
                name = ""
            close = "]" if char == "[" else "}"
            depth, start = 0, i
            while i < len(path):
                depth += (path[i] == char) - (path[i] == close)
                i += 1
                if depth == 0:
                    break
            tokens.append(path[start:i])
            continue
        if char == ".":
            if name:
                tokens.append(name)
            name = ""
        else:
            name += char
        i += 1
    if name:
        tokens.append(name)
    return tokens


def get_text_at_path(obj: Any, path: str | list[str]) -> list[str]:
    """The texts found at ``path`` in ``obj``: scalars as ``str()``, lists and dicts as
    sorted-key JSON, ``None`` and missing parts skipped; ``"$"`` (or ``""``) is all of
    ``obj`` as JSON."""
    if not path or path == "$":
        return [_as_json(dict(obj) if isinstance(obj, dict) else obj)]
    tokens = tokenize_path(path) if isinstance(path, str) else path
    return _texts(obj, tokens)


def _as_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def _leaf_text(obj: Any) -> list[str]:
    if isinstance(obj, str | int | float | bool):
        return [str(obj)]
    if isinstance(obj, list | dict):
        return [_as_json(obj)]
    return []


def _texts(obj: Any, tokens: list[str]) -> list[str]:
    if not tokens:
        return _leaf_text(obj)
    token, rest = tokens[0], tokens[1:]
    if token.startswith("[") and token.endswith("]"):
        if not isinstance(obj, list):
            return []
        index = token[1:-1]
        if index == "*":
            return [text for element in obj for text in _texts(element, rest)]
        try:
            position = int(index)
        except ValueError:
            return []
        if position < 0:
            position += len(obj)
        return _texts(obj[position], rest) if 0 <= position < len(obj) else []
    if token.startswith("{") and token.endswith("}"):
        if not isinstance(obj, dict):
            return []
        found: list[str] = []
        for field in token[1:-1].split(","):
            names = tokenize_path(field.strip())
            if not names:
                continue
            current: Any = obj
            for name in names:
                current = current.get(name) if isinstance(current, dict) else None
            found.extend(_leaf_text(current))
        return found
    if token == "*":
        children = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
        return [text for child in children for text in _texts(child, rest)]
    if isinstance(obj, dict) and token in obj:
        return _texts(obj[token], rest)
    return []
