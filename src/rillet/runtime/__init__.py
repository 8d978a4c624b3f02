"""The superstep runtime: one algorithm (``_loop``) and two thin drivers
(``_sync`` with threads, ``_async`` with asyncio tasks)."""
