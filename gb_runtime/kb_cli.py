"""``gb kb index [BOT]`` and ``gb kb search BOT QUESTION``: the bots' knowledge bases in the
session database's index (registered on the gb command by entry point).

``index`` reads every KB file that changed since it was last indexed (a progress bar over those
files) and drops the passages of files gone, then, for a bot with ``embedding-url``, embeds the
passages that have no vector by its model yet (a progress bar over them); a server does the same
lazily, on a KB's first question (a few batches a question), so indexing up front only saves
those waits. ``search`` prints the top passages of
a question as a session with those KBs active would get them. Storage from the environment, as
for gb serve (GB_DATABASE_URL, GB_DATA_DIR).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import click
from tqdm import tqdm

from gb_sessions import StoreSettings, open_stores
from gb_sessions.knowledge import KnowledgeIndex

from .bots import BotPackage, BotRegistry
from .errors import BotConfigError, UnknownBot
from .knowledge import IndexReport, KbPassage, KnowledgeBase
from .llm import LlmClient, LlmError

__all__ = ["kb"]

_BOTS = click.option("--bots", "bots_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="The bots folder (default: GB_BOTS_DIR or ./bots).")


def _registry(bots_dir: Path | None) -> BotRegistry:
    settings = StoreSettings.from_env()
    return BotRegistry((bots_dir or Path(os.environ.get("GB_BOTS_DIR") or "bots")).resolve(), settings.data_dir)


def _bot(registry: BotRegistry, name: str) -> BotPackage:
    try:
        return registry.get(name)
    except UnknownBot:
        raise click.ClickException(f"no bot {name!r} in {registry.root} (bots: {', '.join(registry.names())})") \
            from None


@click.group()
def kb() -> None:
    """The bots' knowledge bases: index them, search them."""


@kb.command("index")
@click.argument("bot", required=False)
@_BOTS
@click.option("--quiet", is_flag=True, help="No progress bar.")
def index(bot: str | None, bots_dir: Path | None, quiet: bool) -> None:
    """Index the KB files of BOT (every bot when none) that changed since they were last indexed."""
    registry = _registry(bots_dir)
    bots = [_bot(registry, bot)] if bot else [registry.get(name) for name in registry.names()]
    failed = False
    for package, (report, seconds) in zip(bots, asyncio.run(_index(bots, quiet)), strict=True):
        rate = f", {report.passages / seconds:,.0f} passages/s" if report.passages and seconds > 0 else ""
        embedded = f", {report.embedded} passages embedded" if report.embedded else ""
        click.echo(f"{package.name}: {report.indexed} files indexed ({report.passages} passages{rate}), "
                   f"{report.unchanged} unchanged, {report.dropped} dropped{embedded}")
        for name, error in report.errors.items():
            failed = True
            click.echo(f"  {name}: {error}", err=True)
    if failed:
        raise SystemExit(1)


async def _index(bots: list[BotPackage], quiet: bool) -> list[tuple[IndexReport, float]]:
    stores = await open_stores(StoreSettings.from_env())
    llm = LlmClient()
    out = []
    try:
        knowledge = KnowledgeBase(KnowledgeIndex(stores.engine), llm)
        for package in bots:
            start = time.perf_counter()
            report = await _sync(knowledge, package, quiet)
            seconds = time.perf_counter() - start
            await _embed(knowledge, package, quiet, report)
            out.append((report, seconds))
    finally:
        await llm.close()
        await stores.close()
    return out


async def _sync(knowledge: KnowledgeBase, package: BotPackage, quiet: bool) -> IndexReport:
    """Sync one bot's KBs with a progress bar over the files read."""
    with tqdm(desc=package.name, unit="file", disable=quiet, leave=False) as bar:
        def total(n: int) -> None:
            bar.reset(total=n)

        def done(name: str) -> None:
            bar.set_postfix_str(name, refresh=False)
            bar.update(1)

        return await knowledge.sync(package, on_total=total, on_file=done)


async def _embed(knowledge: KnowledgeBase, package: BotPackage, quiet: bool, report: IndexReport) -> None:
    """Embed the bot's passages that have no vector yet (a bot with embedding-url), with a progress
    bar; a failure is the bot's error (its search stays full-text until it works)."""
    with tqdm(desc=f"{package.name} embeddings", unit="passage", disable=quiet, leave=False) as bar:
        try:
            report.embedded = await knowledge.embed(package, on_total=lambda n: bar.reset(total=n),
                                                    on_batch=bar.update)
        except (LlmError, BotConfigError) as exc:
            report.errors["embeddings"] = str(exc)


@kb.command("search")
@click.argument("bot")
@click.argument("question")
@click.option("--kb", "kbs", multiple=True, help="A KB to search (repeat; default: all of the bot's).")
@click.option("-k", "k", type=int, default=3, show_default=True, help="How many passages.")
@_BOTS
def search(bot: str, question: str, kbs: tuple[str, ...], k: int, bots_dir: Path | None) -> None:
    """Print the top passages of BOT's KBs for QUESTION, best first."""
    package = _bot(_registry(bots_dir), bot)
    found = asyncio.run(_search(package, list(kbs) or package.kb_names(), question, k))
    if not found:
        click.echo("no passage found")
    for n, passage in enumerate(found, 1):
        where = f"{passage.kb}/{passage.source}" + (f" # {passage.heading}" if passage.heading else "")
        click.echo(f"[{n}] {where} (score {passage.score:.3g})\n{passage.text}\n")


async def _search(package: BotPackage, kbs: list[str], question: str, k: int) -> list[KbPassage]:
    stores = await open_stores(StoreSettings.from_env())
    llm = LlmClient()
    try:
        return await KnowledgeBase(KnowledgeIndex(stores.engine), llm).search(package, kbs, question, k)
    finally:
        await llm.close()
        await stores.close()
