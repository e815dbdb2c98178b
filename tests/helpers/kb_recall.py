"""Recall@k of the knowledge index over bench/kb_questions.json (the test gates it, bench/kb.py prints it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gb_runtime.bots import BotRegistry
from gb_runtime.knowledge import KnowledgeBase

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "kb_questions.json"


def questions() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    return data


@dataclass
class Recall:
    """How many questions found their passage in the top k, and the ones that did not."""

    found: int
    asked: int
    missed: list[str]

    @property
    def ratio(self) -> float:
        return self.found / self.asked if self.asked else 0.0


async def recall_at(knowledge: KnowledgeBase, bots: BotRegistry, k: int = 3,
                    language: str | None = None) -> Recall:
    """Ask each question (of the bots in `language`'s bots when given) to all of its bot's KBs."""
    found, asked, missed = 0, 0, []
    for q in questions():
        bot = bots.get(q["bot"])
        if language is not None and bot.settings.language.split("-")[0] != language:
            continue
        asked += 1
        top = await knowledge.search(bot, bot.kb_names(), q["question"], k)
        if any(f"{p.kb}/{p.source}" == q["source"] and q["contains"] in p.text for p in top):
            found += 1
        else:
            missed.append(f"{q['bot']}: {q['question']!r} -> {[f'{p.kb}/{p.source}: {p.text[:40]}' for p in top]}")
    return Recall(found, asked, missed)
