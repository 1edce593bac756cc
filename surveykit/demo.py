"""``surveykit demo``: the whole chain on the shipped SIMULATED examples.

1. blank templates of both questionnaires (wide and form layouts);
2. import: the Ningbo apparel firms from their folder of form workbooks, the
   Yongkang hardware firms from their wide workbook, into one store;
3. validation findings per cluster;
4. the GUM analysis of both clusters and their comparison;
5. reports (HTML, Markdown, Word, LaTeX, CSV; Chinese and English) into
   ``reports/ningbo_apparel/``, ``reports/yongkang_hardware/`` and
   ``reports/comparison/``.

Every output says that the data are simulated.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES = ("ningbo_apparel", "yongkang_hardware")
# which shipped layout each cluster is imported from: both layouts are exercised
_SOURCES = {"ningbo_apparel": "forms", "yongkang_hardware": "yongkang_hardware_wide.xlsx"}


def project_root() -> Path:
    """The folder holding ``questionnaires/``: the working directory or the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (base / "questionnaires" / "gum_model.lav").exists():
            return base
    from surveykit.errors import SurveykitError

    raise SurveykitError("questionnaires/gum_model.lav not found: run `surveykit demo` from the "
                         "surveykit source folder")


@dataclass
class DemoRun:
    """What the demo did: one line per step, and the folders it wrote."""

    out: Path
    steps: list[str] = field(default_factory=list)
    bundles: dict[str, Path] = field(default_factory=dict)


def run_demo(out: str | Path | None = None, *, bootstrap: int = 2000, seed: int = 2010,
             langs: tuple[str, ...] = ("zh", "en"), echo: Callable[[str], None] = print) -> DemoRun:
    """Run the demo chain; return what was done."""
    from surveykit import import_paths
    from surveykit.analysis import AnalysisOptions, analyze
    from surveykit.codebook import load_codebook
    from surveykit.codebook.template import write_template
    from surveykit.report.render import render_report
    from surveykit.store import open_store

    root = project_root()
    out = Path(out) if out is not None else root / "reports"
    run = DemoRun(out)
    start = time.perf_counter()

    def step(text: str) -> None:
        run.steps.append(text)
        echo(f"[{time.perf_counter() - start:6.1f}s] {text}")

    step("surveykit demo: all data below are SIMULATED (questionnaires/examples/*/README.md)")
    out.mkdir(parents=True, exist_ok=True)
    work = out / "_demo"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    store_path = work / "demo.sqlite"
    for cid in EXAMPLES:
        cb = load_codebook(root / "questionnaires" / f"{cid}.yaml")
        tdir = out / cid / "templates"
        for layout in ("wide", "form"):
            write_template(cb, tdir / f"{cid}_{layout}_template.xlsx", layout=layout, lang="both")
        step(f"{cid}: blank templates in {tdir}")
        source = root / "questionnaires" / "examples" / cid / _SOURCES[cid]
        summary = import_paths([source], cb, store_path, jobs=1 if source.is_file() else None)
        step(f"{cid}: imported {source.relative_to(root)}: " + summary.summary().splitlines()[1])
    with open_store(store_path) as st:
        findings = st.findings()
    for cid in EXAMPLES:
        sub = findings[findings["questionnaire"] == cid]
        counts = sub["severity"].value_counts().to_dict()
        step(f"{cid}: validation findings " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    options = AnalysisOptions(bootstrap=bootstrap, seed=seed)
    result = analyze(store_path, root / "questionnaires" / "gum_model.lav", options=options,
                     progress=lambda msg: step(f"analyze: {msg}"))
    bundles = {"comparison": result, **{cid: result.subset(cid) for cid in EXAMPLES}}
    for name, res in bundles.items():
        path = res.write(out / name)
        for lang in langs:
            render_report(path, lang=lang)
        run.bundles[name] = path
        step(f"{name}: results bundle and reports ({', '.join(langs)}) in {path}")
    echo(result.summary())
    step(f"done; open {out / 'comparison' / 'report' / 'report.en.html'}")
    return run
