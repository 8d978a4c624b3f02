"""``@entrypoint``: a plain function as a graph of one node, with its own loop.

The graph has three values: ``__start__`` (the input), ``__end__`` (what the function
returned) and ``__previous__`` (what it saved for the thread's next run, the
``previous`` parameter). A run is one step: the input checkpoint (the function
pending), the function with the tasks it calls, and the checkpoint after it. The
numbering, the output shapes and the saved history are LangGraph's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rillet._constants import START
from rillet.channels import LastValue
from rillet.errors import GraphInterrupt, InvalidUpdateError, UsageError
from rillet.func._task import Calls, run_body, run_body_async
from rillet.graph._compiled import CompiledStateGraph
from rillet.graph._node import NodeSpec, node_name, retry_policies
from rillet.runtime._bridges import activate_bridges
from rillet.runtime._cache import WRITES_NS, check_policy, identifier, use_cache
from rillet.runtime._context import current_task
from rillet.runtime._loop import Loop

if TYPE_CHECKING:
    from rillet.draw import DrawableGraph
    from rillet.runtime._context import Task
    from rillet.runtime._effects import Effect

R = TypeVar("R")
S = TypeVar("S")

#: Parameters an entrypoint function may take after its input.
_INJECTED = ("previous", "config", "writer", "store", "runtime")


@dataclass(frozen=True, slots=True)
class Final(Generic[R, S]):
    """Return ``entrypoint.final(value=..., save=...)`` to give the caller ``value``
    and the thread's next run ``save`` as its ``previous``."""

    value: R
    save: S


class EntrypointSchema:
    """The entrypoint graph's values, with the interface of a state schema."""

    __slots__ = ("channels", "cls", "defaults", "kind", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind = "entrypoint"
        self.cls: type[Any] = type(None)
        self.defaults: dict[str, Any] = {}
        self.channels = {k: LastValue(k) for k in ("__start__", "__end__", "__previous__")}

    def input_updates(self, value: Any) -> dict[str, Any]:
        return {"__start__": value}

    def to_node_input(self, values: dict[str, Any]) -> Any:
        return values.get("__start__")


class EntrypointLoop(Loop):
    """The loop of an entrypoint run: the function is the step's one task."""

    __slots__ = ("announce_values",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As LangGraph: a fresh run's values stream has no item before the function's.
        self.announce_values = False

    def run_steps(self, input: Any) -> Generator[Effect, Any, Any]:
        persist = self.persist
        self.step = -1
        if persist is not None:
            how = yield from persist.begin(self, input)
            if how == "continue":
                self.announce_values = True  # as LangGraph: the value saved so far
                self._begin_observers(input)
                if persist.fork:
                    self.step += 1
                    yield from persist.save(self, "fork")
                else:
                    self.announce_resume()
                return (yield from self.resume_steps())
            if persist.checkpoint_id is not None:
                self.step += 1  # a new input on a thread: numbering goes on
        self.start(input)
        if persist is not None and persist.durability != "exit":
            yield from persist.save(self, "input")
        return (yield from self.resume_steps())

    def start(self, input: Any) -> None:
        if not self.nested:
            activate_bridges()
        self._apply({"__start__": ([input], [START])})
        self._begin_observers(input)
        self.step_limit = self.step + self.limit
        self._pending_sends = []
        self._pending_nodes = {name: ["__start__"] for name in self.graph.nodes}

    def plan(self) -> list[Task]:
        tasks = super().plan()
        for task in tasks:
            task.calls = Calls(self, self.values.get("__previous__"))
        return tasks

    def finish(self, task: Task, result: Any) -> None:
        if isinstance(result, Final):
            value, save = result.value, result.save
        else:
            value = save = result
        task.result = value
        task.writes = [("__end__", value), ("__previous__", save)]
        task.goto = []

    def command_writes(self, update: Any) -> list[tuple[str, Any]]:
        raise InvalidUpdateError(
            f"Command(update=...) given to entrypoint {self.graph.node_order[0]!r}: it has "
            f"no state keys to update. Resume it with Command(resume=...), or pass a new input."
        )

    def output(self) -> Any:
        return self.values.get("__end__")

    def state_values(self) -> Any:
        return self.values.get("__end__")

    def interrupted_values(self) -> Any:
        return {}

    def stop(self, interrupts: tuple[Any, ...], tasks: Sequence[Task] = ()) -> Any:
        for observer in self.observers:
            observer.run_interrupted(self, interrupts)
        if self.nested:
            self.error = GraphInterrupt(interrupts)
            return {}
        if interrupts:
            return {"__interrupt__": list(interrupts)}
        return self.output()


class Entrypoint(CompiledStateGraph):
    """What ``@entrypoint(...)`` makes of a function: a compiled graph with one node
    named after it (``invoke``, ``stream``, ``get_state``... as any graph)."""

    loop_class = EntrypointLoop

    def __init__(self, fn: Callable[..., Any], *, checkpointer: Any = None, store: Any = None,
                 retry_policy: Any = None, cache: Any = None, cache_policy: Any = None,
                 context_schema: Any = None) -> None:
        name = node_name(fn)
        self.name = "LangGraph"
        self.builder = None  # type: ignore[assignment]
        self.schema = EntrypointSchema(name)  # type: ignore[assignment]
        self.func = fn
        is_async = inspect.iscoroutinefunction(fn)
        policies = retry_policies(name, None, retry_policy)
        node = NodeSpec(name, _entry_call(fn, is_async, _wanted(fn)), is_async,
                        retry=policies[0] if policies else None, retry_policies=policies,
                        functional=True)
        node.read = self.schema.to_node_input
        self.channels = self.schema.channels
        self.input_keys = frozenset(("__start__",))
        self.output_keys = ("__end__",)
        self.output_given = False
        self.hidden_keys = frozenset()
        self.managed = {}
        self.read_state = self.schema.to_node_input
        self.deferred = False
        self.nodes = {name: node}
        self.node_order = (name,)
        self.joins = ()
        self.start_edges = (name,)
        self.start_branches = ()
        self.checkpointer = checkpointer
        self.store = store
        node.cache_policy = check_policy("entrypoint(cache_policy=...)", cache_policy)
        if cache is not None:
            use_cache(self, cache, ())
            node.cache_ns = (WRITES_NS, identifier(fn), name)
        self.context_schema = context_schema

    def __repr__(self) -> str:
        return f"Entrypoint({self.node_order[0]!r})"

    def get_graph(self, config: dict[str, Any] | None = None, *,
                  xray: bool | int = False) -> DrawableGraph:
        """The function as LangGraph draws an entrypoint: ``__start__`` to it, and a
        conditional edge to ``__end__``."""
        from rillet._constants import END
        from rillet.draw import DrawableGraph

        name = self.node_order[0]
        drawing = DrawableGraph()
        drawing.add_node(self.func, name)
        drawing.add_node(None, START)
        drawing.add_node(None, END)
        drawing.add_edge(START, name, None, False)
        drawing.add_edge(name, END, None, True)
        return drawing


def _wanted(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The injected parameters ``fn`` takes, checked."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()
    name = getattr(fn, "__name__", repr(fn))
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    ):
        raise UsageError(
            f"@entrypoint function {name!r} must take its input as its first parameter, "
            f"e.g. def {name}(inputs, *, previous=None): ..."
        )
    wanted = []
    for param in params[1:]:
        if param.name in _INJECTED:
            wanted.append(param.name)
        elif param.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        elif param.default is inspect.Parameter.empty:
            raise UsageError(
                f"@entrypoint function {name!r} has parameter {param.name!r}, which rillet "
                f"cannot fill: after the input, an entrypoint may take "
                f"{', '.join(_INJECTED)} (pass several inputs as one dict)."
            )
    return tuple(wanted)


def _injected(wanted: tuple[str, ...]) -> dict[str, Any]:
    task = current_task.get()
    assert task is not None
    kwargs: dict[str, Any] = {}
    for name in wanted:
        if name == "previous":
            kwargs[name] = task.calls.previous if task.calls is not None else None
        elif name == "config":
            kwargs[name] = task.config
        elif name == "writer":
            kwargs[name] = task.writer
        elif name == "runtime":
            kwargs[name] = task.runtime
        else:
            kwargs[name] = task.run.settings.store
    return kwargs


def _entry_call(fn: Callable[..., Any], is_async: bool,
                wanted: tuple[str, ...]) -> Callable[[Any], Any]:
    if is_async:
        async def call_async(input: Any) -> Any:
            return await run_body_async(fn, (input,), _injected(wanted))

        return call_async

    def call(input: Any) -> Any:
        return run_body(fn, (input,), _injected(wanted))

    return call


class entrypoint:
    """Make a function a graph: ``@entrypoint(checkpointer=...)`` over
    ``def workflow(inputs, *, previous=None, config=None, writer=None, store=None,
    runtime=None)``; ``context_schema`` types the run's ``context=`` (``runtime.context``).

    The function runs as the graph's one node; ``@task`` functions it calls run as
    tasks beside it. ``previous`` is what the thread's last run returned (or saved
    with ``entrypoint.final``). ``invoke`` returns what the function returns.
    ``cache`` (a ``BaseCache``) keeps the results of tasks with a ``cache_policy``,
    and with ``cache_policy`` the entrypoint's own, by its input.
    """

    final = Final

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: Any = None,
        cache_policy: Any = None,
        retry_policy: Any = None,
    ) -> None:
        from rillet.graph._builder import _check_saver

        if callable(checkpointer) and not hasattr(checkpointer, "serde"):
            raise UsageError(
                "entrypoint takes options, not the function: write @entrypoint() (with the "
                "parentheses) above the function"
            )
        _check_saver(checkpointer)
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.cache_policy = cache_policy
        self.retry_policy = retry_policy
        self.context_schema = context_schema

    def __call__(self, fn: Callable[..., Any]) -> Entrypoint:
        if not callable(fn):
            raise UsageError(f"@entrypoint() decorates a function, got {fn!r}")
        return Entrypoint(fn, checkpointer=self.checkpointer, store=self.store,
                          retry_policy=self.retry_policy, cache=self.cache,
                          cache_policy=self.cache_policy, context_schema=self.context_schema)
