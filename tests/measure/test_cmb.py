import numpy as np
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import SingleFactorCFA, harman_cfa

from .conftest import arr

# Both CFAs are iterative ML fits (lavaan's nlminb vs surveykit's Fisher scoring);
# their optima agree to far better than 1e-6 relative in chi-square and indices.
FIT = 1e-6


def test_single_factor_cfa_matches_lavaan(hs, ref):
    h = ref["hs"]
    e = h["single_factor_cfa"]
    res = harman_cfa(hs, h["constructs"])
    assert isinstance(res, SingleFactorCFA)
    assert list(res.table.index) == e["fit_keys"]
    np.testing.assert_allclose(res.table["measurement model"].to_numpy(float), arr(e["measurement"]),
                               rtol=FIT, atol=1e-12)
    # lavaan prints the single-factor p-value as 0 (underflow below 1e-60)
    np.testing.assert_allclose(res.table["single factor"].to_numpy(float), arr(e["single"]),
                               rtol=FIT, atol=1e-40)
    np.testing.assert_allclose(res.test.statistic, e["lrt_chisq"], rtol=FIT)
    assert res.test.df == e["lrt_df"]
    np.testing.assert_allclose(res.test.pvalue, e["lrt_p"], rtol=1e-4)
    assert res.single_factor_worse
    assert "no dominant common method factor" in str(res)
    assert "<table" in res._repr_html_()


def test_harman_cfa_input_errors(hs):
    with pytest.raises(MeasurementError, match=r"at least 2 constructs"):
        surveykit.measure.harman_cfa(hs, {"v": ["x1", "x2", "x3"]})
    with pytest.raises(MeasurementError, match=r"an item belongs to more than one construct\."):
        harman_cfa(hs, {"v": ["x1", "x2", "x3"], "t": ["x3", "x4", "x5"]})
