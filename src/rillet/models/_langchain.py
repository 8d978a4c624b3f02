"""Bridge for LangChain chat models (placeholder until the bridge lands)."""


def activate() -> None:
    """Connect LangChain chat models called inside rillet runs to the run's streams."""
