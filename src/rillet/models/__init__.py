"""Chat models: the ``ChatModel`` base, ``FakeChatModel`` for tests, and providers.

Providers live behind extras and are imported on first use, so ``import rillet.models``
pulls in no third-party package:

- ``OpenAIChatModel``, ``wrap_openai``: ``pip install 'rillet[openai]'``
- ``LocalChatModel`` (llama.cpp): ``pip install 'rillet[local]'``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rillet.models._base import ChatModel
from rillet.models._fake import FakeChatModel

if TYPE_CHECKING:
    from rillet.models._init import init_chat_model
    from rillet.models._local import LocalChatModel
    from rillet.models._openai import OpenAIChatModel, wrap_openai

__all__ = [
    "ChatModel",
    "FakeChatModel",
    "LocalChatModel",
    "OpenAIChatModel",
    "init_chat_model",
    "wrap_openai",
]

_LAZY = {
    "OpenAIChatModel": "rillet.models._openai",
    "wrap_openai": "rillet.models._openai",
    "LocalChatModel": "rillet.models._local",
    "init_chat_model": "rillet.models._init",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rillet.models' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
