"""Benchmark: import with validation into a fresh store, beside a naive pandas read.

Two workloads, each timed in the same run as the naive baseline
``pandas.read_excel(path, engine="openpyxl")`` of the same files:

(a) 1,000 form-layout firm workbooks (the Ningbo questionnaire's template,
    simulated answers with 5 % field noise);
(b) one wide workbook of 20,000 firms x 80 items (a generated 80-item
    questionnaire: 75 Likert items in 15 constructs, 3 % messy answers).

Targets on a 2-core machine: (a) <= 2.0 s, (b) <= 2.5 s.  The inputs are
generated once and cached (``--data``); generation is not timed.

Run::

    python benchmarks/bench_import.py            # 3 repeats of each
    python benchmarks/bench_import.py --repeat 5 --skip-naive
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_FORMS = 1000
N_WIDE, N_ITEMS = 20_000, 80


def wide_codebook():
    """An 80-item questionnaire: firm id, four profile items, 15 constructs x 5 Likert items."""
    from surveykit.codebook.model import Codebook, Construct, Item, Option, Scale, Section

    agree = Scale("agree5", 1, 5, {1: {"zh": "非常不同意", "en": "Strongly disagree"},
                                   2: {"zh": "不同意", "en": "Disagree"},
                                   3: {"zh": "一般", "en": "Neutral"},
                                   4: {"zh": "同意", "en": "Agree"},
                                   5: {"zh": "非常同意", "en": "Strongly agree"}})
    items = [
        Item("firm_id", "basic", "text", {"zh": "企业编号", "en": "Firm id"}, required=True),
        Item("founded", "basic", "year", {"zh": "成立年份", "en": "Founded"}, min=1949, max=2026),
        Item("employees", "basic", "integer", {"zh": "员工人数", "en": "Employees"}, min=1),
        Item("ownership", "basic", "single", {"zh": "所有制", "en": "Ownership"},
             options=tuple(Option(k, {"zh": z, "en": e}) for k, (z, e) in
                           enumerate([("国有", "State"), ("民营", "Private"), ("外资", "Foreign")], 1))),
        Item("markets", "basic", "multiple", {"zh": "主要市场", "en": "Markets"},
             options=tuple(Option(k, {"zh": f"市场{k}", "en": f"Market {k}"}) for k in range(1, 6))),
    ]
    constructs, sections = {}, [Section("basic", {"zh": "基本", "en": "Basic"},
                                        tuple(i.id for i in items))]
    for c in range(15):
        cid = f"C{c + 1:02d}"
        ids = []
        for k in range(1, 6):
            iid = f"{cid}_{k}"
            items.append(Item(iid, cid, "likert", {"zh": f"第{c + 1}组第{k}题", "en": f"Block {c + 1} item {k}"},
                              required=True, construct=cid, reverse=(k == 5), scale=agree))
            ids.append(iid)
        constructs[cid] = Construct(cid, {"zh": cid, "en": cid}, "basic", tuple(ids))
        sections.append(Section(cid, {"zh": cid, "en": cid}, tuple(ids), construct=cid))
    assert len(items) == N_ITEMS
    return Codebook(id="bench80", version="1.0", title={"zh": "基准", "en": "Benchmark"},
                    cluster={"id": "bench", "zh": "基准", "en": "Benchmark"}, respondent_id="firm_id",
                    missing_codes=("", "空", "无", "N/A", "-"), scales={"agree5": agree},
                    constructs=constructs, sections=tuple(sections), items=tuple(items),
                    sha256="b" * 64)


def make_wide(path: Path, cb) -> None:
    import numpy as np
    import openpyxl

    rng = np.random.default_rng(80)
    n = N_WIDE
    lik = cb.likert_items()
    latent = rng.standard_normal((n, len(cb.constructs))) @ np.linalg.cholesky(
        0.4 * np.ones((15, 15)) + 0.6 * np.eye(15)).T
    messy = ["非常同意", "同意", "一般", "不同意", "非常不同意"]
    full = str.maketrans("0123456789", "０１２３４５６７８９")
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append([i.id for i in cb.items])
    ws.append([i.text["zh"] for i in cb.items])
    noise = rng.random((n, len(lik)))
    for r in range(n):
        row = [f"F{r + 1:05d}", int(rng.integers(1980, 2021)), int(rng.integers(5, 3000)),
               int(rng.integers(1, 4)),
               ",".join(str(k) for k in sorted(rng.choice(5, rng.integers(1, 4), replace=False) + 1))]
        for j, it in enumerate(lik):
            c = j // 5
            v = 0.75 * latent[r, c] + 0.66 * rng.standard_normal()
            p = int(np.clip(np.round(3 + 1.1 * v), 1, 5))
            if it.reverse:
                p = 6 - p
            u = noise[r, j]
            if u < 0.01:
                row.append(None)
            elif u < 0.02:
                row.append(messy[5 - p])
            elif u < 0.025:
                row.append(str(p).translate(full))
            elif u < 0.03:
                row.append(f"{p}分")
            else:
                row.append(p)
        ws.append(row)
    m = wb.create_sheet("_surveykit")
    for k, v in [("questionnaire_id", cb.id), ("version", cb.version), ("codebook_sha256", cb.sha256),
                 ("layout", "wide"), ("first_data_row", 3)]:
        m.append([k, v])
    wb.save(path)


def make_forms(folder: Path):
    import surveykit

    cb = surveykit.load_codebook(ROOT / "questionnaires" / "ningbo_apparel.yaml")
    model = (ROOT / "questionnaires" / "gum_model.lav").read_text(encoding="utf-8")
    sim = surveykit.simulate(cb, model, N_FORMS, seed=1000, mess=0.05)
    folder.mkdir(parents=True, exist_ok=True)
    sim.write_forms(folder)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def median_time(fn, repeat: int) -> tuple[float, list[float], float]:
    """Median wall time, all wall times, and median CPU seconds (this process and its
    workers): on a shared machine the CPU time shows what the wall time would be idle."""
    times, cpus = [], []
    for _ in range(repeat):
        c = _cpu()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return statistics.median(times), times, statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "surveykit-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-repeat", type=int, default=None,
                    help="repeats of the naive read (default: --repeat)")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--only", choices=["forms", "wide"], default=None)
    args = ap.parse_args(argv)
    import surveykit
    from surveykit.ingest import collect_files, import_paths

    data = args.data
    forms_dir, wide_path = data / "forms", data / "wide_20000x80.xlsx"
    cb80 = wide_codebook()
    if args.only != "wide" and len(list(forms_dir.glob("*.xlsx"))) < N_FORMS:
        print(f"generating {N_FORMS} form workbooks in {forms_dir} (once) ...", flush=True)
        make_forms(forms_dir)
    if args.only != "forms" and not wide_path.exists():
        print(f"generating {wide_path} (once) ...", flush=True)
        make_wide(wide_path, cb80)
    ningbo = surveykit.load_codebook(ROOT / "questionnaires" / "ningbo_apparel.yaml")
    naive_repeat = args.naive_repeat or args.repeat
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'workload':<28}{'surveykit import':>18}{'(cpu)':>9}{'naive read_excel':>18}"
          f"{'(cpu)':>9}{'ratio':>8}{'target':>8}")
    rows = []
    workloads = []
    if args.only != "wide":
        files = collect_files([forms_dir])[:N_FORMS]
        workloads.append(("(a) 1,000 form workbooks", files, ningbo, 2.0))
    if args.only != "forms":
        workloads.append(("(b) wide 20,000 x 80", [wide_path], cb80, 2.5))
    for name, files, cb, target in workloads:
        def ours(files=files, cb=cb):
            with tempfile.TemporaryDirectory() as tmp:
                s = import_paths(files, cb, Path(tmp) / "bench.sqlite")
                assert s.ok and s.findings.get("error", 0) == 0, s.summary()
                assert s.rows == (N_FORMS if len(files) > 1 else N_WIDE), s.summary()

        def naive(files=files):
            import pandas as pd

            for f in files:
                pd.read_excel(f, engine="openpyxl")

        ours()  # warm imports and the page cache
        med, times, cpu = median_time(ours, args.repeat)
        if args.skip_naive:
            nmed = ncpu = float("nan")
        else:
            nmed, _, ncpu = median_time(naive, naive_repeat)
        ratio = nmed / med
        ok = "ok" if med <= target else "MISSED"
        print(f"{name:<28}{med:>16.2f} s{cpu:>7.2f} s{nmed:>16.2f} s{ncpu:>7.2f} s{ratio:>7.1f}x"
              f"{target:>6.1f} s  {ok}  (runs: {', '.join(f'{t:.2f}' for t in times)}; load "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        rows.append((name, med, nmed, ratio, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
