"""Record what each doc-page scenario prints under LangGraph (the oracle).

    /tmp/oracle/venv/bin/python tests/docs/record.py [NAME ...]

runs ``tests/docs/NAME.py`` unchanged with the given interpreter (LangGraph 1.2.22,
langchain-core 1.8.3, langgraph-prebuilt) and writes ``NAME.langgraph.txt``. With no
names, records every scenario. A scenario that exits with an error is not recorded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SKIP = {"record.py", "test_doc_pages.py", "_fake_models.py"}


def main(names: list[str]) -> int:
    if not names:
        names = sorted(p.stem for p in HERE.glob("*.py") if p.name not in SKIP)
    failed = 0
    for name in names:
        run = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py")],
            capture_output=True,
            text=True,
            cwd="/tmp",
            timeout=300,
        )
        if run.returncode != 0:
            print(f"{name}: exited {run.returncode}\n{run.stderr[-2000:]}", file=sys.stderr)
            failed += 1
            continue
        (HERE / f"{name}.langgraph.txt").write_text(run.stdout)
        print(f"{name}: {len(run.stdout.splitlines())} lines")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
