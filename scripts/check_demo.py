"""Run the README's main command (``bash scripts/demo.sh``) in a real terminal, as a
user would, and check what it shows: a tool call, the tool's custom data and a
streamed answer. Used by CI; stdlib only. Exits non-zero with the transcript on failure.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 1800.0  # a fresh machine compiles llama.cpp first
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_in_terminal(command: list[str]) -> tuple[int, str]:
    master, slave = os.openpty()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=slave, stderr=slave,
                            stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks: list[bytes] = []
    end = time.monotonic() + DEADLINE
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                proc.kill()
                raise SystemExit("the demo did not finish in time")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's writers have all closed it
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    code = proc.wait(timeout=60)
    return code, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def main() -> int:
    code, transcript = run_in_terminal(["bash", "scripts/demo.sh"])
    text = ANSI.sub("", transcript)
    print(transcript)
    answer = text.rsplit("── agent ──", 1)[-1].strip() if text.count("── agent ──") >= 2 else ""
    checks = {
        "exit code 0": code == 0,
        "colours in a terminal": "\x1b[" in transcript,
        "a tool call to get_items": re.search(r'get_items\(\{"place": ".+"\}\)', text) is not None,
        "the tool's custom data": '"custom_tool_data"' in text,
        "a streamed answer after the tool": bool(answer),
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
