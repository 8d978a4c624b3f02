"""``init_chat_model``: a chat model from a ``"provider:model"`` string."""

from __future__ import annotations

from pathlib import Path

import pytest

from rillet.errors import ConfigError
from rillet.models import ChatModel, init_chat_model


@pytest.fixture(scope="module")
def gguf() -> Path:
    import llama_cpp  # noqa: F401

    from rillet.models._local import default_model_path

    return default_model_path()


@pytest.mark.parametrize(
    ("model", "provider"),
    [("openai:gpt-4o-mini", None), ("gpt-4o-mini", "openai"), ("gpt-4o-mini", None),
     ("OpenAI:gpt-4o-mini", None), ("gpt-4o-mini", "OPENAI")],
)
def test_openai(model: str, provider: str | None) -> None:
    import openai  # noqa: F401

    from rillet.models import OpenAIChatModel

    chat = init_chat_model(
        model, model_provider=provider, temperature=0.2, api_key="sk-test",
        base_url="http://127.0.0.1:9/v1", tags=["t"],
    )

    assert type(chat) is OpenAIChatModel
    assert (chat.model, chat.model_name, chat.provider) == ("gpt-4o-mini", "gpt-4o-mini", "openai")
    assert (chat.temperature, chat.api_key, chat.base_url) == (0.2, "sk-test", "http://127.0.0.1:9/v1")
    assert chat.tags == ["t"]


def test_openai_alone_takes_the_default_model() -> None:
    import openai  # noqa: F401

    assert init_chat_model("openai", api_key="sk-test").model_name == "gpt-4o-mini"


def test_other_openai_names_are_inferred() -> None:
    import openai  # noqa: F401

    assert init_chat_model("o3-mini", api_key="sk-test").provider == "openai"


def test_local_default_model(gguf: Path) -> None:
    from rillet.models import LocalChatModel

    chat = init_chat_model("local", max_tokens=5, temperature=0.3)

    assert type(chat) is LocalChatModel
    assert (chat.model_path, chat.max_tokens, chat.temperature) == (gguf, 5, 0.3)
    assert chat.provider == "llamacpp"


@pytest.mark.parametrize("spec", ["local:{path}", "llamacpp:{path}", "{path}"])
def test_local_model_file(gguf: Path, spec: str) -> None:
    from rillet.models import LocalChatModel

    chat = init_chat_model(spec.format(path=gguf), n_ctx=512)

    assert type(chat) is LocalChatModel
    assert (chat.model_path, chat.model_name, chat.n_ctx) == (gguf, gguf.stem, 512)


def test_local_model_file_with_model_provider(gguf: Path) -> None:
    chat = init_chat_model(str(gguf), model_provider="local")

    assert isinstance(chat, ChatModel)
    assert chat.model_name == gguf.stem


def test_local_missing_file_is_named(gguf: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.gguf"

    with pytest.raises(FileNotFoundError, match="no GGUF model file at"):
        init_chat_model(f"local:{missing}")


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        init_chat_model("anthropic:claude-3-5-sonnet")

    assert str(info.value) == (
        "unknown model provider 'anthropic' for 'anthropic:claude-3-5-sonnet'; known "
        "providers: openai, local, llamacpp (write 'provider:model', e.g. "
        "'openai:gpt-4o-mini')"
    )


def test_unknown_model_provider_keyword_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"^unknown model provider 'acme' for 'm1'; known "
                                          r"providers: openai, local, llamacpp"):
        init_chat_model("m1", model_provider="acme")


def test_a_model_whose_provider_cannot_be_told() -> None:
    with pytest.raises(ConfigError) as info:
        init_chat_model("mystery-model")

    assert str(info.value) == (
        "cannot tell which provider serves 'mystery-model': write 'provider:model' "
        "(e.g. 'openai:gpt-4o-mini', 'local') or pass model_provider=; known providers: "
        "openai, local, llamacpp"
    )
