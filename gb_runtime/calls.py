"""``CALL "other.bas"[, args]`` / ``CALL other[(args)]``: a dialog runs another dialog of its bot.

The machine is pure: a CALL of a name that is no SUB or FUNCTION of the file is a keyword request
``{"keyword": "CALL", "args": [name, *args]}``. The DialogRuntime answers it by running the called
dialog in a machine of its own, the caller's state kept on a stack of frames (in the session's
saved dialog while the called one waits at HEAR or WAIT: ``session.dialog["stack"]``, the
innermost caller last). When the called dialog ends, the caller resumes after its CALL with the
called dialog's RETURN value as the answer. The arguments go to the called dialog's PARAMs in
order; the depth of nested calls is capped (:data:`MAX_CALL_DEPTH`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from gb_basic import BasicError, BasicRuntimeError, Program, Request, compile_source, values

from .bots import BotPackage

__all__ = ["MAX_CALL_DEPTH", "is_call", "call_target", "call_variables", "compile_cached"]

MAX_CALL_DEPTH = 8  # dialogs a CALL may nest (the caller's frames kept while the called one runs)


def is_call(request: Request) -> bool:
    """Whether a request is a CALL of another dialog."""
    return request.kind == "keyword" and request.data.get("keyword") == "CALL"


def call_target(bot: BotPackage, request: Request, depth: int, caller: str) -> tuple[str, list[Any]]:
    """The dialog a CALL names (``"tickets.bas"``, ``tickets``) and its arguments (decoded).

    Args:
        bot: the bot whose dialogs may be called.
        request: the CALL request.
        depth: the callers on the stack already.
        caller: the calling dialog's file name (for the error's place).

    Raises:
        BasicRuntimeError: no such dialog of the bot, or the calls nest deeper than MAX_CALL_DEPTH;
            placed at the CALL's line.
    """
    args = [values.decode(a) for a in request.data.get("args") or []]
    try:
        if not args:
            raise BasicRuntimeError("CALL needs the name of a dialog")
        written = values.to_str(args[0]).strip()
        name = written.removesuffix(".bas").removesuffix(".BAS").strip().lower()
        if "/" in name or "\\" in name or name not in {n.lower() for n in bot.dialog_names()}:
            raise BasicRuntimeError(f"CALL {written}: bot {bot.name} has no dialog {name or written!r}")
        if depth >= MAX_CALL_DEPTH:
            raise BasicRuntimeError(f"CALL {written}: dialogs call each other more than {MAX_CALL_DEPTH} deep")
    except BasicRuntimeError as exc:
        exc.locate(file=caller, line=request.line, column=request.column)
        raise
    return name, args[1:]


def call_variables(program: Program, args: list[Any], request: Request, caller: str) -> dict[str, Any]:
    """The called dialog's starting variables (stored form): its PARAMs, in order, from the arguments.

    Raises:
        BasicRuntimeError: more arguments than the dialog has PARAMs (at the CALL's line).
    """
    params = [p.name.lower() for p in program.params]
    if len(args) > len(params):
        err = BasicRuntimeError(f"CALL {program.name}: it takes {len(params)} argument(s) (its PARAMs), "
                                f"got {len(args)}")
        err.locate(file=caller, line=request.line, column=request.column)
        raise err
    return {name: values.encode(v) for name, v in zip(params, args) if v is not None}


def compile_cached(source: str, name: str) -> Program:
    """The program of a dialog that keeps its own source (a notebook cell, the LLM's asking for a
    tool's parameters), compiled once per source (a re-run cell, the same cell in a restarted
    kernel, a resumed dialog) and named `name` for its messages."""
    try:
        program = _compile(source)
    except BasicError as exc:
        exc.file = name
        raise
    return program if program.name == name else dataclasses.replace(program, name=name)


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> Program:
    return compile_source(source, "cell")
