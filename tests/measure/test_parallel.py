import numpy as np
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import ParallelResult, parallel_analysis

from .conftest import arr

# Observed eigenvalues: closed form (components) or from the one-factor minres
# fit (factors, iterative: 1e-5 covers psych's optim() tolerance).
PC, FA = 1e-10, 1e-5
# Simulated means are Monte Carlo estimates from different random streams: the
# difference over its standard error is roughly N(0, 1) for each of 2p values;
# 4.5 keeps the family-wise false alarm rate far below 1e-3.
Z = 4.5


@pytest.mark.parametrize(("dataset", "n_iter"), [("hs", 100), ("bfi", 40)])
def test_parallel_agrees_with_psych(request, ref, dataset, n_iter):
    data = request.getfixturevalue(dataset)
    expected = ref[dataset]["parallel"]
    res = parallel_analysis(data, ref[dataset]["items"], n_iter=n_iter, seed=20261121)
    np.testing.assert_allclose(res.pc_values, arr(expected["pc_values"]), rtol=0, atol=PC)
    np.testing.assert_allclose(res.fa_values, arr(expected["fa_values"]), rtol=0, atol=FA)
    for kind in ("pc", "fa"):
        sim = getattr(res, f"sim_{kind}")
        se = np.sqrt(arr(expected[f"sim_{kind}_sd"]) ** 2 / expected["n_iter"]
                     + sim.var(axis=0, ddof=1) / n_iter)
        z = (sim.mean(axis=0) - arr(expected[f"sim_{kind}_mean"])) / se
        assert np.abs(z).max() < Z, (kind, z)
    # the factor decision has a margin in both data sets (hs: 0.32 above, 0.21 below;
    # bfi: 0.15 above, 0.08 below the simulated quantile), so it must agree with psych
    assert res.n_factors == expected["nfact"]
    if dataset == "hs":
        assert res.n_components == expected["ncomp"]


def test_seed_makes_it_reproducible(hs, ref):
    a = parallel_analysis(hs, ref["hs"]["items"], n_iter=5, seed=3)
    b = surveykit.parallel_analysis(hs, ref["hs"]["items"], n_iter=5, seed=3)
    c = parallel_analysis(hs, ref["hs"]["items"], n_iter=5, seed=4)
    np.testing.assert_array_equal(a.sim_fa, b.sim_fa)
    assert not np.array_equal(a.sim_fa, c.sim_fa)
    assert isinstance(a, ParallelResult)
    assert "suggests" in str(a) and "<table" in a._repr_html_()


def test_parallel_input_errors(hs):
    with pytest.raises(MeasurementError, match=r"n_iter \(0\) must be a positive integer\."):
        parallel_analysis(hs, ["x1", "x2", "x3"], n_iter=0)
    with pytest.raises(MeasurementError, match=r"quantile \(1\.5\) must lie strictly between 0 and 1\."):
        parallel_analysis(hs, ["x1", "x2", "x3"], quantile=1.5)
