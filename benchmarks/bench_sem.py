"""Benchmark: the SEM engine beside lavaan, same workloads, same run.

Three workloads, each timed in this process and, when ``Rscript`` with lavaan
is available, inside R by ``benchmarks/lavaan_bench.R`` in the same run:

(1) ``surveykit.cfa`` of the HolzingerSwineford1939 three-factor model
    (in-process fit, median of many repeats);
(2) ``surveykit.sem`` of the PoliticalDemocracy model with residual
    covariances and the defined indirect effect ind60 -> dem60 -> dem65;
(3) 1,000 nonparametric bootstrap draws of that model with percentile
    intervals for the indirect effect, the whole analysis (fit, worker start,
    draws, intervals) timed from the call to the table; also reported: the
    same through ``surveykit.sem(..., bootstrap=1000)`` and a fresh
    interpreter doing the whole thing (``python -c``).

Targets on a 2-core machine: (1) <= 3 ms, (2) <= 5 ms, (3) <= 1.5 s.

Three more workloads on the GUM model (``questionnaires/gum_model.lav``: 11
factors, 44 indicators, 122 free parameters) and the scored Ningbo apparel
example (300 firms, a few missing answers), beside lavaan
(``benchmarks/lavaan_gum_bench.R``) when ``Rscript`` is present:

(4) ``surveykit.sem(estimator="MLR")`` on the complete rows, fit measures
    included (median of repeats);
(5) 2,000 bootstrap draws of its ML fit with ``--jobs`` processes
    (``bootstrap_engine`` on the existing fit; per-draw time reported, target
    <= 3 ms per draw in one process);
(6) ``surveykit.sem(missing="ml")`` on every row (FIML), fit measures
    included; target <= 5 s.

Run::

    python benchmarks/bench_sem.py                 # 200 fit repeats, 3 bootstrap repeats
    python benchmarks/bench_sem.py --repeat 50 --boot-repeat 1 --skip-lavaan
    python benchmarks/bench_sem.py --skip-gum       # the three small workloads only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "sem" / "data"

HS_MODEL = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"""

PD_MODEL = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ind   := a*b
total := c + a*b"""

TARGETS = {"hs_cfa": 0.003, "pd_sem": 0.005, "pd_boot": 1.5}
LABELS = {"hs_cfa": "HS1939 CFA fit", "pd_sem": "PolDem SEM fit",
          "pd_boot": "PolDem bootstrap 1000 (whole analysis)"}


def _median_time(fn, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bootstrap_analysis(pd_data, n_jobs: int):
    """Fit, 1,000 draws in ``n_jobs`` workers, percentile/BC/BCa table of the indirect effect."""
    import numpy as np

    import surveykit
    from surveykit.sem.bootstrap import bootstrap_engine

    fit = surveykit.sem(PD_MODEL, pd_data)
    res = bootstrap_engine(fit.engine, fit.theta, n_boot=1000, seed=1, n_jobs=n_jobs,
                           jackknife=False,
                           names=[f"theta{k}" for k in range(fit.theta.size)] + ["ind", "total"])
    ci = res.ci("perc")
    assert np.isfinite(ci[-2]).all()
    return ci[-2]


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (user + system)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_python(repeat: int, boot_repeat: int, n_jobs: int) -> dict[str, float]:
    import pandas as pd

    import surveykit

    hs = pd.read_csv(DATA / "HolzingerSwineford1939.csv")
    pdem = pd.read_csv(DATA / "PoliticalDemocracy.csv")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["hs_cfa"] = _median_time(lambda: surveykit.cfa(HS_MODEL, hs), repeat)
        out["pd_sem"] = _median_time(lambda: surveykit.sem(PD_MODEL, pdem), repeat)
        cpu0 = _cpu_seconds()
        out["pd_boot"] = _median_time(lambda: bootstrap_analysis(pdem, n_jobs), boot_repeat, warmup=0)
        # CPU seconds per analysis, all processes: on an otherwise idle machine
        # the wall time approaches this divided by the number of workers
        out["pd_boot_cpu"] = (_cpu_seconds() - cpu0) / boot_repeat
        out["pd_boot_api"] = _median_time(
            lambda: surveykit.sem(PD_MODEL, pdem, bootstrap=1000, seed=1), boot_repeat, warmup=0)
    here, csv = str(Path(__file__).parent), str(DATA / "PoliticalDemocracy.csv")
    code = (f"import sys; sys.path.insert(0, {here!r}); import pandas as pd, bench_sem; "
            f"bench_sem.bootstrap_analysis(pd.read_csv({csv!r}), {n_jobs})")
    whole = []
    for _ in range(boot_repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        whole.append(time.perf_counter() - t0)
    out["pd_boot_fresh_interpreter"] = statistics.median(whole)
    return out


def gum_data():
    """The scored Ningbo apparel example (reverse items reversed) and the GUM model text."""
    import pandas as pd

    import surveykit
    from surveykit.analysis.data import scored

    cb = surveykit.load_codebook(ROOT / "questionnaires" / "ningbo_apparel.yaml")
    d = scored(pd.read_csv(ROOT / "questionnaires" / "examples" / "ningbo_apparel" / "truth.csv"), cb)
    return d, (ROOT / "questionnaires" / "gum_model.lav").read_text(encoding="utf-8")


def run_gum(repeat: int, n_jobs: int, draws: int) -> dict[str, float]:
    import surveykit
    from surveykit.sem.bootstrap import bootstrap_engine

    d, model = gum_data()
    complete = d.dropna()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def mlr():
            return surveykit.sem(model, complete, estimator="MLR").fit

        out["gum_mlr"] = _median_time(mlr, repeat, warmup=1)
        fit = surveykit.sem(model, complete)
        for jobs in sorted({1, n_jobs}):
            out[f"gum_boot_{jobs}"] = _median_time(
                lambda jobs=jobs: bootstrap_engine(fit.engine, fit.theta, n_boot=draws, seed=1,
                                                   n_jobs=jobs, jackknife=False),
                1, warmup=0)
        out["gum_boot"] = out[f"gum_boot_{n_jobs}"]
        out["gum_boot_per_draw_1"] = out["gum_boot_1"] / draws

        def fiml():
            return surveykit.sem(model, d, missing="ml").fit

        out["gum_fiml"] = _median_time(fiml, max(1, repeat // 5), warmup=1)
    return out


def run_lavaan_gum(draws: int, n_jobs: int) -> dict | None:
    import tempfile

    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    d, _ = gum_data()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "gum.csv"
        d.to_csv(csv, index=False, na_rep="NA")
        proc = subprocess.run([rscript, str(Path(__file__).parent / "lavaan_gum_bench.R"), str(csv),
                               str(ROOT / "questionnaires" / "gum_model.lav"), str(draws),
                               str(n_jobs)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"lavaan GUM benchmark failed: {proc.stderr.strip()[:300]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_lavaan(repeat: int, boot_repeat: int) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    proc = subprocess.run([rscript, str(Path(__file__).parent / "lavaan_bench.R"),
                           str(repeat), str(boot_repeat)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"lavaan benchmark failed: {proc.stderr.strip()[:300]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200, help="repeats of the single fits")
    ap.add_argument("--boot-repeat", type=int, default=3, help="repeats of the bootstrap")
    ap.add_argument("--lavaan-repeat", type=int, default=20,
                    help="repeats (batches of 10) of lavaan's single fits")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="bootstrap workers")
    ap.add_argument("--skip-lavaan", action="store_true")
    ap.add_argument("--skip-gum", action="store_true", help="leave out the GUM-model workloads")
    ap.add_argument("--gum-repeat", type=int, default=5, help="repeats of the GUM MLR fit")
    ap.add_argument("--gum-draws", type=int, default=2000, help="bootstrap draws of the GUM model")
    ap.add_argument("--json", type=Path, help="also write the medians to this file")
    args = ap.parse_args(argv)

    py = run_python(args.repeat, args.boot_repeat, args.jobs)
    lav = None if args.skip_lavaan else run_lavaan(args.lavaan_repeat, 1)
    print(f"{'workload':42s}{'surveykit':>12s}{'lavaan':>12s}{'ratio':>9s}{'target':>10s}")
    for key in ("hs_cfa", "pd_sem", "pd_boot"):
        ours = py[key]
        theirs = lav.get(key) if lav else None
        ratio = f"{theirs / ours:8.1f}x" if theirs else "        -"
        lv = f"{theirs * 1e3:10.1f}ms" if theirs else "           -"
        ok = "ok" if ours <= TARGETS[key] else "MISS"
        print(f"{LABELS[key]:42s}{ours * 1e3:10.1f}ms{lv}{ratio} {TARGETS[key] * 1e3:7.0f}ms {ok}")
    print(f"{'  CPU time of it, all processes':42s}{py['pd_boot_cpu'] * 1e3:10.1f}ms")
    print(f"{'  same via surveykit.sem(bootstrap=1000)':42s}{py['pd_boot_api'] * 1e3:10.1f}ms")
    print(f"{'  same in a fresh interpreter (python -c)':42s}{py['pd_boot_fresh_interpreter'] * 1e3:10.1f}ms")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(medians; ratio = lavaan / surveykit; bootstrap processes: {args.jobs}; "
          f"lavaan: {lav['lavaan'] if lav else 'not run'}; load average {load:.1f} "
          f"on {os.cpu_count()} cores)")
    gum = gum_lav = None
    if not args.skip_gum:
        gum = run_gum(args.gum_repeat, args.jobs, args.gum_draws)
        gum_lav = None if args.skip_lavaan else run_lavaan_gum(args.gum_draws, args.jobs)
        rows = [("gum_mlr", "GUM MLR fit (44 ind., 122 par.)", None),
                ("gum_boot", f"GUM bootstrap {args.gum_draws} ({args.jobs} proc.)", None),
                ("gum_fiml", "GUM FIML fit", 5.0)]
        for key, label, target in rows:
            ours = gum[key]
            theirs = gum_lav.get(key) if gum_lav else None
            ratio = f"{theirs / ours:8.1f}x" if theirs else "        -"
            lv = f"{theirs:11.2f}s" if theirs else "           -"
            tgt = f"{target:8.1f}s {'ok' if ours <= target else 'MISS'}" if target else ""
            print(f"{label:42s}{ours:11.2f}s{lv}{ratio} {tgt}")
        per = gum["gum_boot_per_draw_1"]
        print(f"{'  per draw in one process':42s}{per * 1e3:10.2f}ms{'':21s}{3:7.0f}ms "
              f"{'ok' if per <= 0.003 else 'MISS'}")
    if args.json:
        args.json.write_text(json.dumps({"surveykit": py, "lavaan": lav, "gum": gum,
                                         "gum_lavaan": gum_lav}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
