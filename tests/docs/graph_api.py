"""Examples of "Use the graph API", run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-graph-api
(state and reducers, MessagesState, sequences, branches, conditional branching,
map-reduce with Send, loops and the recursion limit, Command, retry policies,
input/output schemas, private state, Pydantic and dataclass state, deferred nodes,
async nodes, graph drawing). LLM calls replaced by fixed strings.
"""
import asyncio
import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from typing_extensions import TypedDict
from pydantic import BaseModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.graph.message import add_messages
from langgraph.types import Send, Command, RetryPolicy
from langgraph.errors import GraphRecursionError
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


# Nodes that run in parallel print through say(): their lines come out sorted after
# the run (flush()), as threads print in any order.
said = []


def say(line):
    said.append(line)


def flush():
    for line in sorted(said):
        print(line)
    said.clear()


# --- Define state: messages as a plain list, no reducer
class State(TypedDict):
    messages: list[AnyMessage]
    extra_field: int


def node(state: State):
    messages = state["messages"]
    new_message = AIMessage("Hello!")
    return {"messages": messages + [new_message], "extra_field": 10}


builder = StateGraph(State)
builder.add_node(node)
builder.set_entry_point("node")
graph = builder.compile()
result = graph.invoke({"messages": [HumanMessage("Hi")]})
print("STATE-1", result)
for message in result["messages"]:
    message.pretty_print()


# --- Reducers: add_messages
class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    extra_field: int


def node(state: State):
    new_message = AIMessage("Hello!")
    return {"messages": [new_message], "extra_field": 10}


graph = StateGraph(State).add_node(node).add_edge(START, "node").compile()
result = graph.invoke({"messages": [HumanMessage("Hi")]})
print("REDUCER", result)
input_message = {"role": "user", "content": "Hi"}
result = graph.invoke({"messages": [input_message]})
print("OPENAI-FORMAT", result)
print("ADD-MESSAGES-SAME-ID", add_messages([HumanMessage("a", id="1")], [HumanMessage("b", id="1"), AIMessage("c", id="2")]))


# --- MessagesState extended
class State(MessagesState):
    extra_field: int


def node2(state: State):
    return {"messages": [AIMessage("Hello from MessagesState")], "extra_field": len(state["messages"])}


graph = StateGraph(State).add_node(node2).add_edge(START, "node2").compile()
print("MESSAGESSTATE", graph.invoke({"messages": [("user", "hey")]}))


# --- Process state updates with reducers (operator.add)
class State(TypedDict):
    foo: Annotated[list[int], operator.add]
    bar: list[str]


def node_a(state: State):
    return {"foo": [2], "bar": ["bye"]}


graph = StateGraph(State).add_node("node_a", node_a).add_edge(START, "node_a").compile()
print("OPERATOR-ADD", graph.invoke({"foo": [1], "bar": ["hi"]}))
print("OPERATOR-ADD-UPD", list(graph.stream({"foo": [1], "bar": ["hi"]}, stream_mode="updates")))


# --- Create a sequence of steps
class State(TypedDict):
    value_1: str
    value_2: int


def step_1(state: State):
    return {"value_1": "a"}


def step_2(state: State):
    current_value_1 = state["value_1"]
    return {"value_1": f"{current_value_1} b"}


def step_3(state: State):
    return {"value_2": 10}


builder = StateGraph(State)
builder.add_node(step_1)
builder.add_node(step_2)
builder.add_node(step_3)
builder.add_edge(START, "step_1")
builder.add_edge("step_1", "step_2")
builder.add_edge("step_2", "step_3")
graph = builder.compile()
print("SEQ", graph.invoke({"value_1": "c"}))
for chunk in graph.stream({"value_1": "c"}, stream_mode="updates"):
    print("SEQ-UPD", chunk)
builder = StateGraph(State).add_sequence([step_1, step_2, step_3])
builder.add_edge(START, "step_1")
graph = builder.compile()
print("ADD-SEQUENCE", graph.invoke({"value_1": "c"}))
print("SEQ-MERMAID", graph.get_graph().draw_mermaid())


# --- Create branches: parallel fan-out and fan-in
class State(TypedDict):
    aggregate: Annotated[list, operator.add]


def a(state: State):
    say(f'Adding "A" to {state["aggregate"]}')
    return {"aggregate": ["A"]}


def b(state: State):
    say(f'Adding "B" to {state["aggregate"]}')
    return {"aggregate": ["B"]}


def c(state: State):
    say(f'Adding "C" to {state["aggregate"]}')
    return {"aggregate": ["C"]}


def d(state: State):
    say(f'Adding "D" to {state["aggregate"]}')
    return {"aggregate": ["D"]}


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)
builder.add_node(c)
builder.add_node(d)
builder.add_edge(START, "a")
builder.add_edge("a", "b")
builder.add_edge("a", "c")
builder.add_edge("b", "d")
builder.add_edge("c", "d")
builder.add_edge("d", END)
graph = builder.compile()
result = graph.invoke({"aggregate": []}, {"configurable": {"thread_id": "foo"}})
flush()
print("BRANCH", result)
print("BRANCH-MERMAID", graph.get_graph().draw_mermaid())


# --- Defer node execution
def b_2(state: State):
    say(f'Adding "B_2" to {state["aggregate"]}')
    return {"aggregate": ["B_2"]}


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)
builder.add_node(b_2)
builder.add_node(c)
builder.add_node(d, defer=True)
builder.add_edge(START, "a")
builder.add_edge("a", "b")
builder.add_edge("a", "c")
builder.add_edge("b", "b_2")
builder.add_edge("b_2", "d")
builder.add_edge("c", "d")
builder.add_edge("d", END)
graph = builder.compile()
result = graph.invoke({"aggregate": []})
flush()
print("DEFER", result)


# --- Conditional branching
class State(TypedDict):
    aggregate: Annotated[list, operator.add]
    which: str


def e(state: State):
    say(f'Adding "E" to {state["aggregate"]}')
    return {"aggregate": ["E"]}


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)
builder.add_node(c)
builder.add_node(d)
builder.add_node(e)
builder.add_edge(START, "a")


def route_bc_or_cd(state: State) -> list[str]:
    if state["which"] == "cd":
        return ["c", "d"]
    return ["b", "c"]


intermediates = ["b", "c", "d"]
builder.add_conditional_edges("a", route_bc_or_cd, intermediates)
for node_name in intermediates:
    builder.add_edge(node_name, "e")
builder.add_edge("e", END)
graph = builder.compile()
result = graph.invoke({"aggregate": [], "which": "bc"})
flush()
print("COND-BC", result)
result = graph.invoke({"aggregate": [], "which": "cd"})
flush()
print("COND-CD", result)
print("COND-MERMAID", graph.get_graph().draw_mermaid())


# --- Conditional edges with a path map and Literal return
class State(TypedDict):
    aggregate: Annotated[list, operator.add]


def routing_function(state: State) -> bool:
    return len(state["aggregate"]) > 1


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)
builder.add_node(c)
builder.add_edge(START, "a")
builder.add_conditional_edges("a", routing_function, {True: "b", False: "c"})
graph = builder.compile()
result = graph.invoke({"aggregate": []})
flush()
print("PATHMAP-1", result)
result = graph.invoke({"aggregate": ["x"]})
flush()
print("PATHMAP-2", result)
print("PATHMAP-MERMAID", graph.get_graph().draw_mermaid())


def route_literal(state: State) -> Literal["b", "c"]:
    return "b"


builder = StateGraph(State)
builder.add_node(a).add_node(b).add_node(c)
builder.add_edge(START, "a")
builder.add_conditional_edges("a", route_literal)
graph = builder.compile()
result = graph.invoke({"aggregate": []})
flush()
print("LITERAL", result)
print("LITERAL-MERMAID", graph.get_graph().draw_mermaid())
builder = StateGraph(State)
builder.add_node(a)
builder.add_conditional_edges(START, lambda s: "a")
builder.add_edge("a", END)
result = builder.compile().invoke({"aggregate": []})
flush()
print("COND-ENTRY", result)


# --- Map-reduce and the Send API
class OverallState(TypedDict):
    topic: str
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]
    best_selected_joke: str


def generate_topics(state: OverallState):
    return {"subjects": ["lions", "elephants", "penguins"]}


def generate_joke(state: OverallState):
    joke_map = {
        "lions": "Why don't lions like fast food? Because they can't catch it!",
        "elephants": "Why don't elephants use computers? They're afraid of the mouse!",
        "penguins": "Why don't penguins like talking to strangers at parties? Because they find it hard to break the ice.",
    }
    return {"jokes": [joke_map[state["subject"]]]}


def continue_to_jokes(state: OverallState):
    return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]


def best_joke(state: OverallState):
    return {"best_selected_joke": "penguins"}


builder = StateGraph(OverallState)
builder.add_node("generate_topics", generate_topics)
builder.add_node("generate_joke", generate_joke)
builder.add_node("best_joke", best_joke)
builder.add_edge(START, "generate_topics")
builder.add_conditional_edges("generate_topics", continue_to_jokes, ["generate_joke"])
builder.add_edge("generate_joke", "best_joke")
builder.add_edge("best_joke", END)
graph = builder.compile()
for step in graph.stream({"topic": "animals"}):
    print("SEND", step)
print("SEND-FINAL", graph.invoke({"topic": "animals"}))
print("SEND-MERMAID", graph.get_graph().draw_mermaid())


# --- Create and control loops
class State(TypedDict):
    aggregate: Annotated[list, operator.add]


def a(state: State):
    say(f'Node A sees {state["aggregate"]}')
    return {"aggregate": ["A"]}


def b(state: State):
    say(f'Node B sees {state["aggregate"]}')
    return {"aggregate": ["B"]}


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)


def route(state: State) -> Literal["b", END]:
    if len(state["aggregate"]) < 7:
        return "b"
    return END


builder.add_edge(START, "a")
builder.add_conditional_edges("a", route)
builder.add_edge("b", "a")
graph = builder.compile()
result = graph.invoke({"aggregate": []})
flush()
print("LOOP", result)
print("LOOP-MERMAID", graph.get_graph().draw_mermaid())
try:
    graph.invoke({"aggregate": []}, {"recursion_limit": 4})
except GraphRecursionError:
    flush()
    print("Recursion Error")
try:
    list(graph.stream({"aggregate": []}, {"recursion_limit": 4}, stream_mode="updates"))
except GraphRecursionError as exc:
    flush()
    print("RECURSION-STREAM", type(exc).__name__)


# --- Loops with branches
def c(state: State):
    say(f'Node C sees {state["aggregate"]}')
    return {"aggregate": ["C"]}


def d(state: State):
    say(f'Node D sees {state["aggregate"]}')
    return {"aggregate": ["D"]}


builder = StateGraph(State)
builder.add_node(a)
builder.add_node(b)
builder.add_node(c)
builder.add_node(d)


def route(state: State) -> Literal["b", END]:
    if len(state["aggregate"]) < 7:
        return "b"
    return END


builder.add_edge(START, "a")
builder.add_conditional_edges("a", route)
builder.add_edge("b", "c")
builder.add_edge("b", "d")
builder.add_edge(["c", "d"], "a")
graph = builder.compile()
result = graph.invoke({"aggregate": []})
flush()
print("LOOP-BRANCH", result)
try:
    graph.invoke({"aggregate": []}, {"recursion_limit": 4})
except GraphRecursionError:
    flush()
    print("Recursion Error")


# --- Accessing the recursion counter in config["metadata"]
class State(TypedDict):
    steps: Annotated[list, operator.add]


def counter_node(state: State, config):
    step = config["metadata"]["langgraph_step"]
    return {"steps": [(config["metadata"]["langgraph_node"], step, config["recursion_limit"])]}


def keep_going(state: State):
    return "counter_node" if len(state["steps"]) < 3 else END


builder = StateGraph(State)
builder.add_node(counter_node)
builder.add_edge(START, "counter_node")
builder.add_conditional_edges("counter_node", keep_going)
print("STEP-COUNTER", builder.compile().invoke({"steps": []}, {"recursion_limit": 10}))


# --- Combine control flow and state updates with Command
class State(TypedDict):
    foo: str


def node_a(state: State) -> Command[Literal["node_b", "node_c"]]:
    print("Called A")
    value = "b" if state.get("foo") != "go-c" else "c"
    goto = "node_b" if value == "b" else "node_c"
    return Command(update={"foo": value}, goto=goto)


def node_b(state: State):
    print("Called B")
    return {"foo": state["foo"] + "b"}


def node_c(state: State):
    print("Called C")
    return {"foo": state["foo"] + "c"}


builder = StateGraph(State)
builder.add_edge(START, "node_a")
builder.add_node(node_a)
builder.add_node(node_b)
builder.add_node(node_c)
graph = builder.compile()
print("COMMAND", graph.invoke({"foo": ""}))
print("COMMAND-C", graph.invoke({"foo": "go-c"}))
print("COMMAND-UPD", list(graph.stream({"foo": ""}, stream_mode="updates")))


def node_list_goto(state: State):
    return Command(update={"foo": "x"}, goto=["node_b", "node_c"])


class LState(TypedDict):
    foo: Annotated[str, operator.add]


builder = StateGraph(LState)
builder.add_node("node_a", node_list_goto)
builder.add_node(node_b)
builder.add_node(node_c)
builder.add_edge(START, "node_a")
print("COMMAND-GOTO-LIST", builder.compile().invoke({"foo": ""}))


def node_send(state: State):
    return Command(goto=[Send("node_b", {"foo": "sent"})])


builder = StateGraph(State)
builder.add_node("node_a", node_send)
builder.add_node(node_b)
builder.add_edge(START, "node_a")
print("COMMAND-SEND", builder.compile().invoke({"foo": ""}))


# --- Retry policies
calls = {"n": 0}


class State(TypedDict):
    out: str


def flaky(state: State):
    calls["n"] += 1
    if calls["n"] < 3:
        raise ConnectionError(f"flaky failure {calls['n']}")
    return {"out": f"ok after {calls['n']} attempts"}


builder = StateGraph(State)
builder.add_node("flaky", flaky, retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.0, jitter=False))
builder.add_edge(START, "flaky")
print("RETRY", builder.compile().invoke({"out": ""}))
calls["n"] = 0
builder = StateGraph(State)
builder.add_node("flaky", flaky, retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False))
builder.add_edge(START, "flaky")
try:
    builder.compile().invoke({"out": ""})
except ConnectionError as exc:
    print("RETRY-EXHAUSTED", type(exc).__name__, exc, calls["n"])
calls["n"] = 0
builder = StateGraph(State)
builder.add_node("flaky", flaky, retry_policy=RetryPolicy(retry_on=KeyError, initial_interval=0.0))
builder.add_edge(START, "flaky")
try:
    builder.compile().invoke({"out": ""})
except ConnectionError as exc:
    print("RETRY-ON-OTHER", type(exc).__name__, exc, calls["n"])
p = RetryPolicy()
print("RETRY-POLICY", p.initial_interval, p.backoff_factor, p.max_interval, p.max_attempts, p.jitter, p.retry_on.__name__)


# --- Define input and output schemas
class InputState(TypedDict):
    question: str


class OutputState(TypedDict):
    answer: str


class OverallState(InputState, OutputState):
    pass


def answer_node(state: InputState):
    return {"answer": "bye", "question": state["question"]}


builder = StateGraph(OverallState, input_schema=InputState, output_schema=OutputState)
builder.add_node(answer_node)
builder.add_edge(START, "answer_node")
builder.add_edge("answer_node", END)
graph = builder.compile()
print("IO-SCHEMA", graph.invoke({"question": "hi"}))
print("IO-SCHEMA-STREAM", list(graph.stream({"question": "hi"}, stream_mode="values")))


# --- Pass private state between nodes
class OverallState(TypedDict):
    a: str


class Node1Output(TypedDict):
    private_data: str


def node_1(state: OverallState) -> Node1Output:
    output = {"private_data": "set by node_1"}
    print(f"Entered node `node_1`:\n\tInput: {state}.\n\tReturned: {output}")
    return output


class Node2Input(TypedDict):
    private_data: str


def node_2(state: Node2Input) -> OverallState:
    output = {"a": "set by node_2"}
    print(f"Entered node `node_2`:\n\tInput: {state}.\n\tReturned: {output}")
    return output


def node_3(state: OverallState) -> OverallState:
    output = {"a": "set by node_3"}
    print(f"Entered node `node_3`:\n\tInput: {state}.\n\tReturned: {output}")
    return output


builder = StateGraph(OverallState).add_sequence([node_1, node_2, node_3])
builder.add_edge(START, "node_1")
graph = builder.compile()
response = graph.invoke({"a": "set at start"})
print()
print(f"Output of graph invocation: {response}")


# --- Use Pydantic models for graph state
class OverallState(BaseModel):
    a: str


def node(state: OverallState):
    return {"a": "goodbye"}


builder = StateGraph(OverallState)
builder.add_node(node)
builder.add_edge(START, "node")
builder.add_edge("node", END)
graph = builder.compile()
print("PYDANTIC", graph.invoke({"a": "hello"}))
try:
    graph.invoke({"a": 123})
except Exception as e:
    print("An exception was raised because `a` is an integer rather than a string.", type(e).__name__)


class NestedModel(BaseModel):
    value: str


class ComplexState(BaseModel):
    text: str
    count: int
    nested: NestedModel


def process_node(state: ComplexState):
    print(f"Input state type: {type(state).__name__}")
    print(f"Nested type: {type(state.nested).__name__}")
    return {"text": state.text + " processed", "count": state.count + 1}


builder = StateGraph(ComplexState)
builder.add_node("process", process_node)
builder.add_edge(START, "process")
builder.add_edge("process", END)
graph = builder.compile()
result = graph.invoke({"text": "Hello", "count": 0, "nested": {"value": "test"}})
print("PYDANTIC-NESTED", result, type(result).__name__)


class CoercionExample(BaseModel):
    number: int
    flag: bool


def inspect_node(state: CoercionExample):
    print(f"number: {state.number} (type: {type(state.number).__name__})")
    print(f"flag: {state.flag} (type: {type(state.flag).__name__})")
    return {}


builder = StateGraph(CoercionExample)
builder.add_node("inspect", inspect_node)
builder.add_edge(START, "inspect")
builder.add_edge("inspect", END)
graph = builder.compile()
print("COERCION", graph.invoke({"number": "42", "flag": "true"}))


class ChatState(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    context: str


def add_message(state: ChatState):
    return {"messages": [AIMessage(content="Hello there!")]}


builder = StateGraph(ChatState)
builder.add_node("add_message", add_message)
builder.add_edge(START, "add_message")
builder.add_edge("add_message", END)
graph = builder.compile()
result = graph.invoke({"messages": [HumanMessage(content="Hi")], "context": "Customer support chat"})
print("PYDANTIC-MESSAGES", result)


# --- Dataclass state with defaults
@dataclass
class DState:
    topic: str
    items: Annotated[list[str], operator.add] = field(default_factory=list)
    count: int = 0


def dnode(state: DState):
    return {"items": [state.topic.upper()], "count": state.count + 1}


builder = StateGraph(DState)
builder.add_node(dnode)
builder.add_edge(START, "dnode")
print("DATACLASS", builder.compile().invoke({"topic": "cats"}))


# --- Async
class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


async def anode(state: State):
    await asyncio.sleep(0)
    return {"messages": [AIMessage("async hello")]}


builder = StateGraph(State).add_node("anode", anode).add_edge(START, "anode")
graph = builder.compile()


async def main():
    print("ASYNC", await graph.ainvoke({"messages": [{"role": "user", "content": "hi"}]}))
    print("ASTREAM", [c async for c in graph.astream({"messages": [("user", "x")]}, stream_mode="updates")])


asyncio.run(main())


# --- Node names, graph validation errors
try:
    StateGraph(State).add_node("x", lambda s: s).compile().invoke({"messages": []})
except Exception as e:
    print("NO-ENTRY", type(e).__name__)
    print("NO-ENTRY-IS-VALUEERROR", isinstance(e, ValueError))
try:
    StateGraph(State).add_node("a", lambda s: {}).add_edge(START, "missing").compile()
except Exception as e:
    print("MISSING-NODE", type(e).__name__)
    print("MISSING-NODE-IS-VALUEERROR", isinstance(e, ValueError))
