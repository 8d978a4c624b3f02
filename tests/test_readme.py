"""The README's set-up commands and code examples stay true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = [b.strip() for b in _blocks("bash")]
    assert len(commands) == 2
    main_job, tests = commands
    assert tests == "bash scripts/test.sh" and main_job == "bash scripts/demo.sh"
    assert "pytest" in (ROOT / "scripts" / "test.sh").read_text()
    assert "rillet demo" in (ROOT / "scripts" / "demo.sh").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


@pytest.fixture(scope="module")
def readme_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rillet serve`` on the "Serve it" section's own ``langgraph.json`` and
    ``agent.py``, on a free port; its address (the client example reads it from
    ``$RILLET_URL``)."""
    folder = tmp_path_factory.mktemp("readme-serve")
    (config,) = _blocks("json")
    (agent,) = [b for b in _blocks("python") if b.startswith("# agent.py\n")]
    (folder / "langgraph.json").write_text(config)
    (folder / "agent.py").write_text(agent)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "rillet.cli", "serve", "--config", "langgraph.json",
         "--port", "0", "--data-dir", str(folder / "data")],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    listening = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if " at http://" in line:
                listening.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert listening.wait(30), "rillet serve did not start:\n" + "".join(lines)
        line = next(line for line in lines if " at http://" in line)
        assert line.startswith("rillet: serving refunds at http://127.0.0.1:")
        yield line.split(" at ", 1)[1].split()[0]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_example_runs(index: int, request: pytest.FixtureRequest,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code = _blocks("python")[index]
    if "RILLET_URL" in code:  # the "Serve it" client: against the section's own server
        monkeypatch.setenv("RILLET_URL", request.getfixturevalue("readme_server"))
        for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
            monkeypatch.delenv(key, raising=False)
    exec(compile(code, f"README.md example {index + 1}", "exec", dont_inherit=True),
         {"__name__": "readme"})
