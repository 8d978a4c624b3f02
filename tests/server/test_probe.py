"""Findings of the hostile probe (docs/server-status.md "Hostile probe"), as tests."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.server.conftest import RunningServer


def test_a_client_gone_mid_body_logs_no_traceback(server: RunningServer) -> None:
    """A client that announces a body, sends part of it and goes away: the server
    logs no ``Exception in ASGI application`` traceback (it was 20 tracebacks for 20
    such clients), and still answers."""
    address = urlsplit(server.url)
    before = len(server.output)
    for path in ("/threads", "/threads/search", "/runs/wait"):
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"metadata" % path.encode())
    # The server has seen each close once a later request on a new connection is answered
    # and the output reader caught up: poll the log for a bounded time.
    assert httpx.get(server.url + "/ok", timeout=5).status_code == 200
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if any("Traceback" in line for line in server.output[before:]):
            break
        time.sleep(0.05)
    assert not [line for line in server.output[before:] if "Traceback" in line
                or "Exception in ASGI" in line]
