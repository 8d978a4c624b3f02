"""rillet: a streaming-first graph runtime for LLM agents, with LangGraph's API."""

__version__ = "0.1.0"
