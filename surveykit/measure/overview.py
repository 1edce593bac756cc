"""All measurement tables of one questionnaire, per cluster, as text (``surveykit measure``)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from surveykit.errors import MeasurementError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

RULE = "=" * 78


def reverse_keyed(data: pd.DataFrame, codebook) -> pd.DataFrame:
    """Copy of ``data`` with the codebook's reverse-keyed Likert items recoded by their own scale."""
    out = data.copy()
    for item in codebook.likert_items():
        if item.reverse and item.scale is not None and item.id in out.columns:
            out[item.id] = (item.scale.min + item.scale.max) - out[item.id].astype(float)
    return out


def measurement_report(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
                       scale: tuple[float, float] = (1, 5), group: str | None = "cluster",
                       missing: str = "pairwise", n_factors: int | None = None,
                       rotation: str = "oblimin", n_iter: int = 20, seed: int | None = 1) -> str:
    """Item statistics, reliability, factorability, parallel analysis, EFA, HTMT and Harman's test.

    Parameters
    ----------
    data : DataFrame
        Answers with reverse-keyed items already recoded (see :func:`reverse_keyed`).
    constructs : mapping of str to list of str
        Construct name -> item columns; constructs without any column in the
        data are left out.
    scale : (min, max)
        Answer scale, for the category shares.
    group : str or None
        Column whose groups (clusters) get their own tables; the pooled sample
        comes first when there is more than one group.
    missing : {"pairwise", "listwise"}
        Missing-data rule for every correlation-based statistic.
    n_factors : int, optional
        Factors of the EFA; default the number of constructs.
    rotation : str
        Rotation of the EFA.
    n_iter, seed : int
        Simulations and seed of the parallel analysis.

    Returns
    -------
    str
        The report, one block per group.
    """
    from surveykit.measure import (
        bartlett,
        describe_constructs,
        efa,
        harman,
        htmt,
        item_stats,
        kmo,
        parallel_analysis,
        reliability,
    )

    constructs = {c: [i for i in its if i in data.columns] for c, its in constructs.items()}
    constructs = {c: its for c, its in constructs.items() if its}
    if not constructs:
        raise MeasurementError("none of the constructs' items is a column of the data.")
    items = [i for its in constructs.values() for i in its]
    blocks = [item_stats(data, items, group=group if group in data.columns else None,
                         scale=scale).summary()]
    groups: list[tuple[str, pd.DataFrame]] = []
    if group is not None and group in data.columns:
        levels = list(data[group].dropna().unique())
        if len(levels) > 1:
            groups.append(("all clusters", data))
        groups += [(f"{group} = {level}", data[data[group] == level]) for level in levels]
    else:
        groups.append(("all respondents", data))
    multi = {c: its for c, its in constructs.items() if len(its) > 1}
    for label, sub in groups:
        parts = [RULE, f"{label} (n = {len(sub)})", RULE]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts.append(reliability(sub, constructs, missing=missing).summary())
            parts.append(str(describe_constructs(sub, constructs)))
            parts.append(str(kmo(sub, items=items, missing=missing)))
            parts.append(str(bartlett(sub, items=items, missing=missing)))
            pa = parallel_analysis(sub, items, n_iter=n_iter, seed=seed, missing=missing)
            parts.append(str(pa))
            k = min(n_factors or len(constructs), len(items) - 1)
            parts.append(str(efa(sub, k, items=items, rotation=rotation, missing=missing)))
            if len(multi) > 1:
                parts.append(str(htmt(sub, multi, missing=missing)))
            parts.append(str(harman(sub, items, missing=missing)))
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        if notes:
            parts.append("Warnings\n" + "\n".join(notes))
        blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks) + "\n"
