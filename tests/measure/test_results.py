"""Every public attribute of every results class can be read and every result prints."""

import dataclasses
import warnings
from functools import cached_property

import pandas as pd

import surveykit
from surveykit.measure import results as R


def result_checker(res):
    cls = type(res)
    touched = 0
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = getattr(cls, name)
        if isinstance(attr, (property, cached_property)):
            getattr(res, name)
            touched += 1
    for f in dataclasses.fields(res):
        getattr(res, f.name)
        touched += 1
    text = res.summary()
    assert text and text == str(res)
    html = res._repr_html_()
    assert html.startswith("<div>")
    return touched


def test_every_result_class(hs, bfi, ref):
    h = ref["hs"]
    fl = h["fornell_larcker"]
    names = fl["constructs"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        objs = [
            surveykit.item_stats(hs, h["items"], group="school", scale=(1, 10)),
            surveykit.kmo(hs, items=h["items"]),
            surveykit.bartlett(hs, items=h["items"]),
            surveykit.efa(hs, 3, items=h["items"], rotation="oblimin"),
            surveykit.efa(hs, 3, items=h["items"], method="ml", rotation="varimax"),
            surveykit.parallel_analysis(hs, h["items"], n_iter=3, seed=1),
            surveykit.htmt(hs, h["constructs"]),
            surveykit.harman(hs, h["items"]),
            surveykit.describe_constructs(hs, h["constructs"]),
            surveykit.measure.harman_cfa(hs, h["constructs"]),
            surveykit.fornell_larcker(dict(zip(names, fl["ave"], strict=True)),
                                      pd.DataFrame(fl["latent_cor"], index=names, columns=names)),
        ]
    for res in objs:
        assert result_checker(res) > 0
    kinds = {type(o).__name__ for o in objs}
    assert kinds >= {"ItemStats", "KMOResult", "BartlettResult", "EFAResult", "ParallelResult",
                     "HTMTResult", "HarmanResult", "ConstructTable", "FornellLarcker",
                     "SingleFactorCFA"}


def test_results_are_frozen(hs, ref):
    res = surveykit.kmo(hs, items=ref["hs"]["items"])
    try:
        res.statistic = 0.0
    except dataclasses.FrozenInstanceError:
        pass
    else:  # pragma: no cover
        raise AssertionError("results must be immutable")


def test_public_names_resolve_lazily():
    for name in ("item_stats", "reliability", "kmo", "bartlett", "efa", "parallel_analysis", "htmt",
                 "harman", "composite_scores", "describe_constructs", "fornell_larcker"):
        assert callable(getattr(surveykit, name))
        assert getattr(surveykit, name) is getattr(surveykit.measure, name)


def test_formatting_helpers():
    assert R.stars(0.0004) == "***" and R.stars(0.004) == "**" and R.stars(0.04) == "*"
    assert R.stars(0.2) == "" and R.stars(float("nan")) == ""
    assert R.format_pvalue(0.0001) == "<0.001" and R.format_pvalue(0.0123) == "0.012"
    assert R.format_number(float("nan")) == "" and R.format_number(3) == "3"
    assert R.format_number(0.12345) == "0.123"
