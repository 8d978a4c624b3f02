"""A stream cut mid-run: the client reconnects through ``Location`` with
``Last-Event-ID`` and gets every event exactly once, in order.

A small TCP proxy sits between the client and the server and, the first time it sees
a ``POST .../runs/stream`` on a connection, closes that connection after a few
kilobytes of the response.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from langgraph_sdk import get_client, get_sync_client

pytestmark = pytest.mark.timeout(60)

CUT_AFTER = 3000  # bytes of the stream's response


class CuttingProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cuts = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            state = {"streaming": False}
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, state),
                             daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                if b"POST " in data and b"/runs/stream" in data:
                    with self._lock:
                        if self.cuts == 0:
                            state["streaming"] = True
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(server)

    def _down(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        sent = 0
        try:
            while data := server.recv(65536):
                if state["streaming"]:
                    room = CUT_AFTER - sent
                    if len(data) >= room:
                        client.sendall(data[:room])
                        with self._lock:
                            self.cuts += 1
                        break
                    sent += len(data)
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(server)

    def close(self) -> None:
        self.listener.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def proxy(url: str) -> Iterator[CuttingProxy]:
    host, port = url.removeprefix("http://").split(":")
    running = CuttingProxy((host, int(port)))
    yield running
    running.close()


def _check(parts: list, n: int) -> None:
    assert [p.id for p in parts] == [str(i) for i in range(len(parts))]  # once each, in order
    assert parts[0].event == "metadata"
    assert [p.data["i"] for p in parts if p.event == "custom"] == list(range(n))
    assert parts[-1].event == "end"


def test_sync_client_reconnects_and_loses_nothing(proxy: CuttingProxy) -> None:
    client = get_sync_client(url=proxy.url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    parts = list(client.runs.stream(thread_id, "custom", input={"n": 500},
                                    stream_mode="custom"))
    assert proxy.cuts == 1
    _check(parts, 500)


async def test_async_client_reconnects_and_loses_nothing(proxy: CuttingProxy) -> None:
    client = get_client(url=proxy.url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    parts = [p async for p in client.runs.stream(thread_id, "custom", input={"n": 500},
                                                 stream_mode="custom")]
    assert proxy.cuts == 1
    _check(parts, 500)
