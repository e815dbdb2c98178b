"""The ``gb`` command line: ``gb check`` (the language alone, no database), and the commands of the
other gb packages (``gb run``, ``gb serve``, ...), registered by entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .compiler import check_source

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gb")
def cli() -> None:
    """gb: General Bots BASIC dialogs, in notebooks and in production."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print errors only, not warnings.")
def check(files: tuple[Path, ...], quiet: bool) -> None:
    """Parse and compile FILES; print every error and warning with its position.

    FILES are .bas files or folders, searched recursively for .bas files (hidden folders
    are skipped). Exits 1 when a file has an error, or when there is no .bas file to check.
    Keywords gb parses but does not implement are warnings: the dialog fails only if it
    reaches them.
    """
    failed = checked = 0
    seen: set[Path] = set()
    for arg in files:
        found = _bas_files(arg)
        if not found:
            click.echo(f"{arg}: no .bas files", err=True)
        for path, name in found:
            if path.resolve() in seen:  # `gb check bots/ bots/x.bas` checks x.bas once
                continue
            seen.add(path.resolve())
            checked += 1
            failed += not _check_file(path, name, quiet)
    if failed:
        click.echo(f"{failed} file(s) with errors", err=True)
    if failed or not checked:
        sys.exit(1)


def _bas_files(path: Path) -> list[tuple[Path, str]]:
    """The files one FILES argument of ``gb check`` stands for, each with the name its errors carry.

    Args:
        path: a file (checked whatever its suffix) or a folder.

    Returns:
        ``(path, name)`` pairs: a file given by itself is named by its file name; a folder gives
        its .bas files, recursively and sorted, hidden folders skipped, each named by its path,
        since bots repeat file names (each has a start.bas).
    """
    if not path.is_dir():
        return [(path, path.name)]
    found = sorted(p for p in path.rglob("*")
                   if p.suffix.lower() == ".bas" and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    return [(p, str(p)) for p in found]


def _check_file(path: Path, name: str, quiet: bool) -> bool:
    """Check one file: its errors and warnings on stderr, ``<path>: ok`` on stdout.

    Args:
        path: the file.
        name: the file name its errors carry.
        quiet: leave the warnings out.

    Returns:
        False when the file has an error (or cannot be read).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"{path}: cannot read: {exc}", err=True)
        return False
    program, errors = check_source(text, name)
    for err in errors:
        click.echo(str(err), err=True)
    if program is None:
        return False
    if not quiet:
        for w in program.warnings:
            click.echo(w.headline, err=True)
    click.echo(f"{path}: ok" + (f" ({len(program.warnings)} warning(s))" if program.warnings else ""))
    return True


def _plugins() -> None:
    """Commands of the other gb packages (``gb sessions``, ...), registered by entry point so
    that the language does not import them."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="gb.commands"):
        if ep.name in cli.commands:
            continue
        try:
            cli.add_command(ep.load(), ep.name)
        except Exception as exc:  # a broken plugin fails when used, not every gb command
            cli.add_command(_broken(ep.name, exc), ep.name)


def _broken(name: str, exc: Exception) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1)
    def command(args: tuple[str, ...]) -> None:
        click.echo(f"gb {name} is not available: {exc}", err=True)
        sys.exit(1)

    return command


def main() -> None:
    """Console script entry point."""
    _plugins()
    cli()


if __name__ == "__main__":
    main()
