"""rillet quick start: build a two-node graph and watch it run in every stream mode."""

from __future__ import annotations

from typing import TypedDict

from rillet.graph import START, StateGraph
from rillet.types import StreamWriter


class State(TypedDict):
    topic: str
    joke: str


def refine_topic(state: State):
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: State, writer: StreamWriter):
    writer({"custom_key": "Writing custom data while generating a joke"})
    return {"joke": f"This is a joke about {state['topic']}"}


graph = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .compile()
)


def main() -> None:
    for mode in ("values", "updates", "custom", "tasks"):
        print(f"--- stream_mode={mode!r}")
        for chunk in graph.stream({"topic": "ice cream"}, stream_mode=mode):
            print(chunk)
    print("--- stream_mode=['updates', 'custom']")
    for mode, chunk in graph.stream({"topic": "ice cream"}, stream_mode=["updates", "custom"]):
        print(mode, chunk)
    print("--- invoke")
    print(graph.invoke({"topic": "ice cream"}))


if __name__ == "__main__":
    main()
