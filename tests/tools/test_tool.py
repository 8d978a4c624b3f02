"""``@tool`` and ``Tool``: schemas, invoking, argument checks, streaming inside."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel

from rillet.errors import UsageError
from rillet.messages import ToolMessage
from rillet.tools import Tool, ToolArgumentError, tool
from rillet.tools._tool import ToolInvocationError, tool_content


@tool
def get_items(place: Annotated[str, "the room to look in"], limit: int = 3) -> str:
    """List items one might find in a place.

    Args:
        place: ignored, the Annotated description wins
        limit: how many items at most
    """
    return ", ".join(["books", "pencils", "pictures"][:limit])


def test_schema_from_signature_and_docstring() -> None:
    assert get_items.name == "get_items"
    assert get_items.description == "List items one might find in a place."
    assert get_items.to_openai_tool() == {
        "type": "function",
        "function": {
            "name": "get_items",
            "description": "List items one might find in a place.",
            "parameters": {
                "type": "object",
                "properties": {
                    "place": {"type": "string", "description": "the room to look in"},
                    "limit": {
                        "type": "integer",
                        "description": "how many items at most",
                        "default": 3,
                    },
                },
                "required": ["place"],
            },
        },
    }


def test_types_literals_lists_optionals() -> None:
    @tool("search", description="Search.")
    def search(
        query: str, kinds: list[str], mode: Literal["fast", "deep"] = "fast",
        page: int | None = None, config: dict | None = None,
    ) -> str:
        return query

    props = search.args_schema["properties"]
    assert search.name == "search" and search.description == "Search."
    assert props == {
        "query": {"type": "string"},
        "kinds": {"type": "array", "items": {"type": "string"}},
        "mode": {"enum": ["fast", "deep"], "type": "string", "default": "fast"},
        "page": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
    }
    assert search.args_schema["required"] == ["query", "kinds"]


class Address(BaseModel):
    city: str
    zip: str


def test_pydantic_argument() -> None:
    @tool
    def ship(to: Address) -> str:
        """Ship a parcel."""
        assert isinstance(to, Address)
        return f"shipping to {to.city}"

    assert ship.args_schema["properties"]["to"]["properties"]["city"] == {
        "title": "City", "type": "string"
    }
    assert ship.invoke({"to": {"city": "Oslo", "zip": "0150"}}) == "shipping to Oslo"


def test_invoke_with_args_and_with_a_tool_call() -> None:
    assert get_items.invoke({"place": "office", "limit": 1}) == "books"
    message = get_items.invoke(
        {"name": "get_items", "args": {"place": "office"}, "id": "call_1", "type": "tool_call"}
    )
    assert message == ToolMessage(
        content="books, pencils, pictures", tool_call_id="call_1", name="get_items"
    )


async def test_async_tool_and_ainvoke() -> None:
    @tool
    async def fetch(url: str) -> dict:
        """Fetch a URL."""
        return {"url": url, "status": 200}

    assert await fetch.ainvoke({"url": "x"}) == {"url": "x", "status": 200}
    assert fetch.invoke({"url": "y"}) == {"url": "y", "status": 200}
    message = await fetch.ainvoke({"name": "fetch", "args": {"url": "z"}, "id": "c",
                                   "type": "tool_call"})
    assert message.content == '{"url": "z", "status": 200}'
    assert await get_items.ainvoke({"place": "p", "limit": 2}) == "books, pencils"


@pytest.mark.parametrize(
    ("args", "errors"),
    [
        ({}, "place: Field required"),
        ({"limit": 2, "colour": "red"}, "place: Field required"),  # colour is dropped
        ({"place": 5}, "place: Input should be a valid string"),
        ({"place": "x", "limit": True}, "limit: Input should be a valid integer"),
        ({"place": "x", "limit": None}, "limit: Input should be a valid integer"),
        ({"place": 1, "limit": "2"},
         "place: Input should be a valid string\nlimit: Input should be a valid integer"),
    ],
)
def test_bad_arguments(args: dict, errors: str) -> None:
    with pytest.raises(ToolInvocationError) as caught:
        get_items.invoke(args)
    expected = (
        f"Error invoking tool 'get_items' with kwargs {args!r} with error:\n"
        f" {errors}\n Please fix the error and try again."
    )
    assert str(caught.value) == caught.value.message == expected
    assert isinstance(caught.value, ToolArgumentError)


def test_bad_pydantic_argument_names_the_field() -> None:
    @tool
    def ship(to: Address) -> str:
        """Ship a parcel."""
        return to.city

    with pytest.raises(ToolInvocationError) as caught:
        ship.invoke({"to": {"city": "Oslo"}})
    assert caught.value.errors == [{"loc": ("to", "zip"), "msg": "Field required"}]


def test_optional_arguments_take_null() -> None:
    @tool
    def search(query: str, limit: Optional[int] = None, tags: list[str] | None = None) -> str:  # noqa: UP045 - the spelling under test
        """Search the catalogue."""
        return f"{query}:{limit}:{tags}"

    assert search.args_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "tags": {
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
                "default": None,
            },
        },
        "required": ["query"],
    }
    assert search.invoke({"query": "socks"}) == "socks:None:None"
    assert search.invoke({"query": "socks", "limit": None, "tags": None}) == "socks:None:None"
    assert search.invoke({"query": "socks", "limit": 3, "tags": ["a"]}) == "socks:3:['a']"
    with pytest.raises(ToolInvocationError) as caught:
        search.invoke({"query": "socks", "tags": ["a", 2]})
    assert caught.value.errors == [
        {"loc": ("tags", 1), "msg": "Input should be a valid string"}
    ]


def test_optional_schema_matches_langchain() -> None:
    import langchain_core.tools as lc_tools
    import langchain_core.utils.function_calling as function_calling

    def search(query: str, limit: Optional[int] = None, tags: list[str] | None = None) -> str:  # noqa: UP045 - the spelling under test
        """Search the catalogue."""
        return query

    theirs = function_calling.convert_to_openai_tool(lc_tools.tool(search))
    assert tool(search).to_openai_tool()["function"]["parameters"] == (
        theirs["function"]["parameters"]
    )


def test_positional_only_parameters_are_passed_positionally() -> None:
    @tool
    def power(base: int, exp: int = 2, /, *, mod: int | None = None) -> int:
        """Raise base to exp."""
        return base**exp if mod is None else pow(base, exp, mod)

    assert list(power.args) == ["base", "exp", "mod"]
    assert power.invoke({"base": 3}) == 9
    assert power.invoke({"base": 3, "exp": 3}) == 27
    assert power.invoke({"exp": 3, "base": 2, "mod": 5}) == 3


def test_kwargs_take_any_extra_argument() -> None:
    @tool
    def record(event: str, **fields: Any) -> dict:
        """Record an event with any fields."""
        return {"event": event, **fields}

    assert record.args_schema == {
        "type": "object", "properties": {"event": {"type": "string"}}, "required": ["event"]
    }
    assert record.invoke({"event": "e", "x": 1, "y": None}) == {"event": "e", "x": 1, "y": None}
    with pytest.raises(ToolInvocationError, match="event: Field required"):
        record.invoke({"x": 1})


def test_var_positional_is_rejected_at_decoration() -> None:
    def gather(*items: str) -> str:
        """Join items."""
        return ",".join(items)

    with pytest.raises(UsageError) as caught:
        tool(gather)
    assert str(caught.value) == (
        "Tool 'gather' takes *items, which a tool call cannot fill (it passes named "
        "arguments); take a list instead, such as `items: list[str]`"
    )


def test_not_a_function() -> None:
    with pytest.raises(UsageError, match=r"Tool\(fn\): fn must be a function, got 42"):
        Tool(42)  # type: ignore[arg-type]


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("result", "content"),
    [
        ("plain text", "plain text"),
        ({"a": 1, "b": [1, 2]}, '{"a": 1, "b": [1, 2]}'),
        (["x", "y"], '["x", "y"]'),
        ([{"type": "text", "text": "hi"}], [{"type": "text", "text": "hi"}]),
        ([], []),
        (42, "42"),
        (None, "null"),
        ("é", "é"),
        ({"é": "ü"}, '{"é": "ü"}'),
        ((1, 2), "[1, 2]"),
        ({3, 1, 2}, "[1, 2, 3]"),
        (b"\xff\x00", "/wA="),
        (b"caf\xc3\xa9", "café"),
        (float("nan"), "null"),
        ({"score": float("inf")}, '{"score": null}'),
        ({"at": datetime.date(2024, 5, 1)}, '{"at": "2024-05-01"}'),
        (Point(1, 2), '{"x": 1, "y": 2}'),
        (ValueError("bad"), '{"type": "ValueError", "message": "bad"}'),
    ],
)
def test_tool_content_as_langgraph_makes_it(result: Any, content: Any) -> None:
    assert tool_content(result) == content


def test_tool_content_of_an_unknown_object_is_its_str() -> None:
    class Weather:
        def __str__(self) -> str:
            return "sunny"

    assert tool_content(Weather()) == "sunny"
    assert tool_content({"now": Weather()}) == '{"now": "sunny"}'


def test_a_tool_call_result_that_is_a_tool_message_is_kept() -> None:
    @tool
    def direct(x: int) -> ToolMessage:
        """Answer with a message."""
        return ToolMessage("done", tool_call_id="mine", artifact={"x": x})

    message = direct.invoke({"name": "direct", "args": {"x": 1}, "id": "c", "type": "tool_call"})
    assert message == ToolMessage("done", tool_call_id="mine", artifact={"x": 1})


def test_a_tool_needs_a_description() -> None:
    def nodoc(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="needs a description"):
        tool(nodoc)
    assert Tool(nodoc, description="Echo.").description == "Echo."


async def test_a_sync_tool_raising_stop_iteration_under_ainvoke_does_not_hang() -> None:
    @tool
    def first_even(xs: list[int]) -> int:
        """The first even number."""
        return next(x for x in xs if x % 2 == 0)

    with pytest.raises(RuntimeError) as caught:
        await asyncio.wait_for(first_even.ainvoke({"xs": [1, 3]}), timeout=5)
    assert isinstance(caught.value.__cause__, StopIteration)
    assert await first_even.ainvoke({"xs": [1, 4]}) == 4
