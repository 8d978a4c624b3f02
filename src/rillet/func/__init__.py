"""The functional API: a workflow as plain functions, with LangGraph's names.

``@entrypoint(checkpointer=...)`` makes a function a graph (``invoke``, ``stream``,
``get_state``...); ``@task`` functions called inside it run as tasks of the run, in
parallel, each returning a future. Finished tasks are saved, so a run resumed after
``interrupt()`` or a failure does not run them again.
"""

from rillet.func._entrypoint import Entrypoint, entrypoint
from rillet.func._task import TaskFunction, TaskFuture, task

__all__ = ["Entrypoint", "TaskFunction", "TaskFuture", "entrypoint", "task"]
