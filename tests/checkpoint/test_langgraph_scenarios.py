"""LangGraph programs about persistence, run with their imports changed to rillet,
print what LangGraph 1.2.22 printed (recorded in ``scenarios/*.langgraph.txt``; ids and
times scrubbed). Where rillet differs on purpose, the line is listed with rillet's text.

``doc_*`` scenarios are the examples of LangGraph's documentation pages (each file names
its page). ``gap_*`` files are documentation examples rillet does not run the same yet;
they are kept, with LangGraph's output, but not run here.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "scenarios"

#: Lines where rillet differs on purpose (clearer errors, a resume with nothing to
#: resume refused): rillet's line, keyed by the line's first word.
INTENDED = {
    line.split(" ", 1)[0]: line
    for line in (HERE / "rillet-differs.txt").read_text().splitlines()
}


def run_on_rillet(name: str) -> list[str]:
    source = (
        (HERE / f"{name}.py")
        .read_text()
        .replace("langchain_core.messages", "rillet.messages")
        .replace("langgraph", "rillet")
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"{name}.py", "exec", dont_inherit=True), {"__name__": name})
    return out.getvalue().splitlines()


SCENARIOS = [
    "basics", "hitl", "subgraphs", "sub_static", "sub_own", "stream_checkpoints", "func",
    "doc_persistence", "doc_interrupts", "doc_time_travel", "doc_functional_api",
    "doc_memory_store", "doc_durable_execution", "doc_persistence_runtime",
    "doc_interrupts_subgraph_state", "sub_in_node",
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_prints_what_langgraph_printed(name: str) -> None:
    expected = []
    for line in (HERE / f"{name}.langgraph.txt").read_text().splitlines():
        tag = line.split(" ", 1)[0]
        expected.append(INTENDED.get(tag, line))
    got = run_on_rillet(name)
    assert got == expected

