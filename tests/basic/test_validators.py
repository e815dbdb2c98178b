"""Tests of HEAR answer validation: tables of accepted and refused answers per type and language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gb_basic.errors import BasicRuntimeError
from gb_basic.validators import (
    HEAR_TYPES,
    giveup_message,
    language_of,
    retry_message,
    validate,
)

TODAY = dt.date(2026, 3, 10)
PNG: dict[str, Any] = {"id": "a", "name": "x.pdf", "type": "image/png", "size": 9, "url": "/b/files/a"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
D = dt.date
BOTH = ("en", "pt-BR")


def check(type_name: str, answer: Any, language: str = "en") -> tuple[bool, object]:
    return validate(type_name, answer, language=language, today=TODAY)


def test_hear_types() -> None:
    assert HEAR_TYPES == {
        "EMAIL", "NAME", "INTEGER", "NUMBER", "FLOAT", "MONEY", "DATE", "HOUR", "BOOLEAN",
        "MOBILE", "PHONE", "ZIPCODE", "LANGUAGE", "FILE", "IMAGE", "AUDIO", "DOCUMENT",
    }  # fmt: skip


# (type, answer, language, normalised value); language "*" means both.
VALID: list[tuple[str, Any, str, Any]] = [
    ("EMAIL", "ana@example.com", "*", "ana@example.com"),
    ("EMAIL", "  Ana.Souza@Example.COM.br ", "*", "ana.souza@example.com.br"),
    ("EMAIL", "first+tag@sub.domain.org", "*", "first+tag@sub.domain.org"),
    ("EMAIL", "josé@exemplo.com.br", "*", "josé@exemplo.com.br"),
    ("NAME", "Ana", "*", "Ana"),
    ("NAME", "  José   da Silva  ", "*", "José da Silva"),
    ("NAME", "O'Brien", "*", "O'Brien"),
    ("NAME", "Anne-Marie St. John", "*", "Anne-Marie St. John"),
    ("NAME", "Zoë", "*", "Zoë"),
    ("NAME", "王小明", "*", "王小明"),
    ("NAME", "Дмитрий", "*", "Дмитрий"),
    ("NAME", "प्रिया", "*", "प्रिया"),
    ("INTEGER", "42", "*", 42),
    ("INTEGER", " 42 ", "*", 42),
    ("INTEGER", "+3", "*", 3),
    ("INTEGER", "-7", "*", -7),
    ("INTEGER", "007", "*", 7),
    ("INTEGER", 12, "*", 12),
    ("NUMBER", "3.5", "*", 3.5),
    ("NUMBER", "42", "*", 42),
    ("NUMBER", "3.0", "*", 3),
    ("NUMBER", "-0.25", "*", -0.25),
    ("NUMBER", ".5", "*", 0.5),
    ("NUMBER", "3,5", "pt-BR", 3.5),
    ("NUMBER", "0.125", "pt-BR", 0.125),
    ("NUMBER", "1,000", "pt-BR", 1),
    ("FLOAT", "3.5", "*", 3.5),
    ("FLOAT", "2", "*", 2.0),
    ("FLOAT", "3,25", "pt-BR", 3.25),
    ("MONEY", "R$ 1.234,56", "*", 1234.56),
    ("MONEY", "$1,234.56", "*", 1234.56),
    ("MONEY", "1234.5", "*", 1234.5),
    ("MONEY", "1.234,56", "*", 1234.56),
    ("MONEY", "10", "*", 10.0),
    ("MONEY", "10,5", "*", 10.5),
    ("MONEY", "1,234", "*", 1234.0),
    ("MONEY", "1.234.567,89", "*", 1234567.89),
    ("MONEY", "USD 99.90", "*", 99.9),
    ("MONEY", "€ 5", "*", 5.0),
    ("MONEY", "-R$ 3,00", "*", -3.0),
    ("MONEY", "R$1.000", "*", 1000.0),
    ("MONEY", "1 234,56", "*", 1234.56),
    ("DATE", "2026-11-25", "*", D(2026, 11, 25)),
    ("DATE", "25/11/2026", "*", D(2026, 11, 25)),
    ("DATE", "11/25/2026", "*", D(2026, 11, 25)),
    ("DATE", "03/04/2026", "en", D(2026, 3, 4)),
    ("DATE", "03/04/2026", "pt-BR", D(2026, 4, 3)),
    ("DATE", "5-1-2027", "pt-BR", D(2027, 1, 5)),
    ("DATE", "25.11.26", "*", D(2026, 11, 25)),
    ("DATE", "01/02/85", "pt-BR", D(1985, 2, 1)),
    ("DATE", "today", "*", TODAY),
    ("DATE", "Hoje", "*", TODAY),
    ("DATE", "tomorrow", "*", D(2026, 3, 11)),
    ("DATE", "amanhã", "*", D(2026, 3, 11)),
    ("DATE", "amanha", "pt-BR", D(2026, 3, 11)),
    ("DATE", "ontem", "pt-BR", D(2026, 3, 9)),
    ("DATE", "25 de novembro de 2026", "*", D(2026, 11, 25)),
    ("DATE", "1º de março", "pt-BR", D(2026, 3, 1)),
    ("DATE", "November 25, 2026", "*", D(2026, 11, 25)),
    ("DATE", "25 Nov 2026", "*", D(2026, 11, 25)),
    ("HOUR", "14:30", "*", "14:30"),
    ("HOUR", "9:05", "*", "09:05"),
    ("HOUR", "14:30:00", "*", "14:30"),
    ("HOUR", "2pm", "*", "14:00"),
    ("HOUR", "2 PM", "*", "14:00"),
    ("HOUR", "2:30 PM", "*", "14:30"),
    ("HOUR", "12am", "*", "00:00"),
    ("HOUR", "12 p.m.", "*", "12:00"),
    ("HOUR", "14h30", "*", "14:30"),
    ("HOUR", "14h", "*", "14:00"),
    ("HOUR", "14 horas", "pt-BR", "14:00"),
    ("HOUR", "8", "*", "08:00"),
    ("HOUR", "meio-dia", "pt-BR", "12:00"),
    ("HOUR", "midnight", "en", "00:00"),
    ("BOOLEAN", "yes", "*", True),
    ("BOOLEAN", "Y", "*", True),
    ("BOOLEAN", "true", "*", True),
    ("BOOLEAN", "Sim", "*", True),
    ("BOOLEAN", "s", "*", True),
    ("BOOLEAN", "1", "*", True),
    ("BOOLEAN", "OK", "*", True),
    ("BOOLEAN", "yes!", "*", True),
    ("BOOLEAN", True, "*", True),
    ("BOOLEAN", "no", "*", False),
    ("BOOLEAN", "n", "*", False),
    ("BOOLEAN", "FALSE", "*", False),
    ("BOOLEAN", "não", "*", False),
    ("BOOLEAN", "nao", "*", False),
    ("BOOLEAN", "0", "*", False),
    ("MOBILE", "+55 (11) 99999-8888", "*", "+5511999998888"),
    ("MOBILE", "11 99999.8888", "*", "+11999998888"),
    ("MOBILE", "(415) 555-0100", "*", "+4155550100"),
    ("MOBILE", "+1 415 555 0100", "*", "+14155550100"),
    ("MOBILE", "+123456789012345", "*", "+123456789012345"),
    ("PHONE", "555-1234", "*", "+5551234"),
    ("PHONE", "+55 11 3333-4444", "*", "+551133334444"),
    ("PHONE", "(11) 3333.4444", "*", "+1133334444"),
    ("ZIPCODE", "12345", "*", "12345"),
    ("ZIPCODE", "12345-6789", "*", "12345-6789"),
    ("ZIPCODE", "01310-100", "*", "01310-100"),
    ("ZIPCODE", "01310100", "*", "01310-100"),
    ("ZIPCODE", " 01.310-100 ", "*", "01310-100"),
    ("LANGUAGE", "en", "*", "en"),
    ("LANGUAGE", "pt", "*", "pt"),
    ("LANGUAGE", "PT-BR", "*", "pt"),
    ("LANGUAGE", "en_US", "*", "en"),
    ("LANGUAGE", "English", "*", "en"),
    ("LANGUAGE", "inglês", "*", "en"),
    ("LANGUAGE", "Portuguese", "*", "pt"),
    ("LANGUAGE", "português", "*", "pt"),
    ("LANGUAGE", "Spanish", "*", "es"),
    ("LANGUAGE", "espanhol", "*", "es"),
    ("LANGUAGE", "Español", "*", "es"),
    ("LANGUAGE", "French", "*", "fr"),
    ("LANGUAGE", "francês", "*", "fr"),
    ("LANGUAGE", "German", "*", "de"),
    ("LANGUAGE", "alemão", "*", "de"),
    ("LANGUAGE", "Italian", "*", "it"),
    ("LANGUAGE", "Japanese", "*", "ja"),
    ("LANGUAGE", "chinês", "*", "zh"),
    ("LANGUAGE", "Russian", "*", "ru"),
    ("LANGUAGE", "árabe", "*", "ar"),
    ("LANGUAGE", "Dutch", "*", "nl"),
    ("LANGUAGE", "Korean", "*", "ko"),
    ("LANGUAGE", "hindi", "*", "hi"),
    (
        "FILE",
        {"name": "cv.pdf", "url": "https://x/cv.pdf", "content_type": "application/pdf"},
        "*",
        {"name": "cv.pdf", "url": "https://x/cv.pdf", "content_type": "application/pdf"},
    ),
    (
        "FILE",
        "https://example.com/files/My%20CV.pdf?x=1",
        "*",
        {"name": "My CV.pdf", "url": "https://example.com/files/My%20CV.pdf?x=1"},
    ),
    ("FILE", "https://example.com/", "*", {"name": "example.com", "url": "https://example.com/"}),
    ("FILE", "/tmp/report.xlsx", "*", {"name": "report.xlsx", "url": "/tmp/report.xlsx"}),
    ("FILE", "C:\\docs\\a b.txt", "*", {"name": "a b.txt", "url": "C:\\docs\\a b.txt"}),
    ("FILE", "photo.jpg", "*", {"name": "photo.jpg", "url": "photo.jpg"}),
    # IMAGE, AUDIO, DOCUMENT: an attachment whose type (sniffed by the server from the content) fits
    ("IMAGE", PNG, "*", PNG),
    ("IMAGE", {**PNG, "type": "image/jpeg"}, "*", {**PNG, "type": "image/jpeg"}),
    ("AUDIO", {**PNG, "type": "audio/ogg"}, "*", {**PNG, "type": "audio/ogg"}),
    ("AUDIO", {**PNG, "type": "audio/mpeg"}, "*", {**PNG, "type": "audio/mpeg"}),
    ("DOCUMENT", {**PNG, "type": "application/pdf"}, "*", {**PNG, "type": "application/pdf"}),
    ("DOCUMENT", {**PNG, "type": "text/csv"}, "*", {**PNG, "type": "text/csv"}),
    ("DOCUMENT", {**PNG, "type": DOCX}, "*", {**PNG, "type": DOCX}),
]


def expand(table: list[tuple[str, Any, str, Any]]) -> list[tuple[str, Any, str, Any]]:
    """Turn language "*" into one row per language."""
    return [(t, a, lang, v) for t, a, l, v in table for lang in (BOTH if l == "*" else (l,))]


@pytest.mark.parametrize(("type_name", "answer", "language", "expected"), expand(VALID))
def test_valid_answer(type_name: str, answer: Any, language: str, expected: Any) -> None:
    ok, value = check(type_name, answer, language)
    assert ok
    assert value == expected
    assert type(value) is type(expected)


# (type, answer, language); language "*" means both.
INVALID: list[tuple[str, Any, str]] = [
    ("EMAIL", "", "*"),
    ("EMAIL", "ana", "*"),
    ("EMAIL", "ana@", "*"),
    ("EMAIL", "ana@example", "*"),
    ("EMAIL", "ana@@example.com", "*"),
    ("EMAIL", "ana maria@example.com", "*"),
    ("EMAIL", "ana..m@example.com", "*"),
    ("EMAIL", ".ana@example.com", "*"),
    ("EMAIL", "ana@-example.com", "*"),
    ("EMAIL", "ana@example.c", "*"),
    ("NAME", "", "*"),
    ("NAME", "A", "*"),
    ("NAME", "R2D2", "*"),
    ("NAME", "Ana 2", "*"),
    ("NAME", "ana@example.com", "*"),
    ("NAME", "--", "*"),
    ("NAME", "Ana!", "*"),
    ("INTEGER", "", "*"),
    ("INTEGER", "1.000", "*"),
    ("INTEGER", "1,000", "*"),
    ("INTEGER", "3.5", "*"),
    ("INTEGER", "abc", "*"),
    ("INTEGER", "1_000", "*"),
    ("INTEGER", "+", "*"),
    ("INTEGER", "4 2", "*"),
    ("NUMBER", "", "*"),
    ("NUMBER", "abc", "*"),
    ("NUMBER", "3,5", "en"),
    ("NUMBER", "1.000", "pt-BR"),
    ("NUMBER", "1,000", "en"),
    ("NUMBER", "1e5", "*"),
    ("NUMBER", "nan", "*"),
    ("NUMBER", "inf", "*"),
    ("NUMBER", "3.", "*"),
    ("FLOAT", "3,5", "en"),
    ("FLOAT", "x", "*"),
    ("MONEY", "", "*"),
    ("MONEY", "abc", "*"),
    ("MONEY", "R$", "*"),
    ("MONEY", "1.234.56", "*"),
    ("MONEY", "1,234,56", "*"),
    ("MONEY", "12,3456", "*"),
    ("MONEY", "1.2345", "*"),
    ("MONEY", "12..5", "*"),
    ("MONEY", "1,5,0", "*"),
    ("DATE", "", "*"),
    ("DATE", "someday", "*"),
    ("DATE", "31/02/2026", "*"),
    ("DATE", "2026-13-01", "*"),
    ("DATE", "13/13/2026", "*"),
    ("DATE", "25/11", "*"),
    ("DATE", "32 de novembro de 2026", "*"),
    ("DATE", "25 de blah de 2026", "*"),
    ("HOUR", "", "*"),
    ("HOUR", "25:00", "*"),
    ("HOUR", "14:60", "*"),
    ("HOUR", "13pm", "*"),
    ("HOUR", "0am", "*"),
    ("HOUR", "later", "*"),
    ("HOUR", "14:3", "*"),
    ("BOOLEAN", "", "*"),
    ("BOOLEAN", "maybe", "*"),
    ("BOOLEAN", "talvez", "*"),
    ("BOOLEAN", "2", "*"),
    ("MOBILE", "", "*"),
    ("MOBILE", "555-1234", "*"),
    ("MOBILE", "+1234567890123456", "*"),
    ("MOBILE", "11 9999x-8888", "*"),
    ("MOBILE", "++5511999998888", "*"),
    ("MOBILE", "call me", "*"),
    ("PHONE", "123456", "*"),
    ("PHONE", "1234567890123456", "*"),
    ("PHONE", "phone", "*"),
    ("ZIPCODE", "", "*"),
    ("ZIPCODE", "1234", "*"),
    ("ZIPCODE", "123456", "*"),
    ("ZIPCODE", "12345-67", "*"),
    ("ZIPCODE", "ABCDE", "*"),
    ("ZIPCODE", "123456789", "*"),
    ("LANGUAGE", "", "*"),
    ("LANGUAGE", "Klingon", "*"),
    ("LANGUAGE", "xx", "*"),
    ("LANGUAGE", "e", "*"),
    ("FILE", "", "*"),
    ("FILE", "no file, sorry", "*"),
    ("FILE", "version 1.5", "*"),
    ("FILE", {}, "*"),
    ("FILE", 42, "*"),
    ("FILE", None, "*"),
    ("IMAGE", {**PNG, "type": "application/pdf"}, "*"),
    ("IMAGE", {"name": "photo.png", "url": "https://x/photo.png"}, "*"),  # no sniffed type: not an attachment
    ("IMAGE", "https://x/photo.png", "*"),
    ("IMAGE", {}, "*"),
    ("AUDIO", {**PNG, "type": "video/mp4"}, "*"),
    ("AUDIO", "voice.ogg", "*"),
    ("DOCUMENT", PNG, "*"),
    ("DOCUMENT", {**PNG, "type": "application/zip"}, "*"),
    ("DOCUMENT", {**PNG, "type": "application/octet-stream"}, "*"),
]


def expand_invalid(table: list[tuple[str, Any, str]]) -> list[tuple[str, Any, str]]:
    """Turn language "*" into one row per language."""
    return [(t, a, lang) for t, a, l in table for lang in (BOTH if l == "*" else (l,))]


@pytest.mark.parametrize(("type_name", "answer", "language"), expand_invalid(INVALID))
def test_invalid_answer(type_name: str, answer: Any, language: str) -> None:
    assert check(type_name, answer, language) == (False, None)


def test_every_type_has_valid_and_invalid_cases() -> None:
    assert {row[0] for row in VALID} == HEAR_TYPES
    assert {row[0] for row in INVALID} == HEAR_TYPES


@pytest.mark.parametrize("type_name", sorted(HEAR_TYPES - {"FILE"}))
def test_non_text_answers_are_refused(type_name: str) -> None:  # IMAGE & co: an object without a sniffed type
    assert check(type_name, None) == (False, None)
    assert check(type_name, {"a": 1}) == (False, None)
    assert check(type_name, ["x"]) == (False, None)


@pytest.mark.parametrize("type_name", ["email", "Email", " EMAIL "])
def test_type_name_is_case_insensitive(type_name: str) -> None:
    assert check(type_name, "A@B.CO") == (True, "a@b.co")


def test_unknown_type_is_an_error() -> None:
    with pytest.raises(BasicRuntimeError, match="unknown HEAR type COLOR"):
        check("COLOR", "red")
    with pytest.raises(BasicRuntimeError, match="unknown HEAR type MENU"):
        check("MENU", "a")


@pytest.mark.parametrize(("type_name", "en", "pt"), [
    ("IMAGE", "Please send an image, like a photo (JPEG or PNG).",
     "Por favor, envie uma imagem, como uma foto (JPEG ou PNG)."),
    ("AUDIO", "Please send an audio file or a voice message.",
     "Por favor, envie um arquivo de áudio ou uma mensagem de voz."),
    ("DOCUMENT", "Please send a document, like a PDF, a Word or spreadsheet file, or a text file.",
     "Por favor, envie um documento, como um PDF, um arquivo do Word, uma planilha ou um texto."),
])
def test_file_kinds_have_their_own_retry_messages(type_name: str, en: str, pt: str) -> None:
    assert retry_message(type_name) == en
    assert retry_message(type_name, language="pt") == pt


def test_today_defaults_to_the_system_date() -> None:
    assert validate("DATE", "today") == (True, dt.date.today())


# --- menus ------------------------------------------------------------------------------

MENU = ["Suporte técnico", "Vendas", "Financeiro"]

MENU_CASES: list[tuple[Any, list[Any], Any]] = [
    ("Vendas", MENU, "Vendas"),
    ("vendas", MENU, "Vendas"),
    ("  VENDAS ", MENU, "Vendas"),
    ("suporte tecnico", MENU, "Suporte técnico"),
    ("Suporte   Técnico", MENU, "Suporte técnico"),
    ("1", MENU, "Suporte técnico"),
    ("3", MENU, "Financeiro"),
    ("2.", MENU, "Vendas"),
    (2, MENU, "Vendas"),
    ("20", [10, 20, 30], 20),
    ("2", [10, 20, 30], 20),
    ("2", ["1", "2", "3"], "2"),
]


@pytest.mark.parametrize(("answer", "choices", "expected"), MENU_CASES)
@pytest.mark.parametrize("language", BOTH)
def test_menu_match(answer: Any, choices: list[Any], expected: Any, language: str) -> None:
    assert validate("MENU", answer, choices=choices, language=language) == (True, expected)


@pytest.mark.parametrize("answer", ["", "0", "4", "-1", "Vend", "Compras", None, ["Vendas"]])
def test_menu_refusal(answer: Any) -> None:
    assert validate("MENU", answer, choices=MENU) == (False, None)


# --- messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("pt-BR", "pt-BR"),
        ("pt", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("PT-br", "pt-BR"),
        ("es", "en"),
        ("", "en"),
        (None, "en"),
        ("en-US", "en"),
    ],
)
def test_language_of(code: Any, expected: str) -> None:
    assert language_of(code) == expected


RETRY_SAMPLES = [
    ("EMAIL", "en", "Please enter a valid email address."),
    ("EMAIL", "pt-BR", "Por favor, informe um e-mail válido."),
    ("EMAIL", "pt", "Por favor, informe um e-mail válido."),
    ("EMAIL", "pt_BR", "Por favor, informe um e-mail válido."),
    ("EMAIL", "fr", "Please enter a valid email address."),
    ("BOOLEAN", "en", "Please answer yes or no."),
    ("BOOLEAN", "pt-BR", "Por favor, responda sim ou não."),
    ("COLOR", "en", "Please enter a valid answer."),
    ("COLOR", "pt-BR", "Por favor, informe uma resposta válida."),
]


@pytest.mark.parametrize(("type_name", "language", "expected"), RETRY_SAMPLES)
def test_retry_message_samples(type_name: str, language: str, expected: str) -> None:
    assert retry_message(type_name, language=language) == expected


@pytest.mark.parametrize("type_name", sorted(HEAR_TYPES))
def test_retry_message_per_type_in_both_languages(type_name: str) -> None:
    en = retry_message(type_name, language="en")
    pt = retry_message(type_name, language="pt-BR")
    assert en.startswith("Please ") and en.endswith(".")
    assert pt.startswith("Por favor, ") and pt.endswith(".")
    assert en != retry_message("COLOR", language="en")
    assert pt != retry_message("COLOR", language="pt-BR")


def test_retry_messages_differ_between_types() -> None:
    distinct = {retry_message(t) for t in HEAR_TYPES - {"FLOAT"}}
    assert len(distinct) == len(HEAR_TYPES) - 1


def test_retry_message_for_a_menu() -> None:
    assert retry_message("MENU", choices=["a", "b", "c"]) == "Please choose one of: a, b, c."
    assert (
        retry_message("MENU", language="pt-BR", choices=["a", "b", "c"])
        == "Por favor, escolha uma das opções: a, b, c."
    )
    assert retry_message("MENU", choices=[1, 2.5]) == "Please choose one of: 1, 2.5."


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Sorry, I could not understand your answer."),
        ("pt-BR", "Desculpe, não consegui entender sua resposta."),
        ("pt", "Desculpe, não consegui entender sua resposta."),
        ("de", "Sorry, I could not understand your answer."),
    ],
)
def test_giveup_message(language: str, expected: str) -> None:
    assert giveup_message(language=language) == expected


def test_giveup_message_defaults_to_english() -> None:
    assert giveup_message() == "Sorry, I could not understand your answer."
