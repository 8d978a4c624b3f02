"""Timestamps and ids as LangGraph's server makes them."""

from __future__ import annotations

import datetime
import os
import time
import uuid

__all__ = ["now", "uuid7"]


def now() -> str:
    """The current UTC time in ISO 8601 with microseconds: ``2026-01-02T03:04:05.123456+00:00``."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def uuid7() -> str:
    """A time-ordered UUID (version 7), as LangGraph's server gives threads and runs."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 66 & 0xFFF) << 64
    value |= 0b10 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF
    return str(uuid.UUID(int=value))
