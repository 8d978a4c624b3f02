"""Checks of what a run is called with: its config and its options.

Every check runs at the call (``invoke``, ``stream``, ``astream_events`` ...), before
any node does, so a mistake is reported where it was made rather than deep in a run.
A value of the wrong type is a :class:`UsageError`; a value of the right type that
rillet cannot use is a :class:`ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rillet._constants import DEFAULT_RECURSION_LIMIT
from rillet.errors import ConfigError, UsageError
from rillet.graph._node import as_names

__all__ = ["CONFIG_KEYS", "check_config", "check_flag", "check_names", "recursion_limit"]

CONFIG_KEYS = frozenset(
    {
        "configurable",
        "metadata",
        "tags",
        "recursion_limit",
        "max_concurrency",
        "callbacks",
        "run_name",
        "run_id",
    }
)


def check_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """A checked copy of a run's config; ``callbacks`` becomes a list of handlers.

    :raises UsageError: if the config, or one of its values, has the wrong type.
    :raises ConfigError: for an unknown key or a value rillet cannot use.
    """
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UsageError(f"config must be a dict, got {type(config).__name__}: {config!r}")
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise ConfigError(
            f"Unknown config key(s) {sorted(unknown)}: config takes "
            f"{', '.join(sorted(CONFIG_KEYS))}; put your own values in config['configurable']"
        )
    limit = config.get("max_concurrency")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ConfigError(f"max_concurrency must be a positive int or None, got {limit!r}")
    for key in ("metadata", "configurable"):
        value = config.get(key)
        if value is not None and not isinstance(value, dict):
            raise UsageError(f"config[{key!r}] must be a dict, got {type(value).__name__}")
    tags = config.get("tags")
    if tags is not None and (
        not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags)
    ):
        raise UsageError(f"config['tags'] must be a list of strings, got {tags!r}")
    run_name = config.get("run_name")
    if run_name is not None and not isinstance(run_name, str):
        raise UsageError(f"config['run_name'] must be a str, got {type(run_name).__name__}")
    recursion_limit(config)
    checked = dict(config)
    if config.get("callbacks") is not None:
        checked["callbacks"] = _handlers(config["callbacks"])
    return checked


def recursion_limit(config: dict[str, Any] | None) -> int:
    """The run's ``recursion_limit``, or the default (25) when it is not set.

    :raises UsageError: if it is not an int.
    :raises ConfigError: if it is below 1.
    """
    limit = (config or {}).get("recursion_limit")
    if limit is None:
        return DEFAULT_RECURSION_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise UsageError(f"recursion_limit must be an int, got {type(limit).__name__}: {limit!r}")
    if limit < 1:
        raise ConfigError(f"recursion_limit must be at least 1, got {limit}")
    return limit


def check_flag(name: str, value: object) -> bool:
    """``value`` for an on/off option such as ``subgraphs``: ``True`` or ``False`` only,
    so that ``subgraphs="no"`` is not taken for a yes.

    :raises UsageError: for anything but a bool.
    """
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return value


def check_names(name: str, value: object) -> tuple[str, ...] | None:
    """``value`` for a filter such as ``include_names``: ``None``, one name, or a list
    of names. A str is one name, never a list of characters.

    :raises UsageError: for anything else.
    """
    names = as_names(value)
    if names is False:
        raise UsageError(
            f"{name} must be a name or a list of names, got {type(value).__name__}: {value!r}"
        )
    return names  # type: ignore[return-value]


def _handlers(callbacks: object) -> list[Any]:
    """``config["callbacks"]`` as a list: a list of handlers, one handler, or a
    LangChain callback manager (whose handlers are taken)."""
    if _is_manager(callbacks):
        return list(getattr(callbacks, "handlers"))  # noqa: B009 - checked by _is_manager
    if isinstance(callbacks, list | tuple):
        for i, handler in enumerate(callbacks):
            if not _is_handler(handler):
                raise ConfigError(
                    f"config['callbacks'][{i}] is not a callback handler (an object with "
                    f"on_* methods, such as a CallbackHandler), got "
                    f"{type(handler).__name__}: {handler!r}"
                )
        return list(callbacks)
    if _is_handler(callbacks):
        return [callbacks]
    raise ConfigError(
        f"config['callbacks'] must be a list of callback handlers (objects with on_* "
        f"methods, such as a CallbackHandler) or one handler, got "
        f"{type(callbacks).__name__}: {callbacks!r}"
    )


def _is_handler(obj: object) -> bool:
    if isinstance(obj, str | bytes | int | float | Sequence | dict | type):
        return False
    return any(name.startswith("on_") and callable(getattr(obj, name, None)) for name in dir(obj))


def _is_manager(obj: object) -> bool:
    return isinstance(getattr(obj, "handlers", None), list) and callable(
        getattr(obj, "add_handler", None)
    )
