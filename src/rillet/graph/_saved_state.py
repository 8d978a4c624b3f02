"""The saved-state API of a compiled graph (``get_state``, ``get_state_history``,
``update_state`` and their async forms): thin calls into :mod:`rillet.checkpoint._views`,
which reads checkpoints through the same ``Persister`` code a resumed run uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast

from rillet.errors import UsageError

if TYPE_CHECKING:
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.types import StateSnapshot


class SavedStateAPI:
    """What :class:`~rillet.graph._compiled.CompiledStateGraph` offers on a thread's
    saved checkpoints (it needs a checkpointer)."""

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or at
        ``configurable.checkpoint_id``): values, the nodes that run next, pending
        interrupts. An unknown thread gives an empty snapshot.

        :raises CheckpointError: if the graph has no checkpointer, or the checkpoint
            id is unknown.
        """
        from rillet.checkpoint._views import get_state

        return get_state(_graph(self), _state_config(config), subgraphs)

    async def aget_state(
        self, config: dict[str, Any], *, subgraphs: bool = False
    ) -> StateSnapshot:
        """Async ``get_state``."""
        import asyncio

        return await asyncio.to_thread(self.get_state, config, subgraphs=subgraphs)

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first; ``filter`` matches metadata,
        ``before`` a checkpoint's config, ``limit`` how many."""
        from rillet.checkpoint._views import get_state_history

        return get_state_history(_graph(self), _state_config(config), filter=filter,
                                 before=before, limit=limit)

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async ``get_state_history``."""
        import asyncio

        items = await asyncio.to_thread(
            lambda: list(self.get_state_history(config, filter=filter, before=before,
                                                limit=limit))
        )
        for item in items:
            yield item

    def update_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None
    ) -> dict[str, Any]:
        """Change the thread's state as if node ``as_node`` had returned ``values``
        (its edges then decide what runs next); returns the new checkpoint's config.

        :raises InvalidUpdateError: if ``as_node`` is unknown, or is left out when the
            last step was run by several nodes.
        """
        from rillet.checkpoint._views import update_state

        return update_state(_graph(self), _state_config(config), values, as_node)

    async def aupdate_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None
    ) -> dict[str, Any]:
        """Async ``update_state``."""
        import asyncio

        return await asyncio.to_thread(self.update_state, config, values, as_node)


def _state_config(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise UsageError(
            f"config must be a dict like {{'configurable': {{'thread_id': ...}}}}, got "
            f"{type(config).__name__}"
        )
    return config


def _graph(api: SavedStateAPI) -> CompiledStateGraph:
    """``api`` as the compiled graph it is (the only class that mixes this in)."""
    return cast("CompiledStateGraph", api)
