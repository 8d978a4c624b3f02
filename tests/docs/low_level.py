"""Examples of the "Graph API overview" concept page (low-level concepts), run on
LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/graph-api
(formerly https://langchain-ai.github.io/langgraph/concepts/low_level/): graphs and
compile, state with multiple schemas (input / output / private), default and
operator.add reducers, messages in state and their serialization, nodes with config,
START and END, normal and conditional edges with a path map, entry points, Send,
Command (update + goto, in place of conditional edges), recursion limit and
langgraph_step, visualization.
"""
import operator
from typing import Annotated, Literal
from typing_extensions import TypedDict
from langchain_core.messages import AnyMessage, HumanMessage, AIMessage, RemoveMessage
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.graph.message import add_messages, REMOVE_ALL_MESSAGES
from langgraph.types import Send, Command
from langgraph.errors import GraphRecursionError, InvalidUpdateError
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


# --- Multiple schemas
class InputState(TypedDict):
    user_input: str


class OutputState(TypedDict):
    graph_output: str


class OverallState(TypedDict):
    foo: str
    user_input: str
    graph_output: str


class PrivateState(TypedDict):
    bar: str


def node_1(state: InputState) -> OverallState:
    return {"foo": state["user_input"] + " name"}


def node_2(state: OverallState) -> PrivateState:
    return {"bar": state["foo"] + " is"}


def node_3(state: PrivateState) -> OutputState:
    return {"graph_output": state["bar"] + " Lance"}


builder = StateGraph(OverallState, input_schema=InputState, output_schema=OutputState)
builder.add_node("node_1", node_1)
builder.add_node("node_2", node_2)
builder.add_node("node_3", node_3)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
builder.add_edge("node_2", "node_3")
builder.add_edge("node_3", END)
graph = builder.compile()
print("SCHEMAS", graph.invoke({"user_input": "My"}))
print("SCHEMAS-UPDATES", list(graph.stream({"user_input": "My"}, stream_mode="updates")))
print("SCHEMAS-VALUES", list(graph.stream({"user_input": "My"}, stream_mode="values")))


# --- Reducers: default (overwrite) and operator.add
class State(TypedDict):
    foo: int
    bar: list[str]


def a(state: State):
    return {"foo": 2}


def b(state: State):
    return {"bar": ["bye"]}


g = StateGraph(State).add_node(a).add_node(b).add_edge(START, "a").add_edge("a", "b").compile()
print("REDUCER-A", g.invoke({"foo": 1, "bar": ["hi"]}))


class State(TypedDict):
    foo: int
    bar: Annotated[list[str], operator.add]


g = StateGraph(State).add_node(a).add_node(b).add_edge(START, "a").add_edge("a", "b").compile()
print("REDUCER-B", g.invoke({"foo": 1, "bar": ["hi"]}))


# --- Two nodes writing one key without a reducer in the same step
class State(TypedDict):
    foo: int


g = StateGraph(State).add_node("x", lambda s: {"foo": 1}).add_node("y", lambda s: {"foo": 2})
g.add_edge(START, "x").add_edge(START, "y")
try:
    g.compile().invoke({"foo": 0})
except InvalidUpdateError as exc:
    print("CONCURRENT-UPDATE", type(exc).__name__)


# --- Messages in graph state, serialization
class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def echo(state: State):
    return {"messages": [AIMessage(f"got {len(state['messages'])}", id="ai-1")]}


g = StateGraph(State).add_node(echo).add_edge(START, "echo").compile()
print("MSG-OBJ", g.invoke({"messages": [HumanMessage(content="message")]}))
print("MSG-DICT", g.invoke({"messages": [{"type": "human", "content": "message"}]}))
print("MSG-TUPLE", g.invoke({"messages": [("user", "message"), ("assistant", "reply")]}))
print("MSG-STR", g.invoke({"messages": "message"}))


def replace(state: State):
    return {"messages": [AIMessage("replaced", id="ai-1")]}


g = StateGraph(State).add_node(echo).add_node(replace).add_edge(START, "echo").add_edge("echo", "replace").compile()
print("MSG-REPLACE-BY-ID", g.invoke({"messages": [HumanMessage("m", id="h-1")]}))


def remove(state: State):
    return {"messages": [RemoveMessage(id="h-1")]}


g = StateGraph(State).add_node(echo).add_node(remove).add_edge(START, "echo").add_edge("echo", "remove").compile()
print("MSG-REMOVE", g.invoke({"messages": [HumanMessage("m", id="h-1")]}))


def remove_all(state: State):
    return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), HumanMessage("fresh", id="h-2")]}


g = StateGraph(State).add_node(echo).add_node(remove_all).add_edge(START, "echo").add_edge("echo", "remove_all").compile()
print("MSG-REMOVE-ALL", g.invoke({"messages": [HumanMessage("m", id="h-1")]}))


class State(MessagesState):
    documents: list[str]


g = StateGraph(State).add_node("n", lambda s: {"documents": ["d1"], "messages": [("ai", "ok")]}).add_edge(START, "n").compile()
out = g.invoke({"messages": [("user", "hi")]})
print("MESSAGESSTATE", [(m.type, m.content) for m in out["messages"]], out["documents"])


# --- Nodes: config, names from functions
class State(TypedDict):
    input: str
    results: str


def plain_node(state: State):
    return {"results": f"Hello, {state['input']}!"}


def node_with_config(state: State, config):
    return {"results": f"Hello, {state['input']}! user={config['configurable'].get('user_id')} tags={config.get('tags')}"}


builder = StateGraph(State)
builder.add_node("plain_node", plain_node)
builder.add_node("node_with_config", node_with_config)
builder.add_edge(START, "plain_node")
builder.add_edge("plain_node", "node_with_config")
g = builder.compile()
print("NODES", g.invoke({"input": "x"}, {"configurable": {"user_id": "u1"}, "tags": ["t"]}))


# --- Edges: conditional edges with a path map, conditional entry point
class State(TypedDict):
    flag: bool
    path: Annotated[list[str], operator.add]


def node_a(state: State):
    return {"path": ["a"]}


def node_b(state: State):
    return {"path": ["b"]}


def node_c(state: State):
    return {"path": ["c"]}


def routing_function(state: State):
    return state["flag"]


builder = StateGraph(State)
builder.add_node("node_a", node_a)
builder.add_node("node_b", node_b)
builder.add_node("node_c", node_c)
builder.add_edge(START, "node_a")
builder.add_conditional_edges("node_a", routing_function, {True: "node_b", False: "node_c"})
g = builder.compile()
print("PATH-MAP-TRUE", g.invoke({"flag": True, "path": []}))
print("PATH-MAP-FALSE", g.invoke({"flag": False, "path": []}))
print("PATH-MAP-DRAW", g.get_graph().draw_mermaid())
builder = StateGraph(State)
builder.add_node("node_b", node_b)
builder.add_node("node_c", node_c)
builder.add_conditional_edges(START, routing_function, {True: "node_b", False: "node_c"})
g = builder.compile()
print("ENTRY-POINT", g.invoke({"flag": False, "path": []}))
print("ENTRY-POINT-DRAW", g.get_graph().draw_mermaid())
builder = StateGraph(State)
builder.add_node("node_b", node_b)
builder.set_entry_point("node_b")
builder.set_finish_point("node_b")
print("SET-ENTRY-FINISH", builder.compile().invoke({"flag": False, "path": []}))
builder = StateGraph(State)
builder.add_node("node_b", node_b)
builder.add_node("node_c", node_c)
builder.set_conditional_entry_point(routing_function, {True: "node_b", False: "node_c"})
print("SET-COND-ENTRY", builder.compile().invoke({"flag": True, "path": []}))


# --- Send
class OverallState(TypedDict):
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]


def continue_to_jokes(state: OverallState):
    return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]


def generate_joke(state):
    return {"jokes": [f"joke about {state['subject']}"]}


builder = StateGraph(OverallState)
builder.add_node("generate_joke", generate_joke)
builder.add_conditional_edges(START, continue_to_jokes)
g = builder.compile()
print("SEND", g.invoke({"subjects": ["cats", "dogs"]}))
for chunk in g.stream({"subjects": ["cats", "dogs"]}, stream_mode="debug"):
    if chunk["type"] == "task":
        print("SEND-TASK", chunk["payload"]["name"], chunk["payload"]["input"], chunk["payload"]["triggers"])
print("SEND-REPR", Send("generate_joke", {"subject": "cats"}))


# --- Command
class State(TypedDict):
    foo: str


def my_node(state: State) -> Command[Literal["my_other_node"]]:
    return Command(update={"foo": "bar"}, goto="my_other_node")


def my_other_node(state: State):
    return {"foo": state["foo"] + "!"}


builder = StateGraph(State)
builder.add_node(my_node)
builder.add_node(my_other_node)
builder.add_edge(START, "my_node")
g = builder.compile()
print("COMMAND", g.invoke({"foo": ""}))
print("COMMAND-DRAW", g.get_graph().draw_mermaid())


def my_cond_node(state: State) -> Command[Literal["my_other_node", "__end__"]]:
    if state["foo"] == "bar":
        return Command(update={"foo": "baz"}, goto="my_other_node")
    return Command(update={"foo": "stop"}, goto=END)


builder = StateGraph(State)
builder.add_node(my_cond_node)
builder.add_node(my_other_node)
builder.add_edge(START, "my_cond_node")
g = builder.compile()
print("COMMAND-COND-1", g.invoke({"foo": "bar"}))
print("COMMAND-COND-2", g.invoke({"foo": "other"}))
print("COMMAND-REPR", Command(update={"foo": "bar"}, goto="my_other_node"))
print("COMMAND-PARENT", Command.PARENT)


# --- Recursion limit and langgraph_step
class State(TypedDict):
    count: int


def inc(state: State, config):
    return {"count": state["count"] + 1}


builder = StateGraph(State)
builder.add_node(inc)
builder.add_edge(START, "inc")
builder.add_conditional_edges("inc", lambda s: "inc" if s["count"] < 100 else END)
g = builder.compile()
try:
    g.invoke({"count": 0}, {"recursion_limit": 5})
except GraphRecursionError as exc:
    print("RECURSION", type(exc).__name__, isinstance(exc, RecursionError))
print("RECURSION-OK", g.invoke({"count": 95}, {"recursion_limit": 10}))


class State(TypedDict):
    messages: Annotated[list, operator.add]
    done: bool


def reasoning_node(state: State, config):
    current_step = config["metadata"]["langgraph_step"]
    recursion_limit = config["recursion_limit"]
    if current_step >= recursion_limit - 2:
        return {"messages": [f"step {current_step}: approaching limit, wrapping up"], "done": True}
    return {"messages": [f"step {current_step}"], "done": False}


def route(state: State) -> Literal["reasoning_node", "__end__"]:
    return END if state["done"] else "reasoning_node"


builder = StateGraph(State)
builder.add_node(reasoning_node)
builder.add_edge(START, "reasoning_node")
builder.add_conditional_edges("reasoning_node", route)
g = builder.compile()
print("PROACTIVE", g.invoke({"messages": [], "done": False}, {"recursion_limit": 6}))


# --- Visualization
class State(TypedDict):
    x: int


builder = StateGraph(State)
builder.add_node("first", lambda s: {"x": 1})
builder.add_node("second", lambda s: {"x": 2})
builder.add_edge(START, "first")
builder.add_edge("first", "second")
builder.add_edge("second", END)
g = builder.compile()
print("MERMAID", g.get_graph().draw_mermaid())
print("NODES-DRAW", list(g.get_graph().nodes), [(e.source, e.target, e.conditional) for e in g.get_graph().edges])
