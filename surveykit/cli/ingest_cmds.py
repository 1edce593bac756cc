"""``surveykit import | validate | status | export``: the store commands."""

from __future__ import annotations

import click


@click.command("import")
@click.option("--codebook", "-c", required=True, type=click.Path(dir_okay=False),
              help="Questionnaire codebook (YAML).")
@click.option("--store", "-s", required=True, type=click.Path(dir_okay=False),
              help="Survey store file (created if missing).")
@click.option("--layout", type=click.Choice(["wide", "form"]), default=None,
              help="Force the layout instead of detecting it.")
@click.option("--jobs", "-j", type=int, default=None,
              help="Worker processes for parsing (default: CPU count).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Exclusion policy (JSON): severities and cut-offs.")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def import_cmd(codebook: str, store: str, layout: str | None, jobs: int | None,
               policy_file: str | None, paths: tuple[str, ...]) -> int:
    """Import field workbooks (files or folders) into a survey store.

    Reads .xlsx, .xls, .ods and .csv in the wide or the form layout, normalises
    answers (every change logged), records findings and quarantines rows with
    errors.  Exits 0 only when every file was readable.
    """
    import sys

    from surveykit.ingest import import_paths

    policy = _read_policy(policy_file) if policy_file else None
    summary = import_paths(list(paths), codebook, store, layout=layout, policy=policy, jobs=jobs,
                           argv=["import", *sys.argv[1:]] if sys.argv else None)
    click.echo(summary.summary())
    return 0 if summary.ok else 1


def _read_policy(path: str):  # noqa: ANN202 - ExclusionPolicy, imported lazily
    import json

    from surveykit.errors import SurveykitError
    from surveykit.validate.findings import ExclusionPolicy

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SurveykitError(f"{path}: not a readable JSON policy ({exc})") from None
    if not isinstance(data, dict):
        raise SurveykitError(f"{path}: a policy is a JSON object (line 1)")
    try:
        return ExclusionPolicy(**data)
    except TypeError as exc:
        raise SurveykitError(f"{path}: {exc} (policy)") from None


@click.command("validate")
@click.option("--store", "-s", required=True, type=click.Path(dir_okay=False),
              help="Survey store file.")
@click.option("--codebook", "-c", type=click.Path(dir_okay=False), default=None,
              help="Rerun the sample checks with this codebook before listing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@click.option("--severity", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Only findings of this severity.")
def validate_cmd(store: str, codebook: str | None, as_json: bool, severity: str | None) -> int:
    """List the findings of a store: reason code, severity and location."""
    import json

    from surveykit.store import open_store

    with open_store(store, create=False) as st:
        if codebook:
            from surveykit.codebook import load_codebook
            from surveykit.ingest import revalidate

            revalidate(st, load_codebook(codebook), st.policy())
        df = st.findings(severity=severity)
    cols = ["code", "severity", "scope", "file", "sheet", "cell", "row", "respondent", "item",
            "value", "message"]
    if as_json:
        records = []
        for rec in df[cols].to_dict(orient="records"):
            records.append({k: (None if v != v else (int(v) if k == "row" else v))
                            for k, v in rec.items()})
        click.echo(json.dumps(records, ensure_ascii=False, indent=1))
        return 0
    if df.empty:
        click.echo("no findings")
        return 0
    for rec in df[cols].itertuples(index=False):
        where = ", ".join(str(x) for x in (rec.file, rec.sheet,
                                           rec.cell if isinstance(rec.cell, str) else
                                           (f"row {int(rec.row)}" if rec.row == rec.row and
                                            rec.row is not None else None),
                                           rec.respondent) if x and x == x)
        click.echo(f"{rec.severity:<7} {rec.code:<22} {where}: {rec.message}")
    counts = df["severity"].value_counts()
    click.echo(", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("error", "warning", "info")))
    return 0


@click.command("status")
@click.option("--store", "-s", required=True, type=click.Path(dir_okay=False),
              help="Survey store file.")
def status_cmd(store: str) -> int:
    """Counts per questionnaire/cluster and per file."""
    from surveykit.store import open_store

    with open_store(store, create=False) as st:
        counts = st.counts()
        files = st.imports()
    click.echo(f"store: {store} (schema {SCHEMA()})")
    for q in counts["questionnaires"]:
        click.echo(f"{q['questionnaire']} [{q['cluster']}]: {q['files']} files, {q['rows']} rows, "
                   f"{q['quarantined']} quarantined, {q['flagged']} flagged")
    click.echo(f"failed files: {counts['failed_files']}, superseded versions: "
               f"{counts['superseded_files']}")
    for rec in files.to_dict(orient="records"):
        def known(v):  # noqa: ANN001, ANN202 - NULL columns come back as None or NaN
            return v is not None and v == v

        state = "superseded" if known(rec["superseded_by"]) else rec["status"]
        ver = f" v{int(rec['version'])}" if known(rec["version"]) else ""
        layout = rec["layout"] if known(rec["layout"]) else "-"
        click.echo(f"  {rec['name']}{ver}: {state}, {layout}, {rec['rows']} rows, "
                   f"{rec['quarantined']} quarantined")
    return 0


def SCHEMA() -> int:  # noqa: N802 - a constant read lazily
    from surveykit.store import SCHEMA_VERSION

    return SCHEMA_VERSION


@click.command("export")
@click.option("--store", "-s", required=True, type=click.Path(dir_okay=False),
              help="Survey store file.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Output file: .csv, .xlsx or .parquet.")
@click.option("--questionnaire", "-q", default=None, help="Only this questionnaire id.")
@click.option("--include-flagged", is_flag=True, help="Keep rows with warnings.")
def export_cmd(store: str, output: str, questionnaire: str | None, include_flagged: bool) -> int:
    """Export analysis-ready responses; cells starting with = + - @ are neutralised."""
    from surveykit.store import open_store
    from surveykit.store.export import export_responses

    with open_store(store, create=False) as st:
        df = st.responses(questionnaire, include_flagged=include_flagged)
    n = export_responses(df, output)
    click.echo(f"wrote {n} rows to {output}")
    return 0
