"""Names shared by the builder, the runtime and the formatter."""

from __future__ import annotations

from typing import Final

START: Final = "__start__"
END: Final = "__end__"
#: The one channel of a state that is a single value (``StateGraph(Annotated[list, add])``).
ROOT: Final = "__root__"

#: Names a user cannot give a node.
RESERVED_NAMES: Final = frozenset({START, END, "__input__", ROOT})

#: Characters that would make namespaces and task paths ambiguous.
NAME_FORBIDDEN_CHARS: Final = ("|", ":")

#: Separator between levels of a checkpoint namespace ("parent:id|child:id").
NS_SEP: Final = "|"
#: Separator between a node name and its task id inside one level.
NS_END: Final = ":"

PULL: Final = "__pregel_pull"
PUSH: Final = "__pregel_push"

#: The tag that silences a model in ``messages`` mode.
TAG_NOSTREAM: Final = "nostream"
#: The tag that hides a node from ``astream_events`` and tracing.
TAG_HIDDEN: Final = "langsmith:hidden"
#: The first tag of the ``astream_events`` events of a call made inside a node: in
#: LangGraph a node is a sequence whose first step is the node's function.
TAG_IN_NODE: Final = "seq:step:1"

DEFAULT_RECURSION_LIMIT: Final = 25
