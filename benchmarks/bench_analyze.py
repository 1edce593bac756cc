"""Benchmark: the full ``surveykit analyze`` on the shipped simulated examples.

Workload: both clusters imported into a fresh store (Ningbo apparel from its
300 form workbooks, Yongkang hardware from its wide workbook), then
``surveykit analyze`` with the defaults (MLR, 2,000 bootstrap draws, pooled
sample, invariance ladder) in a fresh process, interpreter start included.
Target: 20 s on a 2-core machine.

Baseline, when ``Rscript`` with lavaan is on the PATH: the same statistical
core in lavaan (per cluster the MLR structural model and a 2,000-draw
bootstrap of it; the invariance ladder by cluster), timed inside R on the same
data, in the same run.

    python benchmarks/bench_analyze.py [--repeat 3] [--bootstrap 2000] [--skip-lavaan]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_store(tmp: Path) -> Path:
    from surveykit import import_paths, load_codebook

    store = tmp / "bench.sqlite"
    ex = ROOT / "questionnaires" / "examples"
    import_paths([ex / "ningbo_apparel" / "forms"], load_codebook(ROOT / "questionnaires" / "ningbo_apparel.yaml"), store)
    import_paths([ex / "yongkang_hardware" / "yongkang_hardware_wide.xlsx"],
                 load_codebook(ROOT / "questionnaires" / "yongkang_hardware.yaml"), store, jobs=1)
    return store


def time_surveykit(store: Path, out: Path, bootstrap: int) -> float:
    cmd = [sys.executable, "-m", "surveykit", "analyze", "-s", str(store), "-m",
           str(ROOT / "questionnaires" / "gum_model.lav"), "-o", str(out), "--bootstrap", str(bootstrap)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def time_lavaan(store: Path, tmp: Path, bootstrap: int, lavaan_draws: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    from surveykit.analysis.data import load_groups, scored
    from surveykit.analysis.steps import measurement_model
    from surveykit.store import open_store

    with open_store(store) as st:
        groups = load_groups(st)
    import pandas as pd

    data = pd.concat([scored(g.answers, g.codebook).assign(cluster=g.id) for g in groups])
    data = data.dropna()  # lavaan's default, listwise, as surveykit analyze's default
    csv = tmp / "data.csv"
    data.to_csv(csv, index=False)
    model_text = (ROOT / "questionnaires" / "gum_model.lav").read_text(encoding="utf-8")
    (tmp / "cfa.lav").write_text(measurement_model(model_text), encoding="utf-8")
    cmd = ["Rscript", str(ROOT / "benchmarks" / "lavaan_analyze_bench.R"), str(csv),
           str(ROOT / "questionnaires" / "gum_model.lav"), str(tmp / "cfa.lav"), str(lavaan_draws)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    inner = json.loads(out.stdout.strip().splitlines()[-1])
    # lavaan needs about a second per draw of this model: time fewer draws and scale the
    # bootstrap part linearly to the draws surveykit made (said so in the output)
    scaled = inner["fits"] + inner["bootstrap"] * bootstrap / inner["n_boot"] + inner["ladder"]
    return {"wall": wall, "version": inner["lavaan"], "parts": inner, "estimate": scaled}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--skip-lavaan", action="store_true")
    ap.add_argument("--lavaan-draws", type=int, default=50,
                    help="bootstrap draws actually run in lavaan; scaled linearly to --bootstrap")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="surveykit-bench-") as tmpname:
        tmp = Path(tmpname)
        store = build_store(tmp)
        times = [time_surveykit(store, tmp / f"out{k}", args.bootstrap) for k in range(args.repeat)]
        med = statistics.median(times)
        print(f"surveykit analyze, both clusters, {args.bootstrap} bootstrap draws: median {med:.2f} s "
              f"over {args.repeat} runs ({', '.join(f'{t:.2f}' for t in times)}); target 20 s")
        if not args.skip_lavaan:
            lav = time_lavaan(store, tmp, args.bootstrap, args.lavaan_draws)
            if lav is None:
                print("lavaan: Rscript not found, baseline skipped")
            else:
                p = lav["parts"]
                print(f"lavaan {lav['version']} (same statistical core, timed inside R): MLR fits "
                      f"{p['fits']:.2f} s, bootstrap {p['bootstrap']:.2f} s for {p['n_boot']} draws per "
                      f"cluster, invariance ladder {p['ladder']:.2f} s; scaled to {args.bootstrap} draws: "
                      f"{lav['estimate']:.1f} s")
                print(f"ratio surveykit / lavaan (scaled): {med / lav['estimate']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
