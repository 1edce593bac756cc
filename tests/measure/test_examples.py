"""The shipped simulated examples (questionnaires/examples) as a second reference data set."""

import warnings

import numpy as np
import pandas as pd
import pytest

import surveykit

from ._align import align
from .conftest import HERE, arr

EXAMPLES = ["ningbo_apparel", "yongkang_hardware"]
ROOT = HERE.parents[1]
# closed forms (alpha, KMO, Bartlett, HTMT, composites) vs iterative fits (omega,
# EFA), as justified in test_reliability.py and test_efa.py
CLOSED, OMEGA, LOADINGS = 1e-10, 1e-6, 1e-4


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request, ref):
    data = pd.read_csv(HERE / "data" / f"{request.param}.csv")
    return request.param, data, ref[request.param]


def _reversed(data, r):
    out = data.copy()
    for item in r["reverse"]:
        out[item] = 6 - out[item]
    return out


def test_reference_uses_the_codebooks_constructs_and_reverse_items(example):
    name, _, r = example
    cb = surveykit.load_codebook(ROOT / "questionnaires" / f"{name}.yaml")
    assert sorted(cb.reverse_items) == sorted(r["reverse"])
    assert cb.construct_items() == r["constructs"]


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_reliability(example, missing):
    _, data, r = example
    table = surveykit.reliability(data, r["constructs"], reverse=r["reverse"], scale=(1, 5),
                                  missing=missing)
    items = table.item_table
    for c, e in r[f"reliability_{missing}"].items():
        assert table.loc[c, "n"] == e["n_obs"]
        got = table.loc[c, ["alpha", "alpha_std", "alpha_ci_low", "alpha_ci_high"]].to_numpy(float)
        want = [e["alpha"], e["alpha_std"], e["feldt_low"], e["feldt_high"]]
        np.testing.assert_allclose(got, want, rtol=0, atol=CLOSED)
        np.testing.assert_allclose(items.loc[c, "r_drop"], arr(e["r_drop"]), rtol=0, atol=CLOSED)
        np.testing.assert_allclose(items.loc[c, "alpha_if_deleted"], arr(e["alpha_drop"]),
                                   rtol=0, atol=CLOSED)
        np.testing.assert_allclose(table.loc[c, "omega"], e["omega_tot"], rtol=0, atol=OMEGA)


def test_factorability_and_htmt(example):
    _, data, r = example
    x = _reversed(data, r)
    k = surveykit.kmo(x, items=r["items"])
    np.testing.assert_allclose(k.overall, r["kmo_pairwise"]["msa"], rtol=0, atol=CLOSED)
    np.testing.assert_allclose(k.per_item.to_numpy(), arr(r["kmo_pairwise"]["msai"]), rtol=0, atol=CLOSED)
    b = surveykit.bartlett(x, items=r["items"])
    np.testing.assert_allclose(b.statistic, r["bartlett_pairwise"]["chisq"], rtol=1e-10)
    for missing in ("listwise", "pairwise"):
        h = surveykit.htmt(x, r["constructs"], missing=missing)
        np.testing.assert_allclose(h.arithmetic.to_numpy(), arr(r["htmt"][f"{missing}_arith"]),
                                   rtol=0, atol=CLOSED)
        np.testing.assert_allclose(h.geometric.to_numpy(), arr(r["htmt"][f"{missing}_geo"]),
                                   rtol=0, atol=CLOSED)


def test_composites(example):
    _, data, r = example
    res = surveykit.describe_constructs(data, r["constructs"], reverse=r["reverse"])
    c = r["composites"]
    np.testing.assert_allclose(res.stats["mean"].to_numpy(), arr(c["mean"]), rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.stats["sd"].to_numpy(), arr(c["sd"]), rtol=0, atol=CLOSED)
    np.testing.assert_allclose(res.corr.to_numpy(), arr(c["r"]), rtol=0, atol=CLOSED)


@pytest.mark.parametrize("config", ["minres_oblimin", "ml_promax", "minres_varimax"])
def test_efa_eleven_factors(example, config):
    _, data, r = example
    method, rotation = config.split("_")
    e = r["efa"][f"{config}_pairwise"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = surveykit.efa(_reversed(data, r), e["n_factors"], method=method, rotation=rotation,
                            items=r["items"])
    phi = None if res.phi is None else res.phi.to_numpy()
    lam, phi = align(res.loadings.to_numpy(), arr(e["loadings"]), phi)
    np.testing.assert_allclose(lam, arr(e["loadings"]), rtol=0, atol=LOADINGS)
    np.testing.assert_allclose(res.communality.to_numpy(), arr(e["communality"]), rtol=0, atol=LOADINGS)
    if phi is not None:
        np.testing.assert_allclose(phi, arr(e["phi"]), rtol=0, atol=LOADINGS)

