"""The public surface, pinned: adding or removing a public name is a decision."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "rillet.graph": {
        "StateGraph", "CompiledStateGraph", "START", "END", "MessagesState", "add_messages",
    },
    "rillet.types": {
        "StreamWriter", "StreamMode", "Send", "Command", "RetryPolicy", "Durability",
        "Interrupt", "PregelTask", "StateSnapshot", "interrupt", "CachePolicy", "Overwrite",
        "GraphOutput",
        "StreamPart", "ValuesStreamPart", "UpdatesStreamPart", "MessagesStreamPart",
        "CustomStreamPart", "CheckpointStreamPart", "TasksStreamPart", "DebugStreamPart",
        "TaskPayload", "TaskResultPayload", "CheckpointTask", "CheckpointPayload",
        "DebugPayload",
    },
    "rillet.cache": {"BaseCache", "InMemoryCache"},
    "rillet.cache.base": {"BaseCache", "FullKey", "Namespace"},
    "rillet.cache.memory": {"InMemoryCache"},
    "rillet.cache.sqlite": {"SqliteCache"},
    # LangGraph's import paths for the same objects:
    "rillet.graph.message": {
        "add_messages", "MessagesState", "AnyMessage", "RemoveMessage", "REMOVE_ALL_MESSAGES",
        "Messages",
    },
    "rillet.prebuilt.chat_agent_executor": {
        "AgentState", "AgentStatePydantic", "AgentStateWithStructuredResponse",
        "AgentStateWithStructuredResponsePydantic", "RemainingSteps", "create_react_agent",
    },
    "rillet.prebuilt.tool_node": {"ToolNode", "tools_condition", "InjectedState", "InjectedStore"},
    "rillet.config": {"get_stream_writer", "get_config", "get_store"},
    "rillet.runtime": {"Runtime", "get_runtime", "ExecutionInfo"},
    "rillet.managed": {"RemainingSteps", "IsLastStep"},
    "rillet.func": {"entrypoint", "task", "Entrypoint", "TaskFunction", "TaskFuture"},
    "rillet.errors": {
        "RilletError", "GraphBuildError", "InvalidUpdateError", "InvalidRouteError",
        "GraphRecursionError", "StreamClosedError", "ModelError", "UsageError",
        "ConfigError", "OutsideRunError", "ToolArgumentError", "GraphvizNotFoundError",
        "GraphInterrupt", "EmptyInputError", "CheckpointError",
    },
    "rillet.callbacks": {"CallbackHandler", "dispatch_custom_event", "adispatch_custom_event"},
    "rillet.tools": {
        "Tool", "ToolArgumentError", "tool", "to_openai_tool", "InjectedToolArg",
        "InjectedToolCallId",
    },
    "rillet.prebuilt": {
        "ToolNode", "create_react_agent", "tools_condition", "AgentState",
        "AgentStatePydantic", "InjectedState", "InjectedStore", "ToolRuntime",
    },
    "rillet.models": {
        "ChatModel", "FakeChatModel", "LocalChatModel", "OpenAIChatModel", "init_chat_model",
        "wrap_openai",
    },
    "rillet.server": {"ServerConfig", "create_app", "load_config"},
    "rillet.server.auth": {"Auth", "HTTPException", "MinimalUserDict"},
}

CONTRACT_MESSAGES = {
    "SystemMessage", "HumanMessage", "AIMessage", "AIMessageChunk", "ToolMessage", "ToolCall",
    "ToolCallChunk", "add_messages", "convert_to_messages",
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    for name in mod.__all__:
        assert hasattr(mod, name), name


def test_messages_has_the_contract_names() -> None:
    mod = importlib.import_module("rillet.messages")
    assert set(mod.__all__) >= CONTRACT_MESSAGES


def test_errors_form_one_hierarchy() -> None:
    from rillet import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.RilletError)
    assert issubclass(errors.GraphBuildError, ValueError)
    assert issubclass(errors.GraphRecursionError, RecursionError)


def test_core_imports_no_third_party_package() -> None:
    code = (
        "import sys, rillet.graph, rillet.types, rillet.config, rillet.messages, "
        "rillet.models, rillet.errors, rillet.callbacks, rillet.tools, rillet.prebuilt\n"
        "mods = {m.split('.')[0] for m in sys.modules}\n"
        "third = sorted(m for m in mods if m not in sys.stdlib_module_names "
        "and m not in ('rillet', '__main__') and not m.startswith('_'))\n"
        "print(','.join(third))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_graph_import_does_not_load_asyncio() -> None:
    code = "import sys, rillet.graph; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
