"""A thread's saved state as users see it: ``get_state``, ``get_state_history``,
``update_state``, and the items of ``stream_mode="checkpoints"``.

Everything here reads through a :class:`~rillet.runtime._persist.Persister`, so a
checkpoint decodes the same way whether a run continues from it or a user looks at it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from rillet._constants import END, NS_END, NS_SEP, PULL, START
from rillet.channels import MISSING
from rillet.errors import CheckpointError, InvalidUpdateError, UsageError
from rillet.runtime._context import RootRun, RunContext, Task, uuid5_text
from rillet.runtime._effects import Call, Failure
from rillet.runtime._persist import Persister
from rillet.runtime._saved import Saved, forget_thread
from rillet.stream._format import interrupt_data
from rillet.types import PregelTask, StateSnapshot

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.runtime._loop import Loop


def drive(steps: Generator[Any, Any, Any]) -> Any:
    """Run a persister generator here, executing its I/O calls synchronously."""
    send: Any = None
    while True:
        try:
            effect = steps.send(send)
        except StopIteration as stop:
            return stop.value
        call: Call = effect
        try:
            send = call.fn(*call.args, **(call.kwargs or {}))
        except Exception as exc:
            send = Failure(exc)


def _saver(graph: CompiledStateGraph) -> Any:
    saver = graph.checkpointer
    if saver is None or saver is True or saver is False:
        raise CheckpointError(
            "This graph has no checkpointer, so it keeps no state between runs: compile it "
            "with checkpointer=InMemorySaver() (from rillet.checkpoint.memory), or a "
            "SqliteSaver / PostgresSaver for state that outlives the process."
        )
    return saver


def _target(graph: CompiledStateGraph, config: Mapping[str, Any]) -> tuple[Any, str]:
    """The (sub)graph a config's ``checkpoint_ns`` names, and the namespace."""
    configurable = config.get("configurable") or {}
    ns = str(configurable.get("checkpoint_ns") or "")
    target = graph
    if ns:
        for level in ns.split(NS_SEP):
            name = level.split(NS_END, 1)[0]
            node = target.nodes.get(name)
            inner = graph_of(node) if node is not None else None
            if inner is None:
                raise CheckpointError(
                    f"checkpoint_ns {ns!r} names {name!r}, which is not a subgraph node of "
                    f"graph {target.name!r}"
                )
            target = inner
    return target, ns


def graph_of(node: Any) -> Any:
    """The graph that runs inside ``node``: its subgraph, or else the one compiled graph
    its function refers to (by a global or closure name), as LangGraph finds those."""
    if node.subgraph is not None:
        return node.subgraph
    from rillet.graph._compiled import CompiledStateGraph

    fn = inspect.unwrap(node.fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    names = {}
    for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False):
        with contextlib.suppress(ValueError):  # a cell not filled in yet
            names[name] = cell.cell_contents
    scope = getattr(fn, "__globals__", {})
    names.update((n, scope[n]) for n in code.co_names if n in scope)
    found = {id(v): v for v in names.values() if isinstance(v, CompiledStateGraph)}
    return next(iter(found.values())) if len(found) == 1 else None


def _loop_for(graph: Any, config: dict[str, Any], ns: str, persist: Persister) -> Loop:
    root = RootRun(frozenset(), False, None)
    ns_tuple = tuple(ns.split(NS_SEP)) if ns else ()
    loop: Loop = graph.loop_class(graph, RunContext(root, config, ns_tuple), 10**9,
                                  nested=bool(ns), observers=(), persist=persist)
    return loop


def _config(thread_id: str, ns: str, checkpoint_id: str | None,
            parents: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    if checkpoint_id is None:
        return None
    configurable: dict[str, Any] = {
        "thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id,
    }
    if ns:  # as LangGraph: where each level above stands
        configurable["checkpoint_map"] = {**(parents or {}), ns: checkpoint_id}
    return {"configurable": configurable}


def _event_config(thread_id: str, ns: str, checkpoint_id: str | None,
                  parents: Mapping[str, str]) -> dict[str, Any] | None:
    """A config in a ``checkpoints`` item, keyed as LangGraph's loop writes it
    (``checkpoint_ns`` first; inside a subgraph, ``checkpoint_map`` from the saved
    metadata's ``parents`` before ``checkpoint_id``)."""
    if checkpoint_id is None:
        return None
    configurable: dict[str, Any] = {"checkpoint_ns": ns, "thread_id": thread_id}
    if parents:
        configurable["checkpoint_map"] = {**parents, ns: checkpoint_id}
    configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def read(graph: CompiledStateGraph, config: dict[str, Any] | None
         ) -> tuple[Persister, Loop, Saved | None]:
    cfg = dict(config or {})
    saver = _saver(graph)
    target, ns = _target(graph, cfg)
    persist = Persister(saver, cfg, ns)
    loop = _loop_for(target, cfg, ns, persist)
    checkpoint_id = (cfg.get("configurable") or {}).get("checkpoint_id")
    saved = drive(persist.load(checkpoint_id))
    if saved is not None:
        persist._restore(loop, saved)
    return persist, loop, saved


def get_state(graph: CompiledStateGraph, config: dict[str, Any] | None,
              subgraphs: bool = False) -> StateSnapshot:
    cfg = dict(config or {})
    persist, loop, saved = read(graph, cfg)
    if saved is None:
        wanted = (cfg.get("configurable") or {}).get("checkpoint_id")
        if wanted is not None:
            raise CheckpointError(
                f"Thread {persist.thread_id!r} has no checkpoint {wanted!r}: "
                f"get_state_history(config) lists the ones it has."
            )
        return StateSnapshot({}, (), cfg, None, None, None, (), ())
    explicit = (cfg.get("configurable") or {}).get("checkpoint_id") is not None
    return snapshot(graph, persist, loop, saved, apply_pending=not explicit,
                    subgraphs=subgraphs)


def snapshot(graph: Any, persist: Persister, loop: Loop, saved: Saved, *,
             apply_pending: bool = True, subgraphs: bool = False,
             results: Mapping[str, Any] | None = None) -> StateSnapshot:
    record = saved.record
    thread, ns = persist.thread_id, persist.ns
    tasks: list[PregelTask] = []
    pending: list[Any] = []
    next_names: list[str] = []
    if saved.input is not MISSING:
        start_id = _start_task_id(loop)
        known = results.get(start_id) if results else None
        tasks.append(PregelTask(start_id, START, (PULL, START), None, (), None,
                                known if known is not None else
                                _input_writes(loop, saved.input)))
        next_names.append(START)
    else:
        done_writes: list[tuple[str, Any]] = []
        for task in _snapshot_order(loop):
            entry = saved.task_writes.get(task.id)
            # A task that finished since it paused asks nothing any more.
            interrupts = tuple(entry.interrupts) \
                if entry is not None and entry.goto is None else ()
            if entry is not None and entry.resume:
                interrupts = tuple(i for i in interrupts if i.id not in entry.resume)
            pending.extend(interrupts)
            error = entry.error if entry is not None else None
            result: Any = None
            if entry is not None and entry.goto is not None:
                result = dict(entry.writes)
                done_writes.extend((k, v) for k, v in entry.writes)
                if not apply_pending:  # a past step (history) lists every task it ran
                    next_names.append(task.name)
            else:
                next_names.append(task.name)
                if results is not None:
                    result = results.get(task.id)
            state: Any = None
            if graph_of(task.node) is not None:
                child_cfg = {"configurable": {"thread_id": thread,
                                              "checkpoint_ns": task.checkpoint_ns}}
                state = get_state(graph, child_cfg, subgraphs=True) if subgraphs else child_cfg
            tasks.append(PregelTask(task.id, task.name, task.path, error, interrupts, state,
                                    result))
        if apply_pending and done_writes:
            loop.apply_writes(done_writes, "__pending__")
    parents = record.metadata.get("parents") or {}
    parent = _config(thread, ns, record.parent_id, parents)
    own = _config(thread, ns, record.checkpoint_id, parents)
    assert own is not None
    return StateSnapshot(loop.state_values(), tuple(next_names), own, dict(record.metadata),
                         record.created_at, parent, tuple(tasks), tuple(pending))


def _snapshot_order(loop: Loop) -> list[Task]:
    """The next step's tasks in the order LangGraph lists them in a snapshot: Send tasks
    first (in send order), then node tasks in the order the nodes were added (a run
    itself plans node tasks by name; a snapshot's ``next`` and ``tasks`` do not)."""
    added = {name: i for i, name in enumerate(loop.graph.nodes)}

    def key(task: Task) -> tuple[bool, int]:
        pull = task.path[0] == PULL
        return pull, added.get(task.name, 0) if pull else 0

    return sorted(loop.plan(), key=key)


def _start_task_id(loop: Loop) -> str:

    return uuid5_text(loop.run.seed, f"{NS_SEP.join(loop.run.ns)}|start")


def _input_writes(loop: Loop, value: Any) -> Any:
    try:
        return loop.graph.schema.input_updates(value)
    except Exception:
        return value


def get_state_history(graph: CompiledStateGraph, config: dict[str, Any] | None, *,
                      filter: Mapping[str, Any] | None = None,
                      before: dict[str, Any] | None = None,
                      limit: int | None = None) -> Iterator[StateSnapshot]:
    cfg = dict(config or {})
    saver = _saver(graph)
    target, ns = _target(graph, cfg)
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise UsageError(f"get_state_history(limit=...) takes a count >= 0, got {limit!r}")
    persist = Persister(saver, cfg, ns)
    before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id")
    upto = (cfg.get("configurable") or {}).get("checkpoint_id")
    records = list(saver.history(persist.thread_id, ns, before=before_id, limit=None,
                                 filter=filter))
    if upto is not None:
        records = [r for r in records if r.checkpoint_id <= upto]
    if limit is not None:
        records = records[:limit]
    ran_by_parent: dict[str, dict[str, Any]] = {}
    for record in records:
        p = Persister(saver, cfg, ns)
        loop = _loop_for(target, cfg, ns, p)
        saved = drive(p.load(record.checkpoint_id))
        if saved is None:
            continue
        p._restore(loop, saved)
        results = ran_by_parent.get(record.checkpoint_id)
        yield snapshot(graph, p, loop, saved, apply_pending=False, results=results)
        if record.parent_id is not None:
            # (id, name, [path,] writes): older records also hold the task's path
            ran_by_parent[record.parent_id] = {entry[0]: entry[-1] for entry in saved.ran}


def update_state(graph: CompiledStateGraph, config: dict[str, Any] | None, values: Any,
                 as_node: str | None = None) -> dict[str, Any]:
    from rillet.runtime._loop import Loop

    cfg = dict(config or {})
    persist, loop, saved = read(graph, cfg)
    target = loop.graph
    if as_node is None:
        writers = list(dict.fromkeys(entry[1] for entry in saved.ran)) if saved else []
        if len(writers) == 1:
            as_node = writers[0]
        elif not writers and (saved is None or saved.step <= 0):
            as_node = START
        else:
            raise InvalidUpdateError(
                f"Ambiguous update, specify as_node: the last step of thread "
                f"{persist.thread_id!r} was run by {writers or 'no node'}; pass "
                f"update_state(config, values, as_node=<one of {list(target.nodes)}>)."
            )
    if as_node == END:
        if values is not None:
            raise InvalidUpdateError("update_state(..., as_node=END) takes values=None")
        loop._pending_nodes, loop._pending_sends = {}, []
        loop.step += 1
        drive(persist.save(loop, "update"))
        return _config(persist.thread_id, persist.ns, persist.checkpoint_id) or {}
    if as_node == START:
        loop._pending_nodes, loop._pending_sends = {}, []
        if values is not None:
            loop.apply_writes(list(target.schema.input_updates(values).items()), START)
        for dest in target.start_edges:
            loop._route(START, [dest])
        loop.step += 1
        drive(persist.save(loop, "update"))
        return _config(persist.thread_id, persist.ns, persist.checkpoint_id) or {}
    node = target.nodes.get(as_node)
    if node is None:
        raise InvalidUpdateError(
            f"update_state(as_node={as_node!r}): graph {target.name!r} has no node of that "
            f"name (nodes: {', '.join(target.nodes)})"
        )
    loop._pending_nodes, loop._pending_sends = {}, []
    task = Task(loop.run, node, loop.step + 1, None, ("__update__",), (PULL, as_node),
                loop.run.make_writer())
    loop.finish(task, values)
    for branch in node.branches:
        choice = _call_branch(branch, loop.branch_view(task, branch), task)
        loop.add_branch_result(task, branch, choice)
    loop.step += 1
    loop.commit([task])
    drive(persist.save(loop, "update", [task]))
    assert isinstance(loop, Loop)
    return _config(persist.thread_id, persist.ns, persist.checkpoint_id) or {}


def _call_branch(branch: Any, view: Any, task: Task) -> Any:
    kwargs: dict[str, Any] = {"config": task.config} if branch.wants_config else {}
    if branch.wants_runtime:
        kwargs["runtime"] = task.runtime
    result = branch.path(view, **kwargs)
    if branch.is_async or hasattr(result, "__await__"):
        import asyncio

        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def delete_thread(saver: Any, thread_id: str) -> None:
    saver.delete_thread(thread_id)
    forget_thread(saver, thread_id)


def _event_tasks(loop: Loop, planned: list[Task], asked: Mapping[str, Any]
                 ) -> list[dict[str, Any]]:
    """The ``tasks`` of a checkpoint item: a subgraph task names its namespace."""
    thread = loop.persist.thread_id if loop.persist is not None else None
    tasks = []
    for t in planned:
        state = None
        if graph_of(t.node) is not None:
            state = {"configurable": {"thread_id": thread, "checkpoint_ns": t.checkpoint_ns}}
        interrupts = tuple(interrupt_data(i) for i in asked.get(t.id, ()))
        tasks.append({"id": t.id, "name": t.name, "interrupts": interrupts, "state": state})
    return tasks


def resumed_checkpoint_event(loop: Loop, saved: Saved) -> Any:
    """The ``checkpoints`` item of the checkpoint a run continues from (LangGraph sends
    it again first): its pending tasks with the interrupts they wait on."""
    from rillet.stream._events import CheckpointEvent

    persist = loop.persist
    assert persist is not None
    thread, ns, record = persist.thread_id, persist.ns, saved.record
    parents = persist.parent_ids
    waiting = persist.task_writes or {}
    planned = loop.plan()
    payload = {
        "config": _event_config(thread, ns, record.checkpoint_id, parents),
        # as stored, in LangGraph's order for a config it read back
        "parent_config": _config(thread, ns, record.parent_id, parents),
        "values": loop.state_values(),
        "metadata": dict(record.metadata),
        "next": [t.name for t in planned],
        "tasks": _event_tasks(loop, planned,
                              {tid: entry.interrupts for tid, entry in waiting.items()}),
    }
    return CheckpointEvent(loop.run.ns, saved.step, record.created_at, payload)


def checkpoint_event(loop: Loop, record: Any, state: dict[str, Any]) -> Any:
    """The ``checkpoints`` item of a checkpoint the run just saved."""
    from rillet.stream._events import CheckpointEvent

    persist = loop.persist
    assert persist is not None
    thread, ns = persist.thread_id, persist.ns
    if "input" in state:
        names: list[str] = [START]
        tasks: list[dict[str, Any]] = [{"id": _start_task_id(loop), "name": START,
                                        "interrupts": (), "state": None}]
    else:
        planned = loop.plan()
        names = [t.name for t in planned]
        tasks = _event_tasks(loop, planned, {})
    parents = persist.parent_ids
    payload = {
        "config": _event_config(thread, ns, record.checkpoint_id, parents),
        "parent_config": _event_config(thread, ns, record.parent_id, parents),
        "values": loop.state_values(),
        "metadata": dict(record.metadata),
        "next": names,
        "tasks": tasks,
    }
    return CheckpointEvent(loop.run.ns, state["step"], record.created_at, payload)
