"""Commands for questionnaires: ``codebook``, ``template`` and ``simulate``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("codebook", type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of construct names and question texts.")
@click.option("--items", "show_items", is_flag=True, help="List every item, not just the constructs.")
def codebook(codebook: str, lang: str, show_items: bool) -> None:
    """Check a questionnaire codebook and print its constructs and items."""
    from rich.console import Console
    from rich.table import Table

    from surveykit.codebook import load_codebook

    cb = load_codebook(codebook)
    console = Console()
    console.print(f"[bold]{cb.title[lang]}[/bold]  ({cb.id} v{cb.version}, {cb.cluster[lang]})")
    console.print(f"{len(cb.items)} items, {len(cb.likert_items())} Likert, "
                  f"{len(cb.constructs)} constructs, {len(cb.reverse_items)} reverse-keyed; "
                  f"sha256 {cb.sha256[:12]}")
    table = Table("construct", "name", "role", "items", "reverse-keyed")
    for c in cb.constructs.values():
        rev = [i for i in c.items if cb.item(i).reverse]
        table.add_row(c.id, c.name[lang], c.role, " ".join(c.items), " ".join(rev) or "-")
    console.print(table)
    if show_items:
        items = Table("item", "type", "construct", "question")
        for i in cb.items:
            items.add_row(i.id + (" (R)" if i.reverse else ""), i.type, i.construct or "", i.text[lang])
        console.print(items)


@click.command()
@click.argument("codebook", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The .xlsx workbook to write.")
@click.option("--layout", type=click.Choice(["wide", "form"]), default="wide", show_default=True,
              help="wide: one row per firm; form: one workbook per firm, like the paper questionnaire.")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both", show_default=True,
              help="Language of question texts.")
@click.option("--rows", type=click.IntRange(1, 100000), default=500, show_default=True,
              help="Rows prepared with answer validation (wide layout).")
def template(codebook: str, output: str, layout: str, lang: str, rows: int) -> None:
    """Write a blank data-entry workbook for a questionnaire."""
    from surveykit.codebook import load_codebook
    from surveykit.codebook.template import write_template

    cb = load_codebook(codebook)
    path = write_template(cb, output, layout=layout, lang=lang, rows=rows)
    click.echo(f"wrote {path} ({layout} layout, {cb.id} v{cb.version}, {len(cb.items)} items)")


@click.command()
@click.argument("codebook", type=click.Path(dir_okay=False))
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="Model in lavaan syntax giving the structure (e.g. questionnaires/gum_model.lav).")
@click.option("--n", "n", required=True, type=click.IntRange(1, 1_000_000), help="Number of firms.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--layout", type=click.Choice(["wide", "form"]), default="wide", show_default=True,
              help="wide: one workbook (-o FILE.xlsx); form: one workbook per firm (-o FOLDER).")
@click.option("-o", "--output", required=True, type=click.Path(), help="Workbook (wide) or folder (form).")
@click.option("--mess", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of answers rewritten with field noise (labels, full-width digits, ticks, blanks).")
@click.option("--paths", "paths_file", type=click.Path(dir_okay=False),
              help="YAML mapping of true standardized paths, e.g. 'UP_LINK ~ GVC: 0.55'.")
@click.option("--path", "path_specs", multiple=True, metavar="LHS~RHS=VALUE",
              help="A true standardized path; repeatable; overrides --paths.")
@click.option("--truth-dir", type=click.Path(file_okay=False),
              help="Where to write truth.csv and generating_model.json [default: beside the output].")
def simulate(codebook: str, model_path: str, n: int, seed: int, layout: str, output: str,
             mess: float, paths_file: str | None, path_specs: tuple[str, ...],
             truth_dir: str | None) -> None:
    """Draw SIMULATED firms from a known generating model and write filled workbooks.

    Beside the output go truth.csv (the intended coded answers) and
    generating_model.json (true loadings, thresholds and paths). Everything
    written is labelled as simulated.
    """
    from surveykit.codebook import load_codebook
    from surveykit.errors import SurveykitError
    from surveykit.simulate import parse_path_overrides, read_paths_file
    from surveykit.simulate import simulate as run_simulation

    cb = load_codebook(codebook)
    try:
        model = Path(model_path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SurveykitError(f"{model_path}: cannot read model ({exc.strerror or exc})") from None
    paths = read_paths_file(paths_file) if paths_file else {}
    paths.update(parse_path_overrides(list(path_specs)))
    out = Path(output)
    if layout == "wide" and out.suffix.lower() != ".xlsx":
        raise SurveykitError(f"{output}: the wide layout is written to one .xlsx file")
    sim = run_simulation(cb, model, n, seed=seed, paths=paths, mess=mess)
    tdir = Path(truth_dir) if truth_dir else out.parent
    if layout == "wide":
        sim.write_wide(out)
        written = str(out)
    else:
        files = sim.write_forms(out)
        written = f"{len(files)} workbooks in {out}"
    sim.write_truth(tdir / "truth.csv")
    sim.write_model(tdir / "generating_model.json")
    click.echo(f"SIMULATED data: {n} firms of {cb.id} (seed {seed}, mess {mess}) -> {written}; "
               f"truth in {tdir / 'truth.csv'}, generating model in {tdir / 'generating_model.json'}")
