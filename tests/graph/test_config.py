"""``rillet.graph._config``: the checks of a run's config and options, made at the
call. A value of the wrong type is a ``UsageError``, a value rillet cannot use a
``ConfigError``."""

from __future__ import annotations

from typing import Any

import pytest

from rillet.callbacks import CallbackHandler
from rillet.errors import ConfigError, RilletError, UsageError
from rillet.graph._config import check_config, check_flag, check_names, recursion_limit


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, RilletError)


# ------------------------------------------------------------------- config


def test_no_config_is_an_empty_one() -> None:
    assert check_config(None) == {}


def test_a_good_config_comes_back_as_a_copy() -> None:
    handler = CallbackHandler()
    config: dict[str, Any] = {
        "configurable": {"thread_id": "t"},
        "metadata": {"k": 1},
        "tags": ["x"],
        "recursion_limit": 5,
        "max_concurrency": 2,
        "callbacks": [handler],
        "run_name": "run",
    }
    checked = check_config(config)
    assert checked == config
    assert checked is not config


def test_a_config_that_is_not_a_dict() -> None:
    with pytest.raises(UsageError) as info:
        check_config([("tags", [])])  # type: ignore[arg-type]
    assert str(info.value) == "config must be a dict, got list: [('tags', [])]"


def test_an_unknown_key() -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"thread_id": "t1"})
    assert str(info.value) == (
        "Unknown config key(s) ['thread_id']: config takes callbacks, configurable, "
        "max_concurrency, metadata, recursion_limit, run_id, run_name, tags; put your own "
        "values in config['configurable']"
    )


@pytest.mark.parametrize("limit", [0, -1, "2", True])
def test_a_bad_max_concurrency(limit: Any) -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"max_concurrency": limit})
    assert str(info.value) == f"max_concurrency must be a positive int or None, got {limit!r}"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"metadata": "m"}, "config['metadata'] must be a dict, got str"),
        ({"configurable": 1}, "config['configurable'] must be a dict, got int"),
        ({"tags": "x"}, "config['tags'] must be a list of strings, got 'x'"),
        ({"tags": ["x", 1]}, "config['tags'] must be a list of strings, got ['x', 1]"),
        ({"run_name": 5}, "config['run_name'] must be a str, got int"),
        ({"recursion_limit": "9"}, "recursion_limit must be an int, got str: '9'"),
    ],
)
def test_a_value_of_the_wrong_type(config: dict[str, Any], words: str) -> None:
    with pytest.raises(UsageError) as info:
        check_config(config)
    assert str(info.value) == words


# ---------------------------------------------------------------- callbacks (U4)


def test_a_single_handler_becomes_a_list() -> None:
    handler = CallbackHandler()
    assert check_config({"callbacks": handler})["callbacks"] == [handler]


def test_a_duck_typed_handler_is_a_handler() -> None:
    class Printer:
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            pass

    handler = Printer()
    assert check_config({"callbacks": handler})["callbacks"] == [handler]
    assert check_config({"callbacks": (handler,)})["callbacks"] == [handler]


def test_a_callback_manager_gives_its_handlers() -> None:
    class Manager:
        def __init__(self, handlers: list[Any]) -> None:
            self.handlers = handlers

        def add_handler(self, handler: Any) -> None:
            self.handlers.append(handler)

    handler = CallbackHandler()
    assert check_config({"callbacks": Manager([handler])})["callbacks"] == [handler]


def test_no_callbacks_stay_none() -> None:
    assert check_config({"callbacks": None}) == {"callbacks": None}


@pytest.mark.parametrize(
    ("callbacks", "shown"),
    [("not handlers", "str: 'not handlers'"), (42, "int: 42"), ({}, "dict: {}")],
)
def test_callbacks_that_are_no_handlers(callbacks: Any, shown: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"callbacks": callbacks})
    assert str(info.value) == (
        "config['callbacks'] must be a list of callback handlers (objects with on_* "
        f"methods, such as a CallbackHandler) or one handler, got {shown}"
    )


def test_a_list_holding_something_that_is_no_handler() -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"callbacks": [CallbackHandler(), "x"]})
    assert str(info.value) == (
        "config['callbacks'][1] is not a callback handler (an object with on_* methods, "
        "such as a CallbackHandler), got str: 'x'"
    )


def test_a_handler_class_rather_than_an_instance() -> None:
    with pytest.raises(ConfigError, match=r"got type: <class 'rillet.callbacks"):
        check_config({"callbacks": CallbackHandler})


# ------------------------------------------------------------ recursion_limit


def test_recursion_limit_defaults_to_25() -> None:
    assert recursion_limit(None) == 25
    assert recursion_limit({"recursion_limit": None}) == 25
    assert recursion_limit({"recursion_limit": 3}) == 3


@pytest.mark.parametrize(
    ("limit", "error", "words"),
    [
        (0, ConfigError, "recursion_limit must be at least 1, got 0"),
        (-1, ConfigError, "recursion_limit must be at least 1, got -1"),
        ("x", UsageError, "recursion_limit must be an int, got str: 'x'"),
        (True, UsageError, "recursion_limit must be an int, got bool: True"),
    ],
)
def test_a_bad_recursion_limit(limit: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as info:
        recursion_limit({"recursion_limit": limit})
    assert str(info.value) == words


# --------------------------------------------------------------- options (C3)


def test_a_flag_is_a_bool() -> None:
    assert check_flag("subgraphs", True) is True
    assert check_flag("subgraphs", False) is False


@pytest.mark.parametrize(
    ("value", "shown"), [("no", "str: 'no'"), (1, "int: 1"), (None, "NoneType: None")]
)
def test_a_flag_that_is_not_a_bool(value: object, shown: str) -> None:
    with pytest.raises(UsageError) as info:
        check_flag("subgraphs", value)
    assert str(info.value) == f"subgraphs must be True or False, got {shown}"


def test_a_str_is_one_name_not_a_list_of_characters() -> None:
    assert check_names("include_names", "ab") == ("ab",)


def test_names_may_be_none_or_a_list() -> None:
    assert check_names("include_names", None) is None
    assert check_names("include_names", ["a", "b"]) == ("a", "b")
    assert check_names("include_tags", ("t",)) == ("t",)


@pytest.mark.parametrize(("value", "shown"), [(5, "int: 5"), (["a", 1], "list: ['a', 1]")])
def test_names_of_the_wrong_type(value: object, shown: str) -> None:
    with pytest.raises(UsageError) as info:
        check_names("include_names", value)
    assert str(info.value) == f"include_names must be a name or a list of names, got {shown}"


# ------------------------------------------------- rillet.config outside a run


def test_get_config_outside_a_run_is_a_usage_error_and_a_runtime_error() -> None:
    from rillet.config import get_config, get_stream_writer

    with pytest.raises(UsageError) as info:
        get_config()
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "get_config() was called outside a running graph: call it inside a node, or a "
        "tool or function called from one."
    )
    with pytest.raises(UsageError) as info:
        get_stream_writer()
    assert isinstance(info.value, RuntimeError)
    assert str(info.value).startswith("get_stream_writer() was called outside a running graph")
