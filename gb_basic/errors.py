"""Errors of the BASIC language.

Tree::

    BasicError                    every error this package raises
    ├── BasicSyntaxError          the source does not parse or compile (exit code 1 in `gb check`)
    └── BasicRuntimeError         a running dialog failed; carries the line
        ├── UnsupportedKeyword    a keyword gb parses but does not implement
        ├── BudgetExceeded        the step or wall-time budget of one message ran out
        │   └── LimitExceeded     a value would pass a size cap (text, list, number, nesting...)
        └── DialogChanged         the .bas changed while a dialog waited and cannot resume safely

    StateUnreadable               a saved state is corrupt, of an unknown format, or does not
                                  decode: not a BasicError, the dialog itself did not fail

Every error renders in one format: ``[file:line:col] Error at 'TOKEN': message``
followed, where the source is known, by the offending line and a caret.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BasicError",
    "BasicSyntaxError",
    "BasicRuntimeError",
    "UnsupportedKeyword",
    "BudgetExceeded",
    "LimitExceeded",
    "Offload",
    "DialogChanged",
    "StateUnreadable",
    "excerpt",
]


def excerpt(source: str | None, line: int, column: int) -> str:
    """Return the source line `line` (1-based) and a caret under `column` (1-based)."""
    if not source or line < 1:
        return ""
    lines = source.splitlines()
    if line > len(lines):
        return ""
    text = lines[line - 1].expandtabs(4)
    caret = " " * max(column - 1, 0) + "^"
    return f"    {text}\n    {caret}"


class BasicError(Exception):
    """Root of the language's errors: a message placed at file, line and column."""

    kind = "Error"

    def __init__(
        self,
        message: str,
        *,
        file: str = "<dialog>",
        line: int = 0,
        column: int = 0,
        token: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.token = token
        self.source = source
        self.outputs: list[Any] = []  # runtime errors: what the dialog said before failing

    def locate(self, *, file: str, line: int, column: int, source: str | None = None) -> BasicError:
        """Fill in a position the error does not have yet; returns self."""
        if not self.line:
            self.line, self.column = line, column
        if self.file == "<dialog>":
            self.file = file
        if self.source is None:
            self.source = source
        return self

    @property
    def headline(self) -> str:
        """The one-line form: ``[file:line:col] Error at 'X': message``."""
        where = f"{self.file}:{self.line}:{self.column}" if self.column else f"{self.file}:{self.line}"
        at = f" at '{self.token}'" if self.token else ""
        return f"[{where}] {self.kind}{at}: {self.message}"

    def __str__(self) -> str:
        snippet = excerpt(self.source, self.line, self.column or 1)
        return f"{self.headline}\n{snippet}" if snippet else self.headline


class BasicSyntaxError(BasicError):
    """The source does not parse or does not compile."""


class BasicRuntimeError(BasicError):
    """A running dialog failed at a line."""


class UnsupportedKeyword(BasicRuntimeError):
    """A statement with a keyword gb parses but does not implement was executed."""

    def __init__(self, keyword: str, what: str = "keyword", reason: str = "", **kw: object) -> None:
        self.keyword = keyword
        why = f" yet: {reason}" if reason else ""
        super().__init__(f"{what} {keyword} is not supported{why}", **kw)  # type: ignore[arg-type]

    def locate(self, *, file: str, line: int, column: int, source: str | None = None) -> BasicError:
        """Place the error and name the line in the message: ``... is not supported (line 7)``."""
        super().locate(file=file, line=line, column=column, source=source)
        return _name_line(self)


def _name_line(err: BasicError) -> BasicError:
    """Append ``(line N)`` to the message of a placed error, once; returns it."""
    if err.line and "(line " not in err.message:
        err.message += f" (line {err.line})"
        err.args = (err.message,)
    return err


class BudgetExceeded(BasicRuntimeError):
    """One message used more steps or wall time than its budget: a runaway script.

    ON ERROR RESUME NEXT does not resume after it (nor after :class:`LimitExceeded`).
    """


class Offload(BudgetExceeded):
    """A message ran past the :class:`~gb_basic.limits.Slice` its caller gave it: not an error of
    the dialog. The caller runs it again, from the state it passed in (a run never changes it),
    where it may use its whole budget. ON ERROR RESUME NEXT does not resume after it."""


class LimitExceeded(BudgetExceeded):
    """A value would pass a size cap of the machine (see :mod:`gb_basic.limits`): a text, a list,
    an integer's digits, the nesting of lists and objects, what one message says or saves.

    Raised before the value is built; the message names the line: ``text too long: ... (line 3)``.
    """

    def locate(self, *, file: str, line: int, column: int, source: str | None = None) -> BasicError:
        """Place the error and name the line in the message."""
        super().locate(file=file, line=line, column=column, source=source)
        return _name_line(self)


class DialogChanged(BasicRuntimeError):
    """The dialog's source changed while it waited, and resuming it is not provably safe."""


class StateUnreadable(Exception):
    """A saved dialog state that no machine can resume: not what :meth:`Machine.run
    <gb_basic.machine.Machine.run>` saves (corrupt, of another format) or its variables do not
    decode. Not a :class:`BasicError`, so that nothing takes it for an error of the dialog: the
    caller drops the state and starts over (the runtime says "The dialog X could not be resumed").

    Args:
        reason: what is wrong, for people (``its saved state is of format 7; this gb reads 1``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
