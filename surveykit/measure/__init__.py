"""Measurement quality: item statistics, reliability, factorability, EFA, discriminant validity.

Every function takes a pandas DataFrame of item answers (NaN for missing) and,
where constructs matter, ``constructs``: a mapping of construct name to its
item columns.  Results match R's psych, GPArotation and semTools; the tests in
``tests/measure`` compare them with reference values computed by
``tests/measure/results/psych_reference.R``.
"""

from __future__ import annotations

from surveykit.measure.cmb import HarmanResult, SingleFactorCFA, harman, harman_cfa
from surveykit.measure.describe import (
    ConstructTable,
    FornellLarcker,
    describe_constructs,
    fornell_larcker,
)
from surveykit.measure.efa import EFAResult, efa
from surveykit.measure.factorability import BartlettResult, KMOResult, bartlett, kmo
from surveykit.measure.htmt import HTMTResult, htmt
from surveykit.measure.itemstats import ItemStats, item_stats
from surveykit.measure.parallel import ParallelResult, parallel_analysis
from surveykit.measure.reliability import composite_scores, feldt_ci, reliability

__all__ = [
    "item_stats", "reliability", "composite_scores", "feldt_ci", "kmo", "bartlett", "efa",
    "parallel_analysis", "htmt", "harman", "harman_cfa", "describe_constructs", "fornell_larcker",
    "ItemStats", "KMOResult", "BartlettResult", "EFAResult", "ParallelResult", "HTMTResult",
    "HarmanResult", "SingleFactorCFA", "ConstructTable", "FornellLarcker",
]
