"""Examples of "Call tools", run on LangGraph 1.2.22 and on rillet.

Page: https://langchain-ai.github.io/langgraph/how-tos/tool-calling/ (LangGraph's tool
calling how-to; ToolNode reference: https://reference.langchain.com/python/langgraph.prebuilt/tool_node/ToolNode)
(define a tool, run it directly, ToolNode on an AIMessage with tool calls, parallel
calls, error handling, ToolNode with tools_condition in a graph, create_react_agent
with a model that calls tools, InjectedState, InjectedToolCallId and Command from a
tool, return a ToolMessage with artifact). The chat model is LangChain's
GenericFakeChatModel with scripted tool calls (bind_tools returns the model).
"""
import operator
from typing import Annotated, Any
from typing_extensions import TypedDict
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool, InjectedToolCallId
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.prebuilt import ToolNode, tools_condition, create_react_agent, InjectedState
from langgraph.types import Command
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt.chat_agent_executor import AgentState
import re


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"(lc_)?run-+[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(-\d+)?", "<run-id>", s)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"id='[0-9a-f]{32}'", "id=<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    return s


_print = print


def print(*args, **kwargs):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args), **kwargs)


class ToolCallingFakeModel(GenericFakeChatModel):
    """The fake model, with tools bound by returning itself (its answers are fixed)."""

    def bind_tools(self, tools, **kwargs):
        return self


def ai_call(name, args, call_id, content=""):
    return AIMessage(content=content, tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def run_node(node, state, schema=MessagesState):
    """ToolNode.invoke outside a graph needs LangGraph's runtime in 1.x: run the node
    as the one node of a graph, and give what it added to the messages."""
    graph = StateGraph(schema).add_node("tools", node).add_edge(START, "tools").compile()
    out = graph.invoke(state)
    return {"messages": out["messages"][len(state["messages"]):]}


# --- Define a tool
@tool
def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


print("TOOL", multiply.name, multiply.description)
print("TOOL-ARGS", multiply.args)
print("TOOL-INVOKE", multiply.invoke({"a": 6, "b": 7}))
print("TOOL-CALL", multiply.invoke({"args": {"a": 6, "b": 7}, "id": "1", "name": multiply.name, "type": "tool_call"}))


@tool("multiply_tool", parse_docstring=True)
def multiply_named(a: int, b: int) -> int:
    """Multiply two numbers.

    Args:
        a: First operand
        b: Second operand
    """
    return a * b


print("TOOL-NAMED", multiply_named.name, multiply_named.description)


# --- Use prebuilt ToolNode directly
@tool
def get_weather(location: str):
    """Call to get the current weather."""
    if location.lower() in ["sf", "san francisco"]:
        return "It's 60 degrees and foggy."
    else:
        return "It's 90 degrees and sunny."


@tool
def get_coolest_cities():
    """Get a list of coolest cities"""
    return "nyc, sf"


tool_node = ToolNode([get_weather, get_coolest_cities])
message_with_single_tool_call = ai_call("get_weather", {"location": "sf"}, "tool_call_id")
try:
    print("TOOLNODE-DIRECT", tool_node.invoke({"messages": [message_with_single_tool_call]}))
except Exception as exc:
    print("TOOLNODE-DIRECT", type(exc).__name__, exc)
print("TOOLNODE-ONE", run_node(tool_node, {"messages": [message_with_single_tool_call]}))
message_with_multiple_tool_calls = AIMessage(
    content="",
    tool_calls=[
        {"name": "get_coolest_cities", "args": {}, "id": "tool_call_id_1", "type": "tool_call"},
        {"name": "get_weather", "args": {"location": "sf"}, "id": "tool_call_id_2", "type": "tool_call"},
    ],
)
print("TOOLNODE-PARALLEL", run_node(tool_node, {"messages": [message_with_multiple_tool_calls]}))
print("TOOLNODE-UNKNOWN", run_node(tool_node, {"messages": [ai_call("nope", {}, "c9")]}))
bad = run_node(tool_node, {"messages": [ai_call("get_weather", {"place": "sf"}, "c10")]})["messages"][0]
print("TOOLNODE-BAD-ARGS", bad.status, bad.content)


# --- Handle tool errors
@tool
def multiply_fails(a: int, b: int) -> int:
    """Multiply two numbers."""
    if a == 42:
        raise ValueError("The ultimate error")
    return a * b


for handle in (True, "Can't use 42 as a first operand, you must switch operands!", lambda e: f"handled: {e}"):
    node = ToolNode([multiply_fails], handle_tool_errors=handle)
    out = run_node(node, {"messages": [ai_call("multiply_fails", {"a": 42, "b": 7}, "tool_call_id")]})
    print("HANDLED", out["messages"][0].content, out["messages"][0].status)
node = ToolNode([multiply_fails], handle_tool_errors=False)
try:
    run_node(node, {"messages": [ai_call("multiply_fails", {"a": 42, "b": 7}, "tool_call_id")]})
except ValueError as exc:
    print("UNHANDLED", type(exc).__name__, exc)


# --- ToolNode in a graph with tools_condition
model = ToolCallingFakeModel(messages=iter([
    ai_call("get_weather", {"location": "sf"}, "call_1"),
    AIMessage("It's 60 degrees and foggy in SF."),
    ai_call("get_coolest_cities", {}, "call_2"),
    ai_call("get_weather", {"location": "nyc"}, "call_3"),
    AIMessage("NYC is sunny."),
]))
model_with_tools = model.bind_tools([get_weather, get_coolest_cities])


def should_continue(state: MessagesState):
    messages = state["messages"]
    last_message = messages[-1]
    if last_message.tool_calls:
        return "tools"
    return END


def call_model(state: MessagesState):
    messages = state["messages"]
    response = model_with_tools.invoke(messages)
    return {"messages": [response]}


builder = StateGraph(MessagesState)
builder.add_node("call_model", call_model)
builder.add_node("tools", tool_node)
builder.add_edge(START, "call_model")
builder.add_conditional_edges("call_model", should_continue, ["tools", END])
builder.add_edge("tools", "call_model")
graph = builder.compile()
result = graph.invoke({"messages": [{"role": "user", "content": "what's the weather in sf?"}]})
for m in result["messages"]:
    print("GRAPH", type(m).__name__, repr(m.content), getattr(m, "tool_calls", None), getattr(m, "tool_call_id", None))
builder = StateGraph(MessagesState)
builder.add_node("call_model", call_model)
builder.add_node("tools", tool_node)
builder.add_edge(START, "call_model")
builder.add_conditional_edges("call_model", tools_condition)
builder.add_edge("tools", "call_model")
graph = builder.compile()
for chunk in graph.stream({"messages": [HumanMessage("coolest city weather?")]}, stream_mode="updates"):
    for node_name, update in chunk.items():
        for m in update["messages"]:
            print("TOOLS-CONDITION", node_name, type(m).__name__, repr(m.content), m.name if isinstance(m, ToolMessage) else "")
print("TOOLS-CONDITION-MERMAID", graph.get_graph().draw_mermaid())


# --- create_react_agent with the fake model
agent_model = ToolCallingFakeModel(messages=iter([
    ai_call("get_weather", {"location": "sf"}, "call_a"),
    AIMessage("It's foggy in SF."),
    ai_call("get_weather", {"location": "sf"}, "call_b"),
    AIMessage("Still foggy."),
]))
agent = create_react_agent(agent_model, tools=[get_weather])
result = agent.invoke({"messages": [{"role": "user", "content": "what is the weather in sf"}]})
print("AGENT", [(type(m).__name__, m.content) for m in result["messages"]])
for chunk in agent.stream({"messages": [{"role": "user", "content": "again?"}]}, stream_mode="updates"):
    print("AGENT-UPDATES", list(chunk), [(type(m).__name__, m.content) for v in chunk.values() for m in v["messages"]])
print("AGENT-NODES", list(agent.get_graph().nodes))
agent_memory = create_react_agent(
    ToolCallingFakeModel(messages=iter([AIMessage("hi bob"), AIMessage("your name is bob")])),
    tools=[get_weather],
    checkpointer=InMemorySaver(),
)
cfg = {"configurable": {"thread_id": "1"}}
agent_memory.invoke({"messages": [("user", "hi, I am bob")]}, cfg)
out = agent_memory.invoke({"messages": [("user", "what is my name?")]}, cfg)
print("AGENT-MEMORY", [(m.type, m.content) for m in out["messages"]])


# --- Read state in tools: InjectedState
class CustomState(AgentState):
    user_id: str


@tool
def get_user_info(state: Annotated[CustomState, InjectedState]) -> str:
    """Look up user info."""
    user_id = state["user_id"]
    return "User is John Smith" if user_id == "user_123" else "Unknown user"


@tool
def get_user_key(user_id: Annotated[str, InjectedState("user_id")]) -> str:
    """Look up the user's key."""
    return f"key-{user_id}"


print("INJECTED-ARGS", get_user_info.args, get_user_key.args)
node = ToolNode([get_user_info, get_user_key])
out = run_node(node, {
    "messages": [AIMessage("", tool_calls=[
        {"name": "get_user_info", "args": {}, "id": "i1", "type": "tool_call"},
        {"name": "get_user_key", "args": {}, "id": "i2", "type": "tool_call"},
    ])],
    "user_id": "user_123",
}, CustomState)
print("INJECTED", [(m.content, m.tool_call_id) for m in out["messages"]])
agent = create_react_agent(
    ToolCallingFakeModel(messages=iter([ai_call("get_user_info", {}, "u1"), AIMessage("You are John Smith.")])),
    tools=[get_user_info],
    state_schema=CustomState,
)
out = agent.invoke({"messages": "look up user information", "user_id": "user_123"})
print("INJECTED-AGENT", [(m.type, m.content) for m in out["messages"]])


# --- Update state from tools: Command
class State(AgentState):
    user_name: str


@tool
def update_user_info(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
    """Look up and update user info."""
    user_name = "John Smith"
    return Command(update={
        "user_name": user_name,
        "messages": [ToolMessage("Successfully looked up user information", tool_call_id=tool_call_id)],
    })


def greet(state: State):
    user_name = state["user_name"]
    return {"messages": [AIMessage(f"Hello {user_name}!")]}


print("INJECTED-ID-ARGS", update_user_info.args)
builder = StateGraph(State)
builder.add_node("tools", ToolNode([update_user_info]))
builder.add_node(greet)
builder.add_edge(START, "tools")
builder.add_edge("tools", "greet")
graph = builder.compile()
out = graph.invoke({"messages": [ai_call("update_user_info", {}, "cmd_1")]})
print("COMMAND-TOOL", out["user_name"], [(m.type, m.content, getattr(m, "tool_call_id", None)) for m in out["messages"]])
agent = create_react_agent(
    ToolCallingFakeModel(messages=iter([ai_call("update_user_info", {}, "cmd_2"), AIMessage("Updated.")])),
    tools=[update_user_info],
    state_schema=State,
)
out = agent.invoke({"messages": [{"role": "user", "content": "greet the user"}]})
print("COMMAND-AGENT", out["user_name"], [(m.type, m.content) for m in out["messages"]])


# --- Tool returning content and artifact
@tool(response_format="content_and_artifact")
def search(query: str):
    """Search."""
    return f"found 2 results for {query}", {"ids": [1, 2]}


out = run_node(ToolNode([search]), {"messages": [ai_call("search", {"query": "cats"}, "s1")]})
print("ARTIFACT", out["messages"][0].content, out["messages"][0].artifact)


# --- Tool returning a dict / list: content serialized
@tool
def lookup(key: str) -> dict:
    """Lookup."""
    return {"key": key, "values": [1, 2]}


out = run_node(ToolNode([lookup]), {"messages": [ai_call("lookup", {"key": "k"}, "l1")]})
print("DICT-CONTENT", repr(out["messages"][0].content))
