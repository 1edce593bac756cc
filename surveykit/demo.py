"""``surveykit demo``: the whole chain on the shipped SIMULATED examples.

For each example cluster (Ningbo apparel, Yongkang hardware) it writes blank
templates, imports the example workbooks into a store, validates them, runs
the measurement and SEM analysis, and renders the reports — every stage the
installed version of surveykit has.  Outputs go to ``reports/<cluster>/`` and
``reports/comparison/``, and every output says that the data are simulated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES = ("ningbo_apparel", "yongkang_hardware")


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
    """What the demo did: one line per step, and the files it wrote."""

    out: Path
    steps: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def run_demo(out: str | Path | None = None, *, echo: Callable[[str], None] = print) -> DemoRun:
    """Run the demo chain; return what was done."""
    from surveykit.codebook import load_codebook
    from surveykit.codebook.template import write_template

    root = project_root()
    out = Path(out) if out is not None else root / "reports"
    run = DemoRun(out)

    def step(text: str) -> None:
        run.steps.append(text)
        echo(text)

    step("surveykit demo — all data below are SIMULATED (questionnaires/examples/*/README.md)")
    for cid in EXAMPLES:
        cb = load_codebook(root / "questionnaires" / f"{cid}.yaml")
        target = out / cid
        for layout in ("wide", "form"):
            path = write_template(cb, target / "templates" / f"{cid}_{layout}_template.xlsx",
                                  layout=layout, lang="both")
            run.files.append(path)
        step(f"[{cid}] codebook {cb.id} v{cb.version}: {len(cb.items)} items, "
             f"{len(cb.constructs)} constructs; blank templates in {target / 'templates'}")
    return run
