"""The CLI's errors: one ``rillet: error:`` line on stderr, exit 2 for a bad command
line, 1 for an exception in the user's graph, 130 for Ctrl-C; never a traceback."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DEMO = "examples/demo_graphs.py"
EXPECTED_GRAPH = "expected a CompiledStateGraph, a StateGraph or a function returning one"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "examples/missing.py:graph", "--input", "{}"],
            "examples/missing.py does not exist",
        ),
        (
            ["run", "examples:graph", "--input", "{}"],
            "bad graph spec 'examples:graph': expected PATH.py:ATTRIBUTE, "
            "e.g. examples/demo_graphs.py:graph",
        ),
        (
            ["run", DEMO, "--input", "{}"],
            "bad graph spec 'examples/demo_graphs.py': expected PATH.py:ATTRIBUTE, "
            "e.g. examples/demo_graphs.py:graph",
        ),
        (
            ["draw", f"{DEMO}:"],
            "bad graph spec 'examples/demo_graphs.py:': expected PATH.py:ATTRIBUTE, "
            "e.g. examples/demo_graphs.py:graph",
        ),
        (
            ["run", f"{DEMO}:grpah", "--input", "{}"],
            "examples/demo_graphs.py has no attribute 'grpah'; graph-like attributes: "
            "builder, chat, failing, graph, make_graph, nested, subgraph, ticker",
        ),
        (
            ["run", f"{DEMO}:State", "--input", "{}"],
            f"examples/demo_graphs.py:State is the class State, not a graph ({EXPECTED_GRAPH})",
        ),
        (
            ["draw", f"{DEMO}:not_a_graph"],
            f"examples/demo_graphs.py:not_a_graph is an int, not a graph ({EXPECTED_GRAPH})",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", '{"topic": "ice cream",}'],
            "--input is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 1 column 23 (char 22), near '}'",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", '{"topic": '],
            "--input is not valid JSON: Expecting value at line 1 column 11 (char 10), "
            "at the end",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", '{"topic": "x"}', "--config", "tags"],
            "--config is not valid JSON: Expecting value at line 1 column 1 (char 0), "
            "near 'tags'",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", '{"subject": "ice cream"}'],
            "--input does not fit the graph's state: The graph input has key 'subject', "
            "which is not in the state State (keys: topic, joke).",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", '["ice cream"]'],
            "--input does not fit the graph's state: The graph input must be a dict of "
            "state keys (topic, joke), got list: ['ice cream']",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", "{}", "--stream-mode", "updates,token"],
            "Unknown stream mode 'token': choose from values, updates, custom, messages, "
            "debug, tasks, checkpoints",
        ),
        (
            ["run", f"{DEMO}:graph", "--input", "{}", "--config", "[]"],
            "--config must be a JSON object, got []",
        ),
        (
            ["demo", "--model", "openai:gpt-4o-mini"],
            "--model openai:gpt-4o-mini needs OPENAI_API_KEY set in the environment",
        ),
        (
            ["demo", "--model", "local:/no/such/model.gguf"],
            "--model local:/no/such/model.gguf: LocalChatModel: no GGUF model file at "
            "'/no/such/model.gguf' (model_path must be the path of a .gguf file)",
        ),
    ],
)
def test_usage_errors(rillet, args: list[str], message: str) -> None:
    result = rillet(*args)
    assert (result.code, result.out, result.err) == (2, "", f"rillet: error: {message}\n")


def test_an_exception_in_the_graph_exits_1_after_the_items_before_it(rillet) -> None:
    result = rillet("run", f"{DEMO}:failing", "--input", '{"topic": "cats"}')
    assert result.code == 1
    assert result.lines == [
        '{"mode": "updates", "ns": [], "data": {"refine_topic": {"topic": "cats and cats"}}}'
    ]
    err = re.sub(r"id '[0-9a-f-]{36}'", "id '<id>'", result.err)
    assert err.splitlines() == [
        "rillet: error: ValueError: no joke about cats and cats",
        "  During task with name 'tell_joke' and id '<id>'",
    ]


def test_a_file_that_fails_to_import(rillet, tmp_path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("from rillet.graph import StateGraph\n\nbuilder = StateGraph(Stat)\n")
    result = rillet("run", f"{path}:builder", "--input", "{}")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"rillet: error: importing {path} failed: NameError: name 'Stat' is not defined "
        f"({path}:3)\n"
    )


def test_a_builder_that_does_not_compile(rillet, tmp_path) -> None:
    path = tmp_path / "no_entry.py"
    path.write_text(
        "from typing import TypedDict\n"
        "from rillet.graph import StateGraph\n\n"
        "class S(TypedDict):\n    x: int\n\n"
        "builder = StateGraph(S).add_node('a', lambda s: s)\n"
    )
    result = rillet("run", f"{path}:builder", "--input", "{}")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"rillet: error: {path}:builder does not compile: GraphBuildError: The graph has no "
        "entry point: add an edge from START to the first node, e.g. add_edge(START, 'my_node')\n"
    )


def test_a_file_next_to_its_modules_can_import_them(rillet, tmp_path) -> None:
    (tmp_path / "shared.py").write_text("SUFFIX = '!'\n")
    (tmp_path / "app.py").write_text(
        "from typing import TypedDict\n"
        "from rillet.graph import START, StateGraph\n"
        "from shared import SUFFIX\n\n"
        "class S(TypedDict):\n    x: str\n\n"
        "def shout(state: S) -> dict:\n    return {'x': state['x'] + SUFFIX}\n\n"
        "def make():\n"
        "    return StateGraph(S).add_node(shout).add_edge(START, 'shout')\n"
    )
    result = rillet("run", f"{tmp_path / 'app.py'}:make", "--input", '{"x": "hi"}')
    assert (result.code, result.err) == (0, "")
    assert result.lines == ['{"mode": "updates", "ns": [], "data": {"shout": {"x": "hi!"}}}']


def test_ctrl_c_closes_the_stream_and_exits_130() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rillet.cli", "run", f"{DEMO}:ticker", "--input", "{}",
         "--stream-mode", "custom"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the node is running and streaming
    assert first == '{"mode": "custom", "ns": [], "data": {"tick": 1}}\n'
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (130, "rillet: interrupted\n")
    ticks = [first, *out.splitlines(keepends=True)]
    assert ticks == [
        f'{{"mode": "custom", "ns": [], "data": {{"tick": {n}}}}}\n'
        for n in range(1, len(ticks) + 1)
    ]


def test_argparse_errors_exit_2(rillet) -> None:
    result = rillet("run", f"{DEMO}:graph")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "rillet run: error: the following arguments are required: --input"
    )
