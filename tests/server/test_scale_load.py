"""The load test of the scaled deployment (issue 11): 2 API and 2 worker processes on
PostgreSQL and Redis, 1,000 clients streaming at once, spread over both API processes.

It runs ``bench/scale_load.py`` (which starts the processes and the clients, and checks
every stream: exactly ``metadata``, ``values``, 20 ``custom`` items in order, the final
``values``, ``end``, with ids 0..23 once each; then every run's status) against the
session's PostgreSQL and Redis. Its JSON line is printed (``pytest -s`` shows it) and
kept under ``bench/results/scale/`` only when run by hand.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
CLIENTS, EVENTS = 1000, 20


def _scale_load() -> Any:
    spec = importlib.util.spec_from_file_location("scale_load", ROOT / "bench" / "scale_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_thousand_streams_over_two_apis_and_two_workers(postgres_dsn: str,
                                                        redis_url: str) -> None:
    scale_load = _scale_load()
    args = ["--clients", str(CLIENTS), "--events", str(EVENTS), "--database", postgres_dsn,
            "--redis", redis_url, "--timeout", "240", "--out", "-"]
    record = scale_load.run(scale_load.parse(args))
    print(json.dumps(record))
    assert record["error_sample"] == []
    assert record["errors"] == 0
    assert record["ok_streams"] == CLIENTS
    assert record["events_received"] == record["events_expected"] == CLIENTS * (EVENTS + 4)
    assert record["statuses"] == {"success": CLIENTS}
    assert record["processes_died"] == {}
    # both API processes and both workers did work
    assert all(cpu > 0 for cpu in record["cpu_s"].values()), record["cpu_s"]


def test_a_wrong_stream_is_caught() -> None:
    """The check the load test relies on fails on a lost, repeated or misnumbered event."""
    scale_load = _scale_load()
    good = [("metadata", {"run_id": "r"}, "0"),
            *[(e, d, str(i + 1)) for i, (e, d) in enumerate(scale_load.expected(3))]]
    assert scale_load.check({"parts": good}, 3) is None
    lost = [*good[:3], *good[4:]]
    assert "events differ at 2" in scale_load.check({"parts": lost}, 3)
    repeated = [*good[:3], good[2], *good[3:]]
    assert "events differ at 2" in scale_load.check({"parts": repeated}, 3)
    renumbered = [*good[:2], (good[2][0], good[2][1], "1"), *good[3:]]
    assert "ids are not" in scale_load.check({"parts": renumbered}, 3)
    assert "no metadata" in scale_load.check({"parts": good[1:]}, 3)
