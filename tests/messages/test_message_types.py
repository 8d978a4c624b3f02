"""Message construction, repr, equality and helpers (expected reprs are LangChain's)."""

import pytest

from rillet.messages import (
    REMOVE_ALL_MESSAGES,
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    tool_call,
)


def test_content_positional_or_keyword() -> None:
    assert HumanMessage("hi") == HumanMessage(content="hi")
    assert HumanMessage("hi").content == "hi"


def test_defaults() -> None:
    msg = AIMessage("hi")
    assert msg.additional_kwargs == {}
    assert msg.response_metadata == {}
    assert msg.name is None
    assert msg.id is None
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls == []
    assert msg.usage_metadata is None


def test_default_dicts_are_not_shared() -> None:
    first, second = HumanMessage("a"), HumanMessage("b")
    first.additional_kwargs["x"] = 1
    assert second.additional_kwargs == {}


def test_types() -> None:
    assert SystemMessage("s").type == "system"
    assert HumanMessage("h").type == "human"
    assert AIMessage("a").type == "ai"
    assert AIMessageChunk("c").type == "AIMessageChunk"
    assert ToolMessage("t", tool_call_id="1").type == "tool"
    assert RemoveMessage(id="x").type == "remove"


def test_class_tree() -> None:
    chunk = AIMessageChunk("c")
    assert isinstance(chunk, AIMessage)
    assert isinstance(chunk, BaseMessageChunk)
    assert isinstance(chunk, BaseMessage)
    assert not isinstance(AIMessage("a"), BaseMessageChunk)


def test_unknown_keyword_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="'colour'"):
        HumanMessage("hi", colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'foo'"):
        AIMessageChunk("hi", foo=1)  # type: ignore[call-arg]


def test_content_must_be_str_or_list() -> None:
    with pytest.raises(TypeError, match="HumanMessage content must be a str or a list"):
        HumanMessage(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AIMessageChunk content must be a str or a list"):
        AIMessageChunk(None)  # type: ignore[arg-type]


def test_slots_no_instance_dict() -> None:
    chunk = AIMessageChunk("tok")
    assert not hasattr(chunk, "__dict__")
    with pytest.raises(AttributeError):
        chunk.colour = "red"  # type: ignore[attr-defined]


def test_repr_ai() -> None:
    assert repr(AIMessage(content="hi", id="x")) == (
        "AIMessage(content='hi', additional_kwargs={}, response_metadata={}, id='x', "
        "tool_calls=[], invalid_tool_calls=[])"
    )
    usage = {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert repr(AIMessage("hi", name="n", usage_metadata=usage)) == (  # type: ignore[arg-type]
        "AIMessage(content='hi', additional_kwargs={}, response_metadata={}, name='n', "
        "tool_calls=[], invalid_tool_calls=[], usage_metadata={'input_tokens': 1, "
        "'output_tokens': 2, 'total_tokens': 3})"
    )


def test_repr_ai_with_tool_calls() -> None:
    msg = AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c"}])
    assert repr(msg) == (
        "AIMessage(content='', additional_kwargs={}, response_metadata={}, "
        "tool_calls=[{'name': 'f', 'args': {'a': 1}, 'id': 'c', 'type': 'tool_call'}], "
        "invalid_tool_calls=[])"
    )


def test_repr_human_and_system() -> None:
    assert repr(HumanMessage("hi", id="1", name="bob")) == (
        "HumanMessage(content='hi', additional_kwargs={}, response_metadata={}, name='bob', id='1')"
    )
    assert repr(SystemMessage([{"type": "text", "text": "a"}])) == (
        "SystemMessage(content=[{'type': 'text', 'text': 'a'}], additional_kwargs={}, "
        "response_metadata={})"
    )


def test_repr_chunk() -> None:
    assert repr(AIMessageChunk(content="tok")) == (
        "AIMessageChunk(content='tok', additional_kwargs={}, response_metadata={}, "
        "tool_calls=[], invalid_tool_calls=[], tool_call_chunks=[])"
    )
    assert repr(AIMessageChunk("tok", id="run-1", chunk_position="last")) == (
        "AIMessageChunk(content='tok', additional_kwargs={}, response_metadata={}, "
        "id='run-1', tool_calls=[], invalid_tool_calls=[], tool_call_chunks=[], "
        "chunk_position='last')"
    )


def test_repr_tool() -> None:
    assert repr(ToolMessage("res", tool_call_id="c1")) == (
        "ToolMessage(content='res', tool_call_id='c1')"
    )
    msg = ToolMessage(
        "res",
        tool_call_id="c1",
        artifact=[1],
        status="error",
        name="t",
        id="i",
        additional_kwargs={"hidden": True},
    )
    assert repr(msg) == (
        "ToolMessage(content='res', name='t', id='i', tool_call_id='c1', artifact=[1], "
        "status='error')"
    )


def test_repr_remove() -> None:
    assert repr(RemoveMessage(id="x")) == (
        "RemoveMessage(content='', additional_kwargs={}, response_metadata={}, id='x')"
    )


def test_str_is_pydantic_style() -> None:
    assert str(HumanMessage("hi", id="1")) == (
        "content='hi' additional_kwargs={} response_metadata={} id='1'"
    )


def test_equality() -> None:
    assert AIMessage("hi", id="1") == AIMessage("hi", id="1")
    assert AIMessage("hi", id="1") != AIMessage("hi", id="2")
    assert AIMessage("hi") != AIMessage("hi", name="n")
    assert AIMessage("hi") != AIMessage("hi", additional_kwargs={"a": 1})
    assert AIMessage("hi") != HumanMessage("hi")
    assert AIMessage("hi") != AIMessageChunk("hi")
    assert AIMessage("hi") != "hi"
    assert ToolMessage("r", tool_call_id="1") != ToolMessage("r", tool_call_id="2")
    assert ToolMessage("r", tool_call_id="1") != ToolMessage("r", tool_call_id="1", artifact=1)


def test_messages_are_unhashable_like_pydantic_models() -> None:
    with pytest.raises(TypeError):
        hash(HumanMessage("hi"))


def test_text_property() -> None:
    assert HumanMessage("plain").text == "plain"
    content = [
        {"type": "text", "text": "a"},
        "b",
        {"type": "image_url", "image_url": {"url": "u"}},
        {"type": "text", "text": 3},
        {"type": "text", "text": "c"},
    ]
    assert HumanMessage(content).text == "abc"  # type: ignore[arg-type]


def test_tool_calls_normalized() -> None:
    msg = AIMessage("", tool_calls=[{"name": "f", "args": {}}])
    assert msg.tool_calls == [{"name": "f", "args": {}, "id": None, "type": "tool_call"}]
    assert tool_call(name="f", args={"a": 1}, id="x") == {
        "name": "f",
        "args": {"a": 1},
        "id": "x",
        "type": "tool_call",
    }


def test_bad_tool_call_raises() -> None:
    with pytest.raises(ValueError, match="tool call 0 must be a dict with 'name' and 'args'"):
        AIMessage("", tool_calls=[{"name": "f"}])


def test_invalid_tool_calls_normalized() -> None:
    msg = AIMessage("", invalid_tool_calls=[{"name": "g", "args": "{", "error": "bad"}])
    assert msg.invalid_tool_calls == [
        {"name": "g", "args": "{", "id": None, "error": "bad", "type": "invalid_tool_call"}
    ]


def test_legacy_openai_tool_calls_in_additional_kwargs() -> None:
    raw = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]
    msg = AIMessage("", additional_kwargs={"tool_calls": raw})
    assert msg.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c", "type": "tool_call"}]


def test_tool_message_coercions() -> None:
    msg = ToolMessage(5, tool_call_id=3)  # type: ignore[arg-type]
    assert msg.content == "5"
    assert msg.tool_call_id == "3"
    assert ToolMessage(("a", "b"), tool_call_id="1").content == ["a", "b"]  # type: ignore[arg-type]
    assert msg.status == "success"
    assert msg.artifact is None


def test_tool_message_requires_tool_call_id() -> None:
    with pytest.raises(TypeError, match="tool_call_id"):
        ToolMessage("x")  # type: ignore[call-arg]


def test_tool_message_status_checked() -> None:
    with pytest.raises(ValueError, match="status must be 'success' or 'error', got 'done'"):
        ToolMessage("x", tool_call_id="1", status="done")  # type: ignore[arg-type]


def test_remove_message() -> None:
    assert RemoveMessage(id="x").id == "x"
    assert RemoveMessage(REMOVE_ALL_MESSAGES).id == "__remove_all__"


def test_to_dict() -> None:
    assert ToolMessage("r", tool_call_id="1", id="m").to_dict() == {
        "type": "tool",
        "content": "r",
        "additional_kwargs": {},
        "response_metadata": {},
        "name": None,
        "id": "m",
        "tool_call_id": "1",
        "artifact": None,
        "status": "success",
    }


def test_model_copy() -> None:
    msg = AIMessage("hi", id="1", tool_calls=[{"name": "f", "args": {}, "id": "c"}])
    copy = msg.model_copy(update={"id": "2"})
    assert copy.id == "2"
    assert copy.tool_calls == msg.tool_calls
    assert msg.id == "1"
    assert msg.model_copy() == msg
    with pytest.raises(TypeError, match="AIMessage has no field 'colour'"):
        msg.model_copy(update={"colour": "red"})


def test_pretty_repr() -> None:
    assert HumanMessage("hi").pretty_repr() == (
        "================================ Human Message =================================\n\nhi"
    )
    msg = AIMessage(
        "x",
        name="bob",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}],
        invalid_tool_calls=[{"name": "g", "args": "{bad", "id": "2", "error": "oops"}],
    )
    assert msg.pretty_repr() == "\n".join(
        [
            "================================== Ai Message ==================================",
            "Name: bob",
            "",
            "x",
            "Tool Calls:",
            "  f (1)",
            " Call ID: 1",
            "  Args:",
            "    a: 1",
            "Invalid Tool Calls:",
            "  g (2)",
            " Call ID: 2",
            "  Error: oops",
            "  Args:",
            "    {bad",
        ]
    )
    assert ToolMessage("x", tool_call_id="1").pretty_repr() == (
        "================================= Tool Message =================================\n\nx"
    )


def test_pretty_print(capsys: pytest.CaptureFixture[str]) -> None:
    SystemMessage("be brief").pretty_print()
    assert capsys.readouterr().out == (
        "================================ System Message ================================\n\n"
        "be brief\n"
    )
