"""The playground page of a real ``rillet serve`` in headless Chromium.

``playground.mjs`` (Playwright's ``playwright-core``, driving Debian's ``chromium``; both
installed by ``scripts/test.sh``) picks the ``draft`` graph, checks the server's SVG
drawing, starts a run and sees its tokens in the page while the run still waits (the
graph's ``write`` node waits for a file the script creates only after that), sees the
updates and custom data labelled by node and subgraph, answers the interrupt, opens the
history, forks from the checkpoint before the review and answers no, runs ``counter``
with its first stream cut after three events (the page joins the run again with
``Last-Event-ID``), then loads the first thread on a phone-sized screen. Any console
or page error fails it. The screenshots are kept in ``test-artifacts/playground/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.graphs import DRAFT
from tests.server.conftest import start_server, stop_server

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "playground"
TOKEN = "Bearer playground-token"
AUTH_PY = f'''
from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    if authorization != {TOKEN!r}:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Unauthorized")
    return "tester"
'''


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no chromium: scripts/test.sh installs it (apt-get install chromium)"
    assert (HERE / "node_modules" / "playwright-core").is_dir(), \
        "no playwright-core: run `npm ci` in tests/browser (scripts/test.sh does)"
    return found


def _drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifacts: Path,
           token: str = "", config: dict[str, object] | None = None) -> dict[str, Any]:
    chromium = _chromium()
    gate = tmp_path / "gate"
    monkeypatch.setenv("PLAYGROUND_GATE", str(gate))
    server = start_server(tmp_path, graphs=HERE / "graphs.py", names=("draft", "counter"),
                          config=config)
    try:
        shutil.rmtree(artifacts, ignore_errors=True)
        artifacts.mkdir(parents=True)
        env = {**os.environ, "URL": server.url + "/", "GATE": str(gate),
               "ARTIFACTS": str(artifacts), "CHROMIUM": chromium, "AUTHORIZATION": token}
        out = subprocess.run(["node", str(HERE / "playground.mjs")], cwd=HERE, env=env,
                             capture_output=True, text=True, timeout=240)
    finally:
        stop_server(server)
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0 and lines, (out.stdout + out.stderr)[-4000:]
    seen: dict[str, Any] = json.loads(lines[-1])
    return seen


def _rows(seen: dict[str, Any], key: str) -> list[list[Any]]:
    """The event rows with their data parsed (a message's generated id left out)."""
    rows = []
    for kind, node, ns, data in seen[key]:
        value = json.loads(data)
        if node == "write":
            for message in value["messages"]:
                message.pop("id")
        rows.append([kind, node, ns, value])
    return rows


AI = {"type": "ai", "content": DRAFT, "additional_kwargs": {}, "response_metadata": {},
      "name": None, "tool_calls": [], "invalid_tool_calls": [], "usage_metadata": None}
BEFORE_GATE = [
    ["custom", "search", "research", {"hits": 3, "topic": "rivers"}],
    ["update", "search", "research", {"notes": ["rivers: erosion", "sediment"]}],
    ["update", "research", "", {"topic": "rivers", "notes": ["rivers: erosion", "sediment"],
                                "messages": []}],
]
QUESTION = {"question": "Publish this draft?", "draft": DRAFT}


def _check_run(seen: dict[str, Any]) -> None:
    assert seen["graphs"] == ["counter", "draft"]
    assert seen["drawnNodes"] == ["__start__", "write", "review", "publish", "__end__",
                                  "research:search"]
    assert seen["subgraphs"] == ["research"]
    # all the tokens, shown while the run was still running (it waits for the gate)
    assert seen["tokens"] == [DRAFT]
    assert seen["tokenLabels"] == [["write", ""]]
    assert seen["statusWhileTokens"] == "running"
    assert _rows(seen, "eventsBeforeGate") == BEFORE_GATE
    assert _rows(seen, "eventsAtInterrupt") == [
        *BEFORE_GATE,
        ["update", "write", "", {"messages": [AI], "status": "draft"}],
        ["interrupt", "review", "", [QUESTION]],
    ]
    assert seen["interruptNode"] == "review"
    assert seen["interruptValue"] == QUESTION
    assert _rows(seen, "eventsAfterResume") == [
        ["update", "review", "", {"approved": True}],
        ["custom", "publish", "", {"published": True}],
        ["update", "publish", "", {"status": "published"}],
    ]
    values = {"topic": "rivers", "notes": ["rivers: erosion", "sediment"],
              "messages": [{**AI, "id": seen["state"]["values"]["messages"][0]["id"]}],
              "status": "draft"}
    assert seen["state"] == {"values": {**values, "approved": True, "status": "published"},
                             "next": []}
    assert seen["history"] == [["step 4", "done"], ["step 3", "next: publish"],
                               ["step 2", "next: review"], ["step 1", "next: write"],
                               ["step 0", "next: research"], ["step -1", "next: __start__"]]
    assert seen["forkNote"] is True
    assert seen["forkInput"] == "null"
    assert _rows(seen, "eventsAfterFork") == [["update", "review", "", {"approved": False}]]
    assert seen["forkedState"] == {"values": {**values, "approved": False}, "next": []}
    # the fork's checkpoints come first, the first run's stay below them
    assert seen["historyAfterFork"] == [["step 4", "done"], ["step 3", "next: review"],
                                        *seen["history"]]
    # the first stream cut after three events: joined again from the third one's id
    assert seen["cutAfter"] == ["0", "1", "2"]
    assert seen["joins"] == ["2"]
    assert _rows(seen, "eventsAfterReconnect") == [["update", node, "", {"x": x}]
                                                   for node, x in (("a", 1), ("b", 2), ("c", 3))]
    assert seen["phoneState"] == seen["forkedState"]
    assert seen["phoneWidths"] == [390, 390]  # nothing wider than the phone's screen
    assert seen["problems"] == []


def test_the_playground_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _drive(tmp_path, monkeypatch, ARTIFACTS)
    _check_run(seen)
    for name in ("desktop-streaming", "desktop-interrupt", "desktop", "phone", "phone-full"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


def test_the_playground_with_custom_auth(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The page loads without the token; the API answers 401 until the page has it.
    (tmp_path / "auth.py").write_text(AUTH_PY)
    seen = _drive(tmp_path, monkeypatch, ARTIFACTS / "auth", token=TOKEN,
                  config={"auth": {"path": "./auth.py:auth"}})
    assert seen["unauthorized"] == ("Unauthorized\nThis server needs an API key or a token: "
                                    "set it under Auth.")
    _check_run(seen)
