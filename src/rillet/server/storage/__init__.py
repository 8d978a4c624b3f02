"""Where the server keeps assistants, threads, runs and run event logs.

:class:`Storage` is the one extension point; :class:`SqliteStorage` (one file in the
data dir) is the embedded default. Checkpoints are not here: they go to a rillet
checkpoint saver (``SqliteSaver`` in the same data dir).
"""

from rillet.server.storage.base import Event, Storage
from rillet.server.storage.sqlite import SqliteStorage

__all__ = ["Event", "SqliteStorage", "Storage"]
