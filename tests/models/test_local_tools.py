"""``LocalChatModel.bind_tools``: grammar-constrained tool calls streamed as tool-call
chunks, the text answer after tool results, and the pieces (plan, grammar, parser)."""

from __future__ import annotations

import json
import re
from typing import Any

import llama_cpp  # noqa: F401 - required: the test command installs it
import pytest

from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    merge_chunks,
    message_chunk_to_message,
)
from rillet.models import LocalChatModel
from rillet.models._local_tools import _chat_messages, _grammar, _plan, _ToolOutput

QUESTION = "What items are in the kitchen?"
CALL_ID = re.compile(r"call_[0-9a-f]{24}")


def get_items(place: str) -> str:
    """Get the items at a place.

    Args:
        place: the room to look in
    """
    return "a fork, a spoon"


def get_weather(city: str, days: int = 1) -> str:
    """Get the weather forecast for a city."""
    return "sunny"


GET_ITEMS_DICT = {
    "type": "function",
    "function": {
        "name": "get_items",
        "description": "Get the items at a place.",
        "parameters": {
            "type": "object",
            "properties": {"place": {"type": "string", "description": "the room to look in"}},
            "required": ["place"],
        },
    },
}


@pytest.fixture(scope="module")
def model() -> LocalChatModel:
    return LocalChatModel(max_tokens=32)


def tool_chunks(chunks: list[AIMessageChunk]) -> list[Any]:
    return [c.tool_call_chunks for c in chunks]


@pytest.mark.parametrize("tool", [get_items, GET_ITEMS_DICT], ids=["function", "openai-dict"])
def test_required_tool_call_streams_as_tool_call_chunks(model: LocalChatModel, tool: Any) -> None:
    chunks = list(model.bind_tools([tool], tool_choice="required").stream(QUESTION))

    *pieces, last = chunks
    first, *args = pieces
    call_id = first.tool_call_chunks[0]["id"]
    assert CALL_ID.fullmatch(call_id)
    assert first.tool_call_chunks == [
        {"name": "get_items", "args": "", "id": call_id, "index": 0, "type": "tool_call_chunk"}
    ]
    assert len(args) > 3  # the arguments arrive piece by piece, as generated
    for chunk in args:
        [piece] = chunk.tool_call_chunks
        assert (piece["name"], piece["id"], piece["index"]) == (None, None, 0)
    arguments = "".join(c.tool_call_chunks[0]["args"] for c in args)
    place = json.loads(arguments)["place"]
    assert arguments == json.dumps({"place": place})
    assert "kitchen" in place
    assert [c.content for c in chunks] == [""] * len(chunks)
    assert last.tool_call_chunks == []
    assert last.response_metadata["finish_reason"] == "tool_calls"

    message = message_chunk_to_message(merge_chunks(chunks))
    assert message.content == ""
    assert message.tool_calls == [
        {"name": "get_items", "args": {"place": place}, "id": call_id, "type": "tool_call"}
    ]
    assert message.invalid_tool_calls == []


@pytest.mark.parametrize(
    "choice", ["get_weather", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_a_named_tool_choice_calls_that_tool(model: LocalChatModel, choice: Any) -> None:
    bound = model.bind_tools([get_items, get_weather], tool_choice=choice)

    reply = bound.invoke("What is the weather in Paris?")

    [call] = reply.tool_calls
    assert call["name"] == "get_weather"
    assert set(call["args"]) <= {"city", "days"}
    assert isinstance(call["args"]["city"], str)
    assert isinstance(call["args"].get("days", 1), int)


async def test_async_tool_call_is_the_same(model: LocalChatModel) -> None:
    bound = model.bind_tools([get_items], tool_choice="any")
    chunks = [chunk async for chunk in bound.astream(QUESTION)]

    sync_chunks = list(bound.stream(QUESTION))
    reply = await bound.ainvoke(QUESTION)

    assert tool_chunks(chunks)[1:] == tool_chunks(sync_chunks)[1:]  # all but the random id
    assert reply.tool_calls[0]["args"] == merge_chunks(sync_chunks).tool_calls[0]["args"]


def test_auto_lets_the_model_answer_in_text(model: LocalChatModel) -> None:
    reply = model.bind_tools([get_items], tool_choice="auto").invoke("Tell me a joke.")

    assert reply.tool_calls == []
    assert reply.content != ""
    assert reply.content[0] not in "{ \n"


def conversation(call_id: str = "call_1") -> list[Any]:
    return [
        HumanMessage(QUESTION),
        AIMessage("", tool_calls=[{"name": "get_items", "args": {"place": "kitchen"},
                                   "id": call_id}]),
        ToolMessage("a fork, a spoon", tool_call_id=call_id),
    ]


@pytest.mark.parametrize("choice", ["auto", "required", "get_items"])
def test_tool_results_are_answered_in_text(model: LocalChatModel, choice: str) -> None:
    reply = model.bind_tools([get_items], tool_choice=choice).invoke(conversation())

    assert reply.tool_calls == []
    assert reply.invalid_tool_calls == []
    assert reply.content != ""
    assert reply.content[0] not in "{ \n"
    assert reply.response_metadata["finish_reason"] in ("stop", "length")


def test_the_built_in_model_calls_a_tool_when_bound_without_a_choice(
    model: LocalChatModel,
) -> None:
    reply = model.bind_tools([get_items]).invoke(QUESTION)

    assert model.default_tool_choice == "required"
    [call] = reply.tool_calls
    assert (call["name"], list(call["args"])) == ("get_items", ["place"])


def test_a_given_model_file_defaults_to_auto(model: LocalChatModel) -> None:
    given = LocalChatModel(model.model_path, max_tokens=32)

    assert given.default_tool_choice == "auto"
    assert given.bind_tools([get_items]).invoke(QUESTION).tool_calls == []
    assert LocalChatModel(default_tool_choice="auto").default_tool_choice == "auto"


def test_a_react_agent_on_the_built_in_model_calls_its_tool_then_answers(
    model: LocalChatModel,
) -> None:
    from rillet.prebuilt import create_react_agent

    agent = create_react_agent(model, [get_items])
    updates = list(agent.stream({"messages": [("user", "what's in the bedroom?")]}))

    assert [next(iter(update)) for update in updates] == ["agent", "tools", "agent"]
    [call] = updates[0]["agent"]["messages"][-1].tool_calls
    assert (call["name"], list(call["args"])) == ("get_items", ["place"])
    [result] = updates[1]["tools"]["messages"]
    assert (result.content, result.tool_call_id) == ("a fork, a spoon", call["id"])
    answer = updates[2]["agent"]["messages"][-1]
    assert answer.tool_calls == []
    assert answer.content != ""


def test_answer_tool_results_false_keeps_offering_the_tools() -> None:
    model = LocalChatModel(max_tokens=32, answer_tool_results=False)

    reply = model.bind_tools([get_items], tool_choice="required").invoke(conversation())

    [call] = reply.tool_calls
    assert call["name"] == "get_items"
    assert list(call["args"]) == ["place"]


def test_tool_choice_none_leaves_the_output_free(model: LocalChatModel) -> None:
    bound = model.bind_tools([get_items], tool_choice="none")

    # No grammar constrains the answer: free text, no tool call. (Comparing it with an
    # unbound call's text is not exact: llama.cpp's prompt cache makes two calls of one
    # process differ in their last tokens.)
    reply = bound.invoke("Say hello.")
    assert reply.tool_calls == []
    assert reply.content.startswith("Hello")


def test_a_tool_choice_naming_no_bound_tool_fails_at_bind(model: LocalChatModel) -> None:
    with pytest.raises(ValueError) as info:
        model.bind_tools([get_items], tool_choice="get_wether")

    assert str(info.value) == (
        "tool_choice must be 'auto', 'required', 'none' or the name of a bound tool "
        "['get_items'], got 'get_wether'"
    )


def test_a_grammar_and_tools_together_are_refused(model: LocalChatModel) -> None:
    with pytest.raises(ValueError, match="a grammar or tools, not both"):
        model.bind_tools([get_items]).invoke("hi", grammar=object())


def test_a_schema_the_converter_cannot_read_admits_any_object(model: LocalChatModel) -> None:
    odd = {"type": "function", "function": {"name": "odd", "description": "Do it.",
                                            "parameters": {"type": "mystery"}}}

    reply = model.bind_tools([odd], tool_choice="required").invoke("Do it.")

    [call] = reply.tool_calls
    assert call["name"] == "odd"
    assert isinstance(call["args"], dict)


def test_nested_schemas_constrain_the_arguments_on_every_call(model: LocalChatModel) -> None:
    import pydantic

    class Room(pydantic.BaseModel):
        name: str
        floor: int

    class FindItems(pydantic.BaseModel):
        """Find the items in a room."""

        room: Room

    bound = model.bind_tools([FindItems], tool_choice="required")
    tools = bound.bound["tools"]
    grammar = _grammar(_plan("required", tools), tools)  # type: ignore[arg-type]

    assert "args0-room ::= Room" in grammar.splitlines()
    assert _grammar(_plan("required", tools), tools) == grammar  # type: ignore[arg-type]
    for _ in range(2):
        [call] = bound.invoke("Find the items in the kitchen on floor 1.").tool_calls
        assert call["name"] == "FindItems"
        assert list(call["args"]) == ["room"]
        assert list(call["args"]["room"]) == ["name", "floor"]
        assert isinstance(call["args"]["room"]["floor"], int)


# ------------------------------------------------------------------ pieces


def test_plan() -> None:
    tools = [GET_ITEMS_DICT]

    assert _plan(None, []) is None
    assert _plan("none", tools) is None
    assert _plan(None, tools) == _plan("auto", tools)
    assert _plan("auto", tools).mode == "auto"  # type: ignore[union-attr]
    assert _plan("required", tools) == _plan("any", tools) == _plan("get_items", tools)


def test_grammar_for_required() -> None:
    grammar = _grammar(_plan("required", [GET_ITEMS_DICT]), [GET_ITEMS_DICT])  # type: ignore[arg-type]

    assert grammar.splitlines()[:3] == [
        "root ::= rillet-call",
        'rillet-call ::= "{\\"name\\": " ( "\\"get_items\\", \\"arguments\\": " args0 ) "}"',
        "rillet-text ::= [^{ \\t\\r\\n] .*",
    ]
    assert 'args0 ::= "{" space args0-place-kv "}" space' in grammar.splitlines()


def test_tool_calls_and_results_are_written_as_text() -> None:
    chat = _chat_messages(
        [SystemMessage("Be brief."), *conversation()], _plan("auto", [GET_ITEMS_DICT]),
        [GET_ITEMS_DICT],
    )

    assert chat == [
        {"role": "system", "content": (
            "Be brief.\n\nYou can call these tools:\n"
            '- get_items: Get the items at a place. Arguments: {"place": {"type": "string", '
            '"description": "the room to look in"}}\n'
            'To call a tool, answer with only a JSON object: {"name": <tool name>, '
            '"arguments": {<arguments>}}.\n'
            "Call a tool when the question needs what it gives; otherwise answer in plain text."
        )},
        {"role": "user", "content": QUESTION},
        {"role": "assistant",
         "content": '{"name": "get_items", "arguments": {"place": "kitchen"}}'},
        {"role": "user", "content": (
            f"Result of get_items: a fork, a spoon\n\nUsing this result, answer: {QUESTION}"
        )},
    ]


def feed(output: _ToolOutput, pieces: list[str]) -> list[AIMessageChunk]:
    return [chunk for piece in pieces for chunk in output.feed(piece)]


def test_the_parser_splits_a_call_at_any_token_boundary() -> None:
    pieces = ['{"na', 'me": "get_', 'items", "argu', 'ments": {"place": "a}', '\\"b"', "} ", "}"]

    chunks = feed(_ToolOutput(forced=False), pieces)

    call_id = chunks[0].tool_call_chunks[0]["id"]
    assert [c.tool_call_chunks for c in chunks] == [
        [{"name": "get_items", "args": "", "id": call_id, "index": 0, "type": "tool_call_chunk"}],
        *([{"name": None, "args": a, "id": None, "index": 0, "type": "tool_call_chunk"}]
          for a in ['{"place": "a}', '\\"b"', "}"]),
    ]
    merged = message_chunk_to_message(merge_chunks(chunks))
    assert merged.tool_calls[0]["args"] == {"place": 'a}"b'}
    assert json.loads('{"place": "a}\\"b"}') == merged.tool_calls[0]["args"]


def test_the_parser_passes_text_through() -> None:
    chunks = feed(_ToolOutput(forced=False), ["Hello", " {there}"])

    assert [(c.content, c.tool_call_chunks) for c in chunks] == [("Hello", []), (" {there}", [])]
