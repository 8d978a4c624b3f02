"""``init_chat_model``: a chat model from a ``"provider:model"`` string, as in LangChain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from rillet.errors import ConfigError
from rillet.models._base import ChatModel

__all__ = ["init_chat_model"]


def _openai(model: str, kwargs: dict[str, Any]) -> ChatModel:
    from rillet.models._openai import OpenAIChatModel

    return OpenAIChatModel(model=model, **kwargs) if model else OpenAIChatModel(**kwargs)


def _local(model: str, kwargs: dict[str, Any]) -> ChatModel:
    from rillet.models._local import LocalChatModel

    return LocalChatModel(model_path=model or None, **kwargs)


_PROVIDERS: Final[dict[str, Callable[[str, dict[str, Any]], ChatModel]]] = {
    "openai": _openai,
    "local": _local,
    "llamacpp": _local,
}
# Model-name prefixes that say which provider serves the model, as LangChain infers them.
_INFERRED: Final = (("gpt-", "openai"), ("chatgpt", "openai"), ("o1", "openai"),
                    ("o3", "openai"), ("o4", "openai"))


def init_chat_model(model: str, *, model_provider: str | None = None, **kwargs: Any) -> ChatModel:
    """Make a chat model from its name.

    - ``"openai:gpt-4o-mini"``, or ``"gpt-4o-mini"`` with ``model_provider="openai"``
      (or alone: ``gpt-*``/``o1``/``o3``/``o4`` names are OpenAI's):
      ``OpenAIChatModel(model="gpt-4o-mini", **kwargs)``; ``"openai"`` alone takes
      ``OpenAIChatModel``'s default model;
    - ``"local"``: ``LocalChatModel(**kwargs)`` (SmolLM2-135M-Instruct);
      ``"local:/path/to/model.gguf"`` (or a path with ``model_provider="local"``):
      ``LocalChatModel(model_path=..., **kwargs)``. ``llamacpp`` is another name
      for ``local``.

    ``kwargs`` go to the model's constructor (``temperature``, ``base_url``, ...).

    :raises rillet.errors.ConfigError: if the provider is unknown or cannot be inferred
        from ``model`` (a ``ValueError`` too).
    """
    provider, name = _split(model, model_provider)
    make = _PROVIDERS.get(provider.lower())
    if make is None:
        raise ConfigError(
            f"unknown model provider {provider!r} for {model!r}; known providers: "
            f"{', '.join(_PROVIDERS)} (write 'provider:model', e.g. 'openai:gpt-4o-mini')"
        )
    return make(name, kwargs)


def _split(model: str, model_provider: str | None) -> tuple[str, str]:
    """(provider, model name) from the arguments of :func:`init_chat_model`."""
    if model_provider is not None:
        return model_provider, model
    if model.lower() in _PROVIDERS:  # "local": the provider's default model
        return model, ""
    prefix, colon, rest = model.partition(":")
    if colon and prefix.lower() in _PROVIDERS:
        return prefix, rest
    if model.endswith(".gguf"):
        return "local", model
    for start, provider in _INFERRED:
        if model.lower().startswith(start):
            return provider, model
    if colon:
        return prefix, rest
    raise ConfigError(
        f"cannot tell which provider serves {model!r}: write 'provider:model' "
        f"(e.g. 'openai:gpt-4o-mini', 'local') or pass model_provider=; known "
        f"providers: {', '.join(_PROVIDERS)}"
    )
