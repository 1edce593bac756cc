"""The parameter table: lavaan's cfa()/sem() defaults (lavaanify) and their options."""

from __future__ import annotations

import numpy as np
import pytest

from surveykit.errors import ModelSyntaxError, SurveykitError
from surveykit.sem.partable import build_partable
from surveykit.sem.syntax import parse_rows

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
NAMES = [f"x{i}" for i in range(1, 10)] + ["sex", "ageyr", "school", "y"]


def table(model, **kw):
    pt = build_partable(parse_rows(model), data_names=NAMES, **kw)
    return {(pt.lhs[i], pt.op[i], pt.rhs[i], int(pt.group[i])): (int(pt.free[i]), pt.ustart[i],
                                                               pt.label[i], int(pt.exo[i]))
            for i in range(pt.nrow)}, pt


def test_cfa_defaults_marker_variances_covariances():
    t, pt = table(HS)
    assert t[("visual", "=~", "x1", 1)][:2] == (0, 1.0)          # first loading fixed to 1
    assert t[("visual", "=~", "x2", 1)][0] > 0
    for v in NAMES[:9] + ["visual", "textual", "speed"]:
        assert t[(v, "~~", v, 1)][0] > 0                          # all variances free
    for a, b in [("visual", "textual"), ("visual", "speed"), ("textual", "speed")]:
        assert t[(a, "~~", b, 1)][0] > 0                          # exogenous factors correlate
    assert pt.nfree == 21 and not pt.meanstructure
    assert pt.ov_names == NAMES[:9] and pt.lv_names == ["visual", "textual", "speed"]


def test_std_lv_fixes_variances_frees_markers():
    t, pt = table(HS, std_lv=True)
    assert t[("visual", "=~", "x1", 1)][0] > 0
    assert t[("visual", "~~", "visual", 1)][:2] == (0, 1.0)
    assert pt.nfree == 21


def test_na_frees_marker_and_fixed_values():
    t, _ = table("f =~ NA*x1 + x2 + x3\nf ~~ 1*f\nx1 ~~ 0.5*x1")
    assert t[("f", "=~", "x1", 1)][0] > 0
    assert t[("f", "=~", "x2", 1)][0] > 0   # only the first loading is the marker
    assert t[("f", "~~", "f", 1)][:2] == (0, 1.0)
    assert t[("x1", "~~", "x1", 1)][:2] == (0, 0.5)


def test_single_indicator_residual_fixed_to_zero():
    t, _ = table("f =~ x1 + x2 + x3\ng =~ x4\nf ~ g")
    assert t[("x4", "~~", "x4", 1)][:2] == (0, 0.0)


def test_observed_covariates_are_fixed_x():
    t, pt = table("f =~ x1 + x2 + x3\nf ~ sex + ageyr")
    assert pt.ov_x == ["sex", "ageyr"]
    for key in [("sex", "~~", "sex", 1), ("sex", "~~", "ageyr", 1), ("ageyr", "~~", "ageyr", 1)]:
        assert t[key][0] == 0 and t[key][3] == 1
    assert ("f", "~~", "f", 1) in t and t[("f", "~~", "f", 1)][0] > 0


def test_covariate_with_user_variance_becomes_random():
    _, pt = table("f =~ x1 + x2 + x3\nf ~ sex\nsex ~~ sex")
    assert pt.ov_x == []


def test_auto_cov_y_between_pure_dependents():
    t, _ = table("x4 ~ x1\nx5 ~ x1")
    assert t[("x4", "~~", "x5", 1)][0] > 0
    t, _ = table("x4 ~ x1\nx5 ~ x4")
    assert ("x4", "~~", "x5", 1) not in t    # x4 predicts x5: not a pure dependent


def test_meanstructure_from_intercept_statement():
    t, pt = table("f =~ x1 + x2 + x3\nx1 ~ 1")
    assert pt.meanstructure
    assert t[("x2", "~1", "", 1)][0] > 0 and t[("f", "~1", "", 1)][:2] == (0, 0.0)


def test_shared_labels_share_one_parameter():
    t, pt = table("f =~ x1 + a*x2 + a*x3")
    assert t[("f", "=~", "x2", 1)][0] == t[("f", "=~", "x3", 1)][0]
    assert pt.nfree == 5   # one shared loading, three residual variances, one factor variance


def test_group_equal_loadings_and_intercepts_free_latent_means():
    t, pt = table(HS, ngroups=2, group_equal=("loadings", "intercepts"))
    assert t[("visual", "=~", "x2", 1)][0] == t[("visual", "=~", "x2", 2)][0]
    assert t[("visual", "=~", "x2", 2)][2] == t[("visual", "=~", "x2", 1)][2] != ""
    assert t[("x1", "~1", "", 1)][0] == t[("x1", "~1", "", 2)][0]
    assert t[("visual", "~1", "", 1)][:2] == (0, 0.0)
    assert t[("visual", "~1", "", 2)][0] > 0
    assert t[("visual", "=~", "x1", 2)][:2] == (0, 1.0)   # markers stay fixed


def test_group_partial_frees_single_parameters():
    t, _ = table(HS, ngroups=2, group_equal=("loadings",), group_partial=("visual =~ x2",))
    assert t[("visual", "=~", "x2", 1)][0] != t[("visual", "=~", "x2", 2)][0]
    assert t[("visual", "=~", "x3", 1)][0] == t[("visual", "=~", "x3", 2)][0]


def test_per_group_vectors():
    t, _ = table("f =~ x1 + c(a, b)*x2 + c(1, NA)*x3", ngroups=2)
    assert t[("f", "=~", "x2", 1)][2:3] == ("a",) and t[("f", "=~", "x2", 2)][2:3] == ("b",)
    assert t[("f", "=~", "x3", 1)][:2] == (0, 1.0) and t[("f", "=~", "x3", 2)][0] > 0


def test_std_lv_metric_frees_variances_in_later_groups():
    t, _ = table(HS, ngroups=2, std_lv=True, group_equal=("loadings",))
    assert t[("visual", "~~", "visual", 1)][:2] == (0, 1.0)
    assert t[("visual", "~~", "visual", 2)][0] > 0


@pytest.mark.parametrize(("model", "kw", "message"), [
    ("f =~ x1 + x2 + x99", {}, "line 1: variable 'x99' is neither a latent variable "
                               r"\(defined with =~\) nor a column of the data"),
    ("x1 =~ x2 + x3", {}, "line 1: latent variable 'x1' has the name of a column of the data"),
    ("f =~ x1 + x2\nf =~ x2", {}, r"line 2: 'f =~ x2' is specified twice"),
    ("f =~ x1 + c(a, b, c)*x2", {"ngroups": 2},
     "line 1: 'f =~ x2' has 3 per-group modifiers but the data have 2 group"),
])
def test_model_errors(model, kw, message):
    with pytest.raises(ModelSyntaxError, match=message):
        build_partable(parse_rows(model), data_names=NAMES, **kw)


def test_unknown_group_equal():
    with pytest.raises(SurveykitError, match="group_equal contains 'loading', which is not one of"):
        build_partable(parse_rows(HS), data_names=NAMES, ngroups=2, group_equal=("loading",))


def test_partable_frame():
    _, pt = table(HS)
    frame = pt.to_frame()
    assert list(frame.columns) == ["id", "lhs", "op", "rhs", "user", "group", "free", "ustart",
                                   "exo", "label", "plabel"]
    assert frame["user"].sum() == 9 and np.all(frame["plabel"].str.match(r"^\.p\d+\.$"))
