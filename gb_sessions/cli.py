"""``gb sessions ...``: maintenance commands (registered on the gb command by entry point)."""

from __future__ import annotations

import asyncio
import logging

import click

from .cleanup import cleanup as run_cleanup
from .config import StoreSettings, open_stores

__all__ = ["sessions"]


@click.group()
def sessions() -> None:
    """Session maintenance (GB_DATABASE_URL, GB_VALKEY_URL, GB_DATA_DIR from the environment)."""


@sessions.command()
def cleanup() -> None:
    """Delete expired anonymous sessions with their messages and state."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    async def main() -> int:
        stores = await open_stores(StoreSettings.from_env())
        try:
            return await run_cleanup(stores)
        finally:
            await stores.close()

    n = asyncio.run(main())
    click.echo(f"deleted {n} expired anonymous session(s)")
