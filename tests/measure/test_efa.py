import warnings

import numpy as np
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import EFAResult, efa
from surveykit.measure.rotations import oblimin, promax, varimax

from ._align import align
from .conftest import arr

# Loadings, communalities and factor correlations come from an iterative fit
# (psych's optim() with default tolerances) followed by an iterative rotation;
# the issue sets 1e-4 after aligning factor order and signs.
LOADINGS = 1e-4
# The eigenvalues of R are a closed form of the data.
EIGEN = 1e-10

CASES = [("bfi", 5, fm, rot, miss) for miss in ("pairwise", "listwise")
         for fm in ("minres", "ml") for rot in ("none", "varimax", "promax", "oblimin")]
CASES += [("hs", 3, fm, rot, "pairwise") for fm in ("minres", "ml")
          for rot in ("none", "varimax", "promax", "oblimin")]


@pytest.mark.parametrize(("dataset", "nf", "method", "rotation", "missing"), CASES,
                         ids=["-".join(map(str, c)) for c in CASES])
def test_efa_matches_psych(request, ref, dataset, nf, method, rotation, missing):
    data = request.getfixturevalue(dataset)
    expected = ref[dataset]["efa"][f"{method}_{rotation}_{missing}"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these fits is a Heywood case or fails to converge
        res = efa(data, nf, method=method, rotation=rotation, items=ref[dataset]["items"],
                  missing=missing)
    assert res.converged
    target = arr(expected["loadings"])
    phi = None if res.phi is None else res.phi.to_numpy()
    lam, phi = align(res.loadings.to_numpy(), target, phi)
    np.testing.assert_allclose(lam, target, rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(res.communality.to_numpy(), arr(expected["communality"]),
                               rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(res.uniqueness.to_numpy(), arr(expected["uniquenesses"]),
                               rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(np.sort(res.ss_loadings.to_numpy()), np.sort(arr(expected["ss_loadings"])),
                               rtol=0, atol=LOADINGS * nf)
    np.testing.assert_allclose(np.sort(res.proportion_var.to_numpy()), np.sort(arr(expected["prop_var"])),
                               rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(res.eigenvalues, arr(expected["values"]), rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(np.linalg.eigvalsh(res.correlation.to_numpy())[::-1],
                               arr(expected["e_values"]), rtol=0, atol=EIGEN)
    if rotation in ("promax", "oblimin"):
        np.testing.assert_allclose(phi, arr(expected["phi"]), rtol=0, atol=LOADINGS)
    else:
        assert res.phi is None and expected["phi"] is None
    _check_fit(res.fit, expected["fit"])


def _check_fit(got, want):
    # Fit statistics are closed forms of the fitted loadings: they inherit the
    # loadings' agreement, ~1e-6 relative for minres and ~1e-10 for ML.
    for key in ("objective", "chisq", "tli", "bic", "null_chisq", "rms"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, err_msg=key)
    assert got["df"] == want["df"] and got["null_df"] == want["null_df"]
    # p-values of 1e-260 move by 0.03% with a 1e-7 change in chi-square; chi-square is
    # checked above, so p is compared on the scale that matters
    np.testing.assert_allclose(got["pvalue"], want["pvalue"], rtol=1e-4, atol=1e-12)
    # RMSEA bounds: psych finds them with uniroot (tolerance 1.2e-4 on the
    # non-centrality, i.e. far below 1e-6 on the RMSEA scale at these n and df)
    np.testing.assert_allclose(got[["rmsea", "rmsea_low", "rmsea_high"]].to_numpy(float),
                               arr(want["rmsea"]), rtol=0, atol=1e-6)


def test_factors_are_ordered_and_signed_as_psych(bfi, ref):
    res = efa(bfi, 5, items=ref["bfi"]["items"])
    # psych orders factors by variance explained and makes column sums positive
    ss = res.ss_loadings.to_numpy()
    assert np.all(np.diff(ss) <= 0)
    assert np.all(res.loadings.sum() > 0)
    assert list(res.loadings.columns) == ["MR1", "MR2", "MR3", "MR4", "MR5"]
    # unaligned order and signs already agree with psych for this solution
    np.testing.assert_allclose(res.loadings.to_numpy(),
                               arr(ref["bfi"]["efa"]["minres_oblimin_pairwise"]["loadings"]),
                               rtol=0, atol=LOADINGS)


def test_rotations_preserve_the_common_part():
    rng = np.random.default_rng(7)
    a = rng.uniform(-0.2, 0.8, size=(15, 3))
    model = a @ a.T
    for rot in (varimax(a), promax(a), oblimin(a)):
        phi = np.eye(3) if rot.phi is None else rot.phi
        np.testing.assert_allclose(rot.loadings @ phi @ rot.loadings.T, model, atol=1e-10)
        assert rot.converged
    v = varimax(a)
    np.testing.assert_allclose(v.rotmat.T @ v.rotmat, np.eye(3), atol=1e-12)
    o = oblimin(a)
    np.testing.assert_allclose(np.diag(o.phi), 1.0, atol=1e-12)


def test_single_factor_needs_no_rotation(hs, ref):
    res = surveykit.efa(hs, 1, items=["x1", "x2", "x3"], rotation="oblimin")
    assert res.phi is None and res.loadings.shape == (3, 1)


def test_efa_input_errors(hs):
    items = ["x1", "x2", "x3", "x4", "x5"]
    with pytest.raises(MeasurementError, match=r"n_factors \(7\) cannot exceed the number of items \(5\)\."):
        efa(hs, 7, items=items)
    with pytest.raises(MeasurementError, match=r"method \('pca'\) must be one of 'minres' or 'ml'\."):
        efa(hs, 2, items=items, method="pca")
    with pytest.raises(MeasurementError, match=r"rotation \('quartimax'\) must be one of"):
        efa(hs, 2, items=items, rotation="quartimax")
    with pytest.raises(MeasurementError, match=r"n_factors \(0\) must be a positive integer\."):
        efa(hs, 0, items=items)


def test_result_prints(hs, ref):
    res = efa(hs, 3, items=ref["hs"]["items"], rotation="promax")
    assert isinstance(res, EFAResult)
    text = res.summary()
    assert "EFA: minres, promax rotation, 3 factor(s), n = 301 (pairwise)" in text
    assert "Factor correlations" in text and "h2" in text
    assert "Chi-square" in text and "RMSEA" in text and "TLI" in text
    assert "<table" in res._repr_html_()
