"""``gb outbox [list|retry ID]``: the channels' outbound messages, and replaying a dead one
(registered on the gb command by entry point).

``list`` shows the newest messages (``--status dead`` the dead letters: each with the
platform's last answer on a line under it), oldest first; ``retry ID`` makes a message pending
again with its attempts reset: a running ``gb serve`` delivers it within a second. Storage from
the environment, as for gb serve (GB_DATABASE_URL, GB_DATA_DIR).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import click

from gb_sessions import OutboxItem, StoreSettings, open_stores

__all__ = ["outbox", "table"]

HEADERS = ("ID", "BOT", "CHANNEL", "TO", "STATUS", "TRIES", "CREATED (UTC)", "MESSAGE")
STATUSES = ("pending", "sent", "dead", "inline")


@click.group(invoke_without_command=True)
@click.pass_context
def outbox(ctx: click.Context) -> None:
    """The channels' outbound messages: list them (the default), retry a dead one."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_messages)


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only messages in this status.")
@click.option("--bot", default=None, help="Only this bot's messages.")
@click.option("--limit", type=int, default=50, show_default=True, help="The newest this many.")
def list_messages(status: str | None = None, bot: str | None = None, limit: int = 50) -> None:
    """List outbound messages, oldest first (a dead one's error under it)."""
    rows, counts = asyncio.run(_list(StoreSettings.from_env(), status, bot, limit))
    if not rows:
        click.echo("no outbound messages" + (f" {status}" if status else "") + (f" of bot {bot}" if bot else ""))
        return
    click.echo(table(rows))
    click.echo("\n" + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@outbox.command("retry")
@click.argument("message_id", type=int)
def retry(message_id: int) -> None:
    """Make message MESSAGE_ID pending again (attempts reset): gb serve delivers it."""
    item = asyncio.run(_retry(StoreSettings.from_env(), message_id))
    if item is None:
        raise click.ClickException(f"no outbound message {message_id} (an inline one is not retried)")
    click.echo(f"message {item.id} to {item.channel} {item.address} is pending again; a running gb serve "
               "delivers it")


async def _list(settings: StoreSettings, status: str | None, bot: str | None, limit: int
                ) -> tuple[list[OutboxItem], dict[str, int]]:
    stores = await open_stores(settings)
    try:
        return await stores.channels.outbox(status=status, bot_id=bot, limit=limit), await stores.channels.counts()
    finally:
        await stores.close()


async def _retry(settings: StoreSettings, message_id: int) -> OutboxItem | None:
    stores = await open_stores(settings)
    try:
        return await stores.channels.replay(message_id)
    finally:
        await stores.close()


def table(rows: list[OutboxItem]) -> str:
    """The messages as aligned columns, an error on a line under its message."""
    lines = [HEADERS, *(_row(o) for o in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        o = rows[i - 1] if i else None
        if o is not None and o.error and o.status != "sent":
            out.append(f"    error: {o.error}")
    return "\n".join(out)


def _row(o: OutboxItem) -> tuple[str, ...]:
    p = o.payload
    if p.get("template"):
        what = f"template {p['template'].get('name')}"
    elif p.get("file"):
        what = f"file {p['file'].get('name')}"
    else:
        what = str(p.get("content") or "")
    what = " ".join(what.split())
    status = o.status + (f" ({o.delivery})" if o.delivery else "")
    return (str(o.id), o.bot_id, o.channel, o.address, status, str(o.attempts),
            o.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            what if len(what) <= 50 else what[:47] + "...")
