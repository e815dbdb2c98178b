"""The bots' knowledge bases, searched through the knowledge index of the session database.

:class:`KnowledgeBase` keeps the index in step with the ``<bot>.gbkb/<kb>/`` folders: before a
search it stats the files of the KBs searched (one ``stat`` a file) and, only when a file's size
or mtime changed, reads it, compares its content digest with the one indexed (a touched file
with the same content is not read into passages again) and replaces its passages. A file gone
loses its passages. ``gb kb index`` does the same for every KB of a bot, up front, with a
progress bar; a server indexes lazily, on the first question to a KB.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gb_sessions.knowledge import IndexedFile, KbPassage, KnowledgeIndex

from .bots import BotPackage
from .documents import DocumentError, read_passages

__all__ = ["IndexReport", "KbPassage", "KnowledgeBase"]

log = logging.getLogger("gb.knowledge")


@dataclass
class IndexReport:
    """What a sync of a bot's KBs did: files (re)indexed, unchanged, dropped; passages written;
    the files that could not be read (with why)."""

    indexed: int = 0
    unchanged: int = 0
    dropped: int = 0
    passages: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def _signature(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


def _read(name: str, path: Path, language: str) -> tuple[str, list[tuple[str, str]] | None, str | None]:
    """The file's digest (with the language it is indexed in) and passages, or the reason it
    could not be read (in a worker thread: a PDF takes a while)."""
    data = path.read_bytes()
    digest = f"{hashlib.sha256(data).hexdigest()[:40]}:{language}"
    try:
        return digest, [(p.heading, p.text) for p in read_passages(name, data)], None
    except DocumentError as exc:
        return digest, None, str(exc)


class KnowledgeBase:
    """Searches the bots' KBs, keeping their index up to date.

    Args:
        index: the passages' store (gb_sessions.knowledge).
    """

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self._locks: dict[str, asyncio.Lock] = {}
        # bot -> the signatures of the files of its KBs as last synced: a search whose files all
        # still have them goes straight to the index
        self._synced: dict[str, dict[tuple[str, str], str]] = {}

    async def search(self, bot: BotPackage, kbs: Iterable[str], question: str, k: int) -> list[KbPassage]:
        """The `k` best passages of the bot's KBs `kbs` (names, any case; unknown ones skipped)."""
        names = {n.lower() for n in kbs}
        folders = [name for name in bot.kb_names() if name.lower() in names]
        if not folders:
            return []
        await self.sync(bot, folders)
        return await self.index.search(bot.name, folders, question, bot.settings.language, k)

    async def sync(self, bot: BotPackage, kbs: Iterable[str] | None = None, *,
                   on_total: Callable[[int], None] | None = None,
                   on_file: Callable[[str], None] | None = None) -> IndexReport:
        """Bring the index of the bot's KBs `kbs` (all when None) in line with their files.

        Args:
            on_total: called once with how many files must be read (the progress bar's total).
            on_file: called with each file's ``kb/path`` once it is indexed.
        """
        names = None if kbs is None else list(kbs)
        documents = {(kb, source): path for kb, source, path in bot.kb_documents(names)}
        current = {key: sig for key, path in documents.items() if (sig := _signature(path)) is not None}
        synced = self._synced.setdefault(bot.name, {})
        report = IndexReport()
        scope = {kb.lower() for kb in names} if names is not None else None

        def in_scope(key: tuple[str, str]) -> bool:
            return scope is None or key[0].lower() in scope

        if all(synced.get(key) == sig for key, sig in current.items()) and \
                all(key in current for key in synced if in_scope(key)):
            report.unchanged = len(current)
            return report
        async with self._locks.setdefault(bot.name, asyncio.Lock()):
            indexed = await self.index.files(bot.name)
            stale = [key for key, sig in current.items() if (held := indexed.get(key)) is None or held.signature != sig]
            gone = [key for key in indexed if key not in current and in_scope(key)]
            report.unchanged = len(current) - len(stale)
            if on_total is not None:
                on_total(len(stale))
            language = bot.settings.language
            for key in stale:
                await self._index_file(bot.name, key, documents[key], current[key], indexed.get(key), language, report)
                if on_file is not None:
                    on_file("/".join(key))
            for kb, source in gone:
                await self.index.drop(bot.name, kb, source)
                report.dropped += 1
            for key in gone:
                synced.pop(key, None)
            synced.update(current)
        return report

    async def _index_file(self, bot_id: str, key: tuple[str, str], path: Path, signature: str,
                          held: IndexedFile | None, language: str, report: IndexReport) -> None:
        kb, source = key
        try:
            digest, passages, error = await asyncio.to_thread(_read, source, path, language)
        except OSError as exc:  # gone or unreadable since the stat: the next search tries again
            log.warning("bot %s: KB file %s/%s: %s", bot_id, kb, source, exc)
            report.errors[f"{kb}/{source}"] = str(exc)
            return
        if held is not None and held.digest == digest and held.error is None and error is None:
            await self.index.touch(bot_id, kb, source, signature)
            report.unchanged += 1
            return
        if error is not None:
            log.warning("bot %s: KB file %s/%s is not searchable: %s", bot_id, kb, source, error)
            report.errors[f"{kb}/{source}"] = error
        await self.index.replace(bot_id, kb, source, IndexedFile(signature, digest, len(passages or ()), error),
                                 language, passages or [])
        report.indexed += 1
        report.passages += len(passages or ())
