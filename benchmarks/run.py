"""Run the benchmarks: every ``benchmarks/bench_*.py``, or those named.

Each benchmark prints its medians beside its named baseline, measured in the
same run, and the ratio between them.

Run::

    python benchmarks/run.py              # all of them
    python benchmarks/run.py sem import   # bench_sem.py and bench_import.py
    python benchmarks/run.py sem -- --repeat 50 --skip-lavaan   # options after --
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    available = {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}
    names = argv or list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"error: unknown benchmark(s) {', '.join(unknown)}; "
              f"available: {', '.join(available)}.", file=sys.stderr)
        return 1
    status = 0
    for name in names:
        print(f"== {name} ==", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(available[name]), *extra], cwd=HERE.parent)
        print(f"== {name}: exit {rc}, {time.perf_counter() - t0:.1f} s ==\n", flush=True)
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
