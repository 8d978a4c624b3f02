"""State schemas: TypedDict, dataclass and pydantic states; reducers; MessagesState;
checks on the graph input."""

import operator
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel, Field

from rillet.errors import InvalidUpdateError
from rillet.graph import START, MessagesState, StateGraph, add_messages
from rillet.messages import AIMessage, HumanMessage, SystemMessage
from rillet.messages import add_messages as messages_add_messages

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TDState(TypedDict):
    name: str
    count: int
    items: Annotated[list[str], operator.add]


@dataclass
class DCState:
    name: str
    count: int = 0
    items: Annotated[list[str], operator.add] = field(default_factory=list)


class PDState(BaseModel):
    name: str
    count: int = 0
    items: Annotated[list[str], operator.add] = Field(default_factory=list)


def one_node_graph(schema: type[Any], fn: Any) -> Any:
    return StateGraph(schema).add_node("node", fn).add_edge(START, "node").compile()


# --------------------------------------------------------- node input by schema


def test_typeddict_node_receives_a_plain_dict() -> None:
    seen: list[Any] = []

    def node(state: TDState) -> dict[str, Any]:
        seen.append(state)
        return {"count": 1, "items": [state["name"]]}

    result = one_node_graph(TDState, node).invoke({"name": "x"})
    assert result == {"name": "x", "count": 1, "items": ["x"]}
    assert type(seen[0]) is dict
    assert seen == [{"name": "x", "items": []}]


def test_dataclass_node_receives_an_instance_with_defaults() -> None:
    seen: list[Any] = []

    def node(state: DCState) -> dict[str, Any]:
        seen.append(state)
        return {"count": state.count + 1, "items": [state.name]}

    result = one_node_graph(DCState, node).invoke({"name": "x"})
    assert result == {"name": "x", "count": 1, "items": ["x"]}
    assert seen == [DCState(name="x", count=0, items=[])]


def test_pydantic_node_receives_a_model_instance_with_defaults() -> None:
    seen: list[Any] = []

    def node(state: PDState) -> dict[str, Any]:
        seen.append(state)
        return {"count": state.count + 1, "items": [state.name]}

    result = one_node_graph(PDState, node).invoke({"name": "x"})
    assert result == {"name": "x", "count": 1, "items": ["x"]}
    assert type(seen[0]) is PDState
    assert seen == [PDState(name="x", count=0, items=[])]


@pytest.mark.parametrize("schema", [DCState, PDState])
def test_an_instance_of_the_state_class_is_accepted_as_input(schema: type[Any]) -> None:
    def node(state: Any) -> dict[str, Any]:
        return {"count": state.count + 1, "items": [state.name]}

    result = one_node_graph(schema, node).invoke(schema(name="y", count=5, items=["in"]))
    assert result == {"name": "y", "count": 6, "items": ["in", "y"]}


@pytest.mark.parametrize("schema", [TDState, DCState, PDState])
def test_invoke_returns_a_dict_for_every_schema_kind(schema: type[Any]) -> None:
    def node(state: Any) -> dict[str, Any]:
        return {"count": 7}

    result = one_node_graph(schema, node).invoke({"name": "n", "count": 0, "items": []})
    assert type(result) is dict
    assert result == {"name": "n", "count": 7, "items": []}


@pytest.mark.parametrize("schema", [TDState, DCState, PDState])
def test_values_mode_for_every_schema_kind(schema: type[Any]) -> None:
    def node(state: Any) -> dict[str, Any]:
        return {"count": 1, "items": ["a"]}

    graph = one_node_graph(schema, node)
    assert list(graph.stream({"name": "n", "count": 0}, stream_mode="values")) == [
        {"name": "n", "count": 0, "items": []},
        {"name": "n", "count": 1, "items": ["a"]},
    ]


def test_dataclass_node_may_return_a_dict_of_some_fields_only() -> None:
    def node(state: DCState) -> dict[str, Any]:
        return {"name": state.name.upper()}

    graph = one_node_graph(DCState, node)
    assert list(graph.stream({"name": "x", "count": 3})) == [{"node": {"name": "X"}}]
    assert graph.invoke({"name": "x", "count": 3}) == {"name": "X", "count": 3, "items": []}


# --------------------------------------------------------------------- reducers


class Reduced(TypedDict):
    plain: str
    names: Annotated[list[str], operator.add]
    text: Annotated[str, operator.add]
    total: Annotated[int, operator.add]


def test_reducer_keys_start_empty_and_plain_keys_start_absent() -> None:
    def node(state: Reduced) -> dict[str, Any]:
        return {"names": ["a"], "text": "b", "total": 2}

    graph = one_node_graph(Reduced, node)
    assert list(graph.stream({"plain": "p"}, stream_mode="values")) == [
        {"plain": "p", "names": [], "text": "", "total": 0},
        {"plain": "p", "names": ["a"], "text": "b", "total": 2},
    ]
    assert graph.invoke({}) == {"names": ["a"], "text": "b", "total": 2}


def test_input_is_merged_into_reducer_keys_with_the_reducer() -> None:
    def node(state: Reduced) -> dict[str, Any]:
        return {"names": ["a"], "total": 2}

    graph = one_node_graph(Reduced, node)
    assert graph.invoke({"names": ["in"], "total": 40}) == {
        "names": ["in", "a"],
        "text": "",
        "total": 42,
    }


def test_values_keys_follow_the_schema_order_as_in_langgraph() -> None:
    # LangGraph prints the state in the order the schema declares its keys:
    # {'x': '', 'log': []} for class S(TypedDict): x: str; log: Annotated[list, add].
    class S(TypedDict):
        x: str
        log: Annotated[list[str], operator.add]
        n: int

    graph = one_node_graph(S, lambda state: {"n": 1})
    items = list(graph.stream({"x": "p"}, stream_mode="values"))
    assert [list(item) for item in items] == [["x", "log"], ["x", "log", "n"]]
    assert list(graph.invoke({"x": "p"})) == ["x", "log", "n"]


def concat_upper(current: list[str], new: list[str]) -> list[str]:
    return current + [s.upper() for s in new]


class Custom(TypedDict):
    words: Annotated[list[str], concat_upper]


def test_custom_reducer_function_gets_old_and_new_values() -> None:
    calls: list[tuple[list[str], list[str]]] = []

    def recording(current: list[str], new: list[str]) -> list[str]:
        calls.append((list(current), list(new)))
        return concat_upper(current, new)

    class Recorded(TypedDict):
        words: Annotated[list[str], recording]

    def first(state: Recorded) -> dict[str, Any]:
        return {"words": ["b"]}

    def second(state: Recorded) -> dict[str, Any]:
        return {"words": ["c", "d"]}

    graph = (
        StateGraph(Recorded)
        .add_node(first)
        .add_node(second)
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile()
    )
    assert graph.invoke({"words": ["a"]}) == {"words": ["A", "B", "C", "D"]}
    assert calls == [([], ["a"]), (["A"], ["b"]), (["A", "B"], ["c", "d"])]


def test_custom_reducer_in_values_mode() -> None:
    graph = one_node_graph(Custom, lambda state: {"words": ["x"]})
    assert list(graph.stream({"words": ["in"]}, stream_mode="values")) == [
        {"words": ["IN"]},
        {"words": ["IN", "X"]},
    ]


def test_parallel_writes_to_a_reducer_key_are_combined_in_node_name_order() -> None:
    """As in LangGraph: a step's writes are applied in the order of the task paths,
    i.e. by node name, whatever order the nodes were defined or finished in."""
    class S(TypedDict):
        log: Annotated[list[str], operator.add]

    builder = StateGraph(S)
    for name in ("z", "b", "a"):
        builder.add_node(name, lambda state, name=name: {"log": [name]})
        builder.add_edge(START, name)
    graph = builder.compile()
    for _ in range(5):  # completion order varies from run to run; the result does not
        assert graph.invoke({"log": []}) == {"log": ["a", "b", "z"]}


def test_plain_key_keeps_the_last_value_written() -> None:
    class S(TypedDict):
        v: str

    graph = (
        StateGraph(S)
        .add_node("one", lambda state: {"v": state["v"] + "1"})
        .add_node("two", lambda state: {"v": state["v"] + "2"})
        .add_edge(START, "one")
        .add_edge("one", "two")
        .compile()
    )
    assert list(graph.stream({"v": "0"}, stream_mode="values")) == [
        {"v": "0"},
        {"v": "01"},
        {"v": "012"},
    ]


def test_plain_key_takes_none_as_a_value() -> None:
    class S(TypedDict):
        v: str | None

    graph = one_node_graph(S, lambda state: {"v": None})
    assert list(graph.stream({"v": "x"}, stream_mode="values")) == [{"v": "x"}, {"v": None}]


# ---------------------------------------------------------------- MessagesState


def test_add_messages_is_the_messages_reducer() -> None:
    assert add_messages is messages_add_messages


def test_messages_state_converts_dict_messages_and_gives_them_ids() -> None:
    def reply(state: MessagesState) -> dict[str, Any]:
        return {"messages": [{"role": "assistant", "content": "hi"}]}

    graph = one_node_graph(MessagesState, reply)
    result = graph.invoke({"messages": [{"role": "user", "content": "hello"}]})
    ids = [m.id for m in result["messages"]]
    assert all(isinstance(i, str) and UUID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]
    assert result == {"messages": [HumanMessage("hello", id=ids[0]), AIMessage("hi", id=ids[1])]}


def test_messages_state_node_sees_message_objects() -> None:
    seen: list[Any] = []

    def node(state: MessagesState) -> None:
        seen.extend(state["messages"])

    one_node_graph(MessagesState, node).invoke(
        {"messages": [("system", "be brief"), {"role": "user", "content": "q"}]}
    )
    assert [type(m) for m in seen] == [SystemMessage, HumanMessage]
    assert [m.content for m in seen] == ["be brief", "q"]


def test_messages_state_message_with_an_existing_id_replaces_it() -> None:
    def edit(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("replaced", id="m1"), AIMessage("new", id="m2")]}

    graph = one_node_graph(MessagesState, edit)
    history = [HumanMessage("q", id="h1"), AIMessage("orig", id="m1")]
    assert list(graph.stream({"messages": history}, stream_mode="values")) == [
        {"messages": [HumanMessage("q", id="h1"), AIMessage("orig", id="m1")]},
        {
            "messages": [
                HumanMessage("q", id="h1"),
                AIMessage("replaced", id="m1"),
                AIMessage("new", id="m2"),
            ]
        },
    ]


def test_messages_state_node_may_return_a_single_message() -> None:
    graph = one_node_graph(MessagesState, lambda state: {"messages": AIMessage("a", id="a1")})
    assert graph.invoke({"messages": [HumanMessage("q", id="h1")]}) == {
        "messages": [HumanMessage("q", id="h1"), AIMessage("a", id="a1")]
    }


def test_messages_state_starts_with_an_empty_list() -> None:
    graph = one_node_graph(MessagesState, lambda state: {"messages": [AIMessage("a", id="a1")]})
    assert list(graph.stream({}, stream_mode="values")) == [
        {"messages": []},
        {"messages": [AIMessage("a", id="a1")]},
    ]


def test_add_messages_in_a_custom_state() -> None:
    class Chat(TypedDict):
        history: Annotated[list[Any], add_messages]
        turns: int

    graph = one_node_graph(
        Chat, lambda state: {"history": [AIMessage("a", id="a1")], "turns": state["turns"] + 1}
    )
    assert graph.invoke({"history": [HumanMessage("q", id="h1")], "turns": 0}) == {
        "history": [HumanMessage("q", id="h1"), AIMessage("a", id="a1")],
        "turns": 1,
    }


# -------------------------------------------------------------- input checks


@pytest.mark.parametrize("schema", [TDState, DCState, PDState])
def test_input_with_an_unknown_key(schema: type[Any]) -> None:
    graph = one_node_graph(schema, lambda state: None)
    with pytest.raises(InvalidUpdateError, match=r"has key 'zzz', which is not in the state"):
        graph.invoke({"name": "n", "zzz": 1})


@pytest.mark.parametrize("schema", [TDState, DCState, PDState])
async def test_input_with_an_unknown_key_async(schema: type[Any]) -> None:
    graph = one_node_graph(schema, lambda state: None)
    with pytest.raises(InvalidUpdateError, match=r"has key 'zzz', which is not in the state"):
        await graph.ainvoke({"name": "n", "zzz": 1})


@pytest.mark.parametrize(("value", "kind"), [(5, "int"), ("abc", "str"), (None, "NoneType")])
def test_input_that_is_not_a_dict(value: Any, kind: str) -> None:
    calls: list[Any] = []
    graph = one_node_graph(TDState, calls.append)
    with pytest.raises(InvalidUpdateError, match=rf"graph input must be a dict.*got {kind}"):
        graph.invoke(value)
    with pytest.raises(InvalidUpdateError, match=rf"graph input must be a dict.*got {kind}"):
        list(graph.stream(value))
    assert calls == []


def test_node_returning_a_key_not_in_the_state() -> None:
    graph = one_node_graph(TDState, lambda state: {"nope": 1})
    with pytest.raises(InvalidUpdateError, match=r"Node 'node' returned key 'nope'") as info:
        graph.invoke({"name": "n"})
    assert "During task with name 'node'" in "\n".join(info.value.__notes__)


def test_dataclass_node_returning_an_unknown_key() -> None:
    graph = one_node_graph(DCState, lambda state: {"nope": 1})
    with pytest.raises(InvalidUpdateError, match=r"Node 'node' returned key 'nope'.*DCState"):
        graph.invoke({"name": "n"})


# ------------------------------------------------------- two writes to a plain key


def test_one_node_writing_a_plain_key_twice_is_described_as_such() -> None:
    from rillet.channels import MISSING, LastValue

    with pytest.raises(InvalidUpdateError) as info:
        LastValue("x").update(MISSING, [5, 6], ["n", "n"])
    assert str(info.value) == (
        "At key 'x': node 'n' wrote it twice in the same step, but a plain key takes one "
        "value per step. Write it once, or give the key a reducer to combine the writes, "
        "e.g. Annotated[list, operator.add]."
    )
    with pytest.raises(InvalidUpdateError, match=r"^At key 'x': node 'n' wrote it 3 times"):
        LastValue("x").update(MISSING, [5, 6, 7], ["n", "n", "n"])


def test_two_nodes_writing_a_plain_key_are_both_named() -> None:
    from rillet.channels import MISSING, LastValue

    words = r"2 nodes wrote to it in the same step \('a', 'b'\)"
    with pytest.raises(InvalidUpdateError, match=words):
        LastValue("x").update(MISSING, [5, 6], ["a", "b"])
