"""The SQLite saver for async code, LangGraph's ``AsyncSqliteSaver`` shape::

    async with AsyncSqliteSaver.from_conn_string("file.db") as saver:
        ...

It shares every primitive with :class:`~rillet.checkpoint.sqlite.SqliteSaver`; the
async methods run them in a worker thread, so the event loop never waits on the
file's write lock. Unlike LangGraph it takes a stdlib ``sqlite3.Connection`` (opened
with ``check_same_thread=False``), not an ``aiosqlite`` one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from rillet.checkpoint.sqlite import _SqliteBase, connect

__all__ = ["AsyncSqliteSaver"]


class AsyncSqliteSaver(_SqliteBase):
    """Checkpoints in a SQLite database, for async code; see the module doc."""

    @classmethod
    @asynccontextmanager
    async def from_conn_string(cls, conn_string: str) -> AsyncIterator[Self]:
        """Open ``conn_string`` (a path, ``":memory:"`` or a ``file:`` URI), yield a
        saver on it, and close the connection at the end."""
        conn = await asyncio.to_thread(connect, conn_string)
        try:
            yield cls(conn)
        finally:
            await asyncio.to_thread(conn.close)

    async def setup(self) -> None:
        """Create the tables if needed. Idempotent; every method runs it on first use."""
        await asyncio.to_thread(self._setup)
