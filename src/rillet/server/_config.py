"""``langgraph.json``: which graphs to serve, the environment, extra import paths.

Graph entries are ``"./path/to/file.py:name"`` (resolved against the config file's
folder) or ``"package.module:name"``, or ``{"path": ..., "description": ...}``; the name
may be a compiled graph, a ``StateGraph`` (compiled here) or a factory taking no
arguments. ``env`` is a dict or the path of a ``.env`` file; ``dependencies`` are
folders put on ``sys.path`` (relative to the config file). ``auth.path`` names a
``langgraph_sdk.Auth`` object (see ``_auth``); ``http.cors`` sets CORS (CORSMiddleware's
options).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rillet.errors import ConfigError
from rillet.graph import CompiledStateGraph

if TYPE_CHECKING:
    from rillet.server._auth import AuthHandlers

__all__ = ["GraphEntry", "ServerConfig", "load_config"]


@dataclass(frozen=True)
class GraphEntry:
    """One served graph: its id (the key in ``graphs``), the graph, a description."""

    graph_id: str
    graph: CompiledStateGraph
    description: str | None = None


@dataclass(frozen=True)
class ServerConfig:
    """What the server serves; built by :func:`load_config` or from graphs directly."""

    graphs: dict[str, GraphEntry] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: The handlers of ``auth.path`` (see ``_auth``); ``None``: no custom auth.
    auth: AuthHandlers | None = None
    #: ``http.cors`` (CORSMiddleware's options); ``None``: allow every origin.
    cors: dict[str, Any] | None = None

    @classmethod
    def from_graphs(cls, graphs: Mapping[str, Any]) -> ServerConfig:
        """A config serving ``{graph_id: graph}`` (compiled graphs, builders, factories)."""
        return cls({gid: GraphEntry(gid, _as_graph(value, gid)) for gid, value in graphs.items()})


def load_config(path: str | os.PathLike[str]) -> ServerConfig:
    """Read ``langgraph.json`` at ``path``, apply its ``env`` and ``dependencies`` and
    load its graphs.

    :raises ConfigError: if the file is missing or not JSON, an entry is malformed, or
        a graph cannot be found or loaded (the message names the entry).
    """
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no config file at {file} (pass --config PATH)") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {file}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("graphs"), dict) or not raw["graphs"]:
        raise ConfigError(f"{file}: expected an object with a non-empty 'graphs' object")
    base = file.resolve().parent
    env = _load_env(raw.get("env"), base)
    os.environ.update(env)
    for dep in raw.get("dependencies") or []:
        folder = str((base / dep).resolve()) if isinstance(dep, str) else None
        if folder is not None and Path(folder).is_dir() and folder not in sys.path:
            sys.path.insert(0, folder)
    graphs = {}
    for graph_id, spec in raw["graphs"].items():
        description = None
        if isinstance(spec, dict):
            description = spec.get("description")
            spec = spec.get("path")
        if not isinstance(spec, str):
            raise ConfigError(
                f"{file}: graphs.{graph_id} must be 'path.py:name' or {{'path': ...}}"
            )
        graphs[graph_id] = GraphEntry(graph_id, _load_graph(spec, base, graph_id), description)
    from rillet.server._auth import load_auth

    auth = load_auth(raw.get("auth"), base)
    return ServerConfig(graphs, env, auth, _read_cors(raw.get("http"), file))


_CORS_KEYS = {"allow_origins": list, "allow_methods": list, "allow_headers": list,
              "allow_credentials": bool, "expose_headers": list, "max_age": int,
              "allow_origin_regex": str}


_KIND_NAMES = {list: "a list", bool: "true or false", int: "an integer", str: "a string"}


def _read_cors(http: Any, file: Path) -> dict[str, Any] | None:
    """``http.cors`` checked against CORSMiddleware's options."""
    if http is None:
        return None
    if not isinstance(http, dict):
        raise ConfigError(f"{file}: 'http' must be an object")
    cors = http.get("cors")
    if cors is None:
        return None
    if not isinstance(cors, dict):
        raise ConfigError(f"{file}: 'http.cors' must be an object")
    for key, value in cors.items():
        kind = _CORS_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{file}: http.cors.{key} is unknown; expected one of "
                              f"{', '.join(_CORS_KEYS)}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{file}: http.cors.{key} must be {_KIND_NAMES[kind]}, "
                              f"got {value!r}")
    return dict(cors)


def _load_env(env: Any, base: Path) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, dict):
        return {str(k): str(v) for k, v in env.items()}
    if isinstance(env, str):
        values: dict[str, str] = {}
        try:
            lines = (base / env).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read env file {env}: {exc}") from exc
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.removeprefix("export ").partition("=")
                values[key.strip()] = value.strip().strip("'\"")
        return values
    raise ConfigError("'env' must be an object or the path of a .env file")


def _load_graph(spec: str, base: Path, graph_id: str) -> CompiledStateGraph:
    return _as_graph(load_object(spec, base, f"graphs.{graph_id}"), graph_id)


def load_object(spec: str, base: Path, where_in_config: str) -> Any:
    """The object ``"./file.py:name"`` (relative to ``base``) or ``"module:name"`` names.

    :raises ConfigError: naming ``where_in_config`` if it cannot be imported or found.
    """
    from rillet.cli._errors import UsageError, UserCodeError
    from rillet.cli._load import _import_file

    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise ConfigError(f"{where_in_config}: bad spec {spec!r}, expected 'path.py:name'")
    try:
        if where.endswith(".py"):
            module: Any = _import_file(Path(base, where))
        else:
            module = importlib.import_module(where)
    except (UsageError, UserCodeError, ImportError) as exc:
        raise ConfigError(f"{where_in_config}: {exc}") from exc
    if not hasattr(module, attr):
        raise ConfigError(f"{where_in_config}: {where} has no attribute {attr!r}")
    return getattr(module, attr)


def _as_graph(value: Any, graph_id: str) -> CompiledStateGraph:
    from rillet.cli._errors import UsageError, UserCodeError
    from rillet.cli._load import _as_graph as as_graph

    try:
        return as_graph(value, f"graphs.{graph_id}")
    except (UsageError, UserCodeError) as exc:
        raise ConfigError(str(exc)) from exc
