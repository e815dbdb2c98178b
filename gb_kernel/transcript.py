"""``%%transcript``: a conversation written as ``bot:`` / ``user:`` lines, replayed as a test.

The user lines are sent, in order, to a fresh session of the bot (after its dialog starts);
the bot's replies must be the ``bot:`` lines. A difference fails the cell with a readable diff.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from gb_runtime import Result

__all__ = ["Transcript", "parse_transcript", "TranscriptError", "render", "diff"]


class TranscriptError(ValueError):
    """A line of a %%transcript cell is neither ``bot:`` nor ``user:``."""


@dataclass
class Transcript:
    lines: list[tuple[str, str]]  # (who, text), who is "bot" or "user"

    @property
    def user_lines(self) -> list[str]:
        return [text for who, text in self.lines if who == "user"]


def parse_transcript(body: str) -> Transcript:
    """Parse ``bot: text`` / ``user: text`` lines (blank lines and ``#`` or ``'`` comments skipped)."""
    lines: list[tuple[str, str]] = []
    for n, raw in enumerate(body.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "'")):
            continue
        who, sep, text = line.partition(":")
        who = who.strip().lower()
        if not sep or who not in ("bot", "user"):
            raise TranscriptError(f"line {n}: expected 'bot: ...' or 'user: ...', got {raw.strip()!r}")
        lines.append((who, text.strip()))
    return Transcript(lines)


def render(lines: list[tuple[str, str]]) -> list[str]:
    return [f"{who}: {text}" for who, text in lines]


def bot_lines(result: Result) -> list[tuple[str, str]]:
    """What the bot said in one turn, as transcript lines (a multi-line message: one line each)."""
    out: list[tuple[str, str]] = []
    for r in result.replies:
        out.extend(("bot", part) for part in r.content.split("\n"))
    return out


def diff(expected: list[tuple[str, str]], actual: list[tuple[str, str]]) -> str:
    """A unified diff of the expected and actual conversations ('' when they match)."""
    if expected == actual:
        return ""
    return "\n".join(difflib.unified_diff(render(expected), render(actual), "expected", "actual", lineterm=""))
