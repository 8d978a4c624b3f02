"""The LangGraph documentation's time-travel page, run on LangGraph 1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/use-time-travel
(replay from a prior checkpoint, fork with update_state, update from a specific node
with as_node, time travel with interrupts, with subgraphs). The joke-writing LLM is
replaced by deterministic functions, as on the page.
"""
import operator
from typing import Annotated

from typing_extensions import NotRequired, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, END, StateGraph
from langgraph.types import Command, interrupt
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


def brief(s):
    return (s.values, s.next, s.metadata["source"], s.metadata["step"])


calls = []


class State(TypedDict):
    topic: NotRequired[str]
    joke: NotRequired[str]


def generate_topic(state: State):
    calls.append("generate_topic")
    return {"topic": "socks in the dryer"}


def write_joke(state: State):
    calls.append("write_joke")
    return {"joke": f"Why do {state['topic']} disappear? They elope!"}


checkpointer = InMemorySaver()
graph = (
    StateGraph(State)
    .add_node("generate_topic", generate_topic)
    .add_node("write_joke", write_joke)
    .add_edge(START, "generate_topic")
    .add_edge("generate_topic", "write_joke")
    .compile(checkpointer=checkpointer)
)

# -- 1. Run the graph ----------------------------------------------------------------------
config = {"configurable": {"thread_id": "joke-thread"}}
result = graph.invoke({}, config)
show("RUN", result)

# -- 2. Identify a checkpoint -----------------------------------------------------------------
history = list(graph.get_state_history(config))
for state in history:
    show("HIST", (state.next, state.config["configurable"]["checkpoint_id"] is not None,
                  state.values, state.metadata))
before_joke = next(s for s in history if s.next == ("write_joke",))
show("BEFORE-JOKE", brief(before_joke))
show("BEFORE-JOKE-tasks", [(t.name, t.result) for t in before_joke.tasks])

# -- Replay: nodes after the checkpoint re-run ---------------------------------------------
calls.clear()
replay_result = graph.invoke(None, before_joke.config)
show("REPLAY", replay_result)
show("REPLAY-calls", calls)
show("REPLAY-hist", [(s.next, s.metadata["source"], s.metadata["step"])
                     for s in graph.get_state_history(config)])
new_head = graph.get_state(config)
show("REPLAY-parent-is-checkpoint", new_head.parent_config["configurable"]["checkpoint_id"] != before_joke.config["configurable"]["checkpoint_id"])
grand = graph.get_state(new_head.parent_config)
show("REPLAY-grandparent", (brief(grand), grand.parent_config["configurable"]["checkpoint_id"]
                            == before_joke.parent_config["configurable"]["checkpoint_id"]))

# replaying from the final checkpoint is a no-op
calls.clear()
final_cp = next(s for s in history if s.next == ())
show("REPLAY-final", graph.invoke(None, final_cp.config))
show("REPLAY-final-calls", calls)

# streaming a replay
for chunk in graph.stream(None, before_joke.config, stream_mode="updates"):
    show("REPLAY-stream", chunk)

# -- Fork: update_state on the past checkpoint, then invoke(None, fork_config) ----------------
calls.clear()
fork_config = graph.update_state(before_joke.config, values={"topic": "chickens"})
show("FORK-cfg-keys", sorted(fork_config["configurable"]))
fork_state = graph.get_state(fork_config)
show("FORK-state", brief(fork_state))
show("FORK-parent", fork_state.parent_config["configurable"]["checkpoint_id"]
     == before_joke.config["configurable"]["checkpoint_id"])
fork_result = graph.invoke(None, fork_config)
show("FORK", fork_result)
show("FORK-calls", calls)
show("FORK-original-intact", graph.get_state(before_joke.config).values)
show("FORK-hist-len", len(list(graph.get_state_history(config))))

# -- From a specific node: as_node decides what runs next ----------------------------------------
calls.clear()
cfg = graph.update_state(before_joke.config, values={"topic": "cats"}, as_node="generate_topic")
show("ASNODE-gen", brief(graph.get_state(cfg)))
show("ASNODE-gen-run", graph.invoke(None, cfg))
cfg = graph.update_state(before_joke.config, values={"joke": "written by hand"}, as_node="write_joke")
show("ASNODE-joke", brief(graph.get_state(cfg)))
show("ASNODE-joke-run", graph.invoke(None, cfg))
show("ASNODE-calls", calls)

first = history[-1]  # the input checkpoint
cfg = graph.update_state(first.config, {"topic": "owls"}, as_node="generate_topic")
show("ASNODE-from-input", graph.invoke(None, cfg))


# -- Interrupts: replay re-fires them; a fork past them changes the answer ----------------------
class AskState(TypedDict):
    value: Annotated[list[str], operator.add]


asked = []


def ask_human(state: AskState):
    asked.append("ask")
    answer = interrupt("What is your name?")
    return {"value": [f"Hello, {answer}!"]}


def final_step(state: AskState):
    return {"value": ["Done"]}


graph = (
    StateGraph(AskState)
    .add_node("ask_human", ask_human)
    .add_node("final_step", final_step)
    .add_edge(START, "ask_human")
    .add_edge("ask_human", "final_step")
    .add_edge("final_step", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "int-thread"}}
show("INT-1", graph.invoke({"value": ["start"]}, config))
show("INT-2", graph.invoke(Command(resume="Alice"), config))
history = list(graph.get_state_history(config))
show("INT-hist", [(s.next, s.metadata["source"], s.metadata["step"], len(s.interrupts),
                   [(t.name, len(t.interrupts), t.result) for t in s.tasks]) for s in history])
before_ask = next(s for s in history if s.next == ("ask_human",))
replay = graph.invoke(None, before_ask.config)
show("INT-replay", replay)
show("INT-replay-state", (graph.get_state(config).next, [i.value for i in graph.get_state(config).interrupts]))
show("INT-replay-resume", graph.invoke(Command(resume="Bob"), config))
fork_config = graph.update_state(before_ask.config, {"value": ["forked"]})
show("INT-fork", graph.invoke(None, fork_config))
show("INT-fork-resume", graph.invoke(Command(resume="Carol"), config))
after_ask = next(s for s in history if s.next == ("final_step",))
show("INT-after-ask", brief(after_ask))
show("INT-replay-after", graph.invoke(None, after_ask.config))
show("INT-asked", len(asked))


# -- Subgraphs: the parent's history, the subgraph's state, forking the parent -------------------
class SubState(TypedDict):
    value: Annotated[list[str], operator.add]


def sub_a(state: SubState):
    return {"value": ["sub_a"]}


def sub_b(state: SubState):
    return {"value": ["sub_b:" + interrupt("sub question")]}


subgraph = (
    StateGraph(SubState).add_node("sub_a", sub_a).add_node("sub_b", sub_b)
    .add_edge(START, "sub_a").add_edge("sub_a", "sub_b").compile()
)


def before(state: SubState):
    return {"value": ["before"]}


parent = (
    StateGraph(SubState).add_node("before", before).add_node("sub", subgraph)
    .add_edge(START, "before").add_edge("before", "sub").add_edge("sub", END)
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "sub-thread"}}
show("SUB-1", parent.invoke({"value": []}, config))
st = parent.get_state(config, subgraphs=True)
show("SUB-state", brief(st))
show("SUB-task-state", [(t.name, brief(t.state), [i.value for i in t.state.interrupts]) for t in st.tasks])
show("SUB-2", parent.invoke(Command(resume="yes"), config))
history = list(parent.get_state_history(config))
show("SUB-hist", [(s.next, s.metadata["source"], s.metadata["step"]) for s in history])
before_sub = next(s for s in history if s.next == ("sub",))
fork_config = parent.update_state(before_sub.config, {"value": ["edited"]})
show("SUB-fork-1", parent.invoke(None, fork_config))
show("SUB-fork-2", parent.invoke(Command(resume="again"), config))
for ns, chunk in parent.stream(None, before_sub.config, stream_mode="updates", subgraphs=True):
    show("SUB-replay-stream", (ns != (), chunk))
