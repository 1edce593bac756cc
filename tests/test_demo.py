"""``surveykit demo`` runs the whole chain on the shipped examples."""

from __future__ import annotations

import json

from surveykit.cli import main


def test_demo_runs_the_whole_chain(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out
    for cid in ("ningbo_apparel", "yongkang_hardware"):
        assert (tmp_path / cid / "templates" / f"{cid}_wide_template.xlsx").exists()
        assert (tmp_path / cid / "templates" / f"{cid}_form_template.xlsx").exists()
        results = json.loads((tmp_path / cid / "results.json").read_text())
        assert results["simulated"] is True and results["groups"] == [cid]
        assert results["per_group"][cid]["n_analysed"] > 200
    comparison = json.loads((tmp_path / "comparison" / "results.json").read_text())
    assert comparison["scope"] == "comparison"
    assert comparison["comparison"]["statement"]["en"]
    for lang in ("zh", "en"):
        html = (tmp_path / "comparison" / "report" / f"report.{lang}.html").read_text(encoding="utf-8")
        assert "SIMULATED" in html or "模拟" in html
    manifest = json.loads((tmp_path / "comparison" / "manifest.json").read_text())
    assert len(manifest["inputs"]) == 301  # 300 Ningbo form workbooks and one Yongkang wide workbook
