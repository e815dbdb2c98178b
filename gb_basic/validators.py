"""Validation of ``HEAR x AS type`` answers.

:func:`validate` turns a user's answer into a normalised value, or refuses it; the machine
then asks again with :func:`retry_message` and, after the last try, says
:func:`giveup_message`. Messages exist in English ("en") and Brazilian Portuguese ("pt-BR");
any ``pt`` code maps to pt-BR and every other code falls back to English.

Validation is pure: "today" and "tomorrow" are resolved against the ``today`` argument, which
the machine fills from its environment's clock. A number no value may hold (more digits than
``max_number_digits``, or beyond the largest float) is refused like any other wrong answer.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import BasicRuntimeError
from .limits import meter
from .values import to_str

__all__ = ["DOCUMENT_TYPES", "FILE_KINDS", "HEAR_TYPES", "file_fits", "giveup_message", "language_of", "retry_message",
           "validate"]

HEAR_TYPES: frozenset[str] = frozenset(
    [
        "EMAIL",
        "NAME",
        "INTEGER",
        "NUMBER",
        "FLOAT",
        "MONEY",
        "DATE",
        "HOUR",
        "BOOLEAN",
        "MOBILE",
        "PHONE",
        "ZIPCODE",
        "LANGUAGE",
        "FILE",
        "IMAGE",
        "AUDIO",
        "DOCUMENT",
    ]
)

#: The HEAR types that take a file (an attachment); IMAGE, AUDIO and DOCUMENT check its type.
FILE_KINDS: frozenset[str] = frozenset({"FILE", "IMAGE", "AUDIO", "DOCUMENT"})
#: What ``HEAR x AS DOCUMENT`` takes besides ``text/*``: PDF, Word, Excel, PowerPoint, OpenDocument,
#: RTF, JSON, e-books (MIME types as sniffed from the content).
DOCUMENT_TYPES: frozenset[str] = frozenset({
    "application/pdf", "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/rtf", "application/json",
    "application/epub+zip",
})

Result = tuple[bool, Any]
_FAIL: Result = (False, None)


def language_of(code: str | None) -> str:
    """ "pt-BR" for any Portuguese code ("pt", "pt_BR", "pt-br"), else "en"."""
    c = (code or "").strip().replace("_", "-").lower()
    return "pt-BR" if c == "pt" or c.startswith("pt-") else "en"


def _fold(s: str) -> str:
    """Case- and accent-insensitive form with single spaces: "  Não  Sei" -> "nao sei"."""
    decomposed = unicodedata.normalize("NFKD", s)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _as_text(answer: Any) -> str | None:
    """The answer as text: numbers and booleans as typed, other structures not at all."""
    if type(answer) is str:
        return answer
    if type(answer) in (int, float, bool):
        return to_str(answer)
    return None


# --- the checks: each takes the answer text (FILE: the raw answer), language and today ------


_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}")


def _email(s: str, lang: str, today: _dt.date) -> Result:
    """An address like name@example.com, lower-cased."""
    e = s.strip().lower()
    local = e.partition("@")[0]
    if not _EMAIL.fullmatch(e) or ".." in local or local.startswith(".") or local.endswith("."):
        return _FAIL
    return True, e


_NAME_MARKS = frozenset(" '’-.")


def _name(s: str, lang: str, today: _dt.date) -> Result:
    """Letters of any script with spaces, apostrophes, hyphens and dots; 2 letters at least."""
    name = " ".join(unicodedata.normalize("NFC", s).split())
    letters = sum(unicodedata.category(c).startswith("L") for c in name)
    allowed = all(c in _NAME_MARKS or unicodedata.category(c)[0] in "LM" for c in name)
    return (True, name) if allowed and letters >= 2 else _FAIL


_INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer(s: str, lang: str, today: _dt.date) -> Result:
    """A whole number without separators: "42", "+3", "-7"."""
    t = s.strip()
    if not _INTEGER.fullmatch(t) or len(t.lstrip("+-").lstrip("0")) > meter().max_digits:
        return _FAIL  # more digits than a number may have: not an answer to take
    return True, int(t)


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
# "1.000" in Brazil is a thousand: with no grouping allowed, NUMBER refuses rather than guess.
_PT_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}\.[0-9]{3}")


def _decimal(s: str, lang: str) -> float | None:
    """A number with one optional decimal mark: "." always, "," in pt-BR."""
    t = s.strip()
    if lang == "pt-BR":
        if _PT_GROUPED.fullmatch(t):
            return None
        if t.count(",") == 1 and "." not in t:
            t = t.replace(",", ".")
    if not _DECIMAL.fullmatch(t):
        return None
    n = float(t)
    return n if math.isfinite(n) else None  # beyond the largest float: no number


def _number(s: str, lang: str, today: _dt.date) -> Result:
    """A number; an integral value becomes an int."""
    n = _decimal(s, lang)
    if n is None:
        return _FAIL
    return True, int(n) if n.is_integer() else n


def _float(s: str, lang: str, today: _dt.date) -> Result:
    """A number, always a float."""
    n = _decimal(s, lang)
    return _FAIL if n is None else (True, n)


_CURRENCY = re.compile(r"R\$|US\$|[$€£]|\b(?:BRL|USD|EUR|GBP)\b", re.IGNORECASE)
# Digits grouped by threes with one mark, or plain digits; then an optional 1-2 digit fraction.
_AMOUNT = re.compile(
    r"(?P<int>[0-9]{1,3}(?P<g>[.,])[0-9]{3}(?:(?P=g)[0-9]{3})*|[0-9]+)(?:(?P<d>[.,])(?P<frac>[0-9]{1,2}))?"
)


def _money(s: str, lang: str, today: _dt.date) -> Result:
    """An amount like "R$ 1.234,56", "$1,234.56", "1234.5" or "10", as a float with 2 decimals."""
    t = "".join(_CURRENCY.sub("", s).split())
    sign = -1 if t.startswith("-") else 1
    m = _AMOUNT.fullmatch(t.lstrip("+-"))
    if not m or (m.group("g") and m.group("g") == m.group("d")):
        return _FAIL
    whole = re.sub(r"[.,]", "", m.group("int"))
    value = float(f"{whole}.{m.group('frac') or 0}")
    if not math.isfinite(value):
        return _FAIL
    return True, round(sign * value, 2)


_MONTH_NAMES = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janeiro",
                "fevereiro",
                "marco",
                "abril",
                "maio",
                "junho",
                "julho",
                "agosto",
                "setembro",
                "outubro",
                "novembro",
                "dezembro",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"]
        )
    },
    "sept": 9,
}
_RELATIVE_DAYS = {
    "today": 0,
    "hoje": 0,
    "tomorrow": 1,
    "amanha": 1,
    "yesterday": -1,
    "ontem": -1,
}
_ISO = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_NUMERIC = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4}|[0-9]{2})")
_DAY_MONTH = re.compile(
    r"([0-9]{1,2})(?:st|nd|rd|th|o|º)?\s*(?:de\s+)?([a-z]+)\.?,?(?:\s*(?:de\s+)?([0-9]{4}))?"
)
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?(?:,?\s+([0-9]{4}))?")


def _full_year(y: str, today: _dt.date) -> int:
    """A 4-digit year; a 2-digit one is taken within ten years ahead of today, else last century."""
    year = int(y)
    if len(y) == 4:
        return year
    year += 2000
    return year if year <= today.year + 10 else year - 100


def _numeric_date(m: re.Match[str], lang: str, today: _dt.date) -> tuple[int, int, int]:
    """(year, month, day) of "25/11/2026": day first in pt-BR, month first in English,
    unless only the other order makes sense."""
    a, b, year = int(m.group(1)), int(m.group(2)), _full_year(m.group(3), today)
    day_first = lang == "pt-BR"
    if a > 12 >= b:
        day_first = True
    elif b > 12 >= a:
        day_first = False
    return (year, b, a) if day_first else (year, a, b)


def _parse_date(s: str, lang: str, today: _dt.date) -> tuple[int, int, int] | None:
    """(year, month, day) from the forms people type, else None."""
    t = _fold(s).rstrip(".")
    if t in _RELATIVE_DAYS:
        d = today + _dt.timedelta(days=_RELATIVE_DAYS[t])
        return d.year, d.month, d.day
    if m := _ISO.fullmatch(t):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _NUMERIC.fullmatch(t):
        return _numeric_date(m, lang, today)
    if (m := _DAY_MONTH.fullmatch(t)) and m.group(2) in _MONTH_NAMES:
        return int(m.group(3) or today.year), _MONTH_NAMES[m.group(2)], int(m.group(1))
    if (m := _MONTH_DAY.fullmatch(t)) and m.group(1) in _MONTH_NAMES:
        return int(m.group(3) or today.year), _MONTH_NAMES[m.group(1)], int(m.group(2))
    return None


def _date(s: str, lang: str, today: _dt.date) -> Result:
    """A calendar date: ISO, 25/11/2026, "25 de novembro", "Nov 25, 2026", today, tomorrow."""
    ymd = _parse_date(s, lang, today)
    if ymd is None:
        return _FAIL
    try:
        return True, _dt.date(*ymd)
    except ValueError:  # 31/02, month 13...
        return _FAIL


_NAMED_HOURS = {
    "noon": 12,
    "midday": 12,
    "meio-dia": 12,
    "meio dia": 12,
    "midnight": 0,
    "meia-noite": 0,
    "meia noite": 0,
}
_TWELVE = re.compile(r"([0-9]{1,2})(?:[:h.]([0-9]{2}))?(am|pm)")
_TWENTY_FOUR = re.compile(r"([0-9]{1,2})(?:[:h.]([0-9]{2})(?::[0-9]{2})?|h)?(?:horas?|hrs?|hs)?")


def _clock(s: str) -> tuple[int, int] | None:
    """(hour, minute) from "14:30", "14h30", "14h", "2pm", "2:30 PM", "noon", else None."""
    t = _fold(s)
    if t in _NAMED_HOURS:
        return _NAMED_HOURS[t], 0
    t = "".join(t.replace("a.m.", "am").replace("p.m.", "pm").split())
    if m := _TWELVE.fullmatch(t):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if m.group(3) == "pm" else 0), minute
    if m := _TWENTY_FOUR.fullmatch(t):
        return int(m.group(1)), int(m.group(2) or 0)
    return None


def _hour(s: str, lang: str, today: _dt.date) -> Result:
    """A time of day as "HH:MM"."""
    hm = _clock(s)
    if hm is None or hm[0] > 23 or hm[1] > 59:
        return _FAIL
    return True, f"{hm[0]:02d}:{hm[1]:02d}"


_YES = frozenset(
    [
        "yes",
        "y",
        "true",
        "sim",
        "s",
        "1",
        "ok",
        "okay",
        "yeah",
        "yep",
        "sure",
        "claro",
        "certo",
        "verdadeiro",
    ]
)
_NO = frozenset(["no", "n", "false", "nao", "0", "nope", "falso"])


def _boolean(s: str, lang: str, today: _dt.date) -> Result:
    """Yes or no, in English or Portuguese."""
    t = _fold(s).strip(".!")
    if t in _YES:
        return True, True
    if t in _NO:
        return True, False
    return _FAIL


_PHONE_PUNCTUATION = re.compile(r"[\s\-.()\u2010-\u2015]")


def _digits_number(s: str, least: int) -> Result:
    """ "+" and 'least'..15 digits, once spaces, dashes, dots and parentheses are gone."""
    t = _PHONE_PUNCTUATION.sub("", s)
    m = re.fullmatch(r"\+?([0-9]+)", t)
    if not m or not least <= len(m.group(1)) <= 15:
        return _FAIL
    return True, "+" + m.group(1)


def _mobile(s: str, lang: str, today: _dt.date) -> Result:
    """A mobile number: 10 to 15 digits."""
    return _digits_number(s, 10)


def _phone(s: str, lang: str, today: _dt.date) -> Result:
    """A phone number: 7 to 15 digits."""
    return _digits_number(s, 7)


_US_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")
_CEP = re.compile(r"([0-9]{2})\.?([0-9]{3})-?([0-9]{3})")


def _zipcode(s: str, lang: str, today: _dt.date) -> Result:
    """A US ZIP (12345, 12345-6789) or a Brazilian CEP, normalised to 01310-100."""
    t = s.strip()
    if _US_ZIP.fullmatch(t):
        return True, t
    if m := _CEP.fullmatch(t):
        return True, f"{m.group(1)}{m.group(2)}-{m.group(3)}"
    return _FAIL


# ISO 639-1 code -> names people type (folded: lower case, no accents), English, Portuguese, native.
_LANGUAGE_NAMES = {
    "en": "english ingles",
    "pt": "portuguese portugues",
    "es": "spanish espanhol espanol castellano",
    "fr": "french frances francais",
    "de": "german alemao deutsch",
    "it": "italian italiano",
    "nl": "dutch holandes neerlandes nederlands",
    "ru": "russian russo русский",
    "zh": "chinese chines mandarin mandarim 中文",
    "ja": "japanese japones 日本語",
    "ko": "korean coreano 한국어",
    "ar": "arabic arabe العربية",
    "hi": "hindi",
    "pl": "polish polones polski",
    "tr": "turkish turco turkce",
    "sv": "swedish sueco svenska",
    "uk": "ukrainian ucraniano",
    "el": "greek grego",
    "he": "hebrew hebraico",
    "ca": "catalan catalao catala",
}
_LANGUAGES = {
    **{code: code for code in _LANGUAGE_NAMES},
    **{name: code for code, names in _LANGUAGE_NAMES.items() for name in names.split()},
}


def _language(s: str, lang: str, today: _dt.date) -> Result:
    """An ISO 639-1 code from a code ("pt", "pt-BR") or a language's name."""
    t = _fold(s).rstrip(".")
    code = _LANGUAGES.get(t) or _LANGUAGES.get(re.split(r"[-_]", t)[0])
    return (True, code) if code else _FAIL


_FILENAME = re.compile(r"[^\s/\\]+\.[A-Za-z][A-Za-z0-9]{0,7}")


def _file(answer: Any, lang: str, today: _dt.date) -> Result:
    """An attachment dict as given, or {"name", "url"} for a http(s) URL or a path."""
    if type(answer) is dict:
        return (True, answer) if answer else _FAIL
    if type(answer) is not str:
        return _FAIL
    s = answer.strip()
    if re.match(r"https?://[^\s/]+", s, re.IGNORECASE) and not re.search(r"\s", s):
        parts = urlsplit(s)
        name = unquote(parts.path.rstrip("/").rpartition("/")[2]) or parts.netloc
        return True, {"name": name, "url": s}
    is_path = ("/" in s or "\\" in s) and "\n" not in s
    name = re.split(r"[/\\]", s)[-1]
    if (is_path and name) or _FILENAME.fullmatch(s):
        return True, {"name": name, "url": s}
    return _FAIL


_Check = Callable[[Any, str, _dt.date], Result]


def file_fits(kind: str, mime: str | None) -> bool:
    """Whether a file of MIME type `mime` (sniffed from its content, never taken from its name)
    is what ``HEAR x AS kind`` asks for: FILE any; IMAGE ``image/*``; AUDIO ``audio/*``;
    DOCUMENT ``text/*`` or one of DOCUMENT_TYPES."""
    k = kind.strip().upper()
    m = (mime or "").split(";")[0].strip().lower()
    if k == "FILE":
        return True
    if k == "IMAGE":
        return m.startswith("image/")
    if k == "AUDIO":
        return m.startswith("audio/")
    if k == "DOCUMENT":
        return m.startswith("text/") or m in DOCUMENT_TYPES
    return False


def _kind(kind: str) -> _Check:
    """The check of ``HEAR x AS IMAGE|AUDIO|DOCUMENT``: an attachment (a dict whose ``type`` the
    server sniffed from the content) of that kind; a text (a URL, a file name) is not one."""
    def check(answer: Any, lang: str, today: _dt.date) -> Result:
        if type(answer) is dict and answer and file_fits(kind, to_str(answer.get("type") or "")):
            return True, answer
        return _FAIL

    check.__doc__ = f"An attachment whose sniffed type fits {kind}."
    return check


_CHECKS: dict[str, _Check] = {
    "EMAIL": _email,
    "NAME": _name,
    "INTEGER": _integer,
    "NUMBER": _number,
    "FLOAT": _float,
    "MONEY": _money,
    "DATE": _date,
    "HOUR": _hour,
    "BOOLEAN": _boolean,
    "MOBILE": _mobile,
    "PHONE": _phone,
    "ZIPCODE": _zipcode,
    "LANGUAGE": _language,
    "FILE": _file,
    "IMAGE": _kind("IMAGE"),
    "AUDIO": _kind("AUDIO"),
    "DOCUMENT": _kind("DOCUMENT"),
}


# --- the public API ---------------------------------------------------------------------


def _menu(answer: Any, choices: Sequence[Any]) -> Result:
    """The choice the answer names, ignoring case and accents, or picks by its 1-based number."""
    text = _fold(_as_text(answer) or "")
    if not text:
        return _FAIL
    for choice in choices:
        if _fold(to_str(choice)) == text:
            return True, choice
    number = text.rstrip(".)")
    if re.fullmatch(r"[0-9]{1,4}", number) and 1 <= int(number) <= len(choices):
        return True, choices[int(number) - 1]
    return _FAIL


def validate(
    type_name: str,
    answer: Any,
    *,
    choices: Sequence[Any] | None = None,
    language: str = "en",
    today: _dt.date | None = None,
) -> tuple[bool, object]:
    """Check a HEAR answer and normalise it.

    Called by the machine when a typed ``HEAR`` is answered.

    Args:
        type_name: one of ``HEAR_TYPES`` (any case), or "MENU" with `choices`.
        answer: the user's text; for FILE, an attachment dict or a URL/path text; for IMAGE,
            AUDIO and DOCUMENT, an attachment dict (``{name, type, size, url, id}``) whose
            ``type`` fits (see :func:`file_fits`).
        choices: the menu of ``HEAR x AS "a", "b"``; when given, `type_name` is not used.
        language: "en" or "pt-BR" (see :func:`language_of`); decides 25/11 vs 11/25 and "3,5".
        today: the date "today" and "tomorrow" refer to; defaults to the system date.

    Returns:
        ``(True, value)`` with the normalised value, or ``(False, None)``.

    Raises:
        BasicRuntimeError: `type_name` is not a HEAR type (or MENU without choices).
    """
    if choices is not None:
        return _menu(answer, choices)
    check = _CHECKS.get(type_name.strip().upper())
    if check is None:
        raise BasicRuntimeError(
            f"unknown HEAR type {type_name}; expected one of {', '.join(sorted(HEAR_TYPES))}"
        )
    text = answer if type_name.strip().upper() in FILE_KINDS else _as_text(answer)
    if text is None:
        return _FAIL
    return check(text, language_of(language), today or _dt.date.today())


_RETRY = {
    "EMAIL": ("Please enter a valid email address.", "Por favor, informe um e-mail válido."),
    "NAME": (
        "Please enter a valid name, using letters only.",
        "Por favor, informe um nome válido, usando apenas letras.",
    ),
    "INTEGER": (
        "Please enter a whole number, like 42.",
        "Por favor, informe um número inteiro, como 42.",
    ),
    "NUMBER": ("Please enter a number, like 3.5.", "Por favor, informe um número, como 3,5."),
    "FLOAT": ("Please enter a number, like 3.5.", "Por favor, informe um número, como 3,5."),
    "MONEY": (
        "Please enter an amount of money, like 1,234.56.",
        "Por favor, informe um valor em dinheiro, como R$ 1.234,56.",
    ),
    "DATE": (
        "Please enter a valid date, like 11/25/2026.",
        "Por favor, informe uma data válida, como 25/11/2026.",
    ),
    "HOUR": (
        "Please enter a time, like 14:30 or 2:30 PM.",
        "Por favor, informe um horário, como 14:30.",
    ),
    "BOOLEAN": ("Please answer yes or no.", "Por favor, responda sim ou não."),
    "MOBILE": (
        "Please enter a valid mobile number, with the area code.",
        "Por favor, informe um número de celular válido, com DDD.",
    ),
    "PHONE": (
        "Please enter a valid phone number.",
        "Por favor, informe um número de telefone válido.",
    ),
    "ZIPCODE": (
        "Please enter a valid ZIP code, like 12345 or 12345-6789.",
        "Por favor, informe um CEP válido, como 01310-100.",
    ),
    "LANGUAGE": (
        "Please enter a language, like English or Portuguese.",
        "Por favor, informe um idioma, como português ou inglês.",
    ),
    "FILE": ("Please send a file.", "Por favor, envie um arquivo."),
    "IMAGE": (
        "Please send an image, like a photo (JPEG or PNG).",
        "Por favor, envie uma imagem, como uma foto (JPEG ou PNG).",
    ),
    "AUDIO": (
        "Please send an audio file or a voice message.",
        "Por favor, envie um arquivo de áudio ou uma mensagem de voz.",
    ),
    "DOCUMENT": (
        "Please send a document, like a PDF, a Word or spreadsheet file, or a text file.",
        "Por favor, envie um documento, como um PDF, um arquivo do Word, uma planilha ou um texto.",
    ),
}
_RETRY_ANY = ("Please enter a valid answer.", "Por favor, informe uma resposta válida.")
_RETRY_MENU = ("Please choose one of: {}.", "Por favor, escolha uma das opções: {}.")
_GIVEUP = (
    "Sorry, I could not understand your answer.",
    "Desculpe, não consegui entender sua resposta.",
)


def _pick(pair: tuple[str, str], language: str) -> str:
    """The English or the Portuguese text of a pair."""
    return pair[1] if language_of(language) == "pt-BR" else pair[0]


def retry_message(
    type_name: str, *, language: str = "en", choices: Sequence[Any] | None = None
) -> str:
    """What to say when an answer was refused, before asking again."""
    if choices is not None:
        return _pick(_RETRY_MENU, language).format(", ".join(to_str(c) for c in choices))
    return _pick(_RETRY.get(type_name.strip().upper(), _RETRY_ANY), language)


def giveup_message(*, language: str = "en") -> str:
    """What to say after the last refused answer."""
    return _pick(_GIVEUP, language)
