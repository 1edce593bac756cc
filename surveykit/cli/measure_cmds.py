"""``surveykit measure``: measurement-quality tables per cluster from the store."""

from __future__ import annotations

import click


@click.command("measure")
@click.option("--store", "store_path", required=True, type=click.Path(dir_okay=False),
              help="Survey store written by `surveykit import`.")
@click.option("--codebook", "codebook_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Questionnaire codebook (YAML) whose constructs are analysed.")
@click.option("--missing", type=click.Choice(["pairwise", "listwise"]), default="pairwise",
              show_default=True, help="Missing-answer rule for correlations.")
@click.option("--factors", "n_factors", type=int, default=None,
              help="Factors of the EFA [default: number of constructs].")
@click.option("--rotation", type=click.Choice(["oblimin", "promax", "varimax", "none"]),
              default="oblimin", show_default=True, help="EFA rotation.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the parallel analysis.")
@click.option("--include-flagged", is_flag=True,
              help="Keep respondents with data-quality warnings.")
def measure(store_path: str, codebook_path: str, missing: str, n_factors: int | None,
            rotation: str, seed: int, include_flagged: bool) -> None:
    """Print item statistics, reliability, KMO, Bartlett, parallel analysis, EFA, HTMT and
    Harman's test for each cluster in the store."""
    import surveykit
    from surveykit.errors import MeasurementError
    from surveykit.measure.overview import measurement_report, reverse_keyed

    cb = surveykit.load_codebook(codebook_path)
    store = surveykit.open_store(store_path, create=False)
    try:
        data = store.responses(codebook=cb, include_flagged=include_flagged)
    finally:
        store.close()
    if data.empty:
        raise MeasurementError(f"{store_path}: the store has no responses to questionnaire {cb.id!r}.")
    likert = cb.likert_items()
    lo = min(i.scale.min for i in likert if i.scale is not None)
    hi = max(i.scale.max for i in likert if i.scale is not None)
    click.echo(measurement_report(reverse_keyed(data, cb), cb.construct_items(), scale=(lo, hi),
                                  missing=missing, n_factors=n_factors, rotation=rotation,
                                  seed=seed), nl=False)
