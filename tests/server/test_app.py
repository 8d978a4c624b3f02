"""``create_app`` as an ASGI app a user mounts, with graphs given directly."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from rillet.server import create_app
from tests.server import graphs


def test_create_app_from_graphs(tmp_path: Path) -> None:
    app = create_app({"chain3": graphs.chain3, "custom": graphs.custom}, data_dir=tmp_path)
    with TestClient(app) as http:
        assert http.get("/ok").json() == {"ok": True}
        out = http.post("/runs/wait", json={"assistant_id": "chain3", "input": {"x": 0}})
        assert out.json() == {"x": 3}
        thread = http.post("/threads", json={}).json()
    assert (tmp_path / "server.sqlite").is_file()
    assert (tmp_path / "checkpoints.sqlite").is_file()
    with TestClient(create_app({"chain3": graphs.chain3}, data_dir=tmp_path)) as http:
        # a second app on the same data dir sees what the first stored
        assert http.get(f"/threads/{thread['thread_id']}").json() == thread
