"""The code examples of LangGraph's documentation pages, run with their imports changed
to rillet, print what LangGraph 1.2.22 printed.

Each ``NAME.py`` here holds one page's examples (the page's address is at its top),
adapted only to run offline and deterministically: a model call is LangChain's
``GenericFakeChatModel`` with fixed answers. ``NAME.langgraph.txt`` is what the file
printed under LangGraph 1.2.22 (langchain-core 1.8.3); ``record.py`` writes it. Ids and
times are scrubbed by the file itself.

The import rewrite (:data:`REWRITES`, applied in order to the import lines) is the one
a user makes, plus one test-only entry: LangChain's fake chat model module maps to
``_fake_models.py`` here, a ``GenericFakeChatModel`` on rillet's ``ChatModel`` that
answers and streams as LangChain's does.

Lines where rillet differs on purpose are in ``rillet-differs.txt``: rillet's line,
keyed by the line's first word, each after a ``#`` line giving the reason.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

#: Module rewrites, applied in order before ``langgraph`` -> ``rillet``.
REWRITES = [
    ("langchain_core.language_models.fake_chat_models", "_rillet_doc_fake_models"),
    ("langchain_core.messages", "rillet.messages"),
    ("langchain_core.tools", "rillet.tools"),
    ("langchain_core.callbacks", "rillet.callbacks"),
    ("langgraph", "rillet"),
]

#: Pages whose examples run today.
PASSING = [
    "subgraph_memory", "low_level_gaps",
    "graph_api", "low_level", "overwrite", "streaming", "subgraphs", "tool_calling",
    "runtime_context", "managed", "caching", "v2", "root_reducer", "destinations",
]


def _intended() -> dict[str, str]:
    path = HERE / "rillet-differs.txt"
    if not path.exists():
        return {}
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return {line.split(" ", 1)[0]: line for line in lines}


def _fake_models_module() -> None:
    if "_rillet_doc_fake_models" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "_rillet_doc_fake_models", HERE / "_fake_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_rillet_doc_fake_models"] = module
    spec.loader.exec_module(module)


def rewrite(source: str) -> str:
    """The imports rewritten (only ``from X ...`` / ``import X`` lines: a string such
    as ``"langgraph_step"`` stays as it is)."""
    for old, new in REWRITES:
        source = re.sub(
            rf"^(\s*)(from|import) {re.escape(old)}\b", rf"\1\2 {new}", source, flags=re.M
        )
    assert not re.search(r"^\s*(from|import) (langchain_core|langgraph)\b", source, re.M), (
        "an import with no rillet rewrite"
    )
    return source


def run_on_rillet(name: str) -> list[str]:
    _fake_models_module()
    source = rewrite((HERE / f"{name}.py").read_text())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{name}.py", "exec", dont_inherit=True), {"__name__": name})
    return out.getvalue().splitlines()


def expected_lines(name: str) -> list[str]:
    intended = _intended()
    expected = []
    for line in (HERE / f"{name}.langgraph.txt").read_text().splitlines():
        expected.append(intended.get(line.split(" ", 1)[0], line))
    return expected


@pytest.mark.parametrize("name", PASSING)
def test_doc_page_prints_what_langgraph_printed(name: str) -> None:
    assert run_on_rillet(name) == expected_lines(name)
