"""``surveykit measure``: measurement-quality tables per cluster from the store."""

from __future__ import annotations

import click


@click.command("measure")
@click.option("--store", "store_path", required=True, type=click.Path(dir_okay=False),
              help="Survey store written by `surveykit import`.")
@click.option("--codebook", "codebook_paths", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Questionnaire codebook (YAML); repeat it to analyse several clusters together.")
@click.option("--missing", type=click.Choice(["pairwise", "listwise"]), default="pairwise",
              show_default=True, help="Missing-answer rule for correlations.")
@click.option("--factors", "n_factors", type=int, default=None,
              help="Factors of the EFA [default: number of constructs].")
@click.option("--rotation", type=click.Choice(["oblimin", "promax", "varimax", "none"]),
              default="oblimin", show_default=True, help="EFA rotation.")
@click.option("--n-iter", type=click.IntRange(min=1), default=20, show_default=True,
              help="Simulated data sets of the parallel analysis.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the parallel analysis.")
@click.option("--include-flagged", is_flag=True,
              help="Keep respondents with data-quality warnings.")
def measure(store_path: str, codebook_paths: tuple[str, ...], missing: str, n_factors: int | None,
            rotation: str, n_iter: int, seed: int, include_flagged: bool) -> None:
    """Print item statistics, reliability, KMO, Bartlett, parallel analysis, EFA, HTMT and
    Harman's test for each cluster in the store."""
    import pandas as pd

    import surveykit
    from surveykit.errors import MeasurementError
    from surveykit.measure.overview import measurement_report, reverse_keyed

    codebooks = [surveykit.load_codebook(p) for p in codebook_paths]
    store = surveykit.open_store(store_path, create=False)
    frames = []
    try:
        for cb in codebooks:
            data = store.responses(codebook=cb, include_flagged=include_flagged)
            if data.empty:
                raise MeasurementError(
                    f"{store_path}: the store has no responses to questionnaire {cb.id!r}.")
            frames.append(reverse_keyed(data, cb))
    finally:
        store.close()
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    constructs: dict[str, list[str]] = {}
    for cb in codebooks:
        for cid, items in cb.construct_items().items():
            known = constructs.setdefault(cid, [])
            known += [i for i in items if i not in known]
    scales = [i.scale for cb in codebooks for i in cb.likert_items() if i.scale is not None]
    if not scales:
        raise MeasurementError(f"{codebook_paths[0]}: the questionnaire has no Likert items.")
    scale = (min(s.min for s in scales), max(s.max for s in scales))
    click.echo(measurement_report(data, constructs, scale=scale, missing=missing,
                                  n_factors=n_factors, rotation=rotation, n_iter=n_iter,
                                  seed=seed), nl=False)
