"""Commands ``analyze`` and ``rerun``."""

from __future__ import annotations

import click


@click.command()
@click.option("-s", "--store", "store", required=True, type=click.Path(dir_okay=False),
              help="Survey store holding the imported answers.")
@click.option("-m", "--model", "model", required=True, type=click.Path(dir_okay=False),
              help="Model in lavaan syntax (e.g. questionnaires/gum_model.lav).")
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for the results bundle (results.json, manifest.json, tables/).")
@click.option("--cluster", "clusters", multiple=True,
              help="Questionnaire id to analyse; repeat for several [default: every one in the store].")
@click.option("--estimator", type=click.Choice(["MLR", "ML"]), default="MLR", show_default=True,
              help="MLR: robust SEs and scaled chi-square (Likert answers are not normal).")
@click.option("--missing", type=click.Choice(["listwise", "ml"]), default="listwise", show_default=True,
              help="Missing answers in the latent models: drop incomplete firms, or FIML.")
@click.option("--bootstrap", type=click.IntRange(0, 100000), default=2000, show_default=True,
              help="Bootstrap draws for indirect effects (0: delta method only).")
@click.option("--seed", type=int, default=2010, show_default=True, help="Seed of every random step.")
@click.option("--exclude-flagged", is_flag=True,
              help="Leave out firms flagged with warnings (careless responding, duplicates).")
@click.option("--no-pooled", is_flag=True, help="Skip the pooled analysis of all clusters together.")
@click.option("-j", "--jobs", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes for the bootstrap, 0 for one per CPU (results do not depend on it).")
def analyze(store: str, model: str, out: str, clusters: tuple[str, ...], estimator: str, missing: str,
            bootstrap: int, seed: int, exclude_flagged: bool, no_pooled: bool, jobs: int) -> None:
    """Run the GUM analysis and write a results bundle.

    Per cluster and pooled: data quality, item statistics, reliability, EFA,
    CFA with CR/AVE/Fornell-Larcker/HTMT, the structural model with bootstrap
    intervals of indirect effects, composite robustness checks, governance
    moderation and mediation; with two clusters the invariance ladder and a
    test of every path difference. Render it with `surveykit report OUT`.
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from surveykit.analysis import AnalysisOptions
    from surveykit.analysis import analyze as run

    start = time.perf_counter()
    options = AnalysisOptions(estimator=estimator, missing=missing, bootstrap=bootstrap, seed=seed,
                              include_flagged=not exclude_flagged, groups=clusters, pooled=not no_pooled,
                              workers=jobs)
    bars = Progress(TextColumn("bootstrap {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), transient=True, console=_stderr_console())
    tasks: dict[str, int] = {}

    def on_draws(group: str, done: int, total: int) -> None:
        if not tasks:
            bars.start()  # only once there is something to show: no stray output otherwise
        if group not in tasks:
            tasks[group] = bars.add_task(group, total=total)
        bars.update(tasks[group], completed=done)

    try:
        result = run(store, model, options=options, boot_progress=on_draws,
                     progress=lambda msg: bars.console.print(f"[{time.perf_counter() - start:6.1f}s] {msg}",
                                                             markup=False, highlight=False))
    finally:
        if tasks:
            bars.stop()
    path = result.write(out)
    click.echo(result.summary())
    click.echo(f"wrote {path / 'results.json'}, {path / 'manifest.json'} and {path / 'tables'}/ "
               f"in {time.perf_counter() - start:.1f} s")


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option("--rtol", type=float, default=1e-6, show_default=True,
              help="Relative tolerance for a number to count as unchanged.")
@click.option("--atol", type=float, default=1e-9, show_default=True,
              help="Absolute tolerance for a number to count as unchanged.")
def rerun(manifest: str, rtol: float, atol: float) -> None:
    """Re-run an analysis from its manifest and report every number that changed.

    Refuses when an input file's sha256 differs from the manifest. Exits 0
    only when every number is reproduced within the tolerance.
    """
    from surveykit.analysis import rerun as run

    report = run(manifest, rtol=rtol, atol=atol, progress=lambda msg: click.echo(msg, err=True))
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)
