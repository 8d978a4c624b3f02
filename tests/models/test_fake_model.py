"""FakeChatModel refuses responses it would misread."""

from __future__ import annotations

from typing import Any

import pytest

from rillet.errors import UsageError
from rillet.messages import AIMessage
from rillet.models import FakeChatModel


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        (
            "Hello there",
            "FakeChatModel takes a list of responses, got one str; "
            "write FakeChatModel(['Hello there'])",
        ),
        (
            AIMessage("hi"),
            "FakeChatModel takes a list of responses, got one AIMessage; "
            f"write FakeChatModel([{AIMessage('hi')!r}])",
        ),
        (42, "FakeChatModel takes a list of responses, got 42"),
        (None, "FakeChatModel takes a list of responses, got None"),
        (["ok", 3], "FakeChatModel responses must be strings or AIMessages, got 3"),
    ],
    ids=["str", "AIMessage", "int", "None", "bad-item"],
)
def test_responses_must_be_a_list_of_answers(responses: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        FakeChatModel(responses)
    assert str(info.value) == message


def test_a_list_of_one_response() -> None:
    assert FakeChatModel(["Hello there"]).invoke("hi").content == "Hello there"
