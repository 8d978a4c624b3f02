"""``RetryPolicy`` and ``add_node(retry=...)``: a bad policy is rejected when it is
given, never when the node first fails."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.errors import ConfigError, UsageError
from rillet.graph import StateGraph
from rillet.types import RetryPolicy


class State(TypedDict):
    v: int


def node(state: State) -> dict[str, Any]:
    return {}


RETRY_ON_WORDS = (
    "RetryPolicy.retry_on must be an exception class, a list of exception classes, or a "
    "function (exception) -> bool, got "
)


# ------------------------------------------------------------------ the policy


@pytest.mark.parametrize(
    ("retry_on", "shown"),
    [
        ("ConnectionError", "str: 'ConnectionError'"),
        (42, "int: 42"),
        (int, "type: <class 'int'>"),
        ([], "list: []"),
        ([ConnectionError, "x"], "list: [<class 'ConnectionError'>, 'x']"),
    ],
)
def test_a_bad_retry_on_is_rejected_when_the_policy_is_made(retry_on: Any, shown: str) -> None:
    with pytest.raises(UsageError) as info:
        RetryPolicy(retry_on=retry_on)
    assert str(info.value) == RETRY_ON_WORDS + shown


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_attempts", "3", "RetryPolicy.max_attempts must be an int, got str: '3'"),
        ("max_attempts", 2.0, "RetryPolicy.max_attempts must be an int, got float: 2.0"),
        ("max_attempts", True, "RetryPolicy.max_attempts must be an int, got bool: True"),
        (
            "initial_interval", "1",
            "RetryPolicy.initial_interval must be a number of seconds, got str: '1'",
        ),
        ("jitter", "no", "RetryPolicy.jitter must be True or False, got 'no'"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_usage_error(field: str, value: Any, words: str) -> None:
    with pytest.raises(UsageError) as info:
        RetryPolicy(**{field: value})
    assert str(info.value) == words


def test_a_bad_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        RetryPolicy(max_attempts=0)
    assert str(info.value) == "RetryPolicy.max_attempts must be >= 1, got 0"
    with pytest.raises(ConfigError, match=r"^RetryPolicy intervals must be >= 0"):
        RetryPolicy(initial_interval=-1)


def test_retry_on_accepts_a_class_a_list_of_classes_and_a_function() -> None:
    assert RetryPolicy(retry_on=ConnectionError).should_retry(ConnectionRefusedError())
    policy = RetryPolicy(retry_on=[KeyError, TimeoutError])
    assert policy.retry_on == (KeyError, TimeoutError)
    assert policy.should_retry(TimeoutError()) and not policy.should_retry(ValueError())
    assert hash(policy) == hash(RetryPolicy(retry_on=(KeyError, TimeoutError)))
    assert RetryPolicy(retry_on=lambda exc: "again" in str(exc)).should_retry(OSError("again"))


# ------------------------------------------------------------------- add_node


def test_add_node_with_an_int_as_retry() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(node, retry=3)  # type: ignore[arg-type]
    assert str(info.value) == (
        "add_node('node', retry=...): expected a RetryPolicy or a list of them, got int: 3; "
        "e.g. retry=RetryPolicy(max_attempts=3)"
    )


def test_add_node_with_a_list_holding_a_non_policy() -> None:
    with pytest.raises(UsageError, match=r"^add_node\('node', retry_policy=\.\.\.\): expected"):
        StateGraph(State).add_node(node, retry_policy=[RetryPolicy(), 3])  # type: ignore[list-item]


def test_add_node_with_both_retry_and_retry_policy() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(node, retry=RetryPolicy(), retry_policy=RetryPolicy())
    assert str(info.value) == "add_node('node', ...): give retry= or retry_policy=, not both"


def test_retry_policy_is_langgraphs_name_for_retry() -> None:
    policy = RetryPolicy(max_attempts=5)
    spec = StateGraph(State).add_node(node, retry_policy=policy).nodes["node"]
    assert spec.retry is policy
    assert spec.retry_policies == (policy,)


def test_a_list_of_policies_keeps_them_all_and_the_first_match_applies() -> None:
    on_key = RetryPolicy(retry_on=KeyError, max_attempts=2)
    on_os = RetryPolicy(retry_on=OSError, max_attempts=4)
    catch_all = RetryPolicy(retry_on=Exception, max_attempts=9)
    spec = StateGraph(State).add_node(node, retry=[on_key, on_os, catch_all]).nodes["node"]
    assert spec.retry_policies == (on_key, on_os, catch_all)
    assert spec.retry is on_key
    assert spec.retry_policy_for(KeyError()) is on_key
    assert spec.retry_policy_for(ConnectionError()) is on_os
    assert spec.retry_policy_for(ValueError()) is catch_all


def test_no_policy_retries_nothing() -> None:
    spec = StateGraph(State).add_node(node).nodes["node"]
    assert spec.retry is None
    assert spec.retry_policies == ()
    assert spec.retry_policy_for(ConnectionError()) is None
