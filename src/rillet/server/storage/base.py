"""The storage interface: records as the API shows them, plus append-only event logs.

Records are plain dicts in the API's shapes (``Assistant``, ``Thread``, ``Run`` of
LangGraph's server), with timestamps as ISO 8601 strings, so a backend stores and
returns them without knowing the API. Fields whose names start with ``_`` are the
server's own (a run's ``_output``) and are never shown to clients. Every method is
async so a networked backend (Postgres, Redis) fits the same seam; the SQLite one
answers inline.

An event log belongs to a run: ``append_events`` stores a burst of events in one
transaction (all or none), giving each the next sequence number of its run (0, 1, 2,
...), which is its SSE ``id``; ``read_events`` returns those after a sequence number,
in order. A run's log outlives the run for a retention
time (``delete_event_logs``, swept by the run manager); the run's record stays.

A run record's ``_ended_at`` (UNIX seconds, set when it ends) is what retention counts
from; ``_attempt`` counts its starts (a restart resumes it as attempt 2, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["Event", "Record", "Storage", "version_of"]

Record = dict[str, Any]

_VERSION_FIELDS = ("assistant_id", "version", "graph_id", "config", "context", "metadata",
                   "created_at", "name", "description")


def version_of(assistant: Record) -> Record:
    """The version record of an assistant as it is now (``langgraph dev``'s shape: the
    version's ``created_at`` is the assistant's ``updated_at``)."""
    return {**{k: assistant.get(k) for k in _VERSION_FIELDS},
            "created_at": assistant["updated_at"]}


class Event(NamedTuple):
    """One stored SSE event: its sequence number in the run, its name, its JSON data."""

    seq: int
    event: str
    data: bytes


class Storage:
    """Base class of the server's storage backends (see the module doc).

    ``search_*`` return ``(page, total)``: the records after ``offset`` (at most
    ``limit``) and how many matched in all. ``metadata`` filters keep records whose
    metadata holds every given key with an equal value.
    """

    async def setup(self) -> None:
        """Create tables or connections; called once before the server answers."""

    async def close(self) -> None:
        """Release what ``setup`` took."""

    # ------------------------------------------------------------ assistants
    async def put_assistant(self, assistant: Record) -> None:
        raise NotImplementedError

    async def get_assistant(self, assistant_id: str) -> Record | None:
        raise NotImplementedError

    async def search_assistants(
        self, *, graph_id: str | None, metadata: dict[str, Any] | None, limit: int, offset: int,
        name: str | None = None,
    ) -> tuple[list[Record], int]:
        """``name`` keeps the assistants whose name contains it."""
        raise NotImplementedError

    async def create_assistant(self, assistant: Record) -> bool:
        """Insert ``assistant`` and its first version; ``False`` (nothing changed) if its
        id exists."""
        raise NotImplementedError

    async def delete_assistant(self, assistant_id: str) -> bool:
        """Delete the assistant and its versions; ``False`` if it is unknown."""
        raise NotImplementedError

    async def put_assistant_version(self, version: Record) -> None:
        """Store one version (``assistant_id``, ``version``, the assistant's fields)."""
        raise NotImplementedError

    async def get_assistant_version(self, assistant_id: str, version: int) -> Record | None:
        raise NotImplementedError

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[Record]:
        """The assistant's versions, newest first."""
        raise NotImplementedError

    # ------------------------------------------------------------ threads
    async def create_thread(self, thread: Record) -> bool:
        """Insert ``thread``; ``False`` (and nothing changed) if its id exists."""
        raise NotImplementedError

    async def get_thread(self, thread_id: str) -> Record | None:
        raise NotImplementedError

    async def update_thread(self, thread_id: str, **fields: Any) -> Record | None:
        """Set ``fields`` on the thread; the updated record, or ``None`` if unknown."""
        raise NotImplementedError

    async def delete_thread(self, thread_id: str, *, runs: bool = True) -> bool:
        """Delete the thread and (unless ``runs=False``) its runs and their event
        logs; ``False`` if it is unknown."""
        raise NotImplementedError

    async def search_threads(
        self, *, metadata: dict[str, Any] | None, status: str | None,
        ids: list[str] | None, limit: int, offset: int, sort_by: str, sort_order: str,
        values: dict[str, Any] | None = None,
    ) -> tuple[list[Record], int]:
        raise NotImplementedError

    # ------------------------------------------------------------ runs
    async def put_run(self, run: Record) -> None:
        raise NotImplementedError

    async def get_run(self, run_id: str) -> Record | None:
        raise NotImplementedError

    async def update_run(self, run_id: str, **fields: Any) -> Record | None:
        raise NotImplementedError

    async def list_runs(
        self, thread_id: str, *, status: str | None, limit: int, offset: int
    ) -> list[Record]:
        """The thread's runs, newest first."""
        raise NotImplementedError

    async def unfinished_runs(self) -> list[Record]:
        """Runs left ``pending`` or ``running`` (by a server that stopped), oldest first."""
        raise NotImplementedError

    # ------------------------------------------------------------ event logs
    async def append_events(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                            attempt: int | None = None) -> int:
        """Store ``events`` (``(name, JSON data)`` pairs, at least one) at the end of the
        run's log, all in one transaction; the sequence number of the first (the others
        follow it). ``attempt`` is the run's attempt writing them: a backend shared by
        processes refuses an attempt older than one that wrote already (raises
        ``StaleAttempt``: a worker that lost the run to another); others ignore it."""
        raise NotImplementedError

    async def read_events(self, run_id: str, after: int = -1, limit: int = 1000) -> list[Event]:
        """Events of the run with a sequence number above ``after``, in order."""
        raise NotImplementedError

    async def delete_event_logs(self, ended_before: float) -> int:
        """Delete the event logs of runs whose ``_ended_at`` is before ``ended_before``;
        how many logs were deleted."""
        raise NotImplementedError

    # ------------------------------------------------------------ counts, deletes
    async def count_threads(
        self, *, metadata: dict[str, Any] | None, values: dict[str, Any] | None,
        status: str | None,
    ) -> int:
        """How many threads match (the filters of ``search_threads``)."""
        raise NotImplementedError

    async def delete_run(self, run_id: str) -> bool:
        """Delete the run's record and its event log; ``False`` if it is unknown."""
        raise NotImplementedError
