"""The command line: help for every command, one-line errors, exit codes, fast start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from surveykit.cli import COMMANDS, cli, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_text(name):
    command = cli.get_command(None, name)
    assert command is not None
    assert command.help and len(command.help.strip()) > 20, name
    for param in command.params:
        if param.param_type_name == "option" and param.name not in ("help",):
            assert param.help, f"{name} --{param.name} has no help"


def test_user_error_is_one_line_on_stderr(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("questionnaire: {id: x}\n", encoding="utf-8")
    rc = main(["codebook", str(bad)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err == f"error: {bad}: line 1, field 'respondent_id': is required\n"


def test_missing_file_is_an_error_line(tmp_path, capsys):
    rc = main(["template", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "t.xlsx")])
    assert rc == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none.yaml'}: cannot read codebook")


def test_usage_error_exit_code(capsys):
    assert main(["template"]) == 2
    assert "Missing argument 'CODEBOOK'" in capsys.readouterr().err


def test_template_and_simulate_commands(tmp_path, root, capsys):
    cb = str(root / "questionnaires" / "ningbo_apparel.yaml")
    assert main(["template", cb, "-o", str(tmp_path / "t.xlsx"), "--layout", "form", "--lang", "zh"]) == 0
    assert (tmp_path / "t.xlsx").exists()
    rc = main(["simulate", cb, "--model", str(root / "questionnaires" / "gum_model.lav"), "--n", "5",
               "--seed", "1", "--layout", "form", "-o", str(tmp_path / "forms"),
               "--path", "UP_LINK~GVC=0.5"])
    assert rc == 0
    assert len(list((tmp_path / "forms").glob("*.xlsx"))) == 5
    assert (tmp_path / "truth.csv").exists() and (tmp_path / "generating_model.json").exists()
    assert "SIMULATED data: 5 firms" in capsys.readouterr().out


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from surveykit.cli import main; "
            "rc = main(['--help']); "
            "heavy = [m for m in ('pandas', 'scipy', 'statsmodels', 'numpy', 'openpyxl') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_public_name_resolves():
    import surveykit

    for name in surveykit.__all__:
        assert getattr(surveykit, name) is not None, name
