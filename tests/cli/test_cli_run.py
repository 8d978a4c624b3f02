"""``rillet run``: JSON lines when piped, readable lines with --pretty or in a terminal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import scrub

ROOT = Path(__file__).resolve().parents[2]
GRAPH = "examples/demo_graphs.py:graph"
TOPIC = '{"topic": "ice cream"}'
CHAT_INPUT = '{"messages": [{"role": "user", "content": "hi"}]}'

_RUN_ID = re.compile(r"run-[0-9a-f-]{36}")


def test_json_lines_are_the_default_when_piped(rillet) -> None:
    result = rillet("run", GRAPH, "--input", TOPIC, "--stream-mode", "updates,custom")
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        '{"mode": "updates", "ns": [], "data": {"refine_topic": {"topic": "ice cream and cats"}}}',
        '{"mode": "custom", "ns": [], "data": '
        '{"custom_key": "Writing custom data while generating a joke"}}',
        '{"mode": "updates", "ns": [], "data": '
        '{"generate_joke": {"joke": "This is a joke about ice cream and cats"}}}',
    ]


def test_default_mode_is_updates(rillet) -> None:
    result = rillet("run", GRAPH, "--input", TOPIC, "--json")
    assert result.code == 0
    assert [json.loads(line)["data"] for line in result.lines] == [
        {"refine_topic": {"topic": "ice cream and cats"}},
        {"generate_joke": {"joke": "This is a joke about ice cream and cats"}},
    ]


def test_values_mode_and_config(rillet) -> None:
    result = rillet(
        "run", GRAPH, "--input", TOPIC, "--stream-mode", "values",
        "--config", '{"recursion_limit": 5, "tags": ["cli"]}',
    )
    assert result.code == 0
    assert result.lines == [
        '{"mode": "values", "ns": [], "data": {"topic": "ice cream"}}',
        '{"mode": "values", "ns": [], "data": {"topic": "ice cream and cats"}}',
        '{"mode": "values", "ns": [], "data": '
        '{"topic": "ice cream and cats", "joke": "This is a joke about ice cream and cats"}}',
    ]


def test_a_builder_and_a_factory_run_like_the_compiled_graph(rillet) -> None:
    expected = rillet("run", GRAPH, "--input", TOPIC).lines
    assert len(expected) == 2
    for spec in ("examples/demo_graphs.py:builder", "examples/demo_graphs.py:make_graph"):
        result = rillet("run", spec, "--input", TOPIC)
        assert (result.code, result.lines) == (0, expected)


def test_subgraphs_carry_their_namespace(rillet) -> None:
    result = rillet(
        "run", "examples/demo_graphs.py:nested", "--input", '{"foo": "foo"}', "--subgraphs"
    )
    assert result.code == 0
    assert [scrub(json.loads(line)) for line in result.lines] == [
        {"mode": "updates", "ns": [], "data": {"node_1": {"foo": "hi! foo"}}},
        {"mode": "updates", "ns": ["node_2:<id>"], "data": {"subgraph_node_1": {"bar": "bar"}}},
        {"mode": "updates", "ns": ["node_2:<id>"],
         "data": {"subgraph_node_2": {"foo": "hi! foobar"}}},
        {"mode": "updates", "ns": [], "data": {"node_2": {"foo": "hi! foobar"}}},
    ]


def test_messages_are_encoded_as_dicts(rillet) -> None:
    result = rillet(
        "run", "examples/demo_graphs.py:chat", "--input", CHAT_INPUT,
        "--stream-mode", "messages,updates",
    )
    assert result.code == 0
    items = [scrub(json.loads(_RUN_ID.sub("run-<id>", line))) for line in result.lines]
    chunk = {
        "type": "AIMessageChunk", "content": None, "additional_kwargs": {},
        "response_metadata": {}, "name": None, "id": "run-<id>", "tool_calls": [],
        "invalid_tool_calls": [], "usage_metadata": None, "tool_call_chunks": [],
        "chunk_position": None,
    }
    metadata = {
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": "call_model",
        "langgraph_triggers": ["branch:to:call_model"],
        "langgraph_path": ["__pregel_pull", "call_model"],
        "langgraph_checkpoint_ns": "call_model:<id>",
        "checkpoint_ns": "call_model:<id>",
        "ls_provider": "fake",
        "ls_model_name": "fake-chat-model",
        "ls_model_type": "chat",
    }
    assert items[:3] == [
        {"mode": "messages", "ns": [], "data": [{**chunk, "content": word}, metadata]}
        for word in ["Hello", " there,", " friend."]
    ]
    answer = {
        "type": "ai", "content": "Hello there, friend.", "additional_kwargs": {},
        "response_metadata": {}, "name": None, "id": "run-<id>", "tool_calls": [],
        "invalid_tool_calls": [], "usage_metadata": None,
    }
    assert items[3:] == [
        {"mode": "updates", "ns": [], "data": {"call_model": {"messages": [answer]}}}
    ]


def test_pretty_lines(rillet) -> None:
    result = rillet(
        "run", GRAPH, "--input", TOPIC, "--stream-mode", "updates,custom", "--pretty"
    )
    assert result.code == 0
    assert result.lines == [
        'updates  refine_topic: {"topic": "ice cream and cats"}',
        'custom   {"custom_key": "Writing custom data while generating a joke"}',
        'updates  generate_joke: {"joke": "This is a joke about ice cream and cats"}',
    ]


def test_pretty_subgraphs_name_the_node_path(rillet) -> None:
    result = rillet(
        "run", "examples/demo_graphs.py:nested", "--input", '{"foo": "foo"}',
        "--subgraphs", "--pretty",
    )
    assert result.lines == [
        'updates  node_1: {"foo": "hi! foo"}',
        'updates  node_2/subgraph_node_1: {"bar": "bar"}',
        'updates  node_2/subgraph_node_2: {"foo": "hi! foobar"}',
        'updates  node_2: {"foo": "hi! foobar"}',
    ]


def test_pretty_tokens_share_a_line(rillet) -> None:
    result = rillet(
        "run", "examples/demo_graphs.py:chat", "--input", CHAT_INPUT,
        "--stream-mode", "messages,updates", "--pretty",
    )
    assert result.lines == [
        "messages call_model: Hello there, friend.",
        'updates  call_model: {"messages": [{"type": "ai", "content": "Hello there, friend."}]}',
    ]


def test_a_terminal_gets_pretty_coloured_lines(rillet_tty) -> None:
    result = rillet_tty("run", GRAPH, "--input", TOPIC, "--stream-mode", "custom")
    assert result.code == 0
    assert result.lines == [
        '\x1b[35mcustom  \x1b[0m {"custom_key": "Writing custom data while generating a joke"}'
    ]


def test_the_console_script_matches_python_dash_m(rillet) -> None:
    script = Path(sys.executable).with_name("rillet")  # installed by pip install -e
    proc = subprocess.run(
        [str(script), "run", GRAPH, "--input", TOPIC],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, rillet("run", GRAPH, "--input", TOPIC).out)
