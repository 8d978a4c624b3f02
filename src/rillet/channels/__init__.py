"""How state keys take updates: one small class per kind of channel.

A channel holds no per-run data itself (runs keep their values in a dict), so one
instance serves every run of a compiled graph.
"""

from rillet.channels._base import MISSING, Channel
from rillet.channels._last_value import LastValue
from rillet.channels._reducer import Reducer

__all__ = ["MISSING", "Channel", "LastValue", "Reducer"]
