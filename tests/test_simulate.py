"""The simulator is deterministic per seed and its planted structure shows in the data."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from surveykit.errors import SurveykitError
from surveykit.simulate import parse_path_overrides, simulate


def composites(cb, truth):
    out = {}
    for cid in cb.constructs:
        cols = []
        for item in cb.likert_items(cid):
            x = truth[item.id].astype(float)
            cols.append(6 - x if item.reverse else x)
        out[cid] = pd.concat(cols, axis=1).mean(axis=1)
    return pd.DataFrame(out)


def test_same_seed_same_firms(ningbo, gum_model):
    a = simulate(ningbo, gum_model, 40, seed=7, mess=0.2)
    b = simulate(ningbo, gum_model, 40, seed=7, mess=0.2)
    c = simulate(ningbo, gum_model, 40, seed=8, mess=0.2)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert a.records == b.records and a.ticks == b.ticks
    assert not a.truth.equals(c.truth)


def test_planted_paths_show_in_composite_correlations(ningbo, gum_model):
    strong, weak = ("UP_LINK", "GVC"), ("UP_SOCAP", "SOCAP")
    sim_a = simulate(ningbo, gum_model, 3000, seed=1, paths={strong: 0.6, weak: 0.05})
    sim_b = simulate(ningbo, gum_model, 3000, seed=1, paths={strong: 0.05, weak: 0.6})
    ca, cb_ = composites(ningbo, sim_a.truth), composites(ningbo, sim_b.truth)
    r = lambda c, x, y: np.corrcoef(c[x], c[y])[0, 1]  # noqa: E731
    # composites attenuate the true correlation by reliability; the ordering must survive
    assert r(ca, "UP_LINK", "GVC") > r(cb_, "UP_LINK", "GVC") + 0.3
    assert r(cb_, "UP_SOCAP", "SOCAP") > r(ca, "UP_SOCAP", "SOCAP") + 0.3
    # the latent scores reproduce the planted standardized path of a single-predictor equation
    eta = sim_a.latent_scores
    slope = np.polyfit(eta["SOCAP"], eta["UP_SOCAP"], 1)[0]
    assert slope == pytest.approx(0.05, abs=0.04)
    # unit variance of every latent variable, as documented
    np.testing.assert_allclose(eta.var(), 1.0, atol=0.08)


def test_reverse_keyed_items_are_answered_in_reverse(ningbo, gum_model):
    sim = simulate(ningbo, gum_model, 2000, seed=3)
    t = sim.truth
    assert np.corrcoef(t["LEARN1"], t["LEARN4"])[0, 1] < -0.2
    assert np.corrcoef(t["LEARN1"], t["LEARN2"])[0, 1] > 0.2


def test_generating_model_is_documented_and_labelled(ningbo, gum_model, tmp_path):
    sim = simulate(ningbo, gum_model, 20, seed=2, paths={("UP_LINK", "GVC"): 0.5})
    gm = sim.generating_model
    assert gm["simulated"] is True and gm["paths_std"]["UP_LINK ~ GVC"] == 0.5
    assert gm["loadings"]["LEARN4"]["loading_std"] < 0 < gm["loadings"]["LEARN1"]["loading_std"]
    assert set(gm["thresholds"]) == {i.id for i in ningbo.likert_items()}
    path = sim.write_model(tmp_path / "m.json")
    assert json.loads(path.read_text())["n"] == 20
    truth = pd.read_csv(sim.write_truth(tmp_path / "truth.csv"))
    assert (truth["data_source"] == "SIMULATED").all()


def test_mess_is_readable_noise_and_blanks_are_missing_in_truth(ningbo, gum_model):
    sim = simulate(ningbo, gum_model, 200, seed=5, mess=0.3)
    labels = {lab[lang]: p for p, lab in ningbo.item("LEARN1").scale.labels.items() for lang in ("zh", "en")}
    fullwidth = str.maketrans("０１２３４５６７８９", "0123456789")
    kinds = set()
    for r, (rec, tick) in enumerate(zip(sim.records, sim.ticks, strict=True)):
        for item in ningbo.likert_items():
            expected = sim.truth.at[r, item.id]
            raw = rec.get(item.id)
            if item.id in tick:
                assert tick[item.id] == expected
                kinds.add("tick")
            if raw is None:
                assert np.isnan(expected)
                kinds.add("blank")
                continue
            if isinstance(raw, int):
                value = raw
            elif raw in labels:
                value, _ = labels[raw], kinds.add("label")
            else:
                text = raw.translate(fullwidth).removesuffix("分")
                value = int(float(text))
                kinds.add("text")
            assert value == expected
    assert kinds == {"tick", "blank", "label", "text"}


def test_form_and_wide_workbooks_are_labelled_simulated(ningbo, gum_model, tmp_path):
    sim = simulate(ningbo, gum_model, 3, seed=4, mess=0.5)
    wide = openpyxl.load_workbook(sim.write_wide(tmp_path / "w.xlsx"))
    assert {r[0]: r[1] for r in wide["_surveykit"].iter_rows(values_only=True)}["simulated"] == "yes"
    assert "SIMULATED" in " ".join(str(c.value) for c in wide["说明 Instructions"]["A"] if c.value)
    data = list(wide["Data"].iter_rows(min_row=3, values_only=True))
    assert [row[0] for row in data] == list(sim.truth["firm_id"])
    forms = sim.write_forms(tmp_path / "forms")
    assert [f.stem for f in forms] == list(sim.truth["firm_id"])
    ws = openpyxl.load_workbook(forms[0])["Questionnaire"]
    assert "SIMULATED" in ws["A3"].value


def test_bad_arguments(ningbo, gum_model):
    with pytest.raises(SurveykitError, match="is not a regression of the model"):
        simulate(ningbo, gum_model, 10, paths={("GVC", "UP_LINK"): 0.3})
    with pytest.raises(SurveykitError, match="explain more than all of its variance"):
        simulate(ningbo, gum_model, 10, paths={("UP_LINK", "GVC"): 1.2})
    with pytest.raises(SurveykitError, match=r"n \(0\) must be a positive number"):
        simulate(ningbo, gum_model, 0)
    assert parse_path_overrides(["UP_LINK~GVC=0.6"]) == {("UP_LINK", "GVC"): 0.6}
    with pytest.raises(SurveykitError, match="must look like 'UP_LINK~GVC=0.6'"):
        parse_path_overrides(["UP_LINK~GVC"])
