"""Integrations that switch themselves on when their library is already imported.

rillet never imports an integration's library itself: a run checks ``sys.modules``
once, at its start (a dict lookup), and activates the bridge only if the user's own
code has imported the library.
"""

from __future__ import annotations

import sys


def activate_bridges() -> None:
    if "langchain_core" in sys.modules:
        from rillet.models._langchain import activate

        activate()
