"""The README's set-up commands and code examples stay true."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_example_runs(index: int) -> None:
    code = _blocks("python")[index]
    exec(compile(code, f"README.md example {index + 1}", "exec", dont_inherit=True),
         {"__name__": "readme"})
