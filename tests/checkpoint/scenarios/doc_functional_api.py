"""The LangGraph documentation's functional API pages, run on LangGraph 1.2.22 and on
rillet.

https://docs.langchain.com/oss/python/langgraph/functional-api
https://docs.langchain.com/oss/python/langgraph/use-functional-api
(entrypoint and task, parallel tasks, calling graphs and other entrypoints, streaming
custom data, retry policy, resuming after an error, human-in-the-loop, short-term memory
with previous, entrypoint.final, long-term memory with the store, get_state). LLM calls
are replaced by deterministic functions; time.sleep is left out. Task caching
(cache_policy) is not covered: another engineer is building it.
"""
import uuid

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_stream_writer
from langgraph.func import entrypoint, task
from langgraph.graph import START, StateGraph, add_messages
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command, RetryPolicy, StreamWriter, interrupt
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
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


# -- Creating a simple workflow --------------------------------------------------------
@task
def is_even(number: int) -> bool:
    return number % 2 == 0


@task
def format_message(is_even: bool) -> str:
    return "The number is even." if is_even else "The number is odd."


checkpointer = InMemorySaver()


@entrypoint(checkpointer=checkpointer)
def workflow(inputs: dict) -> str:
    even = is_even(inputs["number"]).result()
    return format_message(even).result()


config = {"configurable": {"thread_id": str(uuid.uuid4())}}
show("SIMPLE", workflow.invoke({"number": 7}, config=config))
show("SIMPLE-even", workflow.invoke({"number": 4}, config={"configurable": {"thread_id": "e"}}))
st = workflow.get_state(config)
show("SIMPLE-state", (st.values, st.next, st.metadata["source"], st.metadata["step"]))


# -- The essay example: interrupt for review ---------------------------------------------
@task
def write_essay(topic: str) -> str:
    """Write an essay about the given topic."""
    return f"An essay about topic: {topic}"


@entrypoint(checkpointer=InMemorySaver())
def essay_workflow(topic: str) -> dict:
    essay = write_essay("cat").result()
    is_approved = interrupt({
        "essay": essay,
        "action": "Please approve/reject the essay",
    })
    return {"essay": essay, "is_approved": is_approved}


thread_id = str(uuid.uuid4())
config = {"configurable": {"thread_id": thread_id}}
for item in essay_workflow.stream("cat", config):
    show("ESSAY", item)
st = essay_workflow.get_state(config)
show("ESSAY-state", (st.next, [(t.name, [i.value for i in t.interrupts]) for t in st.tasks]))
human_review = True
for item in essay_workflow.stream(Command(resume=human_review), config):
    show("ESSAY-resume", item)
show("ESSAY-final", essay_workflow.get_state(config).values)


# -- Parallel execution --------------------------------------------------------------------
@task
def add_one(number: int) -> int:
    return number + 1


@entrypoint(checkpointer=InMemorySaver())
def graph(numbers: list[int]) -> list[int]:
    futures = [add_one(i) for i in numbers]
    return [f.result() for f in futures]


show("PARALLEL", graph.invoke([1, 2, 3], {"configurable": {"thread_id": "p"}}))


# -- Calling graphs --------------------------------------------------------------------------
class State(TypedDict):
    foo: int


def double(state: State) -> State:
    return {"foo": state["foo"] * 2}


builder = StateGraph(State)
builder.add_node("double", double)
builder.set_entry_point("double")
some_graph = builder.compile()


@entrypoint()
def call_graph(inputs: dict) -> dict:
    return some_graph.invoke({"foo": inputs["value"]})


show("CALL-GRAPH", call_graph.invoke({"value": 5}))


# -- Calling other entrypoints -------------------------------------------------------------------
@entrypoint()
def multiply(inputs: dict) -> int:
    return inputs["a"] * inputs["b"]


@entrypoint(checkpointer=InMemorySaver())
def main(inputs: dict) -> dict:
    result = multiply.invoke({"a": inputs["x"], "b": inputs["y"]})
    return {"product": result}


show("CALL-ENTRYPOINT", main.invoke({"x": 6, "y": 7}, {"configurable": {"thread_id": "m"}}))


# -- Streaming: custom data with get_stream_writer, and the writer parameter -----------------------
@entrypoint(checkpointer=InMemorySaver())
def stream_main(inputs: dict) -> int:
    writer = get_stream_writer()
    writer("Started processing")
    result = inputs["x"] * 2
    writer(f"Result is {result}")
    return result


config = {"configurable": {"thread_id": "abc"}}
for mode, chunk in stream_main.stream({"x": 5}, stream_mode=["custom", "updates"], config=config):
    show("STREAM", (mode, chunk))


@task
def progress(i: int, writer: StreamWriter = None) -> int:
    get_stream_writer()({"progress": i})
    return i


@entrypoint()
def with_writer(n: int, writer: StreamWriter) -> int:
    writer({"start": n})
    return sum(progress(i).result() for i in range(n))


show("STREAM-writer", list(with_writer.stream(3, stream_mode="custom")))
show("STREAM-values", list(with_writer.stream(2, stream_mode="values")))
show("STREAM-debug-types", [e["type"] for e in with_writer.stream(1, stream_mode="debug")])


# -- Retry policy -----------------------------------------------------------------------------------
attempts = 0
retry_policy = RetryPolicy(retry_on=ValueError)


@task(retry_policy=retry_policy)
def get_info():
    global attempts
    attempts += 1
    if attempts < 2:
        raise ValueError("Failure")
    return "OK"


@entrypoint(checkpointer=InMemorySaver())
def retry_main(inputs, writer):
    return get_info().result()


show("RETRY", retry_main.invoke({"any_input": "foobar"}, config={"configurable": {"thread_id": "r"}}))
show("RETRY-attempts", attempts)


# -- Resuming after an error -------------------------------------------------------------------------
attempts = 0
slow_calls = []


@task()
def slow_task():
    slow_calls.append("slow")
    return "Ran slow task."


@task()
def get_info_once():
    global attempts
    attempts += 1
    if attempts < 2:
        raise ValueError("Failure")
    return "OK"


@entrypoint(checkpointer=InMemorySaver())
def resume_main(inputs, writer):
    slow_task_result = slow_task().result()
    get_info_once().result()
    return slow_task_result


config = {"configurable": {"thread_id": "1"}}
try:
    resume_main.invoke({"any_input": "foobar"}, config=config)
except ValueError as e:
    show("ERROR", repr(e))
st = resume_main.get_state(config)
show("ERROR-state", (st.next, [(t.name, repr(t.error)) for t in st.tasks]))
show("ERROR-resume", resume_main.invoke(None, config=config))
show("ERROR-slow-calls", slow_calls)


# -- Human-in-the-loop: basic workflow ----------------------------------------------------------------
@task
def step_1(input_query):
    return f"{input_query} bar"


@task
def human_feedback(input_query):
    feedback = interrupt(f"Please provide feedback: {input_query}")
    return f"{input_query} {feedback}"


@task
def step_3(input_query):
    return f"{input_query} qux"


@entrypoint(checkpointer=InMemorySaver())
def hitl_graph(input_query):
    result_1 = step_1(input_query).result()
    result_2 = human_feedback(result_1).result()
    result_3 = step_3(result_2).result()
    return result_3


config = {"configurable": {"thread_id": "1"}}
for event in hitl_graph.stream("foo", config):
    show("HITL", event)
for event in hitl_graph.stream(Command(resume="baz"), config):
    show("HITL-resume", event)
show("HITL-hist", [(h.metadata["source"], h.metadata["step"], h.next)
                   for h in hitl_graph.get_state_history(config)])


# -- Human-in-the-loop: review tool calls ---------------------------------------------------------------
@task
def call_model(messages):
    if messages[-1].type == "tool":
        return AIMessage(content=f"The weather: {messages[-1].content}", id="ai-2")
    return AIMessage(content="", id="ai-1", tool_calls=[
        {"name": "get_weather", "args": {"location": "san francisco"}, "id": "call_1", "type": "tool_call"}])


@task
def call_tool(tool_call):
    from langchain_core.messages import ToolMessage
    return ToolMessage(content=f"It's sunny in {tool_call['args']['location']}!", tool_call_id=tool_call["id"],
                       id="tm-" + tool_call["id"])


def review_tool_call(tool_call):
    human_review = interrupt({"question": "Is this correct?", "tool_call": tool_call})
    review_action = human_review["action"]
    review_data = human_review.get("data")
    if review_action == "continue":
        return tool_call
    elif review_action == "update":
        return {**tool_call, "args": review_data}
    elif review_action == "feedback":
        from langchain_core.messages import ToolMessage
        return ToolMessage(content=review_data, name=tool_call["name"], tool_call_id=tool_call["id"], id="fb")


@entrypoint(checkpointer=InMemorySaver())
def agent(messages, previous):
    if previous is not None:
        messages = add_messages(previous, messages)
    model_response = call_model(messages).result()
    while True:
        if not model_response.tool_calls:
            break
        tool_results = []
        tool_calls = []
        for i, tool_call in enumerate(model_response.tool_calls):
            review = review_tool_call(tool_call)
            if isinstance(review, BaseMessage):
                tool_results.append(review)
            else:
                tool_calls.append(review)
                if review != tool_call:
                    model_response.tool_calls[i] = review
        tool_result_futures = [call_tool(tool_call) for tool_call in tool_calls]
        remaining = [fut.result() for fut in tool_result_futures]
        messages = add_messages(messages, [model_response, *tool_results, *remaining])
        model_response = call_model(messages).result()
    messages = add_messages(messages, model_response)
    return entrypoint.final(value=model_response, save=messages)


config = {"configurable": {"thread_id": "tools"}}
user_message = HumanMessage(content="What's the weather in san francisco?", id="h1")
for step in agent.stream([user_message], config):
    show("REVIEW", step)
for step in agent.stream(Command(resume={"action": "update", "data": {"location": "SF, CA"}}), config):
    show("REVIEW-update", step)
show("REVIEW-state-values", agent.get_state(config).values)
config = {"configurable": {"thread_id": "tools-ok"}}
agent.invoke([user_message], config)
show("REVIEW-continue", agent.invoke(Command(resume={"action": "continue"}), config))


# -- Short-term memory: previous ---------------------------------------------------------------------------
@entrypoint(checkpointer=InMemorySaver())
def counter(number: int, *, previous=None) -> int:
    previous = previous or 0
    return number + previous


config = {"configurable": {"thread_id": "some_thread_id"}}
show("PREVIOUS", [counter.invoke(1, config), counter.invoke(2, config)])


# -- entrypoint.final: return one thing, save another ---------------------------------------------------------
@entrypoint(checkpointer=InMemorySaver())
def final_workflow(number: int, *, previous=None) -> entrypoint.final[int, int]:
    previous = previous or 0
    return entrypoint.final(value=previous, save=2 * number)


config = {"configurable": {"thread_id": "1"}}
show("FINAL", [final_workflow.invoke(3, config), final_workflow.invoke(1, config)])
show("FINAL-state", final_workflow.get_state(config).values)


# -- A chatbot: messages kept with previous ----------------------------------------------------------------
@task
def chat_model(messages: list[BaseMessage]):
    names = [m.content.split("I'm ", 1)[1] for m in messages if m.type == "human" and "I'm " in m.content]
    if "name" in messages[-1].content and names:
        return AIMessage(content=f"Your name is {names[-1]}.", id=f"ai-{len(messages)}")
    return AIMessage(content=f"Hi! ({len(messages)} messages so far)", id=f"ai-{len(messages)}")


@entrypoint(checkpointer=InMemorySaver())
def chat(inputs: list[BaseMessage], *, previous: list[BaseMessage]):
    inputs = add_messages(previous or [], inputs)
    response = chat_model(inputs).result()
    return entrypoint.final(value=response, save=add_messages(inputs, response))


config = {"configurable": {"thread_id": "1"}}
input_message = {"role": "user", "content": "hi! I'm bob"}
for chunk in chat.stream([input_message], config, stream_mode="values"):
    show("CHAT-1", chunk.content)
input_message = {"role": "user", "content": "what's my name?"}
for chunk in chat.stream([input_message], config, stream_mode="values"):
    show("CHAT-2", chunk.content)
show("CHAT-other-thread", chat.invoke([input_message], {"configurable": {"thread_id": "2"}}).content)
show("CHAT-state-values", chat.get_state(config).values)


# -- Long-term memory: the store parameter --------------------------------------------------------------------
@entrypoint(checkpointer=InMemorySaver(), store=InMemoryStore())
def remember(inputs: dict, *, store: BaseStore, config) -> list:
    user_id = config["configurable"]["user_id"]
    namespace = ("memories", user_id)
    if inputs.get("remember"):
        store.put(namespace, inputs["key"], {"data": inputs["remember"]})
    return [m.value["data"] for m in store.search(namespace)]


show("LTM-1", remember.invoke({"remember": "likes tea", "key": "k1"},
                              {"configurable": {"thread_id": "a", "user_id": "u1"}}))
show("LTM-2", remember.invoke({}, {"configurable": {"thread_id": "b", "user_id": "u1"}}))
show("LTM-3", remember.invoke({}, {"configurable": {"thread_id": "c", "user_id": "u2"}}))


# -- Serialization: inputs and outputs must be serializable with a checkpointer ---------------------------------
@entrypoint(checkpointer=InMemorySaver())
def ser(inputs: dict) -> dict:
    return {"got": inputs, "set_len": len(set(inputs["items"]))}


show("SER", ser.invoke({"items": [1, 1, 2]}, {"configurable": {"thread_id": "s"}}))
show("SER-hist", [(h.metadata["source"], h.metadata["step"], h.values)
                  for h in ser.get_state_history({"configurable": {"thread_id": "s"}})])
