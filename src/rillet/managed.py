"""Managed state keys: values the runtime fills in for each step instead of nodes.

Annotate a state key with one (``remaining_steps: RemainingSteps``) and every node and
conditional edge reading the state finds the value of its step there. Writes to a
managed key are ignored, and it never appears in the output, ``values`` items or
checkpoints, as in LangGraph.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, get_args, get_origin

__all__ = ["IsLastStep", "RemainingSteps"]


class ManagedValue:
    """How one kind of managed key gets its value from the step it is read in.

    ``stop`` is the last step the run's ``recursion_limit`` lets run, plus one (a step
    past ``stop`` raises ``GraphRecursionError``).
    """

    kind: ClassVar[str]

    @staticmethod
    def get(step: int, stop: int) -> Any:
        raise NotImplementedError


class RemainingStepsManager(ManagedValue):
    kind = "remaining_steps"

    @staticmethod
    def get(step: int, stop: int) -> int:
        return stop - step


class IsLastStepManager(ManagedValue):
    kind = "is_last_step"

    @staticmethod
    def get(step: int, stop: int) -> bool:
        return step == stop - 1


RemainingSteps = Annotated[int, RemainingStepsManager]
"""How many steps the run may still take before its ``recursion_limit``: the limit
minus the step in a fresh run (the first step is 1)."""

IsLastStep = Annotated[bool, IsLastStepManager]
"""True in the step that leaves one more before the ``recursion_limit``."""

_WRAPPERS: tuple[Any, ...] = tuple(
    w for w in (getattr(typing, n, None) for n in ("NotRequired", "Required", "ReadOnly"))
    if w is not None
)


def unwrap_required(annotation: Any) -> Any:
    """``annotation`` without a TypedDict ``NotRequired``/``Required`` wrapper."""
    while get_origin(annotation) in _WRAPPERS:
        annotation = get_args(annotation)[0]
    return annotation


def managed_of(annotation: Any) -> type[ManagedValue] | None:
    """The manager a state key's annotation names, if it is a managed key."""
    annotation = unwrap_required(annotation)
    if get_origin(annotation) is not Annotated:
        return None
    for extra in get_args(annotation)[1:]:
        if isinstance(extra, type) and issubclass(extra, ManagedValue):
            return extra
    return None
