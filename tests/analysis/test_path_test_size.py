"""The Wald test of a path difference holds its nominal size when the paths are equal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from surveykit.analysis.invariance import path_differences
from surveykit.analysis.options import AnalysisOptions

MODEL = "X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X"


def _cluster(rng, n, beta):
    xi = rng.normal(size=n)
    eta = beta * xi + rng.normal(scale=np.sqrt(1 - beta**2), size=n)
    cols = {}
    for k, lam in enumerate((0.8, 0.7, 0.75), 1):
        cols[f"x{k}"] = lam * xi + rng.normal(scale=np.sqrt(1 - lam**2), size=n)
        cols[f"y{k}"] = lam * eta + rng.normal(scale=np.sqrt(1 - lam**2), size=n)
    return pd.DataFrame(cols)


def test_equal_paths_are_flagged_at_the_nominal_rate():
    rng = np.random.default_rng(20261121)
    options = AnalysisOptions(estimator="ML", alpha=0.05)
    reps, rejected = 200, 0
    for _ in range(reps):
        data = pd.concat([_cluster(rng, 250, 0.4).assign(g="a"), _cluster(rng, 250, 0.4).assign(g="b")],
                         ignore_index=True)
        tests, _ = path_differences(MODEL, data, "g", ["a", "b"], options, ("loadings",), [], [("Y", "X")])
        rejected += tests[0]["differs"]
    # two-sided 99.9% binomial acceptance region for a 5% test over 200 replications
    lo, hi = binom.ppf(0.0005, reps, 0.05), binom.ppf(0.9995, reps, 0.05)
    assert lo <= rejected <= hi, rejected


def test_unequal_paths_are_detected():
    rng = np.random.default_rng(7)
    options = AnalysisOptions(estimator="ML")
    data = pd.concat([_cluster(rng, 300, 0.6).assign(g="a"), _cluster(rng, 300, 0.1).assign(g="b")],
                     ignore_index=True)
    tests, _ = path_differences(MODEL, data, "g", ["a", "b"], options, ("loadings",), [], [("Y", "X")])
    assert tests[0]["differs"] and tests[0]["pvalue"] < 1e-4
    assert tests[0]["std_all"]["a"] > tests[0]["std_all"]["b"]
