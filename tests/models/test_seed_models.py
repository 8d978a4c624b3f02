"""Seeds 001, 002 and 003 with each kind of model: the scripted ``FakeChatModel``, the
embedded ``LocalChatModel`` and ``OpenAIChatModel`` against the real llama.cpp server
on loopback. Real models answer differently each time, so these tests check the
structure the seeds print (tokens, which node and tags they came from), not the words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

import pytest

from rillet.graph import START, StateGraph
from rillet.messages import AIMessageChunk
from rillet.models import ChatModel, FakeChatModel, LocalChatModel, OpenAIChatModel
from tests.models.servers import LlamaServer

ModelFactory = Callable[[list[str]], ChatModel]


@pytest.fixture(params=["fake", "local", "openai"])
def make_model(request: pytest.FixtureRequest) -> ModelFactory:
    """A factory of models of one kind; its argument is the model's tags."""
    kind = request.param
    if kind == "fake":
        return lambda tags: FakeChatModel(["Why did the cat sit on the mat? To stay warm."] * 4,
                                          tags=tags)
    if kind == "local":
        return lambda tags: LocalChatModel(max_tokens=12, tags=tags)
    llama: LlamaServer = request.getfixturevalue("llama")
    return lambda tags: OpenAIChatModel(
        "smollm2", base_url=llama.base_url, api_key=llama.api_key, temperature=0.0,
        max_tokens=12, seed=42, tags=tags,
    )


class State(TypedDict):
    topic: str
    joke: str
    poem: str


async def test_seed_001_two_models_filtered_by_tag(make_model: ModelFactory) -> None:
    joke_model = make_model(["joke"])
    poem_model = make_model(["poem"])

    async def call_model(state, config):
        topic = state["topic"]
        joke_response = await joke_model.ainvoke(
            [{"role": "user", "content": f"Write a joke about {topic}"}], config
        )
        poem_response = await poem_model.ainvoke(
            [{"role": "user", "content": f"Write a short poem about {topic}"}], config
        )
        return {"joke": joke_response.content, "poem": poem_response.content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    by_tag: dict[str, str] = {"joke": "", "poem": ""}
    async for msg, metadata in graph.astream({"topic": "cats"}, stream_mode="messages"):
        assert isinstance(msg, AIMessageChunk)
        assert metadata["langgraph_node"] == "call_model"
        assert metadata["ls_model_type"] == "chat"
        (tag,) = [t for t in metadata["tags"] if t in by_tag]
        by_tag[tag] += msg.content
    final = await graph.ainvoke({"topic": "cats"})
    assert by_tag["joke"].strip() and by_tag["poem"].strip()
    assert final["joke"].strip() and final["poem"].strip()


def test_seed_002_tokens_from_specific_nodes(make_model: ModelFactory) -> None:
    model = make_model([])

    def write_joke(state: State) -> dict:
        joke = model.invoke([{"role": "user", "content": f"Write a joke about {state['topic']}"}])
        return {"joke": joke.content}

    def write_poem(state: State) -> dict:
        poem = model.invoke([{"role": "user", "content": f"Write a poem about {state['topic']}"}])
        return {"poem": poem.content}

    graph = (
        StateGraph(State)
        .add_node(write_joke)
        .add_node(write_poem)
        .add_edge(START, "write_joke")
        .add_edge(START, "write_poem")
        .compile()
    )
    tokens: dict[str, list[str]] = {"write_joke": [], "write_poem": []}
    for msg, metadata in graph.stream({"topic": "cats"}, stream_mode="messages"):
        if msg.content:
            tokens[metadata["langgraph_node"]].append(msg.content)
    assert len(tokens["write_poem"]) > 1 and len(tokens["write_joke"]) > 1


def test_seed_003_stream_a_model_on_its_own(make_model: ModelFactory) -> None:
    chunks = list(make_model([]).stream("Tell me a joke."))
    assert len([c for c in chunks if c.content]) > 1
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == "".join(c.content for c in chunks)


def test_seed_003_callback_handler(make_model: ModelFactory) -> None:
    from rillet.callbacks import CallbackHandler

    tokens: list[Any] = []

    class Handler(CallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append({"token": token})

    response = make_model([]).invoke("Tell me a joke.", config={"callbacks": [Handler()]})
    assert "".join(t["token"] for t in tokens) == response.content
    assert len(tokens) > 1
