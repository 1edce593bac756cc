"""``surveykit demo``."""

from __future__ import annotations

import click


@click.command()
@click.option("-o", "--out", type=click.Path(file_okay=False),
              help="Folder for the outputs [default: reports/ of the source folder].")
def demo(out: str | None) -> None:
    """Run the whole chain on the shipped SIMULATED examples of both clusters.

    Templates, import, validation, measurement, SEM, the cluster comparison
    and reports, into reports/ningbo_apparel/, reports/yongkang_hardware/ and
    reports/comparison/.
    """
    from surveykit.demo import run_demo

    run_demo(out, echo=click.echo)
