"""Dense retrieval of the knowledge bases: passages and questions embedded by an OpenAI-compatible
``/v1/embeddings`` (a real local stand-in that checks each request), the vectors stored in the
session database (SQLite, PostgreSQL, the memory store's SQLite), fused with full-text search by
reciprocal rank fusion; any failure of the endpoint is full-text search alone."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import gb_runtime.knowledge as knowledge_module
from gb_runtime.bots import BotPackage, BotSettings
from gb_runtime.errors import BotConfigError
from gb_runtime.knowledge import KbPassage, KnowledgeBase, fuse
from gb_runtime.llm import EmbeddingConfig, LlmClient, LlmError
from gb_runtime.messages import Inbound
from gb_sessions.config import Stores
from gb_sessions.knowledge import KnowledgeIndex
from tests.backends import open_backend
from tests.helpers.bots import make_bot, runtime_with_bot, texts, write
from tests.helpers.embeddings import ConceptEmbedder
from tests.helpers.llm_server import LlmServer, llm_server

# "money" and "back" mean a refund here: the passage about refunds shares no word with the question
CONCEPTS = {"refund": ["refund", "refunds", "money", "back", "reimbursed"],
            "ship": ["ship", "shipping", "delivery", "sent", "arrive"]}
KB = {"policies/returns.md": "# Returns\n\nYou may return an item within 30 days of delivery.\n\n"
                             "Refunds are paid to the original card within 5 business days.\n",
      "policies/shipping.txt": "Orders ship within two days.\nExpress delivery costs extra.\n",
      "policies/office.md": "Our office is in Lisbon, open from nine to five.\n"}
MONEY = "When do I get my money back?"
REFUNDS = "Refunds are paid to the original card within 5 business days."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def llm() -> AsyncIterator[LlmServer]:
    async with llm_server(key="embed-key") as server:
        server.embedder = ConceptEmbedder(CONCEPTS)
        yield server


@pytest.fixture
async def client() -> AsyncIterator[LlmClient]:
    c = LlmClient()
    yield c
    await c.close()


@pytest.fixture(params=["sqlite", "postgres", "memory"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KnowledgeIndex]:
    if request.param == "memory":
        idx = KnowledgeIndex(None)
        yield idx
        await idx.close()
        return
    async with open_backend(request.param, request, tmp_path) as stores:
        yield KnowledgeIndex(stores.engine)


def dense_bot(tmp_path: Path, llm: LlmServer, extra: str = "") -> BotPackage:
    name = f"dense{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is shared: a bot of its own
    config = f"embedding-url,{llm.url}\nembedding-model,test-embed\nembedding-key,embed-key\n{extra}"
    return BotPackage(make_bot(tmp_path, name, config=config, kb=KB), tmp_path / "data")


async def top(kb: KnowledgeBase, bot: BotPackage, question: str, k: int = 1) -> list[str]:
    return [p.text for p in await kb.search(bot, ["policies"], question, k)]


async def test_dense_finds_what_full_text_cannot(index: KnowledgeIndex, client: LlmClient, llm: LlmServer,
                                                 tmp_path: Path) -> None:
    bot = dense_bot(tmp_path, llm)
    assert await top(KnowledgeBase(index), bot, MONEY) == []  # no LLM client: full text alone
    kb = KnowledgeBase(index, client)
    assert await top(kb, bot, MONEY) == [REFUNDS]
    # the words still count: a question full text answers keeps its answer
    assert await top(kb, bot, "How fast do you ship orders?") == ["Orders ship within two days. Express "
                                                                 "delivery costs extra."]
    assert await top(kb, bot, "Where is the office?") == ["Our office is in Lisbon, open from nine to five."]
    assert await top(kb, bot, "What is the weather like on Mars?") == []  # nothing near enough
    assert "Returns\nYou may return an item within 30 days of delivery." in llm.embedded[0]  # with its heading
    assert llm.refused == []


async def test_passages_are_embedded_once_and_again_only_when_they_change(
        index: KnowledgeIndex, client: LlmClient, llm: LlmServer, tmp_path: Path) -> None:
    bot = dense_bot(tmp_path, llm)
    kb = KnowledgeBase(index, client)
    await top(kb, bot, MONEY)
    first = [t for batch in llm.embedded for t in batch]
    assert len(first) == 5 and first[-1] == MONEY  # four passages in one request, then the question
    llm.embedded.clear()
    await top(kb, bot, MONEY)
    await top(KnowledgeBase(index, client), bot, MONEY)  # another process: the vectors are stored
    assert llm.embedded == [[MONEY]]  # a question's vector is remembered; the passages' are stored
    llm.embedded.clear()
    write(bot.path / f"{bot.name}.gbkb" / "policies" / "office.md", "Our office moved to Porto.\n")
    assert await top(kb, bot, "Where is the office?") == ["Our office moved to Porto."]
    assert llm.embedded[0] == ["Our office moved to Porto."]  # only the changed file's passage


async def test_a_new_model_embeds_everything_again(index: KnowledgeIndex, client: LlmClient, llm: LlmServer,
                                                   tmp_path: Path) -> None:
    bot = dense_bot(tmp_path, llm)
    kb = KnowledgeBase(index, client)
    assert await top(kb, bot, MONEY) == [REFUNDS]
    llm.embedding_model = "test-embed-2"
    write(bot.path / f"{bot.name}.gbot" / "config.csv", "name,value\n" + f"embedding-url,{llm.url}\n"
          "embedding-model,test-embed-2\nembedding-key,embed-key\n")
    bot = BotPackage(bot.path, tmp_path / "data")
    llm.embedded.clear()
    assert await top(kb, bot, MONEY) == [REFUNDS]
    assert sorted(len(b) for b in llm.embedded) == [1, 4]


@pytest.mark.parametrize("fault", ["status", "slow", "malformed", "refused", "down"])
async def test_a_failing_endpoint_is_full_text_alone_then_asked_again_later(
        index: KnowledgeIndex, client: LlmClient, llm: LlmServer, tmp_path: Path, fault: str,
        caplog: pytest.LogCaptureFixture) -> None:
    extra = "embedding-timeout,0.2\n"
    if fault == "status":
        llm.embed_status = 503
    elif fault == "slow":
        llm.embed_pause = 1.0
    elif fault == "malformed":
        llm.embed_malformed = True
    elif fault == "refused":
        extra += "embedding-key,wrong\n"
    bot = dense_bot(tmp_path, llm, extra)
    if fault == "down":
        write(bot.path / f"{bot.name}.gbot" / "config.csv",
              "name,value\nembedding-url,http://127.0.0.1:9/v1\nembedding-model,test-embed\n")
        bot = BotPackage(bot.path, tmp_path / "data")
    clock = Clock()
    kb = KnowledgeBase(index, client, clock)
    with caplog.at_level(logging.WARNING, "gb.knowledge"):
        assert await top(kb, bot, "When will my refund be paid?") == [REFUNDS]  # full text alone
        assert await top(kb, bot, MONEY) == []
    assert "full-text alone for 30 s" in caplog.text and "embeddings http://127.0.0.1:" in caplog.text
    asked = len(llm.embedded)
    await top(kb, bot, MONEY)
    assert len(llm.embedded) == asked  # not asked again for a while
    if fault in ("status", "slow", "malformed"):
        llm.embed_status, llm.embed_pause, llm.embed_malformed = 200, 0.0, False
        clock.now += knowledge_module.RETRY_SECONDS + 1
        assert await top(kb, bot, MONEY) == [REFUNDS]  # it is back


async def test_embedding_errors_say_what_and_where(client: LlmClient, llm: LlmServer) -> None:
    config = EmbeddingConfig(llm.url, "test-embed", "embed-key", timeout=5)
    assert len((await client.embed(config, ["a refund", "shipping"]))[1]) == 256
    llm.embed_status = 500
    with pytest.raises(LlmError, match=r"embeddings http://127\.0\.0\.1:\d+/v1/embeddings: 500"):
        await client.embed(config, ["x"])
    llm.embed_status, llm.embed_malformed = 200, True
    with pytest.raises(LlmError, match="not valid JSON of embeddings"):
        await client.embed(config, ["x"])
    llm.embed_malformed = False
    with pytest.raises(LlmError, match="401 Unauthorized"):
        await client.embed(EmbeddingConfig(llm.url, "test-embed", "nope"), ["x"])
    with pytest.raises(LlmError, match="embedding-key reads the environment variable GB_NO_SUCH_KEY"):
        EmbeddingConfig.of("b", BotSettings.from_config({"embedding-url": llm.url,
                                                          "embedding-key": "env:GB_NO_SUCH_KEY"}))
    with pytest.raises(BotConfigError, match="bot b: embedding-url must be an http:// or https:// URL"):
        EmbeddingConfig.of("b", BotSettings.from_config({"embedding-url": "ftp://x"}))


async def test_a_large_kb_reranks_the_full_text_candidates(index: KnowledgeIndex, client: LlmClient,
                                                           llm: LlmServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knowledge_module, "DENSE_SCAN", 2)  # the 4 passages are "too many" to compare whole
    bot = dense_bot(tmp_path, llm)
    kb = KnowledgeBase(index, client)
    assert await top(kb, bot, MONEY) == []  # no full-text candidate to re-rank
    assert await top(kb, bot, "refunds money back", 1) == [REFUNDS]


async def test_search_embeds_a_few_batches_and_gb_kb_index_the_rest(
        index: KnowledgeIndex, client: LlmClient, llm: LlmServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knowledge_module, "EMBED_BATCH", 1)
    monkeypatch.setattr(knowledge_module, "SEARCH_BATCHES", 2)
    bot = dense_bot(tmp_path, llm)
    kb = KnowledgeBase(index, client)
    await top(kb, bot, "office")
    assert [len(b) for b in llm.embedded] == [1, 1, 1]  # two passages, then the question
    totals: list[int] = []
    assert await kb.embed(bot, on_total=totals.append) == 2 and totals == [2]
    assert await kb.embed(bot) == 0


def test_reciprocal_rank_fusion() -> None:
    def p(i: int) -> KbPassage:
        return KbPassage("kb", "f.md", "", f"p{i}", 0.0, i)

    fused = fuse([p(1), p(2), p(3)], [p(3), p(4)], k=3)
    assert [x.id for x in fused] == [3, 1, 2]  # 1/61 + 1/63 beats 1/61 alone
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)
    assert [x.id for x in fuse([p(1), p(2)], [], k=5)] == [1, 2]


async def test_an_unhandled_message_is_answered_from_dense_retrieval(stores: Stores, tmp_path: Path,
                                                                     llm: LlmServer) -> None:
    rt = runtime_with_bot(stores, tmp_path, "densebot", {"start": 'USE KB "policies"\nTALK "ok"'}, kb=KB,
                          config=f"embedding-url,{llm.url}\nembedding-model,test-embed\nembedding-key,embed-key\n")
    s = await rt.start("densebot")
    assert texts(await rt.handle(Inbound("densebot", MONEY, token=s.token))) == [REFUNDS]
