"""``create_react_agent``: a model that calls tools until it can answer.

Built from the public API only, with LangGraph's nodes and edges: ``agent`` (the
model, with the tools bound) and ``tools`` (a ``ToolNode``), optionally
``pre_model_hook`` (before every model call), ``post_model_hook`` (after it) and
``generate_structured_response`` (a last call for ``response_format``). With
``version="v2"`` (the default) each tool call is its own ``tools`` task, sent with the
state; with ``"v1"`` one ``tools`` task runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from rillet._constants import END
from rillet.errors import UsageError
from rillet.graph import CompiledStateGraph, StateGraph
from rillet.messages import AIMessage, ToolMessage
from rillet.models import ChatModel
from rillet.prebuilt._agent_nodes import AgentNode, Prompt, StructuredResponseNode, state_value
from rillet.prebuilt._agent_state import check_state_schema, with_llm_input
from rillet.prebuilt._tool_node import ToolNode
from rillet.tools import Tool
from rillet.types import Send

Router = Callable[[Any], Any]


def create_react_agent(
    model: ChatModel | str,
    tools: Sequence[Tool | Callable[..., Any] | dict[str, Any]] | ToolNode,
    *,
    prompt: Prompt | None = None,
    response_format: Any = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: type[Any] | None = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
) -> CompiledStateGraph:
    """A ReAct agent, with LangGraph's nodes, edges and output shapes.

    ``model`` is a rillet ``ChatModel`` or a name for ``init_chat_model``; ``tools`` a
    list of functions, ``Tool`` objects and provider tool dicts (``[]`` for none) or a
    ``ToolNode``; ``prompt`` a system prompt string or message, a function of the state
    returning the model input, or an object with ``invoke``. ``response_format`` is a
    schema for the model's ``with_structured_output`` (or a ``(system_prompt,
    schema)`` pair): its answer lands in ``structured_response``. ``name`` names the
    graph and every message the model writes. The other arguments go to ``compile``.

    :raises UsageError: if ``model`` or ``tools`` is missing or of the wrong kind.
    :raises ValueError: for an unknown ``version``, a ``state_schema`` without the keys
        the agent needs, or a model already bound to other tools (LangGraph's words).
    """
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version}. Supported versions are 'v1' and 'v2'.")
    schema = check_state_schema(state_schema, response_format is not None)
    chat_model = _chat_model(model)
    tool_node, builtin = _tool_node(tools)
    tools_list = list(tool_node.tools.values())
    bound = _bind(chat_model, tools_list, builtin)
    return_direct = {t.name for t in tools_list if t.return_direct}
    builder = StateGraph(with_llm_input(schema) if pre_model_hook is not None else schema)
    builder.add_node(
        "agent", AgentNode(bound, prompt, name, pre_model_hook is not None, return_direct)
    )
    if tools_list:
        builder.add_node("tools", tool_node)
    entry = "agent"
    if pre_model_hook is not None:
        builder.add_node("pre_model_hook", pre_model_hook)
        builder.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    builder.set_entry_point(entry)
    if post_model_hook is not None:
        builder.add_node("post_model_hook", post_model_hook)
        builder.add_edge("agent", "post_model_hook")
    if response_format is not None:
        builder.add_node(
            "generate_structured_response", StructuredResponseNode(chat_model, response_format)
        )
    if tools_list:
        _add_tool_loop(builder, entry, version, post_model_hook is not None,
                       response_format is not None, return_direct)
    else:
        after = "post_model_hook" if post_model_hook is not None else "agent"
        builder.add_edge(after, END if response_format is None else "generate_structured_response")
    if response_format is not None:
        builder.add_edge("generate_structured_response", END)
    kwargs = {
        key: value
        for key, value in (("checkpointer", checkpointer), ("store", store),
                           ("interrupt_before", interrupt_before),
                           ("interrupt_after", interrupt_after))
        if value is not None
    }
    return builder.compile(name=name, debug=debug, **kwargs)


def _add_tool_loop(builder: StateGraph, entry: str, version: str, post_hook: bool,
                   structured: bool, return_direct: set[str]) -> None:
    """The conditional edges around the ``tools`` node, as LangGraph wires them."""
    done = "generate_structured_response" if structured else END
    agent_paths = ["post_model_hook"] if post_hook else ["tools"]
    if not post_hook:
        agent_paths.append(done)
    builder.add_conditional_edges(
        "agent", _should_continue(version, post_hook, done), agent_paths
    )
    if post_hook:
        builder.add_conditional_edges(
            "post_model_hook", _after_post_hook(entry, done), [entry, "tools", done]
        )
    if return_direct:
        builder.add_conditional_edges(
            "tools", _after_tools(entry, return_direct), [entry, END]
        )
    else:
        builder.add_edge("tools", entry)


def _sends(calls: Sequence[Any], state: Any) -> list[Send]:
    return [
        Send("tools", {"__type": "tool_call_with_context", "tool_call": call, "state": state})
        for call in calls
    ]


def _should_continue(version: str, post_hook: bool, done: str) -> Router:
    def should_continue(state: Any) -> Any:
        last = state_value(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "post_model_hook" if post_hook else done
        if version == "v1":
            return "tools"
        return "post_model_hook" if post_hook else _sends(last.tool_calls, state)

    return should_continue


def _after_post_hook(entry: str, done: str) -> Router:
    def post_model_hook_router(state: Any) -> Any:
        messages = state_value(state, "messages")
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
        pending = [c for c in last_ai.tool_calls if c["id"] not in answered]
        if pending:
            return _sends(pending, state)
        if isinstance(messages[-1], ToolMessage):
            return entry
        return done

    return post_model_hook_router


def _after_tools(entry: str, return_direct: set[str]) -> Router:
    def route_tool_responses(state: Any) -> str:
        message: Any = None
        for message in reversed(state_value(state, "messages")):
            if not isinstance(message, ToolMessage):
                break
            if message.name in return_direct:
                return END
        # a return_direct tool of the same AI message ran in another Send
        if isinstance(message, AIMessage) and any(
            c["name"] in return_direct for c in message.tool_calls
        ):
            return END
        return entry

    return route_tool_responses


def _bind(model: ChatModel, tools: list[Tool], builtin: list[dict[str, Any]]) -> Any:
    """The model with the tools bound, unless it was bound to these tools already."""
    bound_tools = getattr(model, "bound", {}).get("tools")
    if bound_tools is not None:
        _check_bound(tools, bound_tools, len(builtin))
        return model
    if not tools and not builtin:
        return model
    bind = getattr(model, "bind_tools", None)
    if not callable(bind):
        raise UsageError(
            f"create_react_agent(model=...): {model!r} has no bind_tools(), so it "
            f"cannot call tools; pass a rillet ChatModel"
        )
    return bind([*tools, *builtin])


def _check_bound(tools: list[Tool], bound_tools: list[Any], builtin: int) -> None:
    if len(tools) != len(bound_tools) - builtin:
        raise ValueError(
            "Number of tools in the model.bind_tools() and tools passed to "
            f"create_react_agent must match Got {len(tools)} tools, expected "
            f"{len(bound_tools) - builtin}"
        )
    names = set()
    for bound in bound_tools:
        if bound.get("type") == "function":
            names.add(bound["function"]["name"])
        elif bound.get("name"):
            names.add(bound["name"])
    missing = {t.name for t in tools} - names
    if missing:
        raise ValueError(f"Missing tools '{missing}' in the model.bind_tools()")


def _chat_model(model: Any) -> ChatModel:
    if isinstance(model, str):
        from rillet.models import init_chat_model

        return init_chat_model(model)
    if model is None or not callable(getattr(model, "invoke", None)):
        raise UsageError(
            f"create_react_agent(model=...) takes a chat model or a model name such as "
            f"'openai:gpt-4o-mini', got {model!r}"
        )
    chat_model: ChatModel = model
    return chat_model


def _tool_node(tools: Any) -> tuple[ToolNode, list[dict[str, Any]]]:
    if isinstance(tools, ToolNode):
        return tools, []
    if tools is None or isinstance(tools, str | Tool) or not isinstance(tools, Sequence):
        raise UsageError(
            f"create_react_agent(tools=...) takes a list of tools (functions or Tool "
            f"objects; [] for none) or a ToolNode, got {tools!r}"
        )
    builtin = [t for t in tools if isinstance(t, dict)]
    return ToolNode([t for t in tools if not isinstance(t, dict)]), builtin
