import pytest

from surveykit.cli import COMMANDS, main

from .conftest import HERE

ROOT = HERE.parents[1]
CODEBOOK = ROOT / "questionnaires" / "ningbo_apparel.yaml"
WIDE = ROOT / "questionnaires" / "examples" / "ningbo_apparel" / "ningbo_apparel_wide.xlsx"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "survey.db"
    assert main(["import", "--codebook", str(CODEBOOK), "--store", str(path), str(WIDE)]) == 0
    return path


def test_measure_prints_every_table(store, capsys):
    capsys.readouterr()
    rc = main(["measure", "--store", str(store), "--codebook", str(CODEBOOK), "--factors", "3",
               "--rotation", "promax", "--n-iter", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "cluster = ningbo_apparel (n = " in out
    for heading in ("Item statistics", "Reliability", "Kaiser-Meyer-Olkin", "Bartlett's test",
                    "Parallel analysis (2 simulations", "EFA: minres, promax rotation, 3 factor(s)", "HTMT2",
                    "Harman's single-factor test", "Construct means, standard deviations"):
        assert heading in out
    assert "LEARN" in out and "UP_SOCAP" in out


def test_measure_errors(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["measure", "--store", str(missing), "--codebook", str(CODEBOOK)]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such store (file not found)\n"


def test_measure_without_responses(store, capsys):
    other = ROOT / "questionnaires" / "yongkang_hardware.yaml"
    capsys.readouterr()
    assert main(["measure", "--store", str(store), "--codebook", str(other)]) == 1
    assert capsys.readouterr().err == (
        f"error: {store}: the store has no responses to questionnaire 'yongkang_hardware'.\n")


def test_measure_is_registered_with_help():
    assert COMMANDS["measure"] == ("surveykit.cli.measure_cmds", "measure")
    from surveykit.cli.measure_cmds import measure

    assert measure.help and all(p.help for p in measure.params)
