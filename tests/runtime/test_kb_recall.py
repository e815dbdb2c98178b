"""Retrieval quality, measured: recall@3 of the example bots' question set (bench/kb_questions.json,
English and Portuguese) on SQLite's FTS5 and PostgreSQL's full text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_runtime.bots import BotRegistry
from gb_runtime.knowledge import KnowledgeBase
from gb_sessions.knowledge import KnowledgeIndex
from tests.backends import open_backend
from tests.helpers.bots import EXAMPLE_BOTS
from tests.helpers.kb_recall import questions, recall_at

RECALL_FLOOR = 0.9  # measured 2026-12-02 (bench/README.md); a regression of the index falls below


@pytest.fixture(params=["sqlite", "postgres"])
async def knowledge(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KnowledgeBase]:
    async with open_backend(request.param, request, tmp_path) as stores:
        yield KnowledgeBase(KnowledgeIndex(stores.engine))


def test_the_question_set_has_30_questions_in_english_and_portuguese() -> None:
    bots = BotRegistry(EXAMPLE_BOTS, Path("/nonexistent"))
    languages = [bots.get(q["bot"]).settings.language for q in questions()]
    assert len(languages) >= 30 and languages.count("pt-BR") >= 10 and languages.count("en") >= 20


@pytest.mark.parametrize("language", ["en", "pt"])
async def test_recall_at_3_of_the_example_bots(knowledge: KnowledgeBase, tmp_path: Path, language: str) -> None:
    result = await recall_at(knowledge, BotRegistry(EXAMPLE_BOTS, tmp_path / "data"), 3, language)
    assert result.ratio >= RECALL_FLOOR, "\n".join(result.missed)
