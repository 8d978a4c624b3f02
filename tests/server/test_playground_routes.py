"""The playground's routes on a real ``rillet serve``: the page and its files (types,
caching, revalidation), the SVG drawing, the files served without a user under custom
auth, and ``--open``. The page itself is tested in Chromium: tests/browser."""

from __future__ import annotations

import re
import stat
import threading
import xml.dom.minidom
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import RunningServer, start_server, stop_server

AUTH_PY = '''
from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    if authorization != "Bearer t":
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return "someone"
'''


def test_the_page(url: str) -> None:
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"].startswith("default-src 'none'; ")
    assert "<title>rillet playground</title>" in page.text
    again = httpx.get(url + "/", headers={"if-none-match": page.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(("name", "media_type"), [
    ("app.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8")])
def test_the_files_are_cached_by_hash(url: str, name: str, media_type: str) -> None:
    linked = re.search(rf'"(playground/{re.escape(name)}\?v=(\w+))"', httpx.get(url + "/").text)
    assert linked is not None
    versioned = httpx.get(f"{url}/{linked.group(1)}")
    assert versioned.status_code == 200
    assert versioned.headers["content-type"] == media_type
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["etag"] == f'"{linked.group(2)}"'
    plain = httpx.get(f"{url}/playground/{name}")
    assert (plain.headers["cache-control"], plain.content) == ("no-cache", versioned.content)
    again = httpx.get(f"{url}/playground/{name}", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304


def test_an_unknown_file_is_a_404(url: str) -> None:
    answer = httpx.get(url + "/playground/secrets.txt")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No playground file 'secrets.txt' (there are: app.js, "
                                       "style.css)"}


def test_the_graph_as_svg(url: str) -> None:
    answer = httpx.get(url + "/assistants/nested/graph.svg?xray=true")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    doc = xml.dom.minidom.parseString(answer.text)
    nodes = [g.getAttribute("data-node") for g in doc.getElementsByTagName("g")
             if g.getAttribute("class") == "node"]
    assert nodes == ["__start__", "last", "__end__", "sub:step"]
    flat = httpx.get(url + "/assistants/nested/graph.svg")
    assert 'data-node="sub"' in flat.text and "sub:step" not in flat.text


@pytest.mark.parametrize(("path", "status", "detail"), [
    ("/assistants/nested/graph.svg?xray=maybe", 422,
     "xray must be true, false or a positive integer, got 'maybe'"),
    ("/assistants/00000000-0000-0000-0000-000000000000/graph.svg", 404,
     "Assistant '00000000-0000-0000-0000-000000000000' not found"),
])
def test_bad_svg_requests(url: str, path: str, status: int, detail: str) -> None:
    answer = httpx.get(url + path)
    assert (answer.status_code, answer.json()) == (status, {"detail": detail})


def test_the_page_needs_no_user_under_custom_auth(tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text(AUTH_PY)
    server = start_server(tmp_path, names=("chain3",),
                          config={"auth": {"path": "./auth.py:auth"}})
    try:
        assert httpx.get(server.url + "/").status_code == 200
        assert httpx.get(server.url + "/playground/app.js").status_code == 200
        for headers, status in (({}, 401), ({"authorization": "Bearer t"}, 200)):
            svg = httpx.get(server.url + "/assistants/chain3/graph.svg", headers=headers)
            assert svg.status_code == status
    finally:
        stop_server(server)


def test_the_page_needs_no_api_key(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--api-key", "k", names=("chain3",))
    try:
        assert httpx.get(server.url + "/assistants/chain3/graph.svg").status_code == 401
        assert httpx.get(server.url + "/").status_code == 200
    finally:
        stop_server(server)


def _wait_for(path: Path, server: RunningServer, seconds: float = 20.0) -> str:
    pause = threading.Event()
    for _ in range(int(seconds * 20)):
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        assert server.process.poll() is None, "".join(server.output)
        pause.wait(0.05)
    raise AssertionError(f"{path} was not written within {seconds} s")


def test_open_opens_the_page_in_the_browser(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # webbrowser runs $BROWSER with the URL: a script that writes down what it was given
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BROWSER", str(browser))
    server = start_server(tmp_path, "--open", names=("chain3",))
    try:
        assert _wait_for(opened, server) == server.url + "/\n"
    finally:
        stop_server(server)

