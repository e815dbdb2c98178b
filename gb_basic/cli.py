"""The ``gb`` command line: ``gb check`` (the language alone, no database), and the commands of the
other gb packages (``gb run``, ``gb serve``, ...), registered by entry point."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from .analysis import keyword_uses
from .compiler import Program, check_source
from .keywords import keyword

__all__ = ["main", "cli", "keyword_table"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gb")
def cli() -> None:
    """gb: General Bots BASIC dialogs, in notebooks and in production."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print errors only, not warnings.")
@click.option("--keywords", "-k", "coverage", is_flag=True,
              help="Print a table of the keywords the files use, how often, and whether gb runs them "
                   "(instead of the warnings and the ok lines).")
def check(files: tuple[Path, ...], quiet: bool, coverage: bool) -> None:
    """Parse and compile FILES; print every error and warning with its position.

    FILES are .bas files or folders, searched recursively for .bas files (hidden folders
    are skipped). Exits 1 when a file has an error, or when there is no .bas file to check.
    Keywords gb parses but does not implement are warnings: the dialog fails only if it
    reaches them.
    """
    failed = checked = 0
    seen: set[Path] = set()
    uses: list[list[tuple[str, bool]]] = []
    for arg in files:
        found = _bas_files(arg)
        if not found:
            click.echo(f"{arg}: no .bas files", err=True)
        for path, name in found:
            if path.resolve() in seen:  # `gb check bots/ bots/x.bas` checks x.bas once
                continue
            seen.add(path.resolve())
            checked += 1
            program = _check_file(path, name, quiet or coverage, echo_ok=not coverage)
            failed += program is None
            if program is not None:
                uses.append(keyword_uses(program.module))
    if coverage:
        click.echo(keyword_table(uses))
    if failed:
        click.echo(f"{failed} file(s) with errors", err=True)
    if failed or not checked:
        sys.exit(1)


def keyword_table(uses: list[list[tuple[str, bool]]]) -> str:
    """The ``gb check --keywords`` table: each keyword, its uses, the files using it, whether gb runs it.

    Args:
        uses: per file, the keywords it uses (:func:`gb_basic.analysis.keyword_uses`).

    Returns:
        The table, most used first (then by name), and a total line. RUNS is ``yes``, ``no``, or
        ``partly`` when some uses are in a form gb does not run (``SAVE "t" WITH a AS 1``);
        KNOWN says whether the keyword is in gb's keyword table (gb_basic.keywords).
    """
    count: Counter[str] = Counter()
    files: Counter[str] = Counter()
    raw: Counter[str] = Counter()
    for per_file in uses:
        for name, is_raw in per_file:
            count[name] += 1
            raw[name] += is_raw
        files.update({name for name, _ in per_file})
    rows = sorted(count, key=lambda k: (-count[k], k))
    width = max([len("KEYWORD"), *(len(k) for k in rows)])
    lines = [f"{'KEYWORD':<{width}}  {'USES':>5}  {'FILES':>5}  RUNS    KNOWN"]
    running = 0
    for k in rows:
        spec = keyword(k)
        state = "no" if spec is None or not spec.runs else ("partly" if raw[k] else "yes")
        running += count[k] - raw[k] if state != "no" else 0
        lines.append(f"{k:<{width}}  {count[k]:>5}  {files[k]:>5}  {state:<6}  {'yes' if spec else 'no'}")
    total = sum(count.values())
    lines.append(f"{len(rows)} keywords, {total} uses in {len(uses)} files; gb runs {running} of the uses")
    return "\n".join(lines)


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


def _check_file(path: Path, name: str, quiet: bool, echo_ok: bool = True) -> Program | None:
    """Check one file: its errors and warnings on stderr, ``<path>: ok`` on stdout.

    Args:
        path: the file.
        name: the file name its errors carry.
        quiet: leave the warnings out.
        echo_ok: print the ``ok`` line.

    Returns:
        The compiled program, or None when the file has an error (or cannot be read).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"{path}: cannot read: {exc}", err=True)
        return None
    program, errors = check_source(text, name)
    for err in errors:
        click.echo(str(err), err=True)
    if program is None:
        return None
    if not quiet:
        for w in program.warnings:
            click.echo(w.headline, err=True)
    if echo_ok:
        click.echo(f"{path}: ok" + (f" ({len(program.warnings)} warning(s))" if program.warnings else ""))
    return program


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
