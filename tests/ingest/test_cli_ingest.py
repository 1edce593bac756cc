"""The import, validate, status and export commands: output, exit codes, error lines."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from surveykit.cli import main


@pytest.fixture(scope="module")
def messy_csv(tmp_path_factory, root):
    """The Ningbo example as a CSV with hostile firm names."""
    ex = root / "questionnaires" / "examples" / "ningbo_apparel"
    df = pd.read_csv(ex / "truth.csv", dtype=str, keep_default_na=False).head(40)
    df.loc[0, "firm_name"] = "=HYPERLINK(\"http://x\",\"click\")"
    df.loc[1, "firm_name"] = "+cmd|' /C calc'!A0"
    df.loc[2, "firm_name"] = "@SUM(1+1)"
    df.loc[3, "firm_name"] = "-2+3"
    path = tmp_path_factory.mktemp("cli") / "ningbo.csv"
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_import_validate_status_export(tmp_path, root, messy_csv, capsys):
    cb = str(root / "questionnaires" / "ningbo_apparel.yaml")
    store = str(tmp_path / "s.sqlite")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    rc = main(["import", "--codebook", cb, "--store", store, str(messy_csv), str(bad)])
    out, err = capsys.readouterr()
    assert rc == 1  # one file was unreadable ...
    lines = out.splitlines()
    assert lines[0] == "files read: 1 of 2 (1 imported, 0 unchanged, 1 failed)"
    assert lines[1] == "firms imported: 40 (40 rows)"  # ... and the other still went in
    assert lines[2] == "rows quarantined: 0"
    assert lines[3].startswith("findings: 1 error, ")
    assert out.rstrip().endswith("failed: broken.xlsx: not a valid workbook, the zip container is "
                                 "damaged or truncated (file)")
    assert err == ""

    assert main(["import", "-c", cb, "-s", store, str(messy_csv)]) == 0
    assert capsys.readouterr().out.startswith("files read: 1 of 1 (0 imported, 1 unchanged")

    assert main(["validate", "--store", store, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {"code", "severity", "file", "sheet", "cell", "row", "respondent", "message"} <= \
        set(records[0])
    assert any(r["code"] == "unreadable_file" and r["file"] == "broken.xlsx" for r in records)

    assert main(["validate", "--store", store, "--severity", "error"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("error   unreadable_file        broken.xlsx: broken.xlsx: ")
    assert text[-1] == "1 error, 0 warning, 0 info"

    assert main(["validate", "--store", store, "--codebook", cb]) == 0  # reruns the checks
    assert capsys.readouterr().out.splitlines()[-1].startswith("1 error, ")

    assert main(["status", "--store", store]) == 0
    status = capsys.readouterr().out
    assert "ningbo_apparel [ningbo_apparel]: 1 files, 40 rows" in status
    assert "failed files: 1" in status and "ningbo.csv v1: imported, wide, 40 rows" in status
    assert "broken.xlsx: failed, -, 0 rows" in status

    csv_out = tmp_path / "out.csv"
    assert main(["export", "--store", store, "-o", str(csv_out), "--include-flagged"]) == 0
    assert capsys.readouterr().out == f"wrote 40 rows to {csv_out}\n"
    back = pd.read_csv(csv_out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = back.set_index("firm_id")["firm_name"]
    assert names.iloc[0] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert names.iloc[1].startswith("'+cmd") and names.iloc[2] == "'@SUM(1+1)"
    assert names.iloc[3] == "'-2+3"
    assert not any(v.startswith(("=", "+", "-", "@")) for v in back.to_numpy().ravel())

    xlsx_out = tmp_path / "out.xlsx"
    assert main(["export", "--store", store, "-o", str(xlsx_out), "--include-flagged"]) == 0
    ws = openpyxl.load_workbook(xlsx_out)["responses"]
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for v in cells)
    assert "'=HYPERLINK(\"http://x\",\"click\")" in cells
    capsys.readouterr()


def test_export_formats_and_errors(tmp_path, root, messy_csv, capsys):
    cb = str(root / "questionnaires" / "ningbo_apparel.yaml")
    store = str(tmp_path / "s.sqlite")
    assert main(["import", "-c", cb, "-s", store, str(messy_csv)]) == 0
    capsys.readouterr()
    rc = main(["export", "-s", store, "-o", str(tmp_path / "x.json")])
    assert rc == 1
    assert capsys.readouterr().err == ("error: x.json: unknown export format '.json' "
                                       "(use .csv, .xlsx or .parquet)\n")
    pq = tmp_path / "x.parquet"
    rc = main(["export", "-s", store, "-o", str(pq)])
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert rc == 1
        assert capsys.readouterr().err == ("error: x.parquet: writing parquet needs the pyarrow "
                                           "package (pip install pyarrow)\n")
    else:
        assert rc == 0 and len(pd.read_parquet(pq)) == len(pd.read_csv(messy_csv))


def test_store_and_codebook_mistakes_are_one_line(tmp_path, capsys):
    missing = tmp_path / "none.sqlite"
    assert main(["status", "--store", str(missing)]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such store (file not found)\n"
    assert main(["validate", "--store", str(missing)]) == 1
    capsys.readouterr()
    rc = main(["import", "-c", str(tmp_path / "nope.yaml"), "-s", str(tmp_path / "s.sqlite"),
               str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_policy_file_is_used_and_recorded(tmp_path, root, messy_csv, capsys):
    cb = str(root / "questionnaires" / "ningbo_apparel.yaml")
    store = tmp_path / "s.sqlite"
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"severity": {"agree_with_reverse": "error"},
                                  "mahalanobis_alpha": 0.01}), encoding="utf-8")
    assert main(["import", "-c", cb, "-s", str(store), "--policy", str(policy),
                 str(messy_csv)]) == 0
    capsys.readouterr()
    from surveykit.store import open_store

    with open_store(store) as st:
        assert st.policy().severity == {"agree_with_reverse": "error"}
        assert st.policy().mahalanobis_alpha == 0.01
        agree = st.findings(code="agree_with_reverse")
        assert set(agree.severity) <= {"error"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"severity": {"nope": "error"}}), encoding="utf-8")
    assert main(["import", "-c", cb, "-s", str(store), "--policy", str(bad), str(messy_csv)]) == 1
    assert capsys.readouterr().err.startswith("error: policy: unknown reason code 'nope'")
