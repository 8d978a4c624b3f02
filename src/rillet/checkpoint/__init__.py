"""Checkpoint savers: where a graph's state is stored between supersteps.

- :mod:`rillet.checkpoint.base`: :class:`~rillet.checkpoint.base.BaseCheckpointSaver`,
  the extension point, and the stored shapes (``CheckpointRecord``, ``Blob``,
  ``PendingWrite``);
- :mod:`rillet.checkpoint.memory`: ``InMemorySaver`` (alias ``MemorySaver``);
- :mod:`rillet.checkpoint.sqlite`: ``SqliteSaver`` (stdlib ``sqlite3``), and
  :mod:`rillet.checkpoint.sqlite.aio`: ``AsyncSqliteSaver``;
- :mod:`rillet.checkpoint.postgres`: ``PostgresSaver``, and
  :mod:`rillet.checkpoint.postgres.aio`: ``AsyncPostgresSaver`` (both need
  ``pip install 'rillet[postgres]'``).
"""
