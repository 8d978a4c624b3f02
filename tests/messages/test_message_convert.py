"""to_message / convert_to_messages and to_openai_dict(s)."""

from typing import Any

import pytest

from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    convert_to_messages,
    to_message,
    to_openai_dict,
    to_openai_dicts,
    tool_call_chunk,
)

DEVELOPER = {"__openai_role__": "developer"}
OPENAI_CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}


# --- to_message --------------------------------------------------------------


def test_message_objects_are_returned_as_they_are() -> None:
    message = AIMessageChunk("x")
    assert to_message(message) is message


def test_string_is_a_human_message() -> None:
    assert to_message("hi") == HumanMessage("hi")


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (("user", "hi"), HumanMessage("hi")),
        (("human", "hi"), HumanMessage("hi")),
        (("ai", "yo"), AIMessage("yo")),
        (("assistant", "yo"), AIMessage("yo")),
        (("system", "be nice"), SystemMessage("be nice")),
        (("developer", "be nice"), SystemMessage("be nice", additional_kwargs=DEVELOPER)),
        (["user", "as a list"], HumanMessage("as a list")),
        (("user", [{"type": "text", "text": "t"}]), HumanMessage([{"type": "text", "text": "t"}])),
    ],
)
def test_pairs(pair: Any, expected: BaseMessage) -> None:
    assert to_message(pair) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"role": "user", "content": "hi"}, HumanMessage("hi")),
        (
            {"role": "human", "content": "hi", "name": "bob", "id": "1"},
            HumanMessage("hi", name="bob", id="1"),
        ),
        ({"role": "system", "content": "s"}, SystemMessage("s")),
        ({"role": "developer", "content": "d"}, SystemMessage("d", additional_kwargs=DEVELOPER)),
        ({"role": "assistant", "content": "a"}, AIMessage("a")),
        ({"role": "ai", "content": None}, AIMessage("")),
        (
            {"role": "tool", "content": "r", "tool_call_id": "c1"},
            ToolMessage("r", tool_call_id="c1"),
        ),
        ({"type": "human", "content": "t"}, HumanMessage("t")),
        ({"type": "ai", "content": "t"}, AIMessage("t")),
        ({"type": "system", "content": "t"}, SystemMessage("t")),
        (
            {"type": "tool", "content": "t", "tool_call_id": "1", "status": "error"},
            ToolMessage("t", tool_call_id="1", status="error"),
        ),
        ({"type": "remove", "id": "x"}, RemoveMessage(id="x")),
    ],
)
def test_dicts(data: dict[str, Any], expected: BaseMessage) -> None:
    assert to_message(data) == expected


def test_unknown_keys_go_to_additional_kwargs() -> None:
    message = to_message(
        {
            "role": "user",
            "content": "hi",
            "foo": 1,
            "additional_kwargs": {"bar": 2},
            "response_metadata": {"baz": 3},
        }
    )
    assert message == HumanMessage(
        "hi", additional_kwargs={"foo": 1, "bar": 2}, response_metadata={"baz": 3}
    )


def test_openai_tool_calls() -> None:
    message = to_message({"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]})
    assert message == AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}])


def test_assistant_with_tool_calls_may_omit_content() -> None:
    message = to_message({"role": "assistant", "tool_calls": [OPENAI_CALL]})
    assert message == AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}])


def test_langchain_shaped_tool_calls() -> None:
    message = to_message(
        {"role": "ai", "content": "", "tool_calls": [{"name": "f", "args": {"a": 1}, "id": "c1"}]}
    )
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]


def test_openai_tool_call_with_bad_json_is_kept_as_invalid() -> None:
    bad = {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{oops"}}
    message = to_message({"role": "assistant", "content": "", "tool_calls": [OPENAI_CALL, bad]})
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert message.invalid_tool_calls == [
        {
            "name": "g",
            "args": "{oops",
            "id": "c2",
            "error": "arguments of tool call 'g' are not valid JSON (Expecting property name "
            "enclosed in double quotes: line 1 column 2 (char 1)): '{oops'",
            "type": "invalid_tool_call",
        }
    ]


@pytest.mark.parametrize(
    "message",
    [
        HumanMessage("h", name="n", id="1", additional_kwargs={"k": 1}, response_metadata={"m": 2}),
        SystemMessage("s", additional_kwargs=DEVELOPER),
        AIMessage(
            "a",
            id="2",
            tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c"}],
            invalid_tool_calls=[{"name": "g", "args": "{", "id": "d", "error": "bad"}],
            usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        ),
        AIMessageChunk(
            "c",
            tool_call_chunks=[tool_call_chunk(name="f", args='{"a', id="c", index=0)],
            chunk_position="last",
        ),
        ToolMessage("t", tool_call_id="c", artifact={"raw": 1}, status="error", name="f"),
        RemoveMessage(id="x"),
    ],
)
def test_to_dict_round_trips(message: BaseMessage) -> None:
    assert to_message(message.to_dict()) == message


@pytest.mark.parametrize(
    ("item", "error", "message"),
    [
        (5, TypeError, "cannot make a message from int 5: expected a message object, a string"),
        (None, TypeError, "cannot make a message from NoneType"),
        (("user",), ValueError, "must be a \\(role, content\\) pair"),
        (("a", "b", "c"), ValueError, "must be a \\(role, content\\) pair"),
        ((1, "x"), ValueError, "must be a \\(role, content\\) pair"),
        (("wizard", "x"), ValueError, "unknown message role 'wizard'.*expected one of 'user'"),
        (("tool", "x"), ValueError, "cannot say which tool call it answers"),
        ({"content": "x"}, ValueError, "a message dict needs a 'role' \\(or 'type'\\) key"),
        ({"role": "wizard", "content": "x"}, ValueError, "unknown message role 'wizard'"),
        ({"role": "function", "content": "x"}, ValueError, "unknown message role 'function'"),
        ({"role": "user"}, ValueError, "a 'user' message dict needs a 'content' key"),
        ({"role": "tool", "content": "x"}, ValueError, "needs a 'tool_call_id'"),
        (
            {"role": "user", "content": "x", "tool_call_id": "1"},
            ValueError,
            "'tool_call_id' does not belong in a 'user' message dict",
        ),
        (
            {"role": "user", "content": "x", "tool_calls": []},
            ValueError,
            "'tool_calls' does not belong in a 'user' message dict",
        ),
        (
            {"role": "assistant", "content": "", "tool_calls": "f"},
            TypeError,
            "'tool_calls' must be a list",
        ),
        (
            {"role": "assistant", "content": "", "tool_calls": ["f"]},
            TypeError,
            "each tool call must be a dict",
        ),
        (
            {"role": "assistant", "content": "", "tool_calls": [{"function": {}}]},
            ValueError,
            "OpenAI tool call 0 must have a 'function' dict with a 'name'",
        ),
        (
            {"role": "assistant", "content": "", "tool_calls": [{"id": "x"}]},
            ValueError,
            "tool call 0 must be a dict with 'name' and 'args'",
        ),
        ({"role": "user", "content": 5}, TypeError, "HumanMessage content must be a str or a list"),
        (
            {"role": "user", "content": "x", "additional_kwargs": 1},
            TypeError,
            "'additional_kwargs' must be a dict",
        ),
        ({"type": "remove"}, ValueError, "needs the 'id' to remove"),
    ],
)
def test_bad_items(item: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        to_message(item)


# --- convert_to_messages -----------------------------------------------------


def test_convert_to_messages_mixed() -> None:
    messages = convert_to_messages(
        [
            "plain",
            ("system", "s"),
            {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
            {"role": "tool", "content": "r", "tool_call_id": "c1"},
            AIMessage("done"),
        ]
    )
    assert messages == [
        HumanMessage("plain"),
        SystemMessage("s"),
        AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}]),
        ToolMessage("r", tool_call_id="c1"),
        AIMessage("done"),
    ]


def test_convert_to_messages_notes_the_bad_item() -> None:
    with pytest.raises(ValueError, match="unknown message role 'wizard'") as info:
        convert_to_messages(["ok", {"role": "wizard", "content": "x"}])
    assert info.value.__notes__ == ["(in item 1 of the messages)"]


def test_convert_to_messages_rejects_a_single_message() -> None:
    with pytest.raises(TypeError, match="takes a list of messages, got one str"):
        convert_to_messages("hello")


# --- to_openai_dict ----------------------------------------------------------


def test_openai_dicts() -> None:
    assert to_openai_dicts(
        [
            SystemMessage("s"),
            SystemMessage("d", additional_kwargs=DEVELOPER),
            HumanMessage("h", name="bob", id="ignored"),
            AIMessage("a"),
            AIMessage("", tool_calls=[{"name": "f", "args": {"city": "Zürich"}, "id": "c1"}]),
            ToolMessage("r", tool_call_id="c1", name="f"),
        ]
    ) == [
        {"role": "system", "content": "s"},
        {"role": "developer", "content": "d"},
        {"role": "user", "content": "h", "name": "bob"},
        {"role": "assistant", "content": "a"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"city": "Zürich"}'},
                }
            ],
        },
        {"role": "tool", "content": "r", "tool_call_id": "c1"},
    ]


def test_openai_dict_keeps_text_beside_tool_calls() -> None:
    message = AIMessage("thinking", tool_calls=[{"name": "f", "args": {}, "id": "c"}])
    assert to_openai_dict(message)["content"] == "thinking"


def test_openai_dict_sends_invalid_tool_calls_raw() -> None:
    message = AIMessage("", invalid_tool_calls=[{"name": "g", "args": "{oops", "id": "c"}])
    assert to_openai_dict(message)["tool_calls"] == [
        {"id": "c", "type": "function", "function": {"name": "g", "arguments": "{oops"}}
    ]


def test_openai_dict_content_parts() -> None:
    message = HumanMessage(["look", {"type": "image_url", "image_url": {"url": "u"}}])
    assert to_openai_dict(message) == {
        "role": "user",
        "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "u"}},
        ],
    }


def test_openai_dict_of_a_chunk() -> None:
    chunk = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}', id="c", index=0)]
    )
    assert to_openai_dict(chunk) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [OPENAI_CALL | {"id": "c"}],
    }


def test_openai_dict_accepts_message_likes() -> None:
    assert to_openai_dict(("developer", "x")) == {"role": "developer", "content": "x"}
    assert to_openai_dict("hi") == {"role": "user", "content": "hi"}


def test_remove_message_has_no_openai_form() -> None:
    with pytest.raises(TypeError, match="RemoveMessage has no OpenAI Chat Completions form"):
        to_openai_dict(RemoveMessage(id="x"))


@pytest.mark.parametrize(
    "data",
    [
        {"role": "system", "content": "s"},
        {"role": "developer", "content": "d"},
        {"role": "user", "content": "hi", "name": "bob"},
        {"role": "user", "content": [{"type": "text", "text": "t"}]},
        {"role": "assistant", "content": "a"},
        {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
        {"role": "assistant", "content": "text too", "tool_calls": [OPENAI_CALL]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{oops"}}
            ],
        },
        {"role": "tool", "content": "r", "tool_call_id": "c1"},
    ],
)
def test_openai_round_trip(data: dict[str, Any]) -> None:
    assert to_openai_dict(to_message(data)) == data
