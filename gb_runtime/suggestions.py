"""Suggestions: the buttons a bot offers with its replies (ADD SUGGESTION, ADD SWITCHER).

The forms General Bots' dialogs use::

    ADD SUGGESTION "Cartas"                        ' a button that sends "Cartas"
    ADD SUGGESTION "products" AS "View products"   ' context "products", shows and sends "View products"
    ADD SUGGESTION TOOL "qr" AS "Scan a QR Code"   ' runs the bot's tool qr.bas when clicked
    ADD SWITCHER "tables" AS "Tabelas"             ' a switcher: toggles an answer format
    CLEAR SUGGESTIONS                              ' removes the suggestions (not the switchers)
    CLEAR SWITCHERS                                ' removes the switchers

**Lifetime.** General Bots keeps a session's suggestions in one list (in its cache) that every
reply of the bot shows, until ``CLEAR SUGGESTIONS``. gb keeps that rule and makes it durable:
the list is part of the session's context (``context["suggestions"]``), saved with every turn,
so it survives a HEAR, a server restart and a move to another process; every turn's result
carries the list as it is after the turn (``Result.suggestions``), and a front shows it under
the bot's last reply, replacing the previous one. Adding a suggestion that is already there
(same kind, name and text: a start.bas run twice) does not add it twice.

**A click** sends the button's text as the user's message (every channel can carry that: the web
chat, the widget, Direct Line's ``imBack``, a WhatsApp button reply). The runtime recognises a
message equal to a suggestion's text (:func:`pick`, case and surrounding spaces aside):

* a context suggestion makes its name the session's active context (``context["active_context"]``,
  which the LLM reads with the texts of ``SET CONTEXT name AS text``);
* a switcher is toggled in ``context["switchers"]`` (the active ones, in order); when no dialog
  waits that is all (a toggle is not a question: no fallback reply, the turn's suggestions show
  the new state);
* a tool suggestion, when no dialog waits, starts the tool's dialog (its ``WITH`` values fill
  the tool's PARAMs, in order).

Otherwise the message goes on as any message does: it answers the HEAR that waits (whatever the
button), or starts the dialog it names, or reaches the fallback (the knowledge base, the LLM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gb_basic import BasicRuntimeError, values

__all__ = ["Suggestion", "KINDS", "MAX_SUGGESTIONS", "MAX_TEXT", "add", "clear", "offered", "pick"]

SLOT = "suggestions"  # the session context's list of suggestions (dicts, see Suggestion.to_dict)
ACTIVE_CONTEXT = "active_context"  # the context the last clicked context suggestion selected
SWITCHERS = "switchers"  # the names of the switchers that are on
KINDS = ("text", "context", "tool", "switcher")
MAX_SUGGESTIONS = 50  # suggestions and switchers of one session (a loop adding more is a bug)
MAX_TEXT = 500  # characters of a button's text


@dataclass(frozen=True)
class Suggestion:
    """One button.

    Attributes:
        kind: ``text`` (ADD SUGGESTION "x"), ``context`` (ADD SUGGESTION name AS text),
            ``tool`` (ADD SUGGESTION TOOL name AS text) or ``switcher`` (ADD SWITCHER name AS text).
        text: what the button shows, and what a click sends as the user's message.
        name: the context, tool or switcher it names (None for a ``text`` one).
        params: a tool's values for its PARAMs, in their stored form (``WITH a, b``).
        active: a switcher that is on (the user clicked it an odd number of times).
    """

    kind: str
    text: str
    name: str | None = None
    params: list[Any] | None = field(default=None, compare=False)
    active: bool = field(default=False, compare=False)

    @property
    def value(self) -> str:
        """What a click sends: the text (so the transcript shows what the user chose)."""
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: ``{kind, text, value[, name][, params][, active]}``."""
        d: dict[str, Any] = {"kind": self.kind, "text": self.text, "value": self.value}
        if self.name is not None:
            d["name"] = self.name
        if self.params is not None:
            d["params"] = self.params
        if self.kind == "switcher":
            d["active"] = self.active
        return d

    def stored(self) -> dict[str, Any]:
        """The form kept in the session's context (no `value`, no `active`: both derived)."""
        d: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.name is not None:
            d["name"] = self.name
        if self.params is not None:
            d["params"] = self.params
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Suggestion:
        """Inverse of :meth:`to_dict` (a turn event's ``suggestions``)."""
        name, params = d.get("name"), d.get("params")
        return cls(str(d.get("kind") or "text"), str(d.get("text") or ""), name if isinstance(name, str) else None,
                   params if isinstance(params, list) else None, bool(d.get("active")))

    @classmethod
    def from_stored(cls, d: Any) -> Suggestion | None:
        """A suggestion from the session's context (a bare string: a text one), None for junk."""
        if isinstance(d, str):
            return cls("text", d)
        if not isinstance(d, dict) or not isinstance(d.get("text"), str) or d.get("kind") not in KINDS:
            return None
        name = d.get("name")
        params = d.get("params")
        return cls(str(d["kind"]), d["text"], name if isinstance(name, str) else None,
                   params if isinstance(params, list) else None)


def _stored(context: dict[str, Any]) -> list[Suggestion]:
    raw = context.get(SLOT)
    found = [Suggestion.from_stored(d) for d in raw] if isinstance(raw, list) else []
    return [s for s in found if s is not None]


def offered(context: dict[str, Any]) -> list[Suggestion]:
    """The session's suggestions, in the order they were added (switchers with their state)."""
    on = context.get(SWITCHERS)
    active = set(on) if isinstance(on, list) else set()
    return [Suggestion(s.kind, s.text, s.name, s.params, s.kind == "switcher" and s.name in active)
            for s in _stored(context)]


def _text(keyword: str, value: Any, what: str) -> str:
    """A button's text or name from a dialog's value (a number is its text); refused: NULL,
    empty, over MAX_TEXT characters."""
    if value is None:
        raise BasicRuntimeError(f"{keyword} needs {what}, got NULL")
    text = values.to_str(value).strip()
    if not text:
        raise BasicRuntimeError(f"{keyword} needs {what}, got an empty text")
    if len(text) > MAX_TEXT:
        raise BasicRuntimeError(f"{keyword}: {what} has {len(text):,} characters (at most {MAX_TEXT})")
    return text


def make(keyword: str, kind: str, label: Any, name: Any = None, params: list[Any] | None = None) -> Suggestion:
    """The suggestion a keyword's arguments describe. A NULL `name` (an unquoted word such as
    ``ADD SWITCHER tables AS "Tabelas"``, which reads an unset variable) takes the text's.

    Raises:
        BasicRuntimeError: the text is NULL, empty or too long (at the statement's line).
    """
    text = _text(keyword, label, "a text to show")
    shown_name = None if kind == "text" else (_text(keyword, name, "a name") if name is not None else text)
    return Suggestion(kind, text, shown_name, params)


def add(context: dict[str, Any], keyword: str, suggestion: Suggestion) -> None:
    """Add a suggestion to the session's context, once (an equal one already there stays as it is).

    Raises:
        BasicRuntimeError: the session has MAX_SUGGESTIONS already.
    """
    current = _stored(context)
    if suggestion in current:
        return
    if len(current) >= MAX_SUGGESTIONS:
        raise BasicRuntimeError(f"{keyword}: this session has {MAX_SUGGESTIONS} suggestions already "
                                "(CLEAR SUGGESTIONS or CLEAR SWITCHERS first)")
    context[SLOT] = [s.stored() for s in [*current, suggestion]]


def clear(context: dict[str, Any], *, switchers: bool) -> None:
    """Remove the suggestions (``switchers`` False: all but the switchers) or the switchers (and
    forget which were on)."""
    kept = [s for s in _stored(context) if (s.kind == "switcher") != switchers]
    context[SLOT] = [s.stored() for s in kept]
    if switchers:
        context.pop(SWITCHERS, None)


def pick(context: dict[str, Any], text: str) -> Suggestion | None:
    """A user's message that is the text of one of the session's suggestions (a click, or the
    same words typed): record what it selects (the active context, a switcher toggled) and
    return it; None for any other message."""
    said = text.strip().casefold()
    if not said:
        return None
    chosen = next((s for s in _stored(context) if s.text.casefold() == said), None)
    if chosen is None or chosen.name is None:
        return chosen
    if chosen.kind == "context":
        context[ACTIVE_CONTEXT] = chosen.name
    elif chosen.kind == "switcher":
        on = [n for n in context.get(SWITCHERS) or [] if isinstance(n, str)]
        context[SWITCHERS] = [n for n in on if n != chosen.name] if chosen.name in on else [*on, chosen.name]
    return chosen
