"""``rillet demo``: the ReAct agent of seed 004, live in a terminal.

The scripted model (``--model fake``) pins the rendering exactly; the embedded local
model runs once to show the same pieces with a real model.
"""

from __future__ import annotations

import re

from rillet.models import init_chat_model

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

FAKE_OUTPUT = [
    "user: what's in the bedroom?",
    "── agent ──",
    'get_items({"place": "bedroom"})',
    "── tools ──",
    '  custom {"custom_tool_data": "socks"}',
    '  custom {"custom_tool_data": "shoes"}',
    '  custom {"custom_tool_data": "dust bunnies"}',
    "  get_items → socks, shoes and dust bunnies",
    "── agent ──",
    "In the bedroom you will find socks, shoes and dust bunnies.",
]


def test_fake_model_in_a_terminal(rillet_tty) -> None:
    result = rillet_tty("demo", "--model", "fake")
    assert (result.code, result.err) == (0, "")
    assert _ANSI.sub("", result.out).splitlines() == FAKE_OUTPUT
    lines = result.out.splitlines()
    assert lines[1] == "\x1b[1;34m── agent ──\x1b[0m"
    # The call streams: the name, then each piece of the arguments, then ")".
    assert lines[2] == (
        '\x1b[36;1mget_items(\x1b[0m\x1b[36m{"place":\x1b[0m\x1b[36m "bedroom"}\x1b[0m'
        "\x1b[36m)\x1b[0m"
    )
    assert lines[4] == '  \x1b[35mcustom\x1b[0m {"custom_tool_data": "socks"}'
    assert lines[7] == "  \x1b[32mget_items →\x1b[0m socks, shoes and dust bunnies"


def test_fake_model_piped_has_no_colour(rillet) -> None:
    result = rillet("demo", "--model", "fake")
    assert (result.code, result.err) == (0, "")
    assert result.lines == FAKE_OUTPUT
    assert "\x1b" not in result.out


def test_no_color_turns_colour_off_in_a_terminal(rillet_tty) -> None:
    result = rillet_tty("demo", "--model", "fake", env={"NO_COLOR": "1"})
    assert result.code == 0
    assert result.lines == FAKE_OUTPUT


def test_local_model_in_a_terminal(rillet_tty) -> None:
    init_chat_model("local")  # fails here, clearly, if llama.cpp or SmolLM2 is missing
    result = rillet_tty("demo")
    assert (result.code, result.err) == (0, "")
    plain = _ANSI.sub("", result.out)
    lines = plain.splitlines()
    assert lines[:3] == [
        "user: what's in the bedroom?",
        "loading the local model (SmolLM2-135M-Instruct.Q4_1)…",
        "── agent ──",
    ]
    assert lines[3].startswith("get_items("), (
        f"the local model answered without calling get_items:\n{plain}"
    )
    assert re.fullmatch(r'get_items\(\{ ?"place": ?"[^"]+" ?\}\)', lines[3]), plain
    # The arguments arrived in pieces, each written as it came.
    assert result.out.splitlines()[3].count("\x1b[36m") > 2, result.out
    assert lines[4] == "── tools ──"
    assert lines[5].startswith('  custom {"custom_tool_data": '), plain
    answer_at = lines.index("── agent ──", 5)
    assert lines[answer_at - 1].startswith("  get_items → "), plain
    assert " ".join(lines[answer_at + 1 :]).strip(), plain


def test_ctrl_c_stops_the_local_model(rillet_tty) -> None:
    # The signal goes as soon as the agent node starts, long before the run (a model
    # load and two answers) could end.
    result = rillet_tty("demo", interrupt_at=re.compile("── agent ──"))
    assert (result.code, result.err) == (130, "rillet: interrupted\n")
    lines = _ANSI.sub("", result.out).splitlines()
    assert lines[:3] == [
        "user: what's in the bedroom?",
        "loading the local model (SmolLM2-135M-Instruct.Q4_1)…",
        "── agent ──",
    ]
    assert "── tools ──" not in lines, result.out
    assert result.out.endswith("\n")  # a line cut short by Ctrl-C is still ended
