"""Examples of "Use subgraphs", run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-subgraphs
(invoke a graph from a node with a different schema, add a graph as a node with shared
keys, multi-level subgraphs, persistence with the parent's checkpointer and per-subgraph
checkpointer=True, viewing subgraph state with get_state(subgraphs=True) during an
interrupt, streaming subgraph outputs, Command(graph=Command.PARENT)).
"""
import operator
from typing import Annotated, Literal
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
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


# --- Invoke a graph from a node (different state schemas)
class SubgraphState(TypedDict):
    bar: str


def subgraph_node_1(state: SubgraphState):
    return {"bar": "hi! " + state["bar"]}


subgraph_builder = StateGraph(SubgraphState)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph = subgraph_builder.compile()


class State(TypedDict):
    foo: str


def call_subgraph(state: State):
    subgraph_output = subgraph.invoke({"bar": state["foo"]})
    return {"foo": subgraph_output["bar"]}


builder = StateGraph(State)
builder.add_node("node_1", call_subgraph)
builder.add_edge(START, "node_1")
graph = builder.compile()
print("CALL-FROM-NODE", graph.invoke({"foo": "foo"}))
for chunk in graph.stream({"foo": "foo"}, subgraphs=True):
    print("CALL-FROM-NODE-STREAM", chunk)


# --- Full example: different state schemas, two levels
class SubgraphState(TypedDict):
    bar: str
    baz: str


def subgraph_node_1(state: SubgraphState):
    return {"baz": "baz"}


def subgraph_node_2(state: SubgraphState):
    return {"bar": state["bar"] + state["baz"]}


subgraph_builder = StateGraph(SubgraphState)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_node(subgraph_node_2)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph_builder.add_edge("subgraph_node_1", "subgraph_node_2")
subgraph = subgraph_builder.compile()


class ParentState(TypedDict):
    foo: str


def node_1(state: ParentState):
    return {"foo": "hi! " + state["foo"]}


def node_2(state: ParentState):
    response = subgraph.invoke({"bar": state["foo"]})
    return {"foo": response["bar"]}


builder = StateGraph(ParentState)
builder.add_node("node_1", node_1)
builder.add_node("node_2", node_2)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
graph = builder.compile()
for chunk in graph.stream({"foo": "foo"}, subgraphs=True):
    print("DIFF-SCHEMA", chunk)


# --- Multi-level subgraphs
class GrandChildState(TypedDict):
    my_grandchild_key: str


def grandchild_1(state: GrandChildState) -> GrandChildState:
    return {"my_grandchild_key": state["my_grandchild_key"] + ", how are you"}


grandchild = StateGraph(GrandChildState)
grandchild.add_node("grandchild_1", grandchild_1)
grandchild.add_edge(START, "grandchild_1")
grandchild.add_edge("grandchild_1", END)
grandchild_graph = grandchild.compile()


class ChildState(TypedDict):
    my_child_key: str


def call_grandchild_graph(state: ChildState) -> ChildState:
    grandchild_graph_input = {"my_grandchild_key": state["my_child_key"]}
    grandchild_graph_output = grandchild_graph.invoke(grandchild_graph_input)
    return {"my_child_key": grandchild_graph_output["my_grandchild_key"] + " today?"}


child = StateGraph(ChildState)
child.add_node("child_1", call_grandchild_graph)
child.add_edge(START, "child_1")
child.add_edge("child_1", END)
child_graph = child.compile()


class ParentState(TypedDict):
    my_key: str


def parent_1(state: ParentState) -> ParentState:
    return {"my_key": "hi " + state["my_key"]}


def parent_2(state: ParentState) -> ParentState:
    return {"my_key": state["my_key"] + " bye!"}


def call_child_graph(state: ParentState) -> ParentState:
    child_graph_input = {"my_child_key": state["my_key"]}
    child_graph_output = child_graph.invoke(child_graph_input)
    return {"my_key": child_graph_output["my_child_key"]}


parent = StateGraph(ParentState)
parent.add_node("parent_1", parent_1)
parent.add_node("child", call_child_graph)
parent.add_node("parent_2", parent_2)
parent.add_edge(START, "parent_1")
parent.add_edge("parent_1", "child")
parent.add_edge("child", "parent_2")
parent.add_edge("parent_2", END)
parent_graph = parent.compile()
for chunk in parent_graph.stream({"my_key": "Bob"}, subgraphs=True):
    print("MULTI-LEVEL", chunk)


# --- Add a graph as a node (shared state keys)
class State(TypedDict):
    foo: str


def subgraph_node_1(state: State):
    return {"foo": "hi! " + state["foo"]}


subgraph_builder = StateGraph(State)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph = subgraph_builder.compile()
builder = StateGraph(State)
builder.add_node("node_1", subgraph)
builder.add_edge(START, "node_1")
graph = builder.compile()
print("AS-NODE", graph.invoke({"foo": "foo"}))


class SubgraphState(TypedDict):
    foo: str
    bar: str


def subgraph_node_1(state: SubgraphState):
    return {"bar": "bar"}


def subgraph_node_2(state: SubgraphState):
    return {"foo": state["foo"] + state["bar"]}


subgraph_builder = StateGraph(SubgraphState)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_node(subgraph_node_2)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph_builder.add_edge("subgraph_node_1", "subgraph_node_2")
subgraph = subgraph_builder.compile()


class ParentState(TypedDict):
    foo: str


def node_1(state: ParentState):
    return {"foo": "hi! " + state["foo"]}


builder = StateGraph(ParentState)
builder.add_node("node_1", node_1)
builder.add_node("node_2", subgraph)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
graph = builder.compile()
for chunk in graph.stream({"foo": "foo"}):
    print("SHARED-KEYS", chunk)
for chunk in graph.stream({"foo": "foo"}, subgraphs=True):
    print("SHARED-KEYS-SUB", chunk)
for chunk in graph.stream({"foo": "foo"}, stream_mode="values", subgraphs=True):
    print("SHARED-KEYS-VALUES", chunk)
print("SUBGRAPHS-LIST", [name for name, _ in graph.get_subgraphs()])


# --- Add persistence: only the parent gets a checkpointer
class State(TypedDict):
    foo: str


def subgraph_node_1(state: State):
    return {"foo": state["foo"] + "bar"}


subgraph_builder = StateGraph(State)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph = subgraph_builder.compile()
builder = StateGraph(State)
builder.add_node("node_1", subgraph)
builder.add_edge(START, "node_1")
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)
config = {"configurable": {"thread_id": "1"}}
print("PERSIST", graph.invoke({"foo": "foo"}, config))
print("PERSIST-STATE", graph.get_state(config).values, graph.get_state(config).next)
print("PERSIST-AGAIN", graph.invoke({"foo": "x"}, config))


# --- View subgraph state (during an interrupt)
class State(TypedDict):
    foo: str


def subgraph_node_1(state: State):
    value = interrupt("Provide value:")
    return {"foo": state["foo"] + value}


subgraph_builder = StateGraph(State)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph = subgraph_builder.compile()
builder = StateGraph(State)
builder.add_node("node_1", subgraph)
builder.add_edge(START, "node_1")
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)
config = {"configurable": {"thread_id": "1"}}
print("INTERRUPTED", graph.invoke({"foo": ""}, config))
parent_state = graph.get_state(config)
print("PARENT-STATE", parent_state.values, parent_state.next, [(t.name, t.interrupts) for t in parent_state.tasks])
print("PARENT-TASK-STATE", parent_state.tasks[0].state)
subgraph_state = graph.get_state(config, subgraphs=True).tasks[0].state
print("SUBGRAPH-STATE", subgraph_state.values, subgraph_state.next, subgraph_state.metadata)
print("SUBGRAPH-STATE-TASKS", [(t.name, t.path, t.interrupts) for t in subgraph_state.tasks])
print("RESUMED", graph.invoke(Command(resume="bar"), config))
print("AFTER-RESUME", graph.get_state(config, subgraphs=True).values)
for chunk in graph.stream({"foo": "z"}, {"configurable": {"thread_id": "2"}}, subgraphs=True):
    print("INT-STREAM", chunk)
for chunk in graph.stream(Command(resume="y"), {"configurable": {"thread_id": "2"}}, subgraphs=True):
    print("RESUME-STREAM", chunk)


# --- Navigate to a node in the parent graph: Command(graph=Command.PARENT)
class State(TypedDict):
    foo: Annotated[str, operator.add]


def subgraph_node_a(state: State):
    return {"foo": "a"}


def subgraph_node_b(state: State):
    return Command(update={"foo": "b"}, goto="node_3", graph=Command.PARENT)


subgraph = StateGraph(State).add_node(subgraph_node_a).add_node(subgraph_node_b).add_edge(START, "subgraph_node_a").add_edge("subgraph_node_a", "subgraph_node_b").compile()


def node_1(state: State):
    print("Called node_1")
    return {"foo": "1"}


def node_3(state: State):
    print("Called node_3")
    return {"foo": "3"}


builder = StateGraph(State)
builder.add_node(node_1)
builder.add_node("node_2", subgraph)
builder.add_node(node_3)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
builder.add_edge("node_2", "node_3")
graph = builder.compile()
print("PARENT-CMD", graph.invoke({"foo": ""}))
for chunk in graph.stream({"foo": ""}, subgraphs=True):
    print("PARENT-CMD-STREAM", chunk)


# --- Subgraph with MessagesState, messages merged into the parent
def sub_answer(state: MessagesState):
    return {"messages": [("ai", f"sub saw {len(state['messages'])}")]}


msub = StateGraph(MessagesState).add_node(sub_answer).add_edge(START, "sub_answer").compile()
mparent = StateGraph(MessagesState).add_node("agent", msub).add_edge(START, "agent").compile()
out = mparent.invoke({"messages": [("user", "hi")]})
print("MSG-SUB", [(m.type, m.content) for m in out["messages"]])
