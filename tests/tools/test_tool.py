"""``@tool`` and ``Tool``: schemas, invoking, argument checks, streaming inside."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

from rillet.messages import ToolMessage
from rillet.tools import Tool, ToolArgumentError, tool


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
        "page": {"type": "integer", "default": None},
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
    ("args", "message"),
    [
        ({}, "missing required argument(s) 'place'"),
        ({"place": "x", "colour": "red"}, "unknown argument 'colour'"),
        ({"place": 5}, "argument 'place' must be string, got int 5"),
        ({"place": "x", "limit": True}, "argument 'limit' must be integer"),
    ],
)
def test_bad_arguments(args: dict, message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_items.invoke(args)


def test_a_tool_needs_a_description() -> None:
    def nodoc(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="needs a description"):
        tool(nodoc)
    assert Tool(nodoc, description="Echo.").description == "Echo."
