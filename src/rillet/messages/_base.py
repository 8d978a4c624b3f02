"""The message base class and the plain message kinds.

Messages are small ``__slots__`` classes, not pydantic models: a streaming run makes
one :class:`~rillet.messages.AIMessageChunk` per token, so construction has to cost
about a microsecond. Each class lists its fields once (``_fields``); equality,
``repr``, :meth:`BaseMessage.to_dict` and :meth:`BaseMessage.model_copy` read that
list, so a new message kind only declares its fields and its ``__init__``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Self, TypeAlias

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "BaseMessage",
    "BaseMessageChunk",
    "Content",
    "HumanMessage",
    "RemoveMessage",
    "SystemMessage",
]

Content: TypeAlias = str | list[str | dict[str, Any]]
"""A message's content: a string, or a list of strings and content-block dicts."""

REMOVE_ALL_MESSAGES: Final = "__remove_all__"
"""``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` tells ``add_messages`` to drop the history."""


class _Always:
    """Marks a field that ``repr`` shows even when it holds its default."""

    __slots__ = ()


_ALWAYS: Final = _Always()

# (field, default): repr leaves a field out while it equals its default, as
# LangChain's repr does; _ALWAYS fields are always shown.
_ReprSpec: TypeAlias = tuple[tuple[str, object], ...]

_BASE_REPR: Final[_ReprSpec] = (
    ("content", _ALWAYS),
    ("additional_kwargs", _ALWAYS),
    ("response_metadata", _ALWAYS),
    ("name", None),
    ("id", None),
)


def check_content(content: object, owner: str) -> Content:
    """Return ``content`` if it is a string or a list, else raise ``TypeError``."""
    if isinstance(content, str | list):
        return content
    raise TypeError(
        f"{owner} content must be a str or a list of str and dict content blocks, "
        f"got {content.__class__.__name__}: {content!r}"
    )


class BaseMessage:
    """A message in a conversation: what a user, a model, a tool or the system said.

    ``content`` is a string or a list of content blocks (strings and dicts such as
    ``{"type": "text", "text": "..."}``); :attr:`text` gives its text either way.
    Equality compares the class and every field.
    """

    __slots__ = ("additional_kwargs", "content", "id", "name", "response_metadata")

    type: ClassVar[str] = "base"
    """The message kind, as LangChain spells it (``"human"``, ``"ai"``, ...)."""

    _fields: ClassVar[tuple[str, ...]] = (
        "content",
        "additional_kwargs",
        "response_metadata",
        "name",
        "id",
    )
    _repr_spec: ClassVar[_ReprSpec] = _BASE_REPR

    content: Content
    additional_kwargs: dict[str, Any]
    response_metadata: dict[str, Any]
    name: str | None
    id: str | None

    def __init__(
        self,
        content: Content,
        *,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        if content.__class__ is not str:
            content = check_content(content, self.__class__.__name__)
        self.content = content
        self.additional_kwargs = {} if additional_kwargs is None else additional_kwargs
        self.response_metadata = {} if response_metadata is None else response_metadata
        self.name = name
        self.id = id

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Lets a pydantic state hold messages (``messages: list[AnyMessage]``): a
        value of a message field must be an instance of its class."""
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    @property
    def text(self) -> str:
        """The text of the message: ``content`` itself, or its text blocks joined."""
        return content_text(self.content)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseMessage):
            return NotImplemented
        if other.__class__ is not self.__class__:
            return False
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def _repr_parts(self) -> list[str]:
        parts = []
        for field, default in self._repr_spec:
            value = getattr(self, field)
            if default is _ALWAYS or value != default:
                parts.append(f"{field}={value!r}")
        return parts

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({', '.join(self._repr_parts())})"

    def __str__(self) -> str:
        return " ".join(self._repr_parts())

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"type": ..., <every field>: ...}``; values are not copied.

        ``rillet.messages.to_message`` turns the dict back into an equal message.
        """
        result: dict[str, Any] = {"type": self.type}
        for field in self._fields:
            result[field] = getattr(self, field)
        return result

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """Return a shallow copy, with the fields in ``update`` replaced.

        :raises TypeError: if ``update`` names a field this message does not have.
        """
        clone = object.__new__(self.__class__)
        for field in _all_slots(self.__class__):
            setattr(clone, field, getattr(self, field))
        if hasattr(self, "__dict__"):  # a user's subclass without __slots__
            clone.__dict__.update(self.__dict__)
        for field, value in (update or {}).items():
            if field not in self._fields:
                raise TypeError(f"{self.__class__.__name__} has no field {field!r}")
            setattr(clone, field, value)
        return clone

    def pretty_repr(self) -> str:
        """Return the message formatted for reading, as LangChain's ``pretty_repr``."""
        title = message_title(f"{self.type.title()} Message")
        if self.name is not None:
            title += f"\nName: {self.name}"
        return f"{title}\n\n{self.content}"

    def pretty_print(self) -> None:
        """Print :meth:`pretty_repr`."""
        print(self.pretty_repr())


class BaseMessageChunk(BaseMessage):
    """Base of the message kinds that a model streams in pieces and ``+`` merges."""

    __slots__ = ()


class SystemMessage(BaseMessage):
    """Instructions for the model (``role: "system"`` or ``"developer"`` for OpenAI)."""

    __slots__ = ()
    type: ClassVar[str] = "system"


class HumanMessage(BaseMessage):
    """What the user said (``role: "user"``)."""

    __slots__ = ()
    type: ClassVar[str] = "human"


class RemoveMessage(BaseMessage):
    """Tells ``add_messages`` to delete the message with this ``id``.

    ``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` deletes every message before it.
    """

    __slots__ = ()
    type: ClassVar[str] = "remove"

    def __init__(self, id: str) -> None:
        self.content = ""
        self.additional_kwargs = {}
        self.response_metadata = {}
        self.name = None
        self.id = id


def content_text(content: Content) -> str:
    """Return the text in ``content``: the string, or its strings and text blocks."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text" and isinstance(text := block.get("text"), str):
            parts.append(text)
    return "".join(parts)


def message_title(title: str) -> str:
    """Centre `` title `` in a line of ``=`` 80 characters wide."""
    padded = f" {title} "
    side = "=" * ((80 - len(padded)) // 2)
    return f"{side}{padded}{side}{'=' if len(padded) % 2 else ''}"


def _all_slots(cls: type) -> list[str]:
    return [slot for klass in cls.__mro__ for slot in getattr(klass, "__slots__", ())]
