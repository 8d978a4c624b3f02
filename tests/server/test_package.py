"""The server extra, the config loader and the ``rillet serve`` command line."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rillet.cli._serve import _listen
from rillet.errors import ConfigError
from rillet.server import ServerConfig, load_config

SRC = Path(__file__).parents[2] / "src"


def test_import_without_the_extra_names_it() -> None:
    code = "import sys; sys.modules['starlette'] = None; import rillet.server"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC)})
    assert out.returncode == 1
    assert "ImportError: rillet.server needs the server extra (starlette is missing): " \
        "pip install 'rillet[server]'" in out.stderr


def test_serve_help_lists_its_options() -> None:
    out = subprocess.run([sys.executable, "-m", "rillet.cli", "serve", "--help"],
                         capture_output=True, text=True, env={"PYTHONPATH": str(SRC)},
                         check=True)
    for option in ("--config", "--host", "--port", "--data-dir", "--api-key", "--log-ttl",
                   "--drain-timeout", "--open"):
        assert option in out.stdout


async def test_the_served_connections_are_tcp_nodelay() -> None:
    # Without TCP_NODELAY each keep-alive response waited ~40 ms for a delayed ACK.
    listening = _listen("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(connected, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        assert await asyncio.wait_for(accepted, 10) == 1
        writer.close()


def test_serve_refuses_a_negative_log_ttl(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "rillet.cli", "serve", "--log-ttl", "-5",
                          "--config", str(tmp_path / "none.json")],
                         capture_output=True, text=True, env={"PYTHONPATH": str(SRC)})
    assert out.returncode != 0
    assert "--log-ttl must be a number of seconds >= 0, got -5.0" in out.stderr


@pytest.mark.parametrize("value", ["-1", "inf", "nan"])
def test_serve_refuses_a_bad_drain_timeout(tmp_path: Path, value: str) -> None:
    out = subprocess.run([sys.executable, "-m", "rillet.cli", "serve", "--drain-timeout",
                          value, "--config", str(tmp_path / "none.json")],
                         capture_output=True, text=True, env={"PYTHONPATH": str(SRC)})
    assert out.returncode != 0
    assert f"--drain-timeout must be a number of seconds >= 0, got {float(value)}" \
        in out.stderr


def test_load_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "helper.py").write_text("WORD = 'hi'\n")
    (tmp_path / "agent.py").write_text(
        "import os\nfrom typing import TypedDict\nfrom helper import WORD\n"
        "from rillet.graph import StateGraph, START\n"
        "class S(TypedDict):\n    x: str\n"
        "def node(s):\n    return {'x': WORD + os.environ['GREETING_SUFFIX']}\n"
        "builder = StateGraph(S).add_node('n', node).add_edge(START, 'n')\n"
        "def make():\n    return builder.compile()\n"
    )
    monkeypatch.delenv("GREETING_SUFFIX", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "langgraph.json").write_text(json.dumps({
        "dependencies": ["./pkg"], "env": {"GREETING_SUFFIX": "!"},
        "graphs": {"built": "./agent.py:builder",
                   "made": {"path": "./agent.py:make", "description": "from a factory"}},
    }))
    config = load_config(tmp_path / "langgraph.json")
    assert isinstance(config, ServerConfig)
    assert sorted(config.graphs) == ["built", "made"]
    assert config.graphs["made"].description == "from a factory"
    assert config.graphs["built"].graph.invoke({"x": ""}) == {"x": "hi!"}


@pytest.mark.parametrize(("graphs", "message"), [
    ({}, "expected an object with a non-empty 'graphs' object"),
    ({"g": "./nowhere.py:graph"}, "graphs.g: "),
    ({"g": "no-colon"}, "graphs.g: bad spec 'no-colon'"),
])
def test_bad_configs(tmp_path: Path, graphs: dict[str, str], message: str) -> None:
    (tmp_path / "langgraph.json").write_text(json.dumps({"graphs": graphs}))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "langgraph.json")
    assert message in str(info.value)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config file at"):
        load_config(tmp_path / "langgraph.json")


@pytest.mark.parametrize("name", ["server.sqlite", "checkpoints.sqlite", "store.sqlite"])
def test_serve_refuses_a_damaged_database_with_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / "agent.py").write_text(
        "from typing import TypedDict\nfrom rillet.graph import StateGraph, START\n"
        "class S(TypedDict):\n    x: int\n"
        "graph = StateGraph(S).add_node('n', lambda s: s).add_edge(START, 'n').compile()\n")
    (tmp_path / "langgraph.json").write_text('{"graphs": {"g": "./agent.py:graph"}}')
    data = tmp_path / "data"
    data.mkdir()
    (data / name).write_bytes(b"this was overwritten " * 100)
    out = subprocess.run([sys.executable, "-m", "rillet.cli", "serve", "--port", "0",
                          "--data-dir", str(data)], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(SRC)}, timeout=60)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr
    assert f"{data / name} is not a readable SQLite database (file is not a database): " \
        "restore it from a backup, or move it away to start with an empty one" in out.stderr


def test_the_wheel_ships_the_playground(tmp_path: Path) -> None:
    # Built from a copy of the sources (the build leaves build/ and egg-info behind).
    root = SRC.parent
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, tmp_path / name)
    shutil.copytree(SRC, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                          str(tmp_path / "dist"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    (wheel,) = (tmp_path / "dist").glob("rillet-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()
                   if name.startswith("rillet/server/playground/")}
    playground = SRC / "rillet" / "server" / "playground"
    assert sorted(shipped) == ["rillet/server/playground/app.js",
                               "rillet/server/playground/index.html",
                               "rillet/server/playground/style.css"]
    for name, body in shipped.items():
        assert body == (playground / Path(name).name).read_bytes()
