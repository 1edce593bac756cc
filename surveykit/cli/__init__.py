"""The ``surveykit`` command line: one library call per command.

Commands live in small modules of this package and are imported only when
they run (or when ``--help`` lists them), so start-up stays fast.  Each command
module imports only :mod:`click` at top level.

A user's mistake (any :class:`surveykit.errors.SurveykitError`) ends in one
``error: ...`` line on stderr and exit code 1; never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

# command name -> (module, attribute); add one line per new command
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("surveykit.cli.ingest_cmds", "import_cmd"),
    "validate": ("surveykit.cli.ingest_cmds", "validate_cmd"),
    "status": ("surveykit.cli.ingest_cmds", "status_cmd"),
    "export": ("surveykit.cli.ingest_cmds", "export_cmd"),
    "analyze": ("surveykit.cli.analysis_cmds", "analyze"),
    "rerun": ("surveykit.cli.analysis_cmds", "rerun"),
    "codebook": ("surveykit.cli.codebook_cmds", "codebook"),
    "demo": ("surveykit.cli.demo_cmd", "demo"),
    "template": ("surveykit.cli.codebook_cmds", "template"),
    "simulate": ("surveykit.cli.codebook_cmds", "simulate"),
    "report": ("surveykit.cli.report_cmds", "report"),
    "measure": ("surveykit.cli.measure_cmds", "measure"),
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="surveykit", prog_name="surveykit")
def cli() -> None:
    """surveykit: Likert questionnaires to reviewer-grade evidence.

    Codebooks and Excel templates, import of filled workbooks, validation,
    reliability, EFA, CFA/SEM matched against lavaan, the two-cluster
    comparison and reports.  Start with `surveykit demo`.
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn user errors into one ``error:`` line and exit code 1."""
    from surveykit.errors import SurveykitError

    try:
        rc = cli.main(args=argv, prog_name="surveykit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except SurveykitError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    return rc if isinstance(rc, int) else 0


def run() -> None:  # pragma: no cover - console-script wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
