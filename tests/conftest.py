"""Shared test helpers."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from tests._postgres import postgres_dsn, postgres_fresh_dsn  # noqa: F401 - fixtures
from tests._redis import redis_url  # noqa: F401 - fixtures

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scrub(value: Any) -> Any:
    """Replace task ids and timestamps (random in LangGraph too) with placeholders,
    keeping everything else exactly as it was."""
    if isinstance(value, str):
        return _UUID.sub("<id>", value)
    if isinstance(value, tuple):
        return tuple(scrub(v) for v in value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {
            k: ("<ts>" if k == "timestamp" else scrub(v)) for k, v in value.items()
        }
    return value


@pytest.fixture
def no_leaked_threads():
    """Fail if a run thread outlives the test."""
    yield
    alive = [t.name for t in threading.enumerate() if t.name.startswith("rillet-run")]
    assert alive == []
