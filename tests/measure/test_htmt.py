import numpy as np
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import HTMTResult, htmt

from .conftest import arr

# HTMT is a closed form of the item correlations: rounding-level agreement.
CLOSED = 1e-10


@pytest.mark.parametrize("dataset", ["bfi", "hs"])
@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_htmt_matches_semtools(request, ref, dataset, missing):
    data = request.getfixturevalue(dataset)
    r = ref[dataset]
    res = htmt(data, r["constructs"], missing=missing)
    assert list(res.arithmetic.index) == r["htmt"]["constructs"]
    np.testing.assert_allclose(res.arithmetic.to_numpy(), arr(r["htmt"][f"{missing}_arith"]),
                               rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.geometric.to_numpy(), arr(r["htmt"][f"{missing}_geo"]),
                               rtol=0, atol=CLOSED)


def test_listwise_n_is_complete_cases(bfi, ref):
    res = surveykit.htmt(bfi, ref["bfi"]["constructs"])
    assert res.n_obs == ref["bfi"]["n_complete"]


def test_flags_at_085_and_090():
    rng = np.random.default_rng(11)
    f = rng.normal(size=(500, 1))
    g = 0.95 * f + np.sqrt(1 - 0.95 ** 2) * rng.normal(size=(500, 1))
    h = rng.normal(size=(500, 1))
    import pandas as pd

    cols = {}
    for name, factor in (("a", f), ("b", g), ("c", h)):
        for k in range(3):
            cols[f"{name}{k}"] = (0.8 * factor + 0.6 * rng.normal(size=(500, 1)))[:, 0]
    data = pd.DataFrame(cols)
    res = htmt(data, {c: [f"{c}{k}" for k in range(3)] for c in "abc"})
    flags = res.flags.set_index(["construct_1", "construct_2"])
    assert flags.loc[("a", "b"), "above_0.85"] and flags.loc[("a", "b"), "above_0.90"]
    assert not flags.loc[("a", "c"), "above_0.85"]
    assert "a - b" in str(res) and "exceeds 0.90" in str(res)
    assert isinstance(res, HTMTResult) and "<table" in res._repr_html_()


def test_single_item_construct_is_refused(hs):
    with pytest.raises(MeasurementError, match=r"at least 2 items per construct; 'v' has 1\."):
        htmt(hs, {"v": ["x1"], "t": ["x4", "x5"]})
