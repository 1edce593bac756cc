"""Cases of ``results/core_reference.json`` (written by ``results/core_reference.R``) fitted with surveykit."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
CORE = HERE / "results" / "core_reference.json"
LAVAAN = HERE / "results" / "lavaan_reference.json"

# surveykit fit keys -> lavaan fitMeasures names
FIT_NAMES = {
    "npar": "npar", "n": "ntotal", "fmin": "fmin", "chisq": "chisq", "df": "df",
    "pvalue": "pvalue", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df",
    "baseline_pvalue": "baseline.pvalue", "cfi": "cfi", "tli": "tli", "nfi": "nfi", "rfi": "rfi",
    "ifi": "ifi", "rni": "rni", "pnfi": "pnfi", "loglik": "logl",
    "loglik_h1": "unrestricted.logl", "aic": "aic", "bic": "bic", "bic2": "bic2",
    "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper",
    "rmsea_pclose": "rmsea.pvalue", "rmr": "rmr", "srmr": "srmr", "gfi": "gfi", "agfi": "agfi",
    "pgfi": "pgfi",
}


@cache
def core() -> dict:
    return json.loads(CORE.read_text(encoding="utf-8"))["cases"]


@cache
def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / f"{name}.csv")


def options(case: str) -> tuple[str, dict]:
    """Dataset and surveykit options of a reference case."""
    c = core()[case]
    if case.startswith("pd_"):
        return "PoliticalDemocracy", {}
    if case.startswith("hs_school"):
        return "HolzingerSwineford1939", {"group": "school",
                                          "group_equal": tuple(c.get("group_equal") or ()),
                                          "group_partial": tuple(c.get("group_partial") or ())}
    kw = {"hs_cfa_stdlv": {"std_lv": True}, "hs_cfa_means": {"meanstructure": True},
          "hs_higher_order_stdlv": {"std_lv": True},
          "hs_mimic_means": {"meanstructure": True}}.get(case, {})
    return "HolzingerSwineford1939", kw


@cache
def fitted(case: str):
    import surveykit
    name, kw = options(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of the reference models is a Heywood case
        return surveykit.sem(core()[case]["model"], dataset(name), **kw)


def lavaan_table(case: str) -> pd.DataFrame:
    t = pd.DataFrame(core()[case]["estimates"])
    if "group" not in t:
        t["group"] = 1
    t.loc[t["op"].isin([":=", "==", "<", ">"]), "group"] = 0
    return t


def merged(case: str) -> pd.DataFrame:
    """surveykit's estimates joined row by row with lavaan's (suffix ``_r``)."""
    ours = fitted(case).estimates
    ref = lavaan_table(case).rename(columns={"est": "est_r", "se": "se_r", "z": "z_r",
                                             "pvalue": "pvalue_r", "ci.lower": "ci_lower_r",
                                             "ci.upper": "ci_upper_r", "std.lv": "std_lv_r",
                                             "std.all": "std_all_r", "label": "label_r"})
    out = ours.merge(ref, on=["lhs", "op", "rhs", "group"], how="outer", indicator=True)
    assert (out["_merge"] == "both").all(), out[out["_merge"] != "both"]
    return out


def finite(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) | np.isfinite(b)
    return a[keep], b[keep]
