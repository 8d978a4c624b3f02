"""``rillet demo``: the ReAct agent of the streaming guides, watched live.

A ``create_react_agent`` with the guides' ``get_items(place)`` tool, which streams
each item it finds as custom data, answers a question (by default "what's in the
bedroom?") on the embedded local model. The terminal shows each node as it starts,
the model's tokens and tool-call arguments as they stream, the tool's custom data and
result, and the answer.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from rillet.cli._drive import drive
from rillet.cli._errors import UsageError
from rillet.cli._style import ChunkText, Style, to_json, wants_colour
from rillet.config import get_stream_writer
from rillet.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from rillet.models import ChatModel, FakeChatModel
from rillet.prebuilt import create_react_agent
from rillet.tools import tool

DEFAULT_QUESTION = "what's in the bedroom?"
_FAKE = "fake"  # a scripted model, for tests of the output; not shown in --help


@tool
def get_items(place: str) -> str:
    """Use this tool to look up which items are in the given place."""
    writer = get_stream_writer()
    lowered = place.lower()
    if "bed" in lowered:  # for under the bed, too
        items = ["socks", "shoes", "dust bunnies"]
    elif "shelf" in lowered:
        items = ["books", "pencils", "pictures"]
    else:  # if the agent asks about another place
        items = ["cat snacks"]
    for item in items:
        writer({"custom_tool_data": item})
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="watch a ReAct agent call a tool, live",
        description="Run the streaming guides' ReAct agent (one tool, get_items) and "
        "show its nodes, tokens, tool calls and custom data as they stream.",
    )
    parser.add_argument(
        "--model",
        default="local",
        metavar="MODEL",
        help="local (the embedded SmolLM2-135M, the default), local:/path/to/model.gguf, "
        "or openai:MODEL such as openai:gpt-4o-mini (needs OPENAI_API_KEY)",
    )
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="what to ask the agent")
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    out = sys.stdout
    style = Style(wants_colour(out))
    model = make_model(args.model)
    agent = create_react_agent(model, tools=[get_items])
    out.write(style(f"user: {args.question}", "dim") + "\n")
    if model.provider == "llamacpp":  # loaded in-process on the first call
        out.write(style(f"loading the local model ({model.model_name})…", "dim") + "\n")
    out.flush()
    # "tasks" is there for the node headers only: custom data carries no node name,
    # and a node that streams no tokens (tools) would otherwise get its header late.
    items = agent.stream(
        {"messages": [{"role": "user", "content": args.question}]},
        stream_mode=["updates", "messages", "custom", "tasks"],
    )
    view = AgentView(out, style)
    return drive(items, view.show, view.finish)


def make_model(spec: str) -> ChatModel:
    """The chat model for ``--model``.

    :raises UsageError: for an unknown provider, a missing key, file or extra.
    """
    if spec == _FAKE:
        return _fake_model()
    from rillet.models import init_chat_model

    try:
        model = init_chat_model(spec)
    except (ImportError, ValueError, FileNotFoundError) as exc:
        raise UsageError(f"--model {spec}: {exc}") from exc
    hosted = model.provider == "openai" and not os.environ.get("OPENAI_BASE_URL")
    if hosted and not os.environ.get("OPENAI_API_KEY"):
        raise UsageError(f"--model {spec} needs OPENAI_API_KEY set in the environment")
    return model


def _fake_model() -> FakeChatModel:
    call = {"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1"}
    return FakeChatModel(
        [
            AIMessage("", tool_calls=[call]),
            "In the bedroom you will find socks, shoes and dust bunnies.",
        ]
    )


class AgentView:
    """Renders ``(mode, item)`` pairs of the agent's stream as they arrive."""

    def __init__(self, out: TextIO, style: Style) -> None:
        self.out = out
        self.style = style
        self.text = ChunkText(style)
        self.node: str | None = None  # the node of the last header
        self.mid_line = False
        self.streamed: set[str] = set()  # ids of the answers whose chunks were shown

    def show(self, item: tuple[str, Any]) -> None:
        mode, data = item
        if mode == "tasks":
            if "input" in data:  # a task starts (its result has "result" instead)
                self._header(data["name"])
        elif mode == "messages":
            chunk, metadata = data
            # Whole messages (the tool's result) come again in "updates": show those.
            if isinstance(chunk, AIMessageChunk):
                self._header(metadata.get("langgraph_node"))
                self._token(chunk)
        elif mode == "custom":
            self._line(f"  {self.style('custom', 'magenta')} {to_json(data)}")
        elif mode == "updates":
            for node, update in data.items():
                self._header(node)
                for message in _messages(update):
                    self._message(message)

    def finish(self) -> None:
        self._end_line()
        self.out.flush()

    def _header(self, node: str | None) -> None:
        if node is None or node == self.node:
            return
        self.node = node
        self._line(self.style(f"── {node} ──", "bold", "blue"))

    def _token(self, chunk: BaseMessage) -> None:
        text = self.text.feed(chunk)
        if not text:
            return
        if chunk.id is not None:
            self.streamed.add(chunk.id)
        self.mid_line = True  # first: a Ctrl-C during the write still ends the line
        self.out.write(text)
        self.out.flush()

    def _message(self, message: Any) -> None:
        if isinstance(message, ToolMessage):
            colour = "red" if message.status == "error" else "green"
            label = self.style(f"{message.name or 'tool'} →", colour)
            self._line(f"  {label} {message.text}")
        elif isinstance(message, AIMessage) and message.id not in self.streamed:
            # A model that does not stream: show the whole answer now.
            calls = [f"{c['name']}({to_json(c['args'])})" for c in message.tool_calls]
            for text in [message.text, *calls]:
                if text:
                    self._line(text)

    def _line(self, text: str) -> None:
        self._end_line()
        self.out.write(text + "\n")
        self.out.flush()

    def _end_line(self) -> None:
        if self.mid_line:
            self.out.write(self.text.close() + "\n")
            self.mid_line = False


def _messages(update: Any) -> list[Any]:
    if isinstance(update, dict):
        return list(update.get("messages") or ())
    return []
