"""The knowledge index: the passages of the bots' knowledge bases, searched by full text.

Two tables (migrations 0010_knowledge, 0011_kb_vectors): ``kb_files`` (a bot's KB file: its stat
signature, its content digest, how many passages, why it could not be read) and ``kb_passages``
(a passage: its KB, file, order, heading and text; for dense retrieval, its embedding as float32
bytes and the model that made it). The full text differs by backend:

- SQLite: an FTS5 table over the passages' *terms* (``kb_fts``, external content, tokenizer
  ``unicode61 remove_diacritics 2``), ranked by ``bm25()`` with the heading weighing twice the
  body. The terms are the words folded (lower case, no accents) and stemmed by the bot's
  language (Snowball, the stemmers PostgreSQL also uses).
- PostgreSQL: a ``tsvector`` column (the heading weight A, the body B) made with the bot's text
  search configuration (``english``, ``portuguese`` ...; ``simple`` for others) over the folded
  words, a GIN index, ranked by ``ts_rank_cd``.

A question's words are OR-ed: a passage that has some of them is found, the more (and rarer) the
better. The vectors are only stored and read here (gb_runtime.knowledge compares them): neither
sqlite-vec nor pgvector is used. A file is replaced in one transaction (its old passages out, the new ones in); on
PostgreSQL an advisory lock per file serialises two processes indexing the same change.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from .sql import unavailable_on_error

__all__ = ["KbPassage", "IndexedFile", "KnowledgeIndex", "StoredVector", "fold", "question_words", "terms"]

_meta = MetaData()
KB_FILES = Table(
    "kb_files", _meta,
    Column("bot_id", String(100), primary_key=True),
    Column("kb", String(200), primary_key=True),
    Column("source", String(1000), primary_key=True),
    Column("signature", String(100), nullable=False),
    Column("digest", String(80), nullable=False),
    Column("passages", Integer, nullable=False),
    Column("error", Text),
)
KB_PASSAGES = Table(
    "kb_passages", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bot_id", String(100), nullable=False),
    Column("kb", String(200), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("ord", Integer, nullable=False),
    Column("heading", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("heading_terms", Text),  # SQLite's FTS5 reads these; NULL on PostgreSQL (its tsv column)
    Column("body_terms", Text),
    Column("vector", LargeBinary),  # the embedding (float32, unit length) by vector_model; NULL: none yet
    Column("vector_model", String(200)),
)

# the bot's language (its first part) -> (Snowball stemmer, PostgreSQL text search configuration)
_LANGUAGES = {"en": ("english", "english"), "pt": ("portuguese", "portuguese"), "es": ("spanish", "spanish"),
              "fr": ("french", "french"), "de": ("german", "german"), "it": ("italian", "italian"),
              "nl": ("dutch", "dutch")}

# words a question has that say nothing about what it asks (English and Portuguese)
_STOP_WORDS = frozenset("""
    the and for are but not you your yours all any can had has have her his its our out who
    how what when where which why will with this that these those from they them then than
    there their about into more some such only also just very would could should been being
    were was does did doing get got want like know tell please thanks thank may might must
    is it of to in on at by an or be do as if so me my we us a i
    que como para por com uma umas uns dos das nao sim voce voces meu minha seu sua qual
    ele ela eles elas isso isto esta este essa esse qual quando onde ser tem sao pelo pela
    nos nas aos quero pode o os as e de do da em no na um se eu
""".split())


def fold(value: str) -> str:
    """`value` in lower case without accents."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _stemmer(language: str) -> object | None:
    name = _LANGUAGES.get(language.split("-")[0].lower(), (None, None))[0]
    return snowballstemmer.stemmer(name) if name else None


def _pg_config(language: str) -> str:
    return _LANGUAGES.get(language.split("-")[0].lower(), (None, "simple"))[1]


@cache
def _stems(language: str) -> dict[str, str]:
    return {}  # word -> stem, per language: a text repeats its words, Snowball in Python is slow


def terms(value: str, language: str) -> str:
    """The words of `value` folded and stemmed by `language`, space-separated (what FTS5 indexes)."""
    words = re.findall(r"\w+", fold(value))
    stemmer = _stemmer(language)
    if stemmer is None:
        return " ".join(words)
    known = _stems(language)
    if len(known) > 200_000:  # a bound on the memo, not an LRU: it refills with the words in use
        known.clear()
    out = []
    for word in words:
        stem = known.get(word)
        if stem is None:
            stem = known[word] = stemmer.stemWord(word)  # type: ignore[attr-defined]
        out.append(stem)
    return " ".join(out)


def question_words(question: str) -> list[str]:
    """The folded words of a question worth searching for: 2+ characters, not stop words, each once."""
    seen: dict[str, None] = {}
    for word in re.findall(r"\w+", fold(question)):
        if len(word) >= 2 and word not in _STOP_WORDS:
            seen.setdefault(word)
    return list(seen)


@dataclass(frozen=True)
class IndexedFile:
    """What the index holds of a KB file: its stat signature and content digest (with the language
    it was indexed in), how many passages, and the reason it could not be read."""

    signature: str
    digest: str
    passages: int
    error: str | None


@dataclass(frozen=True)
class KbPassage:
    """A passage a search found, with its rank's score (higher is better) and its id in the index."""

    kb: str
    source: str
    heading: str
    text: str
    score: float
    id: int


@dataclass(frozen=True)
class StoredVector:
    """A passage with its embedding (float32 bytes), as dense retrieval reads them."""

    id: int
    kb: str
    source: str
    heading: str
    text: str
    vector: bytes


_SQLITE_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(heading_terms, body_terms, content='kb_passages', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
)


class KnowledgeIndex:
    """The passages of the bots' KB files, by full text, in the session database.

    Args:
        engine: the session database (migrated to 0011_kb_vectors); None: a private in-memory
            SQLite database of this process (the in-memory store), made on first use.
    """

    def __init__(self, engine: AsyncEngine | None) -> None:
        self._engine = engine
        self._own = engine is None

    async def _db(self) -> AsyncEngine:
        if self._engine is None:
            engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
            async with engine.begin() as conn:
                await conn.run_sync(_meta.create_all)
                for ddl in _SQLITE_SCHEMA:
                    await conn.execute(text(ddl))
            self._engine = engine
        return self._engine

    async def close(self) -> None:
        """Dispose of the private in-memory database, if one was made."""
        if self._own and self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def files(self, bot_id: str) -> dict[tuple[str, str], IndexedFile]:
        """(kb, source) -> what the index holds of each of the bot's files."""
        engine = await self._db()
        async with unavailable_on_error(), engine.connect() as conn:
            rows = (await conn.execute(KB_FILES.select().where(KB_FILES.c.bot_id == bot_id))).all()
        return {(r.kb, r.source): IndexedFile(r.signature, r.digest, r.passages, r.error) for r in rows}

    async def replace(self, bot_id: str, kb: str, source: str, file: IndexedFile, language: str,
                      passages: Sequence[tuple[str, str]]) -> None:
        """Make `passages` ((heading, text) pairs, in order) the file's, in one transaction."""
        engine = await self._db()
        async with unavailable_on_error(), engine.begin() as conn:
            await self._lock(conn, bot_id, kb, source)
            await self._delete(conn, bot_id, kb, source)
            if passages:
                await self._insert(conn, bot_id, kb, source, language, passages)
            await conn.execute(KB_FILES.insert().values(
                bot_id=bot_id, kb=kb, source=source, signature=file.signature, digest=file.digest,
                passages=len(passages), error=file.error))

    async def touch(self, bot_id: str, kb: str, source: str, signature: str) -> None:
        """A file's stat signature changed but not its content: note the new signature."""
        engine = await self._db()
        async with unavailable_on_error(), engine.begin() as conn:
            await conn.execute(KB_FILES.update().where(
                KB_FILES.c.bot_id == bot_id, KB_FILES.c.kb == kb, KB_FILES.c.source == source
            ).values(signature=signature))

    async def drop(self, bot_id: str, kb: str, source: str) -> None:
        """A file is gone: its passages too."""
        engine = await self._db()
        async with unavailable_on_error(), engine.begin() as conn:
            await self._lock(conn, bot_id, kb, source)
            await self._delete(conn, bot_id, kb, source)

    async def search(self, bot_id: str, kbs: Iterable[str], question: str, language: str, k: int) -> list[KbPassage]:
        """The `k` best passages of the bot's KBs `kbs` for `question` (its words OR-ed), best first."""
        words = question_words(question)
        kb_list = list(kbs)
        if not words or not kb_list or k <= 0:
            return []
        engine = await self._db()
        params: dict[str, object] = {"bot": bot_id, "kbs": kb_list, "k": k}
        if engine.dialect.name == "postgresql":
            params.update(cfg=_pg_config(language), q=" | ".join(words))
            stmt = text(
                "SELECT kb, source, heading, body, ts_rank_cd(tsv, q) AS score, id "
                "FROM kb_passages, to_tsquery(CAST(:cfg AS regconfig), :q) AS q "
                "WHERE bot_id = :bot AND kb IN :kbs AND tsv @@ q "
                "ORDER BY score DESC, id LIMIT :k")
        else:
            stems = sorted(set(terms(" ".join(words), language).split()))
            params["q"] = " OR ".join(f'"{s}"' for s in stems)
            stmt = text(
                "SELECT p.kb, p.source, p.heading, p.body, -bm25(kb_fts, 2.0, 1.0) AS score, p.id "
                "FROM kb_fts JOIN kb_passages AS p ON p.id = kb_fts.rowid "
                "WHERE kb_fts MATCH :q AND p.bot_id = :bot AND p.kb IN :kbs "
                "ORDER BY bm25(kb_fts, 2.0, 1.0), p.id LIMIT :k")
        stmt = stmt.bindparams(bindparam("kbs", expanding=True))
        async with unavailable_on_error(), engine.connect() as conn:
            rows = (await conn.execute(stmt, params)).all()
        return [KbPassage(r[0], r[1], r[2], r[3], float(r[4]), int(r[5])) for r in rows]

    # -- vectors (dense retrieval) -------------------------------------------------------------

    @staticmethod
    def _scope(bot_id: str, kbs: Iterable[str]) -> list[ColumnElement[bool]]:
        return [KB_PASSAGES.c.bot_id == bot_id, KB_PASSAGES.c.kb.in_(list(kbs))]

    async def count(self, bot_id: str, kbs: Iterable[str], without_vector_by: str | None = None) -> int:
        """How many passages the bot's KBs `kbs` have (only those with no vector by the model
        `without_vector_by`, when given)."""
        c = KB_PASSAGES.c
        where = self._scope(bot_id, kbs)
        if without_vector_by is not None:
            where.append(c.vector_model.is_(None) | (c.vector_model != without_vector_by))
        engine = await self._db()
        async with unavailable_on_error(), engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(KB_PASSAGES).where(*where))).scalar_one())

    async def unembedded(self, bot_id: str, kbs: Iterable[str], model: str, limit: int) -> list[tuple[int, str, str]]:
        """Up to `limit` passages of the bot's KBs `kbs` with no vector by `model`: (id, heading, text)."""
        c = KB_PASSAGES.c
        engine = await self._db()
        async with unavailable_on_error(), engine.connect() as conn:
            rows = (await conn.execute(select(c.id, c.heading, c.body).where(
                *self._scope(bot_id, kbs), c.vector_model.is_(None) | (c.vector_model != model)
            ).order_by(c.id).limit(limit))).all()
        return [(int(r.id), r.heading, r.body) for r in rows]

    async def set_vectors(self, model: str, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Store the passages' vectors (id, float32 bytes) by `model` (a passage since replaced is skipped)."""
        if not vectors:
            return
        engine = await self._db()
        async with unavailable_on_error(), engine.begin() as conn:
            await conn.execute(KB_PASSAGES.update().where(KB_PASSAGES.c.id == bindparam("pid")).values(
                vector=bindparam("vec"), vector_model=model), [{"pid": i, "vec": v} for i, v in vectors])

    async def vectors(self, bot_id: str, kbs: Iterable[str], model: str,
                      ids: Sequence[int] | None = None) -> list[StoredVector]:
        """The passages of the bot's KBs `kbs` (only `ids` when given) that have a vector by `model`."""
        c = KB_PASSAGES.c
        where = [*self._scope(bot_id, kbs), c.vector_model == model]
        if ids is not None:
            if not ids:
                return []
            where.append(c.id.in_(list(ids)))
        engine = await self._db()
        async with unavailable_on_error(), engine.connect() as conn:
            rows = (await conn.execute(select(c.id, c.kb, c.source, c.heading, c.body, c.vector).where(
                *where).order_by(c.id))).all()
        return [StoredVector(int(r.id), r.kb, r.source, r.heading, r.body, bytes(r.vector)) for r in rows]

    # -- inside a file's transaction ----------------------------------------------------------

    @staticmethod
    async def _lock(conn: AsyncConnection, bot_id: str, kb: str, source: str) -> None:
        if conn.dialect.name == "postgresql":  # SQLite: one writer at a time already
            key = zlib.crc32(f"kb\0{bot_id}\0{kb}\0{source}".encode())
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    @staticmethod
    async def _delete(conn: AsyncConnection, bot_id: str, kb: str, source: str) -> None:
        where = {"bot": bot_id, "kb": kb, "source": source}
        if conn.dialect.name == "sqlite":  # an external-content FTS5 table is told what goes
            await conn.execute(text(
                "INSERT INTO kb_fts(kb_fts, rowid, heading_terms, body_terms) "
                "SELECT 'delete', id, heading_terms, body_terms FROM kb_passages "
                "WHERE bot_id = :bot AND kb = :kb AND source = :source"), where)
        await conn.execute(KB_PASSAGES.delete().where(
            KB_PASSAGES.c.bot_id == bot_id, KB_PASSAGES.c.kb == kb, KB_PASSAGES.c.source == source))
        await conn.execute(KB_FILES.delete().where(
            KB_FILES.c.bot_id == bot_id, KB_FILES.c.kb == kb, KB_FILES.c.source == source))

    @staticmethod
    async def _insert(conn: AsyncConnection, bot_id: str, kb: str, source: str, language: str,
                      passages: Sequence[tuple[str, str]]) -> None:
        if conn.dialect.name == "sqlite":
            rows = [{"bot_id": bot_id, "kb": kb, "source": source, "ord": i, "heading": heading, "body": body,
                     "heading_terms": terms(heading, language), "body_terms": terms(body, language)}
                    for i, (heading, body) in enumerate(passages)]
            await conn.execute(KB_PASSAGES.insert(), rows)
            await conn.execute(text(  # an external-content FTS5 table is told what came
                "INSERT INTO kb_fts(rowid, heading_terms, body_terms) SELECT id, heading_terms, body_terms "
                "FROM kb_passages WHERE bot_id = :bot AND kb = :kb AND source = :source"),
                {"bot": bot_id, "kb": kb, "source": source})
            return
        cfg = _pg_config(language)  # the words folded, as the question's are
        await conn.execute(text(
            "INSERT INTO kb_passages (bot_id, kb, source, ord, heading, body, tsv) VALUES "
            "(:bot, :kb, :source, :ord, :heading, :body, "
            "setweight(to_tsvector(CAST(:cfg AS regconfig), :fold_heading), 'A') "
            "|| setweight(to_tsvector(CAST(:cfg AS regconfig), :fold_body), 'B'))"),
            [{"bot": bot_id, "kb": kb, "source": source, "ord": i, "heading": heading, "body": body, "cfg": cfg,
              "fold_heading": fold(heading), "fold_body": fold(body)} for i, (heading, body) in enumerate(passages)])
