"""``surveykit report``: render a results bundle."""

from __future__ import annotations

import click


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    from surveykit.report.render import FORMATS

    chosen = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    if not chosen:
        raise click.BadParameter("give at least one format", ctx=ctx, param=param)
    for f in chosen:
        if f not in FORMATS:
            raise click.BadParameter(f"{f!r} is not one of {', '.join(FORMATS)}", ctx=ctx, param=param)
    return chosen


@click.command()
@click.argument("bundle_dir", type=click.Path(file_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of headings, captions, labels and notes.")
@click.option("--format", "formats", default="html,md,docx,tex", show_default=True, callback=_formats,
              help="Comma-separated outputs: html, md, docx (needs python-docx), tex. "
                   "Per-table CSV files are always written.")
@click.option("--templates", type=click.Path(file_okay=False),
              help="Folder of Jinja templates searched before the packaged ones (same file names override).")
def report(bundle_dir: str, lang: str, formats: tuple[str, ...], templates: str | None) -> None:
    """Render a results bundle (reports/NAME/) into HTML, Markdown, Word and LaTeX.

    Writes BUNDLE_DIR/report/report.LANG.html (one self-contained file),
    report.LANG.md, tables.LANG.docx, tables.LANG.tex, and every table as CSV
    and LaTeX in BUNDLE_DIR/report/LANG/.
    """
    from surveykit.report import render_report

    files = render_report(bundle_dir, lang=lang, formats=formats, templates=templates)
    main = [f for f in files if f.parent.name == "report"]
    for f in main:
        click.echo(f"wrote {f}")
    rest = len(files) - len(main)
    if rest:
        click.echo(f"wrote {rest} table and figure files in {files[-1].parent}")
