"""``surveykit demo``."""

from __future__ import annotations

import click


@click.command()
@click.option("-o", "--out", type=click.Path(file_okay=False),
              help="Folder for the outputs [default: reports/ of the source folder].")
@click.option("--bootstrap", type=click.IntRange(0, 100000), default=2000, show_default=True,
              help="Bootstrap draws for indirect effects.")
@click.option("--seed", type=int, default=2010, show_default=True, help="Seed of every random step.")
def demo(out: str | None, bootstrap: int, seed: int) -> None:
    """Run the whole chain on the shipped SIMULATED examples of both clusters.

    Templates, import, validation, measurement, SEM, the cluster comparison
    and reports, into reports/ningbo_apparel/, reports/yongkang_hardware/ and
    reports/comparison/.
    """
    from surveykit.demo import run_demo

    run_demo(out, bootstrap=bootstrap, seed=seed, echo=click.echo)
