"""``surveykit analyze`` end to end on two simulated clusters with planted path differences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surveykit import import_paths, load_codebook
from surveykit.analysis import analyze, rerun
from surveykit.analysis.bundle import compare_results
from surveykit.cli import main
from surveykit.simulate import simulate

DATA = Path(__file__).parent / "data"
MODEL = (DATA / "mini_gum.lav").read_text(encoding="utf-8")
# planted: the learning mechanism differs, the policy path is the same in both clusters
PLANTED = {"mini_a": {("UP_TECH", "LEARN"): 0.65, ("LEARN", "POLICY"): 0.40, ("LEARN", "GOVERN"): 0.2},
           "mini_b": {("UP_TECH", "LEARN"): 0.10, ("LEARN", "POLICY"): 0.40, ("LEARN", "GOVERN"): 0.2}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analyze")
    path = tmp / "store.sqlite"
    for k, cid in enumerate(("mini_a", "mini_b")):
        cb = load_codebook(DATA / f"{cid}.yaml")
        sim = simulate(cb, MODEL, 400, seed=100 + k, paths=PLANTED[cid], mess=0.02)
        wide = sim.write_wide(tmp / f"{cid}.xlsx")
        summary = import_paths([wide], cb, path, jobs=1)
        assert summary.ok
    return path


@pytest.fixture(scope="module")
def result(store):
    return analyze(store, MODEL, estimator="ML", bootstrap=200, seed=7)


def test_bundle_has_every_step(result):
    res = result.results
    assert res["scope"] == "comparison" and res["groups"] == ["mini_a", "mini_b"]
    assert res["simulated"] is True
    assert set(res["per_group"]) == {"mini_a", "mini_b", "pooled"}
    for gid in ("mini_a", "mini_b"):
        g = res["per_group"][gid]
        for key in ("data_quality", "item_stats", "reliability", "factorability", "efa", "cmb", "cfa",
                    "structural", "composite", "moderation", "mediation", "descriptives", "limits"):
            assert key in g, key
        assert {r["construct"] for r in g["reliability"]} == {"POLICY", "GOVERN", "LEARN", "UP_TECH"}
        assert all(r["cr"] is not None and r["ave"] is not None for r in g["reliability"])
        ind = g["structural"]["indirect"][0]
        assert ind["name"] == "POLICY_LEARN_TECH" and ind["ci_method"].startswith("bootstrap")
        assert ind["ci_lower"] < ind["est"] < ind["ci_upper"]
        assert ind["std_ci_lower"] < ind["std_all"] < ind["std_ci_upper"]
        assert {m["path"] for m in g["moderation"]} == {"UP_TECH ~ LEARN"}
        assert {(m["x"], m["m"], m["y"]) for m in g["mediation"]} == {("POLICY", "LEARN", "UP_TECH")}
        assert set(g["composite"]) == {"ols_hc3", "sur", "3sls"}
    steps = [r["step"] for r in res["comparison"]["invariance"]]
    assert steps == ["configural", "metric", "scalar", "strict"]


def test_planted_difference_is_found_and_equal_path_is_not(result):
    tests = {t["path"]: t for t in result.comparison["path_tests"]}
    assert tests["UP_TECH ~ LEARN"]["differs"] and tests["UP_TECH ~ LEARN"]["pvalue"] < 0.01
    std = tests["UP_TECH ~ LEARN"]["std_all"]
    assert std["mini_a"] > std["mini_b"] + 0.3
    assert not tests["LEARN ~ POLICY"]["differs"]
    assert "Technical upgrading" in result.comparison["statement"]["en"]
    assert "技术升级" in result.comparison["statement"]["zh"]


def test_same_seed_reproduces_bit_for_bit(store, result):
    again = analyze(store, MODEL, estimator="ML", bootstrap=200, seed=7)
    assert compare_results(result.results, again.results, rtol=0, atol=0) == []
    other = analyze(store, MODEL, estimator="ML", bootstrap=200, seed=8, pooled=False)
    changed = {c.path for c in compare_results(result.results, other.results, rtol=0, atol=0)}
    assert any("indirect" in p and "ci_lower" in p for p in changed)


def test_write_and_rerun(result, tmp_path, store):
    out = result.write(tmp_path / "bundle")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["model"]["text"] == MODEL
    assert {i["codebook"] for i in manifest["inputs"]} == {"mini_a", "mini_b"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert (out / "tables" / "comparison_paths.csv").exists()
    report = rerun(out / "manifest.json")
    assert report.ok, report.summary()
    # a changed number is reported and the command exits 1
    results = json.loads((out / "results.json").read_text())
    results["per_group"]["mini_a"]["reliability"][0]["alpha"] += 0.01
    (out / "results.json").write_text(json.dumps(results))
    assert main(["rerun", str(out / "manifest.json")]) == 1


def test_rerun_refuses_a_changed_input(result, tmp_path):
    out = result.write(tmp_path / "bundle2")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["inputs"][0]["sha256"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match="input changed since the analysis"):
        rerun(out / "manifest.json")


def test_single_cluster_subset_reruns_to_the_same_numbers(result, tmp_path):
    sub = result.subset("mini_b")
    assert sub.results["scope"] == "cluster" and list(sub.results["per_group"]) == ["mini_b"]
    assert all(i["codebook"] == "mini_b" for i in sub.manifest["inputs"])
    out = sub.write(tmp_path / "mini_b")
    report = rerun(out / "manifest.json")
    assert report.ok, report.summary()


def test_user_errors_are_one_line(store, tmp_path, capsys):
    bad = tmp_path / "bad.lav"
    bad.write_text("F =~ LEARN1 + LEARN2\nfoo ~~~ bar\n", encoding="utf-8")
    assert main(["analyze", "-s", str(store), "-m", str(bad), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: line 2, column 7: unexpected second operator")
    assert err.splitlines()[1:] == ["    foo ~~~ bar", "          ^"]
    good = str(DATA / "mini_gum.lav")
    assert main(["analyze", "-s", str(tmp_path / "none.sqlite"), "-m", good, "-o", str(tmp_path)]) == 1
    assert "no such store" in capsys.readouterr().err
