import numpy as np
import pandas as pd
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import (
    ConstructTable,
    FornellLarcker,
    HarmanResult,
    describe_constructs,
    fornell_larcker,
    harman,
)

from .conftest import arr

CLOSED = 1e-10


@pytest.mark.parametrize("dataset", ["bfi", "hs"])
def test_composite_table_matches_r(request, ref, dataset):
    data = request.getfixturevalue(dataset)
    r = ref[dataset]
    res = describe_constructs(data, r["constructs"], reverse=r.get("reverse", ()), scale=(1, 6))
    c = r["composites"]
    np.testing.assert_allclose(res.stats["mean"].to_numpy(), arr(c["mean"]), rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.stats["sd"].to_numpy(), arr(c["sd"]), rtol=0, atol=CLOSED)
    np.testing.assert_array_equal(res.stats["n"].to_numpy(), arr(c["n"]))
    np.testing.assert_allclose(res.corr.to_numpy(), arr(c["r"]), rtol=0, atol=CLOSED)
    # p-values as psych::corr.test: relative agreement (some are ~1e-100)
    np.testing.assert_allclose(res.pvalues.to_numpy(), arr(c["p"]), rtol=1e-8, atol=1e-300)


def test_table_has_stars_and_sqrt_ave_diagonal(hs, ref):
    h = ref["hs"]
    ave = dict(zip(h["fornell_larcker"]["constructs"], h["fornell_larcker"]["ave"], strict=True))
    res = describe_constructs(hs, h["constructs"], ave=ave)
    t = res.table
    assert t.iloc[1, 2] == "0.314***"
    assert t.iloc[0, 2] == f"({np.sqrt(ave['visual']):.3f})"
    assert t.iloc[0, 3] == ""
    assert "square root of AVE" in str(res)
    assert isinstance(res, ConstructTable) and "<table" in res._repr_html_()
    from_series = describe_constructs(hs, h["constructs"], ave=pd.Series(ave))
    assert from_series.table.equals(t)
    with pytest.raises(MeasurementError, match=r"ave names a construct not in constructs: 'other'\."):
        describe_constructs(hs, h["constructs"], ave={"other": 0.5})


def test_fornell_larcker_from_lavaan_values(ref):
    fl = ref["hs"]["fornell_larcker"]
    names = fl["constructs"]
    lc = pd.DataFrame(fl["latent_cor"], index=names, columns=names)
    res = fornell_larcker(dict(zip(names, fl["ave"], strict=True)), lc)
    expected = np.tril(arr(fl["table"]))
    got = np.tril(np.nan_to_num(res.table.to_numpy()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.isnan(res.table.iloc[0, 1])
    assert res.passed.all() and res.violations == []
    assert isinstance(res, FornellLarcker) and "<table" in res._repr_html_()


def test_fornell_larcker_flags_violations():
    lc = pd.DataFrame([[1, 0.8], [0.8, 1]], index=["a", "b"], columns=["a", "b"])
    res = surveykit.fornell_larcker({"a": 0.5, "b": 0.7}, lc)
    assert res.violations == [("a", "b")]
    assert res.passed.tolist() == [False, True]
    assert "a - b" in str(res)
    with pytest.raises(MeasurementError, match=r"ave has no value for construct 'b'\."):
        fornell_larcker({"a": 0.5}, lc)
    with pytest.raises(MeasurementError, match=r"ave\['a'\] \(1.5\) must lie between 0 and 1\."):
        fornell_larcker({"a": 1.5, "b": 0.5}, lc)


@pytest.mark.parametrize("dataset", ["bfi", "hs"])
def test_harman_matches_r(request, ref, dataset):
    data = request.getfixturevalue(dataset)
    r = ref[dataset]
    pc = harman(data, r["items"])
    fa = harman(data, r["items"], method="minres")
    np.testing.assert_allclose(pc.share, r["harman"]["pc_share"], rtol=0, atol=CLOSED)
    # one-factor minres: iterative, psych's optim() tolerance
    np.testing.assert_allclose(fa.share, r["harman"]["fa_share"], rtol=0, atol=1e-6)
    assert isinstance(pc, HarmanResult) and not pc.above_40


def test_harman_flags():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(400, 1))
    data = pd.DataFrame(0.9 * f + 0.45 * rng.normal(size=(400, 6)), columns=list("abcdef"))
    res = harman(data)
    assert res.above_40 and res.above_50
    assert "common method bias likely" in str(res)
    with pytest.raises(MeasurementError, match=r"method \('paf'\) must be one of 'pca' or 'minres'\."):
        harman(data, method="paf")


def test_fornell_larcker_from_a_cfa_result(hs, ref):
    fl = ref["hs"]["fornell_larcker"]
    fit = surveykit.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9", hs)
    res = fornell_larcker(fit)
    assert list(res.table.index) == fl["constructs"]
    # lavaan and surveykit's ML fits: iterative, agreement well inside 1e-6
    np.testing.assert_allclose(res.ave.to_numpy(), arr(fl["ave"]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.latent_correlations.to_numpy(), arr(fl["latent_cor"]), rtol=0, atol=1e-6)
    with pytest.raises(MeasurementError, match=r"latent_correlations is required unless ave is a CFA result\."):
        fornell_larcker({"a": 0.5})
