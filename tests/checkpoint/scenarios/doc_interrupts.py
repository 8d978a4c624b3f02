"""The LangGraph documentation's interrupts (human-in-the-loop) page, run on LangGraph
1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/interrupts
(interrupt and Command(resume), approve or reject, review and edit state, interrupts in
tools, validating human input, multiple interrupts, streaming with interrupts, static
interrupts, the rules of interrupts). The model calling tools is replaced by a node that
writes a hand-built AIMessage with tool calls.
"""
from typing import Literal, Optional

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, END, StateGraph, MessagesState
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, interrupt
from langchain_core.messages import AIMessage, HumanMessage
import re


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"[0-9a-f]{32}", "<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    s = re.sub(r"datetime\.datetime\([^)]*\)", "<dt>", s)
    return s


_print = print


def print(*args):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args))


def show(tag, v):
    print(tag, v)


def ints(result):
    return [(i.value, type(i).__name__) for i in result.get("__interrupt__", [])]


# -- Pause using interrupt; resume with Command ----------------------------------------
class ApprovalState(TypedDict):
    action_details: str
    status: Optional[Literal["pending", "approved", "rejected"]]


def approval_node(state: ApprovalState) -> Command[Literal["proceed", "cancel"]]:
    decision = interrupt({
        "question": "Approve this action?",
        "details": state["action_details"],
    })
    return Command(goto="proceed" if decision else "cancel")


def proceed_node(state: ApprovalState):
    return {"status": "approved"}


def cancel_node(state: ApprovalState):
    return {"status": "rejected"}


builder = StateGraph(ApprovalState)
builder.add_node("approval", approval_node)
builder.add_node("proceed", proceed_node)
builder.add_node("cancel", cancel_node)
builder.add_edge(START, "approval")
builder.add_edge("proceed", END)
builder.add_edge("cancel", END)
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)

config = {"configurable": {"thread_id": "approval-123"}}
initial = graph.invoke({"action_details": "Transfer $500", "status": "pending"}, config=config)
show("APPROVE-int", initial)
show("APPROVE-int-value", initial["__interrupt__"][0].value)
st = graph.get_state(config)
show("APPROVE-state", (st.next, st.values, [(t.name, [i.value for i in t.interrupts]) for t in st.tasks],
                       [i.value for i in st.interrupts], st.metadata["source"], st.metadata["step"]))
resumed = graph.invoke(Command(resume=True), config=config)
show("APPROVE-resumed", resumed)
show("APPROVE-final", (graph.get_state(config).next, graph.get_state(config).values))

config = {"configurable": {"thread_id": "approval-456"}}
graph.invoke({"action_details": "Transfer $9999", "status": "pending"}, config=config)
show("REJECT", graph.invoke(Command(resume=False), config=config))
show("REJECT-hist", [(h.metadata["source"], h.metadata["step"], h.next)
                     for h in graph.get_state_history(config)])


# -- Review and edit state ---------------------------------------------------------------
class ReviewState(TypedDict):
    generated_text: str


def review_node(state: ReviewState):
    updated = interrupt({
        "instruction": "Review and edit this content",
        "content": state["generated_text"],
    })
    return {"generated_text": updated}


builder = StateGraph(ReviewState)
builder.add_node("review", review_node)
builder.add_edge(START, "review")
builder.add_edge("review", END)
graph = builder.compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "review-42"}}
initial = graph.invoke({"generated_text": "Initial draft"}, config=config)
show("EDIT-int", ints(initial))
final_state = graph.invoke(Command(resume="Improved draft after review"), config=config)
show("EDIT-final", final_state["generated_text"])


# -- Interrupts in tools -----------------------------------------------------------------
def send_email(to: str, subject: str, body: str):
    """Send an email to a recipient."""
    response = interrupt({
        "action": "send_email",
        "to": to,
        "subject": subject,
        "body": body,
        "message": "Approve sending this email?",
    })
    if response.get("action") == "approve":
        final_to = response.get("to", to)
        final_subject = response.get("subject", subject)
        final_body = response.get("body", body)
        return f"Email sent to {final_to} with subject '{final_subject}' ({len(final_body)} chars)"
    return "Email cancelled by user"


def agent_node(state: MessagesState):
    last = state["messages"][-1]
    if last.type == "tool":
        return {"messages": [AIMessage(content=f"Done: {last.content}", id="ai-done")]}
    return {"messages": [AIMessage(
        content="",
        id="ai-call",
        tool_calls=[{"name": "send_email", "id": "call_1",
                     "args": {"to": "alice@example.com", "subject": "Meeting", "body": "See you at 3"}}],
    )]}


def route(state: MessagesState):
    return "tools" if state["messages"][-1].tool_calls else END


builder = StateGraph(MessagesState)
builder.add_node("agent", agent_node)
builder.add_node("tools", ToolNode([send_email]))
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", route, ["tools", END])
builder.add_edge("tools", "agent")
graph = builder.compile(checkpointer=InMemorySaver())

config = {"configurable": {"thread_id": "email-workflow"}}
initial = graph.invoke({"messages": [HumanMessage(content="Send an email to alice", id="h1")]}, config=config)
show("TOOL-int", ints(initial))
st = graph.get_state(config)
show("TOOL-state", (st.next, [(t.name, len(t.interrupts)) for t in st.tasks]))
resumed = graph.invoke(Command(resume={"action": "approve", "subject": "Updated subject"}), config=config)
show("TOOL-messages", [(m.type, m.content) for m in resumed["messages"]])
show("TOOL-toolmsg", resumed["messages"][2])

config = {"configurable": {"thread_id": "email-reject"}}
graph.invoke({"messages": [HumanMessage(content="Send an email", id="h1")]}, config=config)
rejected = graph.invoke(Command(resume={"action": "reject"}), config=config)
show("TOOL-reject", [(m.type, m.content) for m in rejected["messages"]])


# -- Validating human input: ask again in a loop -------------------------------------------
class FormState(TypedDict):
    age: int | None


def get_age_node(state: FormState):
    prompt = "What is your age?"
    while True:
        answer = interrupt(prompt)
        if isinstance(answer, int) and answer > 0:
            break
        prompt = f"'{answer}' is not a valid age. Please enter a positive number."
    return {"age": answer}


builder = StateGraph(FormState)
builder.add_node("collect_age", get_age_node)
builder.add_edge(START, "collect_age")
builder.add_edge("collect_age", END)
graph = builder.compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "form-1"}}
first = graph.invoke({"age": None}, config=config)
show("AGE-1", ints(first))
retry = graph.invoke(Command(resume="thirty"), config=config)
show("AGE-2", ints(retry))
retry = graph.invoke(Command(resume=-5), config=config)
show("AGE-3", ints(retry))
final = graph.invoke(Command(resume=30), config=config)
show("AGE-final", final)


# -- Multiple interrupts: parallel nodes, resumed by interrupt id ---------------------------
class PState(TypedDict):
    vals: list[str]


def node_a(state: PState):
    answer = interrupt("question_a")
    return {"vals": [f"a:{answer}"]}


def node_b(state: PState):
    answer = interrupt("question_b")
    return {"vals": [f"b:{answer}"]}


import operator  # noqa: E402
from typing import Annotated  # noqa: E402


class PState(TypedDict):  # noqa: F811
    vals: Annotated[list[str], operator.add]


graph = (
    StateGraph(PState)
    .add_node("a", node_a)
    .add_node("b", node_b)
    .add_edge(START, "a")
    .add_edge(START, "b")
    .add_edge("a", END)
    .add_edge("b", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "1"}}
result = graph.invoke({"vals": []}, config)
show("MULTI-int", sorted(i.value for i in result["__interrupt__"]))
st = graph.get_state(config)
show("MULTI-state", (st.next, sorted(i.value for i in st.interrupts)))
resume_map = {i.id: f"answer for {i.value}" for i in graph.get_state(config).interrupts}
show("MULTI-resumed", sorted(graph.invoke(Command(resume=resume_map), config)["vals"]))

# resume only one of the two: the other stays pending
config = {"configurable": {"thread_id": "2"}}
result = graph.invoke({"vals": []}, config)
first = next(i for i in result["__interrupt__"] if i.value == "question_a")
partial = graph.invoke(Command(resume={first.id: "only a"}), config)
show("MULTI-partial", (partial["vals"], [i.value for i in partial["__interrupt__"]]))
st = graph.get_state(config)
show("MULTI-partial-state", (st.next, [i.value for i in st.interrupts]))
rest = {i.id: "then b" for i in st.interrupts}
show("MULTI-partial-done", sorted(graph.invoke(Command(resume=rest), config)["vals"]))


# -- Streaming with interrupts ---------------------------------------------------------------
class SState(TypedDict):
    text: str


def draft(state: SState):
    return {"text": state["text"] + " drafted"}


def human(state: SState):
    return {"text": state["text"] + " " + interrupt({"review": state["text"]})}


graph = (
    StateGraph(SState).add_node("draft", draft).add_node("human", human)
    .add_edge(START, "draft").add_edge("draft", "human").add_edge("human", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "s1"}}
for chunk in graph.stream({"text": "doc"}, config, stream_mode="updates"):
    show("STREAM-1", chunk)
for chunk in graph.stream(Command(resume="ok"), config, stream_mode="updates"):
    show("STREAM-2", chunk)
config = {"configurable": {"thread_id": "s2"}}
for mode, chunk in graph.stream({"text": "doc"}, config, stream_mode=["values", "updates"]):
    show("STREAM-multi", (mode, chunk))
for chunk in graph.stream(Command(resume="fine"), config, stream_mode="values"):
    show("STREAM-values-resume", chunk)


# -- Static interrupts: interrupt_before / interrupt_after, compile time and run time -----
class T(TypedDict):
    input: str


def step_1(state: T):
    return {"input": state["input"] + " 1"}


def step_2(state: T):
    return {"input": state["input"] + " 2"}


def step_3(state: T):
    return {"input": state["input"] + " 3"}


builder = StateGraph(T)
builder.add_node("step_1", step_1)
builder.add_node("step_2", step_2)
builder.add_node("step_3", step_3)
builder.add_edge(START, "step_1")
builder.add_edge("step_1", "step_2")
builder.add_edge("step_2", "step_3")
builder.add_edge("step_3", END)
graph = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["step_3"],
                        interrupt_after=["step_1"])
config = {"configurable": {"thread_id": "static"}}
show("STATIC-1", graph.invoke({"input": "hello"}, config=config))
show("STATIC-1-next", graph.get_state(config).next)
show("STATIC-2", graph.invoke(None, config=config))
show("STATIC-2-next", graph.get_state(config).next)
show("STATIC-3", graph.invoke(None, config=config))
for chunk in graph.stream({"input": "x"}, {"configurable": {"thread_id": "static-s"}}, stream_mode="updates"):
    show("STATIC-stream", chunk)

graph = builder.compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "runtime"}}
show("RUNTIME-1", graph.invoke({"input": "hi"}, config=config, interrupt_before=["step_2"]))
show("RUNTIME-1-state", (graph.get_state(config).next, graph.get_state(config).interrupts))
show("RUNTIME-2", graph.invoke(None, config=config))


# -- Rules: code before interrupt re-runs on resume; interrupt order matters --------------
calls = []


class R(TypedDict):
    name: str
    age: str
    city: str


def side_effects_node(state: R):
    calls.append("before")
    name = interrupt("What's your name?")
    calls.append(f"after name={name}")
    age = interrupt("What's your age?")
    calls.append(f"after age={age}")
    city = interrupt("What's your city?")
    return {"name": name, "age": age, "city": city}


graph = (
    StateGraph(R).add_node("n", side_effects_node).add_edge(START, "n").add_edge("n", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "rules"}}
show("RULES-1", ints(graph.invoke({"name": "", "age": "", "city": ""}, config)))
show("RULES-2", ints(graph.invoke(Command(resume="Ann"), config)))
show("RULES-3", ints(graph.invoke(Command(resume="33"), config)))
show("RULES-4", graph.invoke(Command(resume="Oslo"), config))
show("RULES-calls", calls)


# -- Interrupt in a subgraph: the parent node re-runs from its start ---------------------
parent_calls = []


class Sub(TypedDict):
    text: str


def sub_node(state: Sub):
    return {"text": state["text"] + "|" + interrupt("sub asks")}


subgraph = StateGraph(Sub).add_node("sub_node", sub_node).add_edge(START, "sub_node").compile()


def node_in_parent(state: Sub):
    parent_calls.append("parent node start")
    out = subgraph.invoke(state)
    return {"text": out["text"]}


graph = (
    StateGraph(Sub).add_node("parent", node_in_parent).add_edge(START, "parent")
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "sub"}}
show("SUB-1", ints(graph.invoke({"text": "t"}, config)))
show("SUB-2", graph.invoke(Command(resume="answer"), config))
show("SUB-calls", parent_calls)
