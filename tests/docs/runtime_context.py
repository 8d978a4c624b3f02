"""Runtime context examples, run on LangGraph 1.2.22 and on rillet.

Pages: https://docs.langchain.com/oss/python/langgraph/graph-api (Runtime context) and
https://docs.langchain.com/oss/python/langgraph/use-graph-api (Add runtime
configuration): context_schema, invoke(context=...), Runtime[Context] node parameter,
get_runtime(), a model chosen from the context.
"""
from dataclasses import dataclass
from typing_extensions import TypedDict
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.runtime import Runtime, get_runtime
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


@dataclass
class ContextSchema:
    llm_provider: str = "openai"


class State(TypedDict):
    my_state_value: str


def node(state: State, runtime: Runtime[ContextSchema]):
    if runtime.context.llm_provider == "anthropic":
        return {"my_state_value": "anthropic chosen"}
    return {"my_state_value": f"{runtime.context.llm_provider} chosen"}


builder = StateGraph(State, context_schema=ContextSchema)
builder.add_node(node)
builder.add_edge(START, "node")
builder.add_edge("node", END)
graph = builder.compile()
print("CONTEXT", graph.invoke({"my_state_value": "x"}, context={"llm_provider": "anthropic"}))
print("CONTEXT-OBJ", graph.invoke({"my_state_value": "x"}, context=ContextSchema(llm_provider="local")))
try:
    print("CONTEXT-DEFAULT", graph.invoke({"my_state_value": "x"}))
except AttributeError as exc:  # no context given: runtime.context is None
    print("CONTEXT-DEFAULT", type(exc).__name__)
print("CONTEXT-STREAM", list(graph.stream({"my_state_value": "x"}, context={"llm_provider": "o"}, stream_mode="updates")))


class Ctx(TypedDict):
    user_id: str


def uses_get_runtime(state: State):
    runtime = get_runtime(Ctx)
    return {"my_state_value": f"user {runtime.context['user_id']}, store {runtime.store}"}


builder = StateGraph(State, context_schema=Ctx)
builder.add_node(uses_get_runtime)
builder.add_edge(START, "uses_get_runtime")
graph = builder.compile()
print("GET-RUNTIME", graph.invoke({"my_state_value": ""}, context={"user_id": "u-7"}))


MODELS = {
    "anthropic": GenericFakeChatModel(messages=iter(["hi from anthropic"])),
    "openai": GenericFakeChatModel(messages=iter(["hi from openai"])),
}


@dataclass
class ModelContext:
    model_provider: str = "anthropic"


def call_model(state: MessagesState, runtime: Runtime[ModelContext]):
    model = MODELS[runtime.context.model_provider]
    response = model.invoke(state["messages"])
    return {"messages": [response]}


builder = StateGraph(MessagesState, context_schema=ModelContext)
builder.add_node("model", call_model)
builder.add_edge(START, "model")
builder.add_edge("model", END)
graph = builder.compile()
input_message = {"role": "user", "content": "hi"}
response_1 = graph.invoke({"messages": [input_message]}, context={"model_provider": "anthropic"})["messages"][-1]
response_2 = graph.invoke({"messages": [input_message]}, context={"model_provider": "openai"})["messages"][-1]
print("MODEL-1", response_1.content)
print("MODEL-2", response_2.content)


def route(state: State, runtime: Runtime[ContextSchema]):
    return "node" if runtime.context.llm_provider == "openai" else END


builder = StateGraph(State, context_schema=ContextSchema)
builder.add_node(node)
builder.add_conditional_edges(START, route)
graph = builder.compile()
print("ROUTE-CONTEXT-1", graph.invoke({"my_state_value": "x"}, context={"llm_provider": "openai"}))
print("ROUTE-CONTEXT-2", graph.invoke({"my_state_value": "x"}, context={"llm_provider": "other"}))
