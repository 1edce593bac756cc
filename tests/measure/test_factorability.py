import numpy as np
import pytest

import surveykit
from surveykit.measure import BartlettResult, KMOResult, bartlett, kmo

from .conftest import arr

# KMO and Bartlett are closed forms of the correlation matrix: rounding-level agreement.
CLOSED = 1e-10


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_kmo_bfi_matches_psych(bfi, ref, missing):
    b = ref["bfi"]
    res = kmo(bfi, items=b["items"], missing=missing)
    expected = b[f"kmo_{missing}"]
    np.testing.assert_allclose(res.overall, expected["msa"], rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.per_item.to_numpy(), arr(expected["msai"]), rtol=0, atol=CLOSED)
    assert list(res.per_item.index) == b["items"]


def test_kmo_hs_matches_psych(hs, ref):
    h = ref["hs"]
    res = surveykit.kmo(hs, items=h["items"])
    np.testing.assert_allclose(res.overall, h["kmo_pairwise"]["msa"], rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.per_item.to_numpy(), arr(h["kmo_pairwise"]["msai"]), rtol=0, atol=CLOSED)
    assert res.label == "middling"  # Kaiser (1974): 0.70 <= MSA < 0.80


@pytest.mark.parametrize(("dataset", "missing"), [("bfi", "pairwise"), ("bfi", "listwise"),
                                                   ("hs", "pairwise")])
def test_bartlett_matches_psych(request, ref, dataset, missing):
    data = request.getfixturevalue(dataset)
    expected = ref[dataset][f"bartlett_{missing}"]
    res = bartlett(data, items=ref[dataset]["items"], missing=missing)
    assert res.n_obs == expected["n"]
    assert res.df == expected["df"]
    # chi-square in the thousands: relative agreement to rounding
    np.testing.assert_allclose(res.statistic, expected["chisq"], rtol=1e-10)
    np.testing.assert_allclose(res.pvalue, expected["p_value"], rtol=1e-8, atol=1e-300)


def test_tests_print_h0_statistic_pvalue_distribution(hs, ref):
    for res in (kmo(hs, items=ref["hs"]["items"]), bartlett(hs, items=ref["hs"]["items"])):
        text = str(res)
        for label in ("H0:", "Statistic:", "P-value:", "Distributed:"):
            assert label in text
        assert "<table>" in res._repr_html_()
    b = bartlett(hs, items=ref["hs"]["items"])
    assert isinstance(b, BartlettResult) and "chi2(36)" in str(b)
    assert isinstance(kmo(hs, items=ref["hs"]["items"]), KMOResult)
