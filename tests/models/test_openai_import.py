"""Without the ``openai`` package, the OpenAI integration says which extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest

import rillet.models

MESSAGE = (
    "OpenAIChatModel and wrap_openai need the openai package: pip install 'rillet[openai]'"
)


@pytest.fixture
def no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # makes `import openai` fail
    monkeypatch.delitem(sys.modules, "rillet.models._openai", raising=False)
    for name in ("OpenAIChatModel", "wrap_openai"):  # cached by rillet.models.__getattr__
        monkeypatch.delitem(vars(rillet.models), name, raising=False)


@pytest.mark.usefixtures("no_openai")
def test_importing_the_module() -> None:
    with pytest.raises(ImportError) as info:
        importlib.import_module("rillet.models._openai")
    assert str(info.value) == MESSAGE
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


@pytest.mark.usefixtures("no_openai")
@pytest.mark.parametrize("name", ["OpenAIChatModel", "wrap_openai"])
def test_importing_the_public_names(name: str) -> None:
    with pytest.raises(ImportError, match=r"pip install 'rillet\[openai\]'"):
        getattr(rillet.models, name)

