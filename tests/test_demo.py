"""``surveykit demo`` runs on the shipped examples."""

from __future__ import annotations

from surveykit.cli import main


def test_demo_runs_into_a_folder(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out
    for cid in ("ningbo_apparel", "yongkang_hardware"):
        assert (tmp_path / cid / "templates" / f"{cid}_wide_template.xlsx").exists()
