"""Find a graph from a ``path/to/file.py:attribute`` spec.

The file is imported from its path (it need not be on ``sys.path``); its folder goes
first on ``sys.path`` while it runs, as ``python path/to/file.py`` would put it, so
it can import its neighbours. The attribute may be a compiled graph, a ``StateGraph``
builder (compiled here) or a function taking no arguments that returns either.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from rillet.cli._errors import UsageError, UserCodeError, describe
from rillet.graph import CompiledStateGraph, StateGraph

_SPEC_HELP = "expected PATH.py:ATTRIBUTE, e.g. examples/demo_graphs.py:graph"


def parse_spec(spec: str) -> tuple[Path, str]:
    """Split ``path/to/file.py:attr``.

    :raises UsageError: if there is no ``:attr``, the path is not a ``.py`` file name or
        the attribute is not a Python name.
    """
    path, sep, attr = spec.rpartition(":")
    if not sep or not path or not attr.isidentifier() or not path.endswith(".py"):
        raise UsageError(f"bad graph spec {spec!r}: {_SPEC_HELP}")
    return Path(path), attr


def load_graph(spec: str) -> CompiledStateGraph:
    """The compiled graph named by ``spec``.

    :raises UsageError: for a bad spec, a missing file or attribute, or an attribute
        that is not a graph.
    :raises UserCodeError: if importing the file, calling the factory or compiling
        the builder raised.
    """
    path, attr = parse_spec(spec)
    module = _import_file(path)
    if not hasattr(module, attr):
        raise UsageError(f"{path} has no attribute {attr!r}; {_graph_like_hint(module)}")
    return _as_graph(getattr(module, attr), f"{path}:{attr}")


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise UsageError(f"{path} {what}")
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: typing resolves a TypedDict's string annotations
    # through sys.modules[cls.__module__].
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise UserCodeError(f"importing {path} failed: {describe(exc)}{_where(exc, path)}") from exc
    return module


def _module_name(path: Path) -> str:
    stem = path.stem
    if stem.isidentifier() and stem not in sys.modules:
        return stem
    return f"_rillet_user_{abs(hash(str(path.resolve())))}"


def _where(exc: BaseException, path: Path) -> str:
    """`` (path:line)`` of the innermost frame in the user's file, if any."""
    target = str(path.resolve())
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None:
        return ""
    return f" ({path}:{line})"


def _as_graph(value: Any, where: str) -> CompiledStateGraph:
    if isinstance(value, CompiledStateGraph):
        return value
    if isinstance(value, StateGraph):
        return _compile(value, where)
    if _is_factory(value):
        try:
            made = value()
        except Exception as exc:
            raise UserCodeError(f"{where}() failed: {describe(exc)}") from exc
        if isinstance(made, CompiledStateGraph):
            return made
        if isinstance(made, StateGraph):
            return _compile(made, where)
        raise UsageError(f"{where}() returned {_kind(made)}, not a graph ({_EXPECTED})")
    raise UsageError(f"{where} is {_kind(value)}, not a graph ({_EXPECTED})")


_EXPECTED = "expected a CompiledStateGraph, a StateGraph or a function returning one"


def _compile(builder: StateGraph, where: str) -> CompiledStateGraph:
    try:
        return builder.compile()
    except Exception as exc:
        raise UserCodeError(f"{where} does not compile: {describe(exc)}") from exc


def _is_factory(value: Any) -> bool:
    """A plain function or method callable with no arguments (classes are not)."""
    if not (inspect.isfunction(value) or inspect.ismethod(value)):
        return False
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in signature.parameters.values()
    )


def _kind(value: Any) -> str:
    if inspect.isclass(value):
        return f"the class {value.__name__}"
    if inspect.ismodule(value):
        return f"the module {value.__name__}"
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _graph_like_hint(module: ModuleType) -> str:
    names = sorted(name for name, value in vars(module).items() if _looks_like_graph(value))
    if not names:
        return "it defines no graph"
    return f"graph-like attributes: {', '.join(names)}"


def _looks_like_graph(value: Any) -> bool:
    if isinstance(value, CompiledStateGraph | StateGraph):
        return True
    if not _is_factory(value):
        return False
    # Only a function annotated to return a graph: calling it here could do anything.
    returns = inspect.signature(value).return_annotation
    text = returns if isinstance(returns, str) else getattr(returns, "__name__", "")
    return text in ("CompiledStateGraph", "StateGraph")
