"""What gb itself says to a bot's users is in the session's language: the bot's `language`, or
the one a dialog set (SET LANGUAGE); English and Brazilian Portuguese."""

from __future__ import annotations

from pathlib import Path

import pytest

from gb_runtime import Inbound
from gb_runtime.wording import TEXTS, said
from gb_sessions.config import Stores
from tests.helpers.bots import runtime_with_bot, texts


def test_every_text_has_both_languages_and_the_same_blanks() -> None:
    for key, (english, portuguese) in TEXTS.items():
        assert english and portuguese and english != portuguese, key
        assert sorted(part.split("}")[0] for part in english.split("{")[1:]) == \
            sorted(part.split("}")[0] for part in portuguese.split("{")[1:]), key
    assert said("dialog-changed", "pt_BR", name="start").startswith("O diálogo start mudou")
    assert said("dialog-changed", "fr", name="start").startswith("The start dialog was changed")


@pytest.mark.parametrize("language,sorry,lost", [
    ("pt-BR", "Desculpe, não entendi.", "Desculpe, algo deu errado nesta conversa."),
    ("en", "Sorry, I did not understand.", "Sorry, something went wrong in this conversation."),
])
async def test_the_bots_language_is_the_users(stores: Stores, tmp_path: Path, language: str, sorry: str,
                                              lost: str) -> None:
    rt = runtime_with_bot(stores, tmp_path, f"w{language[:2]}", {"start": 'TALK "oi"', "quebra": "x = 1 / 0"},
                          config=f"language,{language}\n")
    s = await rt.start(f"w{language[:2]}")
    assert texts(await rt.handle(Inbound(f"w{language[:2]}", "o que?", token=s.token))) == [sorry]
    assert texts(await rt.handle(Inbound(f"w{language[:2]}", "quebra", token=s.token))) == [lost]


async def test_set_language_changes_what_gb_says(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "wset", {"start": 'SET LANGUAGE "pt-BR"\nTALK "oi"'})
    s = await rt.start("wset")
    assert texts(await rt.handle(Inbound("wset", "o que?", token=s.token))) == ["Desculpe, não entendi."]
