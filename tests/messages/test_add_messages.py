"""add_messages: LangGraph's reducer for a list of messages in state."""

import copy
import uuid

import pytest

from rillet.messages import (
    REMOVE_ALL_MESSAGES,
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    add_messages,
    tool_call_chunk,
)


def test_append() -> None:
    left = [HumanMessage("Hello", id="1")]
    right = [AIMessage("Hi there!", id="2")]
    assert add_messages(left, right) == [
        HumanMessage("Hello", id="1"),
        AIMessage("Hi there!", id="2"),
    ]


def test_replace_by_id_in_place() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2"), HumanMessage("c", id="3")]
    right = [AIMessage("B", id="2"), HumanMessage("d", id="4")]
    assert add_messages(left, right) == [
        HumanMessage("a", id="1"),
        AIMessage("B", id="2"),
        HumanMessage("c", id="3"),
        HumanMessage("d", id="4"),
    ]


def test_single_messages_on_either_side() -> None:
    assert add_messages(HumanMessage("a", id="1"), AIMessage("b", id="2")) == [
        HumanMessage("a", id="1"),
        AIMessage("b", id="2"),
    ]


def test_missing_ids_are_assigned_uuid4_strings() -> None:
    left: list[BaseMessage] = [HumanMessage("a")]
    right = AIMessage("b")
    result = add_messages(left, right)
    assert [m.content for m in result] == ["a", "b"]
    for message in result:
        assert message.id is not None
        assert uuid.UUID(message.id).version == 4
    assert result[0].id != result[1].id
    # As in LangGraph, the ids are set on the message objects themselves.
    assert left[0].id == result[0].id
    assert right.id == result[1].id


def test_existing_ids_are_kept() -> None:
    assert [m.id for m in add_messages([HumanMessage("a", id="x")], [])] == ["x"]


def test_inputs_are_not_mutated() -> None:
    left: list[BaseMessage] = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    right: list[BaseMessage] = [
        AIMessage("B", id="2"),
        RemoveMessage(id="1"),
        HumanMessage("c", id="3"),
    ]
    left_before, right_before = copy.deepcopy(left), copy.deepcopy(right)
    result = add_messages(left, right)
    assert left == left_before
    assert right == right_before
    assert result is not left
    assert result == [AIMessage("B", id="2"), HumanMessage("c", id="3")]


def test_remove_message() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    assert add_messages(left, [RemoveMessage(id="1")]) == [AIMessage("b", id="2")]


def test_remove_a_message_added_in_the_same_update() -> None:
    right = [AIMessage("b", id="2"), RemoveMessage(id="2")]
    assert add_messages([HumanMessage("a", id="1")], right) == [HumanMessage("a", id="1")]


def test_remove_then_re_add_keeps_the_new_one() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    right = [RemoveMessage(id="1"), HumanMessage("A", id="1")]
    assert add_messages(left, right) == [HumanMessage("A", id="1"), AIMessage("b", id="2")]


def test_remove_unknown_id_raises() -> None:
    with pytest.raises(
        ValueError, match="Attempting to delete a message with an ID that doesn't exist \\('x'\\)"
    ):
        add_messages([HumanMessage("a", id="1")], [RemoveMessage(id="x")])


def test_remove_all() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    right = [
        HumanMessage("lost", id="3"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        SystemMessage("new", id="4"),
    ]
    assert add_messages(left, right) == [SystemMessage("new", id="4")]


def test_remove_all_uses_the_last_marker() -> None:
    right = [
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        HumanMessage("x", id="1"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
    ]
    assert add_messages([HumanMessage("a", id="0")], right) == []


def test_remove_all_then_repeated_id_keeps_one() -> None:
    # LangGraph would keep both here; one id, one message is kept instead.
    right = [
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        HumanMessage("x", id="1"),
        AIMessage("y", id="1"),
    ]
    assert add_messages([], right) == [AIMessage("y", id="1")]


def test_dict_tuple_and_string_inputs() -> None:
    result = add_messages(
        [{"role": "user", "content": "hi", "id": "1"}],
        [
            {"role": "assistant", "content": "hello", "id": "2"},
            ("user", "thanks"),
            "bye",
        ],
    )
    assert [type(m) for m in result] == [HumanMessage, AIMessage, HumanMessage, HumanMessage]
    assert [m.content for m in result] == ["hi", "hello", "thanks", "bye"]
    assert [m.id for m in result][:2] == ["1", "2"]


def test_single_dict_and_tuple() -> None:
    result = add_messages({"role": "user", "content": "a", "id": "1"}, ("ai", "b"))
    assert [m.content for m in result] == ["a", "b"]


def test_dict_replaces_by_id() -> None:
    left = [HumanMessage("a", id="1")]
    assert add_messages(left, {"role": "user", "content": "A", "id": "1"}) == [
        HumanMessage("A", id="1")
    ]


def test_chunks_become_messages() -> None:
    chunk = AIMessageChunk(
        "hi", id="c", tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}', id="t", index=0)]
    )
    result = add_messages([], [chunk])
    assert result == [
        AIMessage("hi", id="c", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t"}])
    ]
    assert type(result[0]) is AIMessage


def test_tool_messages() -> None:
    left = [AIMessage("", id="1", tool_calls=[{"name": "f", "args": {}, "id": "t"}])]
    right = {"role": "tool", "content": "42", "tool_call_id": "t", "id": "2"}
    assert add_messages(left, right) == [*left, ToolMessage("42", tool_call_id="t", id="2")]


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="unknown message role 'wizard'"):
        add_messages([], [{"role": "wizard", "content": "x"}])


def test_tuple_of_messages_is_a_sequence_but_a_role_pair_is_one_message() -> None:
    both = (HumanMessage("a", id="1"), AIMessage("b", id="2"))
    assert add_messages(both, []) == [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    assert [m.content for m in add_messages([], ("user", "hi"))] == ["hi"]


def test_a_list_is_always_a_list_of_messages() -> None:
    # As in LangGraph: ["user", "hi"] is two user messages, not a role pair.
    assert [m.content for m in add_messages([], ["user", "hi"])] == ["user", "hi"]
