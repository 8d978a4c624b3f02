"""Callbacks and custom events: ``CallbackHandler``, ``dispatch_custom_event``."""

from rillet.callbacks._custom import adispatch_custom_event, dispatch_custom_event
from rillet.callbacks._handler import CallbackHandler

__all__ = ["CallbackHandler", "adispatch_custom_event", "dispatch_custom_event"]
