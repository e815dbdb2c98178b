"""The bots' knowledge bases, searched through the knowledge index of the session database.

:class:`KnowledgeBase` keeps the index in step with the ``<bot>.gbkb/<kb>/`` folders: before a
search it stats the files of the KBs searched (one ``stat`` a file) and, only when a file's size
or mtime changed, reads it, compares its content digest with the one indexed (a touched file
with the same content is not read into passages again) and replaces its passages. A file gone
loses its passages. ``gb kb index`` does the same for every KB of a bot, up front, with a
progress bar; a server indexes lazily, on the first question to a KB.

**Dense retrieval.** A bot whose config.csv sets ``embedding-url`` (an OpenAI-compatible
``/v1/embeddings``) has its passages embedded (heading and text; stored as unit float32 vectors
with the model's name, so a new model re-embeds) and each question too. The question's vector is
compared (cosine) with every passage of the KBs searched when they hold at most
:data:`DENSE_SCAN` passages (a matrix kept in memory until the index changes), else with the
full-text candidates only; those less similar than ``embedding-min-similarity`` are left out
(an unrelated question finds nothing). The two rankings are fused by reciprocal rank fusion
(k = 60). Passages are embedded by ``gb kb index`` up front, or lazily, :data:`EMBED_BATCH` at a
time, a few batches a question. When the endpoint fails (down, slow, a wrong answer) the search is full-text alone, with
a warning, and the endpoint is not asked again for :data:`RETRY_SECONDS`: never an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gb_sessions.knowledge import IndexedFile, KbPassage, KnowledgeIndex, StoredVector

from .bots import BotPackage
from .documents import DocumentError, read_passages
from .errors import BotConfigError
from .llm import EmbeddingConfig, LlmClient, LlmError

__all__ = ["CANDIDATES", "DENSE_SCAN", "EMBED_BATCH", "IndexReport", "KbPassage", "KnowledgeBase", "RRF_K",
           "fuse"]

CANDIDATES = 50  # passages of each ranking (full text, dense) that the fusion sees
DENSE_SCAN = 5000  # KBs searched with up to this many passages are compared whole with the question
MATRICES = 16  # the vectors of this many sets of KBs (bot, model, KBs searched) are kept in memory
EMBED_BATCH = 64  # passages an embeddings request carries
SEARCH_BATCHES = 4  # batches a search embeds of passages not embedded yet (gb kb index does them all)
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al.)
RETRY_SECONDS = 30.0  # a failed embeddings endpoint is not asked again for this long

Matrix = npt.NDArray[np.float32]

log = logging.getLogger("gb.knowledge")


@dataclass
class IndexReport:
    """What a sync of a bot's KBs did: files (re)indexed, unchanged, dropped; passages written
    (and embedded, by ``gb kb index``); the files that could not be read (with why)."""

    indexed: int = 0
    unchanged: int = 0
    dropped: int = 0
    passages: int = 0
    embedded: int = 0
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

    def __init__(self, index: KnowledgeIndex, llm: LlmClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.index = index
        self.llm = llm
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        # bot -> the signatures of the files of its KBs as last synced: a search whose files all
        # still have them goes straight to the index
        self._synced: dict[str, dict[tuple[str, str], str]] = {}
        # bot -> a number that changes whenever this process sees its index change (files, vectors)
        self._generation: dict[str, int] = {}
        # (bot, model, KBs) -> the generation at which all their passages had vectors
        self._embedded: dict[tuple[str, str, tuple[str, ...]], int] = {}
        # (bot, model, KBs) -> (generation, the passages, their vectors as rows)
        self._matrices: OrderedDict[tuple[str, str, tuple[str, ...]], tuple[int, list[StoredVector], Matrix]] = \
            OrderedDict()  # the last MATRICES used
        self._questions: OrderedDict[tuple[str, str, str], Matrix] = OrderedDict()  # the last questions' vectors
        self._down: dict[str, float] = {}  # endpoint -> clock() until which it is not asked

    async def search(self, bot: BotPackage, kbs: Iterable[str], question: str, k: int) -> list[KbPassage]:
        """The `k` best passages of the bot's KBs `kbs` (names, any case; unknown ones skipped):
        full-text, fused with dense retrieval when the bot configures embeddings."""
        folders = self._folders(bot, kbs)
        if not folders or k <= 0:
            return []
        await self.sync(bot, folders)
        config = self._embedding(bot)
        lexical = await self.index.search(bot.name, folders, question, bot.settings.language,
                                          max(k, CANDIDATES) if config else k)
        if config is None or self.llm is None:
            return lexical[:k]
        if self._down.get(config.endpoint, 0.0) > self.clock():
            return lexical[:k]
        try:
            dense = await self._dense(bot, folders, question, config, lexical)
        except LlmError as exc:
            self._down[config.endpoint] = self.clock() + RETRY_SECONDS
            log.warning("bot %s: the KB search is full-text alone for %g s: %s", bot.name, RETRY_SECONDS, exc)
            return lexical[:k]
        return fuse(lexical, dense, k=k)

    @staticmethod
    def _folders(bot: BotPackage, kbs: Iterable[str] | None) -> list[str]:
        if kbs is None:
            return bot.kb_names()
        names = {n.lower() for n in kbs}
        return [name for name in bot.kb_names() if name.lower() in names]

    def _embedding(self, bot: BotPackage) -> EmbeddingConfig | None:
        try:
            return EmbeddingConfig.of(bot.name, bot.settings)
        except (BotConfigError, LlmError) as exc:
            log.warning("bot %s: the KB search is full-text alone: %s", bot.name, exc)
            return None

    def _changed(self, bot_id: str) -> None:
        self._generation[bot_id] = self._generation.get(bot_id, 0) + 1

    async def embed(self, bot: BotPackage, kbs: Iterable[str] | None = None, *, batches: int | None = None,
                    on_total: Callable[[int], None] | None = None,
                    on_batch: Callable[[int], object] | None = None) -> int:
        """Embed the passages of the bot's KBs `kbs` (all when None) that have no vector by its
        embeddings model yet, :data:`EMBED_BATCH` a request, at most `batches` requests (all when
        None); how many were embedded. Nothing to do without ``embedding-url``.

        Args:
            on_total: called once with how many passages need a vector (when `batches` is None).
            on_batch: called with how many passages each request embedded.

        Raises:
            LlmError: the endpoint failed (the vectors of the requests before stay stored).
            BotConfigError: the bot's embedding settings are wrong.
        """
        config = EmbeddingConfig.of(bot.name, bot.settings)
        folders = self._folders(bot, kbs)
        if config is None or not folders:
            return 0
        return await self._embed(bot, folders, config, batches, on_total, on_batch)

    async def _embed(self, bot: BotPackage, folders: list[str], config: EmbeddingConfig, batches: int | None,
                     on_total: Callable[[int], None] | None, on_batch: Callable[[int], object] | None) -> int:
        """:meth:`embed` with the bot's settings read (a search has them already)."""
        llm = self.llm or LlmClient()
        scope = (bot.name, config.model, tuple(folders))
        done = 0
        try:
            async with self._locks.setdefault(bot.name, asyncio.Lock()):
                generation = self._generation.get(bot.name, 0)
                if self._embedded.get(scope) == generation:
                    return 0
                if on_total is not None and batches is None:
                    on_total(await self.index.count(bot.name, folders, without_vector_by=config.model))
                sent = 0
                while batches is None or sent < batches:
                    todo = await self.index.unembedded(bot.name, folders, config.model, EMBED_BATCH)
                    if not todo:
                        self._embedded[scope] = self._generation.get(bot.name, 0)
                        break
                    vectors = _unit(await llm.embed(config, [_passage_text(h, t) for _, h, t in todo]))
                    pairs = zip((pid for pid, _, _ in todo), vectors, strict=True)
                    await self.index.set_vectors(config.model, [(pid, row.astype("<f4").tobytes())
                                                                for pid, row in pairs])
                    self._changed(bot.name)
                    sent += 1
                    done += len(todo)
                    if on_batch is not None:
                        on_batch(len(todo))
                    if len(todo) < EMBED_BATCH:
                        self._embedded[scope] = self._generation.get(bot.name, 0)
                        break
        finally:
            if self.llm is None:
                await llm.close()
        return done

    async def _dense(self, bot: BotPackage, folders: list[str], question: str, config: EmbeddingConfig,
                     lexical: Sequence[KbPassage]) -> list[KbPassage]:
        """The passages nearest the question by embedding, best first (at most :data:`CANDIDATES`)."""
        assert self.llm is not None
        await self._embed(bot, folders, config, SEARCH_BATCHES, None, None)
        asked = await self._question(config, question)
        scope = (bot.name, config.model, tuple(folders))
        generation = self._generation.get(bot.name, 0)
        held = self._matrices.get(scope)
        if held is not None and held[0] == generation:
            rows, matrix = held[1], held[2]
            self._matrices.move_to_end(scope)
        elif await self.index.count(bot.name, folders) <= DENSE_SCAN:
            rows = await self.index.vectors(bot.name, folders, config.model)
            rows, matrix = _stacked(rows, asked.shape[0])
            self._matrices[scope] = (generation, rows, matrix)
            self._matrices.move_to_end(scope)
            while len(self._matrices) > MATRICES:  # sessions with other sets of KBs: a matrix each
                self._matrices.popitem(last=False)
        else:  # too many to compare whole: the full-text candidates, re-ranked
            rows, matrix = _stacked(await self.index.vectors(bot.name, folders, config.model,
                                                             [p.id for p in lexical]), asked.shape[0])
        if not rows:
            return []
        scores = matrix @ asked
        best = np.argsort(-scores, kind="stable")[:CANDIDATES]
        return [KbPassage(rows[i].kb, rows[i].source, rows[i].heading, rows[i].text, float(scores[i]), rows[i].id)
                for i in best if scores[i] >= config.min_similarity and scores[i] > 0]

    async def _question(self, config: EmbeddingConfig, question: str) -> Matrix:
        key = (config.endpoint, config.model, question)
        vector = self._questions.get(key)
        if vector is None:
            assert self.llm is not None
            vector = _unit(await self.llm.embed(config, [question]))[0]
            self._questions[key] = vector
            if len(self._questions) > 256:
                self._questions.popitem(last=False)
        else:
            self._questions.move_to_end(key)
        return vector

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
            self._changed(bot.name)
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


def _passage_text(heading: str, text: str) -> str:
    return f"{heading}\n{text}" if heading else text


def _unit(vectors: list[list[float]]) -> Matrix:
    """The vectors as rows of unit length (cosine is then a dot product)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _stacked(rows: list[StoredVector], dimension: int) -> tuple[list[StoredVector], Matrix]:
    """The passages whose vector has the question's dimension, and their vectors as a matrix."""
    kept = [r for r in rows if len(r.vector) == 4 * dimension]
    if not kept:
        return [], np.zeros((0, dimension), dtype=np.float32)
    return kept, np.frombuffer(b"".join(r.vector for r in kept), dtype="<f4").reshape(len(kept), dimension)


def fuse(*rankings: Sequence[KbPassage], k: int, constant: int = RRF_K) -> list[KbPassage]:
    """The `k` best passages of the rankings by reciprocal rank fusion: a passage scores the sum
    of 1 / (`constant` + its rank) over the rankings it is in (rank 1 the best)."""
    score: dict[int, float] = {}
    first: dict[int, KbPassage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, 1):
            score[passage.id] = score.get(passage.id, 0.0) + 1.0 / (constant + rank)
            first.setdefault(passage.id, passage)
    order = sorted(score, key=lambda pid: -score[pid])  # stable: ties keep the first ranking's order
    return [KbPassage(first[pid].kb, first[pid].source, first[pid].heading, first[pid].text, score[pid], pid)
            for pid in order[:k]]
