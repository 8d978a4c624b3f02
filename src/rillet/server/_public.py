"""The paths any request may get, without an API key or a user: ``/ok`` and the
playground page's files (static, no data in them: the page asks for the key or token
and sends it with each API call)."""

from __future__ import annotations

__all__ = ["is_public"]

_PUBLIC = frozenset({"/ok", "/"})
_PLAYGROUND = "/playground/"


def is_public(path: str) -> bool:
    """Whether ``path`` is served to anyone (the auth middlewares let it through)."""
    return path in _PUBLIC or path.startswith(_PLAYGROUND)
