"""Pins the public surface of rillet.messages."""

import subprocess
import sys

import rillet.messages


def test_public_names() -> None:
    assert sorted(rillet.messages.__all__) == [
        "AIMessage",
        "AIMessageChunk",
        "AnyMessage",
        "BaseMessage",
        "BaseMessageChunk",
        "Content",
        "HumanMessage",
        "InvalidToolCall",
        "MessageLikeRepresentation",
        "Messages",
        "REMOVE_ALL_MESSAGES",
        "RemoveMessage",
        "SystemMessage",
        "ToolCall",
        "ToolCallChunk",
        "ToolMessage",
        "UsageMetadata",
        "add_messages",
        "add_usage",
        "convert_to_messages",
        "invalid_tool_call",
        "merge_chunks",
        "message_chunk_to_message",
        "parse_partial_json",
        "to_message",
        "to_openai_dict",
        "to_openai_dicts",
        "tool_call",
        "tool_call_chunk",
    ]
    for name in rillet.messages.__all__:
        assert hasattr(rillet.messages, name), name


def test_remove_all_constant() -> None:
    assert rillet.messages.REMOVE_ALL_MESSAGES == "__remove_all__"


def test_import_pulls_in_no_third_party_package() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import rillet.messages\n"
        "roots = {name.partition('.')[0] for name in set(sys.modules) - before}\n"
        "print(sorted(roots - set(sys.stdlib_module_names) - {'rillet'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
