#!/usr/bin/env bash
# Run ../shared/bench/workloads.py on LangGraph and on rillet, side by side, on this
# machine, and print the markdown table (medians over SUITES suite runs each).
#
#   bench/run.sh                 # 3 suite runs each, results in bench/results/<date>/
#   SUITES=1 bench/run.sh        # quicker, noisier
#
# LangGraph goes into its own venv (bench/.venv-langgraph), pinned to the versions of
# ../shared/bench/langgraph-baseline.md; rillet runs from the project's .venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${SHARED:-$(cd "$root/../shared" && pwd)}
workloads="$shared/bench/workloads.py"
suites=${SUITES:-3}
out="$here/results/$(date -u +%Y-%m-%d)"
mkdir -p "$out"

lg="$here/.venv-langgraph"
if [ ! -x "$lg/bin/python" ]; then
  python3 -m venv "$lg"
  "$lg/bin/pip" install -q "langgraph==1.2.22" "langchain-core==1.7.2"
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  python3 -m venv "$root/.venv"
fi
"$root/.venv/bin/pip" install -q -e "$root"

rm -f "$out/langgraph.jsonl" "$out/rillet.jsonl"
for i in $(seq "$suites"); do
  echo "suite run $i/$suites: langgraph" >&2
  "$lg/bin/python" "$workloads" --impl langgraph --out "$out/langgraph.jsonl" > /dev/null
  echo "suite run $i/$suites: rillet" >&2
  "$root/.venv/bin/python" "$workloads" --impl rillet --out "$out/rillet.jsonl" > /dev/null
done
python3 "$workloads" --summarize "$out/langgraph.jsonl" "$out/rillet.jsonl" | tee "$out/table.md"
