"""Knowledge bases: retrieval quality and the index's speed, on SQLite and PostgreSQL.

- recall@1 and recall@3 of bench/kb_questions.json (the example bots, English and Portuguese),
  for full-text search (BM25) alone and fused with dense retrieval. The dense side embeds with
  ``--embedding-url`` (an OpenAI-compatible endpoint, ``--embedding-model``) when given; else with
  latent semantic analysis fitted on the example bots' passages (tests/helpers/embeddings.py),
  served by the tests' stand-in endpoint: no neural model can be downloaded on these machines.
- indexing: 10,000 passages (100 generated markdown files of 100 paragraphs) through
  ``KnowledgeBase.sync`` (read, split, stem, insert), in passages/s.
- query latency p50/p99 of ``KnowledgeBase.search`` (a stat of each KB file, the question's
  words, the ranked query with its bot and KB filter, the passages back) over those 10,000
  passages, beside a floor: the database's own full-text query alone (SQLite ``kb_fts MATCH``
  ordered by ``rank``; PostgreSQL ``tsv @@ to_tsquery`` ordered by ``ts_rank_cd``), the same
  terms, on the same connection pool.

    python bench/kb.py [--quick] [--sqlite-only] [--embedding-url URL --embedding-model M]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gb_runtime.bots import BotPackage, BotRegistry
from gb_runtime.documents import read_passages
from gb_runtime.knowledge import KnowledgeBase
from gb_runtime.llm import LlmClient
from gb_sessions.config import StoreSettings
from gb_sessions.knowledge import KnowledgeIndex, question_words, terms
from tests.helpers.bots import EXAMPLE_BOTS, make_bot
from tests.helpers.embeddings import LsaEmbedder
from tests.helpers.kb_recall import recall_at
from tests.helpers.llm_server import llm_server
from tests.helpers.stores import create_database, drop_database, opened

PG = os.environ.get("GB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")

_WORDS = (  # the most frequent words of the corpus, in this order
"order delivery refund return invoice payment card plan price trial account password address "
          "warranty repair battery screen charger cable shipping customs europe america export session "
          "channel whatsapp teams email voice bot dialog knowledge tool privacy storage browser message "
          "support phone hours weekend holiday discount coupon gift voucher subscription cancel upgrade").split()


def _vocabulary(rng: random.Random) -> list[str]:
    """The corpus's words: the support words above and 3,000 made-up ones (two to four syllables)."""
    syllables = "ba ce di fo gu ha je ki lo mu na pe ri so tu va xe zo bra cle dri fro".split()
    made = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(3000)}
    return list(_WORDS) + sorted(made)


def _corpus(root: Path, files: int, paragraphs: int) -> tuple[BotPackage, list[str]]:
    """A bot whose KB holds `files` markdown files of `paragraphs` paragraphs of 25-40 words,
    drawn from the vocabulary by Zipf's law (as in real text: a few words everywhere, most rare)."""
    rng = random.Random(7)
    vocabulary = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    kb = {}
    for f in range(files):
        blocks = []
        for p in range(paragraphs):
            if p % 10 == 0:
                blocks.append(f"# {' '.join(rng.choices(vocabulary, weights, k=3)).title()} {f}-{p}")
            blocks.append(" ".join(rng.choices(vocabulary, weights, k=rng.randint(25, 40))) + ".")
        kb[f"docs/file{f:03}.md"] = "\n\n".join(blocks) + "\n"
    return BotPackage(make_bot(root, "kbbench", kb=kb), root / "data"), vocabulary


def _questions(n: int, vocabulary: list[str]) -> list[str]:
    """Questions of three words from the 1,000 most frequent."""
    rng = random.Random(11)
    top = vocabulary[:1000]
    return [f"how do I {rng.choice(top)} my {rng.choice(top)} and {rng.choice(top)}?" for _ in range(n)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _floor(index: KnowledgeIndex, question: str) -> None:
    """The database's own full-text query: the same terms, no bot or KB filter, rowids back."""
    engine = await index._db()
    words = question_words(question)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(
                "SELECT id FROM kb_passages, to_tsquery('english', :q) AS q WHERE tsv @@ q "
                "ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 3"), {"q": " | ".join(words)})
        else:
            stems = sorted(set(terms(" ".join(words), "en").split()))
            await conn.execute(text("SELECT rowid FROM kb_fts WHERE kb_fts MATCH :q ORDER BY rank LIMIT 3"),
                               {"q": " OR ".join(f'"{s}"' for s in stems)})


def _example_passages() -> list[str]:
    """The heading and text of every passage of the example bots' KBs (what LSA is fitted on)."""
    registry = BotRegistry(EXAMPLE_BOTS, Path(tempfile.gettempdir()))
    out = []
    for name in registry.names():
        for _, source, path in registry.get(name).kb_documents(None):
            out += [f"{p.heading}\n{p.text}" for p in read_passages(source, path.read_bytes())]
    return out


def _with_embeddings(root: Path, url: str, model: str, key: str | None) -> Path:
    """A copy of the example bots whose config.csv sets the embeddings endpoint."""
    shutil.copytree(EXAMPLE_BOTS, root)
    for config in root.glob("*.gbai"):
        csv = config / f"{config.name[:-5]}.gbot" / "config.csv"
        csv.parent.mkdir(exist_ok=True)
        head = csv.read_text(encoding="utf-8") if csv.exists() else "name,value\n"
        lines = f"embedding-url,{url}\nembedding-model,{model}\n" + (f"embedding-key,{key}\n" if key else "")
        csv.write_text(head.rstrip("\n") + "\n" + lines, encoding="utf-8")
    return root


async def _recall(label: str, mode: str, knowledge: KnowledgeBase, registry: BotRegistry) -> None:
    r1 = await recall_at(knowledge, registry, 1)
    r3 = await recall_at(knowledge, registry, 3)
    print(f"{label}: {mode}: recall@1 {r1.found}/{r1.asked} = {r1.ratio:.2f}, "
          f"recall@3 {r3.found}/{r3.asked} = {r3.ratio:.2f}")
    for miss in r3.missed:
        print(f"  missed: {miss}")


async def _measure(label: str, settings: StoreSettings, tmp: Path, files: int, queries: int,
                   embedding: tuple[str, str, str | None]) -> None:
    async with opened(settings) as stores:
        knowledge = KnowledgeBase(KnowledgeIndex(stores.engine))
        await _recall(label, "BM25 alone", knowledge, BotRegistry(EXAMPLE_BOTS, tmp / "data"))
        llm = LlmClient()
        try:
            fused = BotRegistry(_with_embeddings(tmp / "fused", *embedding), tmp / "data")
            await _recall(label, f"BM25 + dense ({embedding[1]}), RRF", KnowledgeBase(knowledge.index, llm), fused)
        finally:
            await llm.close()

        bot, vocabulary = _corpus(tmp / "corpus", files, 100)
        t0 = time.perf_counter()
        report = await knowledge.sync(bot)
        seconds = time.perf_counter() - t0
        print(f"{label}: indexed {report.passages:,} passages in {seconds:.2f} s = {report.passages / seconds:,.0f} "
              f"passages/s ({report.indexed} files)")

        asked = _questions(queries, vocabulary)
        for q in asked[:20]:  # warm both paths
            await knowledge.search(bot, ["docs"], q, 3)
            await _floor(knowledge.index, q)
        ours, floor = [], []
        for q in asked:  # interleaved: both see the same machine
            t = time.perf_counter()
            await _floor(knowledge.index, q)
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            await knowledge.search(bot, ["docs"], q, 3)
            ours.append(time.perf_counter() - t)
        f50, f99, o50, o99 = _pct(floor, .5), _pct(floor, .99), _pct(ours, .5), _pct(ours, .99)
        print(f"{label}: query over {report.passages:,} passages: floor (the FTS query alone) p50 {f50:.2f} ms "
              f"p99 {f99:.2f} ms; gb search p50 {o50:.2f} ms p99 {o99:.2f} ms; ratio p50 {o50 / f50:.2f}x "
              f"p99 {o99 / f99:.2f}x")
        print(f"{label}: mean {statistics.mean(ours) * 1000:.2f} ms vs floor {statistics.mean(floor) * 1000:.2f} ms")


async def main(quick: bool, sqlite_only: bool, embedding_url: str | None, embedding_model: str,
               embedding_key: str | None) -> None:
    files, queries = (20, 200) if quick else (100, 1000)
    async with llm_server(key=None) as stand_in:
        stand_in.embedding_model = "lsa-48"
        stand_in.embedder = LsaEmbedder(_example_passages(), 48)
        embedding = (embedding_url, embedding_model, embedding_key) if embedding_url else \
            (stand_in.url, stand_in.embedding_model, None)
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = StoreSettings.from_env({}, data_dir=Path(tmp) / "sqlite")
            await _measure("sqlite", sqlite, Path(tmp) / "s", files, queries, embedding)
            if sqlite_only:
                return
            name = f"gb_kbbench_{uuid.uuid4().hex[:8]}"
            url = create_database(PG, name)
            try:
                await _measure("postgres", StoreSettings(url, None, Path(tmp) / "pg"), Path(tmp) / "p",
                               files, queries, embedding)
            finally:
                drop_database(PG, name)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 passages and 200 queries")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--embedding-url", help="an OpenAI-compatible base URL (…/v1) to embed with")
    ap.add_argument("--embedding-model", default="default")
    ap.add_argument("--embedding-key", default=None)
    args = ap.parse_args()
    asyncio.run(main(args.quick, args.sqlite_only, args.embedding_url, args.embedding_model, args.embedding_key))
