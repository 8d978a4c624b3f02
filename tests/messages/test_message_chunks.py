"""Merging AIMessageChunks: ``+``, merge_chunks, tool-call chunks, message_chunk_to_message."""

import copy
import functools
import operator
from typing import Any

import pytest

from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    UsageMetadata,
    add_usage,
    merge_chunks,
    message_chunk_to_message,
    tool_call_chunk,
)


def usage(inp: int, out: int, **details: Any) -> UsageMetadata:
    result: UsageMetadata = {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}
    result.update(details)  # type: ignore[typeddict-item]
    return result


# --- content ---------------------------------------------------------------


def test_string_content_concatenates() -> None:
    merged = AIMessageChunk("Hel") + AIMessageChunk("lo") + AIMessageChunk("!")
    assert merged.content == "Hello!"
    assert isinstance(merged, AIMessageChunk)


def test_block_lists_merge_by_index() -> None:
    left = AIMessageChunk([{"type": "text", "text": "a", "index": 0}])
    right = AIMessageChunk(
        [{"type": "text", "text": "b", "index": 0}, {"type": "text", "text": "c", "index": 1}]
    )
    assert (left + right).content == [
        {"type": "text", "text": "ab", "index": 0},
        {"type": "text", "text": "c", "index": 1},
    ]


def test_blocks_without_index_are_appended() -> None:
    left = AIMessageChunk([{"type": "image", "url": "u"}])
    right = AIMessageChunk([{"type": "image", "url": "u"}])
    assert (left + right).content == [{"type": "image", "url": "u"}] * 2


def test_string_then_list_puts_string_first() -> None:
    block = {"type": "text", "text": "b", "index": 0}
    assert (AIMessageChunk("a") + AIMessageChunk([block])).content == ["a", block]
    # LangChain keeps even an empty leading string.
    assert (AIMessageChunk("") + AIMessageChunk([block])).content == ["", block]


def test_list_then_string() -> None:
    assert (AIMessageChunk(["a"]) + AIMessageChunk("b")).content == ["ab"]
    block = {"type": "text", "text": "b", "index": 0}
    assert (AIMessageChunk([block]) + AIMessageChunk("abc")).content == [block, "abc"]
    assert (AIMessageChunk([block]) + AIMessageChunk("")).content == [block]


def test_empty_list_then_string_keeps_the_string() -> None:
    # LangChain drops the text here; rillet keeps it.
    assert (AIMessageChunk([]) + AIMessageChunk("abc")).content == ["abc"]


# --- additional_kwargs / response_metadata ---------------------------------


def test_dicts_merge_recursively_strings_concatenate() -> None:
    left = AIMessageChunk("", additional_kwargs={"x": "1", "n": {"k": "a"}, "only_left": 1})
    right = AIMessageChunk("", additional_kwargs={"x": "2", "n": {"k": "b"}, "only_right": 2})
    assert (left + right).additional_kwargs == {
        "x": "12",
        "n": {"k": "ab"},
        "only_left": 1,
        "only_right": 2,
    }


def test_none_values_are_filled_and_ignored() -> None:
    left = AIMessageChunk("", additional_kwargs={"a": None, "b": "x"})
    right = AIMessageChunk("", additional_kwargs={"a": "y", "b": None})
    assert (left + right).additional_kwargs == {"a": "y", "b": "x"}


def test_special_keys() -> None:
    left = AIMessageChunk(
        "",
        response_metadata={
            "id": "r",
            "model_provider": "openai",
            "created": 1,
            "n": 2,
            "flag": True,
            "model_name": "m",
        },
    )
    right = AIMessageChunk(
        "",
        response_metadata={
            "id": "r",
            "model_provider": "openai",
            "created": 5,
            "n": 3,
            "flag": True,
            "model_name": "m",
        },
    )
    assert (left + right).response_metadata == {
        "id": "r",  # equal ids are kept, not doubled
        "model_provider": "openai",
        "created": 5,  # timestamps: last wins
        "n": 5,  # other ints add up
        "flag": True,
        "model_name": "mm",  # other strings concatenate, as in LangChain
    }


def test_lists_in_kwargs_merge_by_index() -> None:
    def delta(index: int, call_id: str | None, name: str | None, args: str) -> dict[str, Any]:
        return {"index": index, "id": call_id, "function": {"name": name, "arguments": args}}

    left = AIMessageChunk("", additional_kwargs={"tool_calls": [delta(0, "c", "f", '{"a')]})
    right = AIMessageChunk("", additional_kwargs={"tool_calls": [delta(0, None, None, '": 1}')]})
    assert (left + right).additional_kwargs == {"tool_calls": [delta(0, "c", "f", '{"a": 1}')]}


def test_type_mismatch_raises() -> None:
    left = AIMessageChunk("", additional_kwargs={"a": "x"})
    right = AIMessageChunk("", additional_kwargs={"a": 1})
    with pytest.raises(TypeError, match='additional_kwargs\\["a"\\] already exists'):
        left + right


def test_unequal_bools_raise() -> None:
    left = AIMessageChunk("", additional_kwargs={"a": True})
    right = AIMessageChunk("", additional_kwargs={"a": False})
    with pytest.raises(TypeError, match="only str, dict, list and int values merge"):
        left + right


# --- tool-call chunks ------------------------------------------------------


def test_tool_call_chunks_merge_by_index() -> None:
    c1 = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="f", args='{"a"', id="c1", index=0)]
    )
    c2 = AIMessageChunk(
        "",
        tool_call_chunks=[
            tool_call_chunk(args=": 1}", index=0),
            tool_call_chunk(name="g", args="", id="c2", index=1),
        ],
    )
    c3 = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args='{"b": 2', index=1)])
    merged = c1 + c2 + c3
    assert merged.tool_call_chunks == [
        {"name": "f", "args": '{"a": 1}', "id": "c1", "index": 0, "type": "tool_call_chunk"},
        {"name": "g", "args": '{"b": 2', "id": "c2", "index": 1, "type": "tool_call_chunk"},
    ]
    assert merged.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"},
        {"name": "g", "args": {"b": 2}, "id": "c2", "type": "tool_call"},
    ]
    assert merged.invalid_tool_calls == []


def test_same_index_different_ids_stay_apart() -> None:
    left = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="f", args="{}", id="a", index=0)]
    )
    right = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="g", args="{}", id="b", index=0)]
    )
    assert [c["id"] for c in (left + right).tool_call_chunks] == ["a", "b"]


def test_index_none_is_never_merged() -> None:
    left = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="f", id="a")])
    right = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="g", args="{}", id="b")])
    merged = left + right
    assert [c["name"] for c in merged.tool_call_chunks] == ["f", "g"]
    assert merged.tool_calls == [
        {"name": "f", "args": {}, "id": "a", "type": "tool_call"},
        {"name": "g", "args": {}, "id": "b", "type": "tool_call"},
    ]


def test_partial_args_parse_mid_stream() -> None:
    chunk = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="sleep", args='{"place": "bed', id="c", index=0)]
    )
    assert chunk.tool_calls == [
        {"name": "sleep", "args": {"place": "bed"}, "id": "c", "type": "tool_call"}
    ]
    assert chunk.invalid_tool_calls == []


def test_unparsable_args_go_to_invalid_tool_calls() -> None:
    chunk = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}}', id="c", index=0)]
    )
    assert chunk.tool_calls == []
    assert chunk.invalid_tool_calls == [
        {
            "name": "f",
            "args": '{"a": 1}}',
            "id": "c",
            "error": "arguments of tool call 'f' are not valid JSON "
            "(Extra data: line 1 column 9 (char 8)): '{\"a\": 1}}'",
            "type": "invalid_tool_call",
        }
    ]


def test_non_object_args_are_invalid() -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="f", args="[1, 2", index=0)])
    assert chunk.invalid_tool_calls[0]["error"] == (
        "arguments of tool call 'f' must be a JSON object, got: '[1, 2'"
    )


def test_chunk_from_tool_calls_gets_chunks() -> None:
    chunk = AIMessageChunk("x", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}])
    assert chunk.tool_call_chunks == [
        {"name": "f", "args": '{"a": 1}', "id": "1", "index": None, "type": "tool_call_chunk"}
    ]
    assert chunk.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "1", "type": "tool_call"}]


def test_chunk_from_openai_deltas_in_additional_kwargs() -> None:
    deltas = [{"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a'}}]
    chunk = AIMessageChunk("", additional_kwargs={"tool_calls": deltas})
    assert chunk.tool_call_chunks == [
        {"name": "f", "args": '{"a', "id": "c", "index": 0, "type": "tool_call_chunk"}
    ]
    assert chunk.tool_calls == [{"name": "f", "args": {}, "id": "c", "type": "tool_call"}]


# --- ids, usage, name, position --------------------------------------------


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([None, "run-1", "chatcmpl-1"], "chatcmpl-1"),
        (["lc_run-1", "chatcmpl-1"], "chatcmpl-1"),
        (["chatcmpl-1", "chatcmpl-2"], "chatcmpl-1"),
        (["run-1", "run-2"], "run-1"),
        (["lc_abc", "lc_run-1"], "lc_run-1"),
        (["lc_run-1", "lc_abc"], "lc_run-1"),
        ([None, None], None),
    ],
)
def test_id_preference(ids: list[str | None], expected: str | None) -> None:
    assert merge_chunks(AIMessageChunk("", id=i) for i in ids).id == expected


def test_usage_adds_up_recursively() -> None:
    left = AIMessageChunk("", usage_metadata=usage(1, 2, input_token_details={"cache_read": 1}))
    right = AIMessageChunk("", usage_metadata=usage(3, 4, output_token_details={"reasoning": 1}))
    assert (left + right).usage_metadata == {
        "input_tokens": 4,
        "output_tokens": 6,
        "total_tokens": 10,
        "input_token_details": {"cache_read": 1},
        "output_token_details": {"reasoning": 1},
    }


def test_usage_none_when_no_chunk_has_it() -> None:
    assert (AIMessageChunk("a") + AIMessageChunk("b")).usage_metadata is None
    only_last = merge_chunks([AIMessageChunk("a"), AIMessageChunk("b", usage_metadata=usage(1, 1))])
    assert only_last.usage_metadata == usage(1, 1)


def test_add_usage() -> None:
    assert add_usage(None, None) == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    assert add_usage(usage(1, 2), None) == usage(1, 2)
    assert add_usage(usage(1, 2), usage(3, 4)) == usage(4, 6)
    bad: Any = {"input_tokens": "x"}
    with pytest.raises(ValueError, match="cannot add usage_metadata\\['input_tokens'\\]"):
        add_usage(usage(1, 2), bad)


def test_chunk_position_last_wins() -> None:
    merged = AIMessageChunk("a", chunk_position="last") + AIMessageChunk("b")
    assert merged.chunk_position == "last"
    assert (AIMessageChunk("a") + AIMessageChunk("b")).chunk_position is None


def test_first_name_kept() -> None:
    assert (AIMessageChunk("a") + AIMessageChunk("b", name="bot")).name == "bot"


# --- operators and merge_chunks ---------------------------------------------


def test_add_list_of_chunks() -> None:
    merged = AIMessageChunk("a") + [AIMessageChunk("b"), AIMessageChunk("c")]  # noqa: RUF005
    assert merged.content == "abc"


def test_add_non_chunk_is_type_error() -> None:
    with pytest.raises(TypeError):
        AIMessageChunk("a") + HumanMessage("b")  # type: ignore[operator]


def test_merge_chunks_of_nothing_raises() -> None:
    with pytest.raises(ValueError, match="merge_chunks needs at least one chunk"):
        merge_chunks([])


def test_merge_chunks_keeps_subclass() -> None:
    class MyChunk(AIMessageChunk):
        __slots__ = ()

    assert type(merge_chunks([MyChunk("a"), AIMessageChunk("b")])) is MyChunk


def _stream() -> list[AIMessageChunk]:
    """A realistic stream: role chunk, text, a tool call in pieces, usage, finish."""
    deltas = ['{"ci', 'ty": "Pa', 'ris", "days": [1,', " 2]}"]
    chunks = [AIMessageChunk("", id="run-1", response_metadata={"model_provider": "openai"})]
    chunks += [AIMessageChunk(word, id="run-1") for word in ["Let", " me", " check", "."]]
    chunks.append(
        AIMessageChunk(
            "",
            id="chatcmpl-9",
            tool_call_chunks=[
                tool_call_chunk(name="weather", args=deltas[0], id="call_1", index=0)
            ],
        )
    )
    chunks += [
        AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args=d, index=0)]) for d in deltas[1:]
    ]
    chunks.append(
        AIMessageChunk(
            [{"type": "text", "text": "x", "index": 0}],
            response_metadata={"finish_reason": "tool_calls", "model_provider": "openai"},
        )
    )
    chunks.append(AIMessageChunk("", usage_metadata=usage(10, 5), chunk_position="last"))
    return chunks


def test_merge_chunks_equals_left_fold() -> None:
    chunks = _stream()
    folded = functools.reduce(operator.add, chunks)
    assert merge_chunks(chunks) == folded
    assert repr(merge_chunks(chunks)) == repr(folded)
    assert merge_chunks(iter(chunks)) == folded


def test_merged_stream() -> None:
    merged = merge_chunks(_stream())
    assert merged.content == ["Let me check.", {"type": "text", "text": "x", "index": 0}]
    assert merged.id == "chatcmpl-9"
    assert merged.response_metadata == {"model_provider": "openai", "finish_reason": "tool_calls"}
    assert merged.tool_calls == [
        {
            "name": "weather",
            "args": {"city": "Paris", "days": [1, 2]},
            "id": "call_1",
            "type": "tool_call",
        }
    ]
    assert merged.usage_metadata == usage(10, 5)
    assert merged.chunk_position == "last"


def test_merge_does_not_mutate_inputs() -> None:
    chunks = _stream()
    before = copy.deepcopy(chunks)
    merge_chunks(chunks)
    functools.reduce(operator.add, chunks)
    assert chunks == before


def test_merge_many_chunks() -> None:
    chunks = [AIMessageChunk("tok", id="run-1") for _ in range(20_000)]
    merged = merge_chunks(chunks)
    assert merged.content == "tok" * 20_000
    assert merged.id == "run-1"


# --- message_chunk_to_message ----------------------------------------------


def test_message_chunk_to_message() -> None:
    merged = merge_chunks(_stream())
    message = message_chunk_to_message(merged)
    assert type(message) is AIMessage
    assert message == AIMessage(
        ["Let me check.", {"type": "text", "text": "x", "index": 0}],
        id="chatcmpl-9",
        response_metadata={"model_provider": "openai", "finish_reason": "tool_calls"},
        tool_calls=[{"name": "weather", "args": {"city": "Paris", "days": [1, 2]}, "id": "call_1"}],
        usage_metadata=usage(10, 5),
    )


def test_message_chunk_to_message_rejects_partial_json() -> None:
    chunk = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="sleep", args='{"place": "bed', id="c", index=0)]
    )
    message = message_chunk_to_message(chunk)
    assert message.tool_calls == []
    assert message.invalid_tool_calls == [
        {
            "name": "sleep",
            "args": '{"place": "bed',
            "id": "c",
            "error": "arguments of tool call 'sleep' are not valid JSON (Unterminated string "
            'starting at: line 1 column 11 (char 10)): \'{"place": "bed\'',
            "type": "invalid_tool_call",
        }
    ]


def test_message_chunk_to_message_empty_args_mean_no_arguments() -> None:
    chunk = AIMessageChunk(
        "", tool_call_chunks=[tool_call_chunk(name="now", args="", id="c", index=0)]
    )
    assert message_chunk_to_message(chunk).tool_calls == [
        {"name": "now", "args": {}, "id": "c", "type": "tool_call"}
    ]


def test_message_chunk_to_message_passes_other_messages_through() -> None:
    message = HumanMessage("hi")
    assert message_chunk_to_message(message) is message
