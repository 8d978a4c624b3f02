#!/usr/bin/env bash
# Run ../shared/bench/workloads.py on LangGraph and on rillet, side by side, on this
# machine, and print the markdown table (medians over SUITES suite runs each).
#
#   bench/run.sh                 # 3 suite runs each, results in bench/results/<date>/
#   SUITES=1 bench/run.sh        # quicker, noisier
#   POSTGRES=0 bench/run.sh      # without the Postgres rows (bench/postgres.py)
#   POSTGRES=only bench/run.sh   # only the Postgres rows
#   OUT=dir bench/run.sh         # results in dir instead
#
# LangGraph goes into its own venv (bench/.venv-langgraph), pinned to the versions of
# ../shared/bench/langgraph-baseline.md; rillet runs from the project's .venv. The
# Postgres rows run against $BENCH_POSTGRES_DSN, else a server bench/postgres.py starts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${SHARED:-$(cd "$root/../shared" && pwd)}
workloads="$shared/bench/workloads.py"
suites=${SUITES:-3}
postgres=${POSTGRES:-1}
out=${OUT:-"$here/results/$(date -u +%Y-%m-%d)"}
mkdir -p "$out"

lg="$here/.venv-langgraph"
if [ ! -x "$lg/bin/python" ]; then
  python3 -m venv "$lg"
fi
if ! "$lg/bin/python" -c "import langgraph.checkpoint.sqlite" 2>/dev/null; then
  "$lg/bin/pip" install -q "langgraph==1.2.22" "langchain-core==1.7.2" \
    "langgraph-checkpoint-sqlite==3.1.2"
fi
if [ "$postgres" != 0 ] && ! "$lg/bin/python" -c "import langgraph.checkpoint.postgres" 2>/dev/null; then
  "$lg/bin/pip" install -q "langgraph==1.2.22" "langchain-core==1.7.2" \
    "langgraph-checkpoint-postgres==3.2.0" "psycopg[binary]==3.3.9"
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  python3 -m venv "$root/.venv"
fi
# (re)installed only when missing: a reinstall under tests running meanwhile breaks them
if [ "$postgres" = 0 ]; then
  needs="import rillet" extra=""
else
  needs="import rillet, psycopg, psycopg_pool" extra="[postgres]"
fi
if ! "$root/.venv/bin/python" -c "$needs" 2>/dev/null; then
  "$root/.venv/bin/pip" install -q -e "$root$extra"
fi

rm -f "$out/langgraph.jsonl" "$out/rillet.jsonl"
if [ "$postgres" != only ]; then
  for i in $(seq "$suites"); do
    echo "suite run $i/$suites: langgraph" >&2
    "$lg/bin/python" "$workloads" --impl langgraph --out "$out/langgraph.jsonl" > /dev/null
    echo "suite run $i/$suites: rillet" >&2
    "$root/.venv/bin/python" "$workloads" --impl rillet --out "$out/rillet.jsonl" > /dev/null
  done
fi
if [ "$postgres" != 0 ]; then
  # checkpoint-chain and chat-turns on PostgresSaver, same JSON lines, same table
  "$root/.venv/bin/python" "$here/postgres.py" --suites "$suites" --out "$out" \
    --langgraph "$lg/bin/python" --rillet "$root/.venv/bin/python" \
    --workloads "$workloads" > /dev/null
fi
python3 "$workloads" --summarize "$out/langgraph.jsonl" "$out/rillet.jsonl" | tee "$out/table.md"
