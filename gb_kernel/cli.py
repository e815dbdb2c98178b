"""``gb kernel ...``: install and remove the Jupyter kernelspec (registered on ``gb`` by entry point)."""

from __future__ import annotations

import sys

import click

from . import inspector, kernelspec

__all__ = ["kernel"]


@click.group()
def kernel() -> None:
    """The gb Jupyter kernel: install or remove its kernelspec."""


@kernel.command()
@click.option("--user", "where", flag_value="user", help="Install for the current user.")
@click.option("--sys-prefix", "where", flag_value="sys-prefix", default=True,
              help=f"Install into this Python environment ({sys.prefix}); the default.")
@click.option("--prefix", type=click.Path(file_okay=False), default=None,
              help="Install under PREFIX/share/jupyter/kernels.")
def install(where: str, prefix: str | None) -> None:
    """Install the "gb BASIC" kernelspec.

    Its kernel.json runs gb_kernel with this Python, by absolute path.
    """
    if where == "user" and prefix is not None:
        raise click.UsageError("--user and --prefix exclude each other")
    try:
        path = kernelspec.install(user=where == "user", prefix=prefix)
    except OSError as exc:
        raise click.ClickException(f"cannot install the kernelspec: {exc}") from exc
    click.echo(f"installed kernelspec {kernelspec.KERNEL_NAME} in {path}")
    try:
        config = inspector.enable(user=where == "user", prefix=prefix)
    except OSError as exc:
        raise click.ClickException(f"cannot enable the session inspector's server extension: {exc}") from exc
    click.echo(f"enabled the session inspector's server extension ({config})")


@kernel.command()
@click.option("--prefix", type=click.Path(file_okay=False), default=None,
              help="Remove from PREFIX/share/jupyter/kernels (default: the one Jupyter finds).")
def uninstall(prefix: str | None) -> None:
    """Remove the gb kernelspec."""
    try:
        path = kernelspec.uninstall(prefix=prefix)
    except OSError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed kernelspec {kernelspec.KERNEL_NAME} from {path}")
    inspector.disable(prefix=prefix)
