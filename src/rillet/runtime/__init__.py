"""What a node sees of its run: :class:`Runtime` (the run's ``context``, the store,
the stream writer, an entrypoint's ``previous``) and :func:`get_runtime`.

The package also holds the superstep runtime's internals, in private modules: one
algorithm (``_loop``) and two thin drivers (``_sync`` with threads, ``_async`` with
asyncio tasks).
"""

from rillet.runtime._runtime import ExecutionInfo, Runtime, get_runtime

__all__ = ["ExecutionInfo", "Runtime", "get_runtime"]
