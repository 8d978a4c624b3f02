"""Tools: functions a model can call."""

from rillet.tools._schema import to_openai_tool

__all__ = ["to_openai_tool"]
