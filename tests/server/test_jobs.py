"""``--n-jobs-per-worker``: at most N runs execute at once; the others wait, pending.

The ``gated`` graph (``graphs.py``) writes a line per node run to ``calls`` in the
run's ``dir`` and waits in ``b`` until ``go`` exists there. Two runs on two threads
share one dir; with one job, the second starts only once the first has ended.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client

from tests.server.conftest import SRC, start_server, stop_server

pytestmark = pytest.mark.timeout(120)


def test_one_job_runs_one_run_at_a_time(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--n-jobs-per-worker", "1")
    try:
        client = get_sync_client(url=server.url, api_key=None)
        work = tmp_path / "work"
        work.mkdir()
        first, second = (client.threads.create()["thread_id"] for _ in range(2))
        body = {"input": {"dir": str(work), "x": 0}, "stream_mode": ["custom"]}
        stream = client.runs.stream(first, "gated", **body)
        assert [next(stream).event, next(stream).event] == ["metadata", "custom"]  # in b
        queued = client.runs.create(second, "gated", **body)
        for _ in range(10):  # the only job is taken: the run stays pending meanwhile
            assert client.runs.get(second, queued["run_id"])["status"] == "pending"
            time.sleep(0.1)
        (work / "go").touch()
        stream.close()
        assert client.runs.join(first, client.runs.list(first)[0]["run_id"]) == {
            "dir": str(work), "x": 15}
        assert client.runs.join(second, queued["run_id"]) == {"dir": str(work), "x": 15}
        assert (work / "calls").read_text().split() == ["a", "b", "c", "a", "b", "c"]
    finally:
        stop_server(server)


def test_a_bad_job_count_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "rillet.cli", "serve", "--n-jobs-per-worker",
                          "0", "--config", str(tmp_path / "none.json")],
                         capture_output=True, text=True, env={"PYTHONPATH": str(SRC)},
                         timeout=60)
    assert out.returncode != 0
    assert "--n-jobs-per-worker must be at least 1, got 0" in out.stderr
