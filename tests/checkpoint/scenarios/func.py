"""A LangGraph program (the functional API), run on LangGraph 1.2.22 and on rillet."""
import asyncio
import re

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.types import Command, interrupt


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"[0-9a-f]{32}", "<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    return s


_print = print


def print(*args):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args))


def show(tag, v):
    print(tag, v)


def cfg(name):
    return {"configurable": {"thread_id": name}}


# 1. tasks as futures, invoke and the stream modes
@task
def double(x: int) -> int:
    return x * 2


@task
def add_one(x: int) -> int:
    return x + 1


@entrypoint()
def pipeline(n: int) -> dict:
    futures = [double(i) for i in range(n)]
    doubled = [f.result() for f in futures]
    total = add_one(sum(doubled)).result()
    return {"doubled": doubled, "total": total}


show("NAME", (pipeline.name, pipeline.stream_mode))
show("INVOKE", pipeline.invoke(3))
show("UPDATES", sorted(map(repr, pipeline.stream(3))))
show("UPDATES-last", list(pipeline.stream(2))[-1])
show("VALUES", list(pipeline.stream(2, stream_mode="values")))
tasks_events = list(pipeline.stream(1, stream_mode="tasks"))
show("TASKS", [(e["name"], e.get("input"), e.get("result"), e.get("triggers"))
               for e in tasks_events])
show("MERMAID", pipeline.get_graph().draw_mermaid())


# 2. previous and entrypoint.final on a thread
@entrypoint(checkpointer=InMemorySaver())
def counter(n: int, *, previous=None) -> int:
    return (previous or 0) + n


show("COUNT", [counter.invoke(n, cfg("c")) for n in (1, 2, 3)])
st = counter.get_state(cfg("c"))
show("COUNT-state", (st.values, st.next, st.metadata["source"], st.metadata["step"]))
show("COUNT-hist", [(h.metadata["source"], h.metadata["step"], h.values, h.next)
                    for h in counter.get_state_history(cfg("c"))])


@entrypoint(checkpointer=InMemorySaver())
def lagging(n: int, *, previous=None):
    return entrypoint.final(value=previous, save=n)


show("FINAL", [lagging.invoke(n, cfg("f")) for n in (10, 20, 30)])
show("FINAL-state", lagging.get_state(cfg("f")).values)


# 3. interrupt in the entrypoint, resume
calls = []


@task
def side(x):
    calls.append(("side", x))
    return x * 100


@entrypoint(checkpointer=InMemorySaver())
def review(topic: str) -> dict:
    draft = side(len(topic)).result()
    answer = interrupt({"draft": draft, "question": "ok?"})
    return {"topic": topic, "draft": draft, "answer": answer}


show("HITL-1", review.invoke("cats", cfg("r")))
st = review.get_state(cfg("r"))
show("HITL-state", (st.values, st.next, st.metadata["source"], st.metadata["step"],
                    [(t.name, t.path, len(t.interrupts)) for t in st.tasks],
                    [i.value for i in st.interrupts]))
show("HITL-2", review.invoke(Command(resume="yes"), cfg("r")))
show("HITL-calls", calls)
st = review.get_state(cfg("r"))
show("HITL-final", (st.values, st.next, st.tasks))
show("HITL-hist", [(h.metadata["source"], h.metadata["step"], h.next)
                   for h in review.get_state_history(cfg("r"))])
show("HITL-stream-1", list(review.stream("dogs", cfg("r2"))))
show("HITL-stream-2", list(review.stream(Command(resume="no"), cfg("r2"))))
show("HITL-values", list(review.stream("emus", cfg("r3"), stream_mode="values")))
show("HITL-values-2", list(review.stream(Command(resume="y"), cfg("r3"), stream_mode="values")))


# 4. interrupts inside tasks: finished tasks are not re-run
calls.clear()


@task
def approve(x):
    calls.append(("approve", x))
    return f"{x}={interrupt(f'approve {x}?')}"


@entrypoint(checkpointer=InMemorySaver())
def approvals(items: list) -> list:
    first = side(items[0]).result()
    return [first, *(approve(i).result() for i in items[1:])]


show("T-1", approvals.invoke([1, 2, 3], cfg("t")))
show("T-2", list(approvals.stream(Command(resume="yes"), cfg("t"))))
st = approvals.get_state(cfg("t"))
show("T-state", (st.next, [(t.name, len(t.interrupts)) for t in st.tasks],
                 [i.value for i in st.interrupts]))
show("T-3", approvals.invoke(Command(resume="no"), cfg("t")))
show("T-calls", calls)
show("T-hist", len(list(approvals.get_state_history(cfg("t")))))


# 5. a failing task; the thread continues without re-running what finished
calls.clear()
flaky = {"fail": True}


@task
def risky(x):
    calls.append(("risky", x))
    if flaky["fail"]:
        raise ValueError("boom")
    return -x


@entrypoint(checkpointer=InMemorySaver())
def main(x: int) -> list:
    return [side(x).result(), risky(x).result()]


try:
    main.invoke(7, cfg("e"))
except ValueError as exc:
    show("ERR", repr(exc))
st = main.get_state(cfg("e"))
show("ERR-state", (st.next, [(t.name, t.error) for t in st.tasks]))
flaky["fail"] = False
show("ERR-continue", main.invoke(None, cfg("e")))
show("ERR-calls", calls)


# 6. async entrypoint, tasks awaited and gathered
@task
async def aadd(x: int) -> int:
    await asyncio.sleep(0)
    return x + 10


@entrypoint(checkpointer=InMemorySaver())
async def agraph(x: int) -> list:
    a = await aadd(x)
    b, c = await asyncio.gather(aadd(a), aadd(a + 1))
    d = await double(c)
    return [a, b, c, d]


show("ASYNC", asyncio.run(agraph.ainvoke(1, cfg("a"))))
async def collect():
    return [u async for u in agraph.astream(2, cfg("a2"))]


show("ASYNC-astream", sorted(map(repr, asyncio.run(collect()))))


# 7. a writer, config and the store
from langgraph.store.memory import InMemoryStore  # noqa: E402


@task
def shout(word: str) -> str:
    from langgraph.config import get_stream_writer

    get_stream_writer()({"task": word})
    return word.upper()


@entrypoint(store=InMemoryStore())
def writer_graph(words: list, *, writer, config, store) -> list:
    writer({"start": len(words)})
    store.put(("seen",), "last", {"n": len(words)})
    out = [shout(w).result() for w in words]
    writer({"thread": config["configurable"].get("thread_id")})
    return [*out, store.get(("seen",), "last").value]


show("WRITER", list(writer_graph.stream(["a", "b"], stream_mode=["custom", "updates"])))
show("WRITER-custom", list(writer_graph.stream(["z"], stream_mode="custom")))

# 8. parallel tasks in a thread pool: results in call order
@task
def slow(i: int) -> int:
    return i


@entrypoint()
def fan(n: int) -> list:
    return [f.result() for f in [slow(i) for i in range(n)]]


show("FAN", fan.invoke(3))
