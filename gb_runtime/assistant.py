"""The LLM in a session: ``x = LLM "prompt"``, the answer to a message no dialog handles, tools.

A bot has an LLM when its config.csv sets ``llm-url`` (any OpenAI-compatible chat completions
endpoint: :mod:`.llm`). Without one, ``LLM`` fails with "no LLM configured" and a message no
dialog handles is answered from the session's knowledge bases alone (:mod:`.knowledge`).

**The prompt** of a session is its own: the system prompt (``BEGIN SYSTEM PROMPT ... END SYSTEM
PROMPT``, a template's, or ``llm-system-prompt``), the texts of ``SET CONTEXT`` (the one a context
suggestion selected first), the answer mode (``SET ANSWER MODE``), then for an unhandled message
the top passages of the session's active knowledge bases, numbered, and its recent history
(``history-limit`` messages). The model is asked to cite passages as ``[1]``; the answer ends with
the sources it cited.

**Tools.** ``USE TOOL "name"`` offers the bot's ``name.bas`` to the model as a function, its JSON
schema from the dialog's ``PARAM`` and ``DESCRIPTION`` lines (:func:`.llm.tool_schema`). When the
model calls one, the dialog runs in the session with those parameters, like a dialog a CALL runs:
the conversation with the model waits on the session's dialog stack as an *LLM frame*
(``{"llm": {...}}``: the messages so far, the calls left), saved with the session. A required
parameter the model left out is asked first, with a HEAR of the parameter's type (a small dialog
of its own, kept in the saved state with its source); a HEAR suspends the turn like any dialog's,
so a restart in the middle loses nothing. When the tool's dialog ends, its RETURN value (and what
it said) goes back to the model, which answers or calls the next tool (at most
:data:`MAX_TOOL_ROUNDS` rounds).

**Streaming.** A front that shows text as it comes (the web chat's socket, the notebook widget)
gives its callback in ``Inbound.on_delta``; the answer's pieces go to it as the model sends them.
The stored message is the whole answer, written once with the turn; an answer that fails or times
out half-way stores nothing of it and says so.

**Budget.** ``llm-max-tokens-per-day`` caps the tokens a bot uses a day, and
``llm-max-session-tokens-per-day`` those of each of its sessions (:mod:`gb_sessions.usage`); the
answer's message keeps its count (``token_count``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gb_basic import BasicRuntimeError, Program, values
from gb_basic.validators import HEAR_TYPES
from gb_sessions import Session
from gb_sessions.usage import TokenLedger

from .bots import BotConfigError, BotPackage
from .calls import compile_cached
from .llm import Completion, LlmClient, LlmConfig, LlmError, LlmStopped, estimated_prompt_tokens, literal, tool_schema

__all__ = ["Assistant", "Answer", "ToolStep", "Delta", "MAX_TOOL_ROUNDS", "KB_PASSAGES", "BudgetUsedUp"]

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 5  # model calls of one answer that may call tools; the last one is asked to answer
KB_PASSAGES = 3  # knowledge-base passages in the prompt of an unhandled message
DEFAULT_SYSTEM = ("You are {bot}, a helpful assistant in a chat. Answer briefly, in the language of the user's "
                  "message.")
CITE = ("Answer from these passages of the knowledge base when they hold the answer, and cite the ones you "
        "use as [1], [2]. If they do not hold it, say what you know and that it is not in the documents.")

Delta = Callable[[str], Awaitable[None]]


class BudgetUsedUp(LlmError):
    """The bot's or the session's daily tokens (``llm-max-tokens-per-day``) are used up."""


@dataclass
class Answer:
    """The model's final answer: its text (with its sources), the tokens the answer took."""

    text: str
    tokens: int


@dataclass
class ToolStep:
    """The model called a tool: run `program` (the tool's dialog, or a small dialog asking for a
    missing parameter: `source` set) with `variables`; `frame` waits under it on the stack."""

    program: Program
    name: str
    variables: dict[str, Any]
    frame: dict[str, Any]
    source: str | None = None


@dataclass
class _Prompt:
    messages: list[dict[str, Any]]
    sources: list[str] = field(default_factory=list)


class Assistant:
    """The LLM of every bot of a runtime.

    Args:
        client: the OpenAI-compatible client (its httpx client shared with nothing else).
        ledger: the daily token counts (the session database's, or this process's).
        search: the search of a session's active knowledge bases: ``(session, bot, question, k) -> passages``.
        clock: the runtime's clock (the budget's day is the UTC day).
    """

    def __init__(self, client: LlmClient, ledger: TokenLedger,
                 search: Callable[[Session, BotPackage, str, int], Awaitable[Sequence[Any]]],
                 clock: Callable[[], dt.datetime]) -> None:
        self.client = client
        self.ledger = ledger
        self.search = search
        self.clock = clock

    def config(self, bot: BotPackage) -> LlmConfig | None:
        """The bot's LLM (None: config.csv sets no ``llm-url``).

        Raises:
            BotConfigError: an llm-* key of config.csv has a bad value.
        """
        return LlmConfig.of(bot.name, bot.settings)

    # --- x = LLM "prompt" -----------------------------------------------------------------------
    async def ask(self, session: Session, bot: BotPackage, prompt: str) -> tuple[str, int]:
        """``x = LLM prompt``: the model's answer to `prompt` under the session's system prompt
        and contexts (no history, no knowledge, no tools), and its tokens.

        Raises:
            BasicRuntimeError: no LLM configured, the budget is used up, or the call failed (what and where).
        """
        try:
            config = self.config(bot)
        except BotConfigError as exc:
            raise BasicRuntimeError(f"LLM: {exc}") from None
        if config is None:
            raise BasicRuntimeError(f"LLM: no LLM configured for bot {bot.name} (set llm-url in config.csv)")
        messages = [{"role": "system", "content": self._system(session, bot)}, {"role": "user", "content": prompt}]
        try:
            completion = await self._complete(session, bot, config, messages, None, None, None)
        except LlmError as exc:
            raise BasicRuntimeError(f"LLM: {exc}") from None
        return completion.text, completion.total_tokens

    # --- a message no dialog handles ------------------------------------------------------------
    async def answer(self, session: Session, bot: BotPackage, config: LlmConfig, text: str,
                     history: Sequence[Any], on_delta: Delta | None, stop: asyncio.Event | None) -> Answer | ToolStep:
        """The model's answer to `text` (the user's message, last of `history`), or the first
        tool it calls.

        Raises:
            LlmError: the call failed, timed out or was cut off (nothing of it is kept), or the budget is used up.
        """
        prompt = await self._prompt(session, bot, text, history)
        frame = {"messages": prompt.messages, "sources": prompt.sources, "calls": [], "rounds": 0, "tokens": 0}
        return await self._next(session, bot, config, frame, on_delta, stop)

    async def went_on(self, session: Session, bot: BotPackage, frame: dict[str, Any], value: Any,
                      said: list[str], on_delta: Delta | None, stop: asyncio.Event | None) -> Answer | ToolStep:
        """The dialog run for `frame` (a tool, or the asking for a tool's parameter) ended with
        `value` (in its stored form), having said `said`: the next step of the conversation.

        Raises:
            LlmError: as :meth:`answer`.
        """
        config = self.config(bot)
        if config is None:
            raise LlmError(f"bot {bot.name} has no LLM any more (llm-url was removed from config.csv)")
        frame = json.loads(json.dumps(frame))  # a copy: the saved one stays as it was should this fail
        current = frame.pop("current", None) or {}
        missing = current.get("missing") or []
        if missing:  # the asking dialog's answers: the tool's parameters
            answers = value if isinstance(value, list) else [value]
            current["arguments"].update({p: a for p, a in zip(missing, answers)})
            current["missing"] = []
            return await self._call(session, bot, config, frame, current, on_delta, stop)
        result = {"returned": value}
        if said:
            result["said_to_the_user"] = said
        frame["messages"].append({"role": "tool", "tool_call_id": current.get("id", ""),
                                  "content": json.dumps(result, ensure_ascii=False, default=str)})
        return await self._proceed(session, bot, config, frame, on_delta, stop)

    async def _proceed(self, session: Session, bot: BotPackage, config: LlmConfig, frame: dict[str, Any],
                       on_delta: Delta | None, stop: asyncio.Event | None) -> Answer | ToolStep:
        """After a tool's result: the next call the model asked for, or the model again."""
        if frame["calls"]:
            return await self._call(session, bot, config, frame, frame["calls"].pop(0), on_delta, stop)
        return await self._next(session, bot, config, frame, on_delta, stop)

    async def _next(self, session: Session, bot: BotPackage, config: LlmConfig, frame: dict[str, Any],
                    on_delta: Delta | None, stop: asyncio.Event | None) -> Answer | ToolStep:
        """Ask the model with the conversation of `frame`: its answer, or its first tool call (the
        others wait in the frame)."""
        tools = self._tools(session, bot) if frame["rounds"] < MAX_TOOL_ROUNDS else {}
        frame["rounds"] += 1
        completion = await self._complete(session, bot, config, frame["messages"],
                                          [schema for _, schema in tools.values()] or None, on_delta, stop)
        frame["tokens"] += completion.total_tokens
        calls = completion.tool_calls
        if not calls:
            return Answer(_cited(completion.text, frame["sources"]), frame["tokens"])
        frame["messages"].append({"role": "assistant", "content": completion.text or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in calls]})
        frame["calls"] = [{"id": c.id, "name": tools[c.name][0] if c.name in tools else None, "called": c.name,
                           "arguments": {str(k): values.encode(v) for k, v in c.arguments.items()}} for c in calls]
        return await self._call(session, bot, config, frame, frame["calls"].pop(0), on_delta, stop)

    async def _call(self, session: Session, bot: BotPackage, config: LlmConfig, frame: dict[str, Any],
                    call: dict[str, Any], on_delta: Delta | None, stop: asyncio.Event | None) -> Answer | ToolStep:
        """The step that runs `call`: the tool's dialog, or first the asking for what it lacks."""
        name = call.get("name")
        program = bot.dialog(str(name)) if name else None
        if program is None:  # not a tool of this session (a made-up name, a tool gone): the model hears so
            frame["messages"].append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(
                {"error": f"there is no tool {call.get('called') or name!r} in this conversation"})})
            return await self._proceed(session, bot, config, frame, on_delta, stop)
        name = str(name)
        arguments = {str(k).lower(): v for k, v in (call.get("arguments") or {}).items()}
        params = {p.name.lower(): p for p in program.params}
        missing = [p for p in params if p not in arguments and not params[p].optional and params[p].default is None]
        call = {**call, "arguments": arguments, "missing": missing}
        frame["current"] = call
        if missing:
            source = _ask_source([params[p].type for p in missing])
            prompts = {f"ask_{i}": _question(params[p]) for i, p in enumerate(missing)}
            return ToolStep(compile_cached(source, "ask"), "ask", prompts, frame, source)
        given = {p: arguments.get(p) for p in params}  # stored forms already
        return ToolStep(program, name.lower(), given, frame)

    def _tools(self, session: Session, bot: BotPackage) -> dict[str, tuple[str, dict[str, Any]]]:
        """The session's tools as the model sees them: function name -> (dialog, schema)."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        for name in session.context.get("tools") or []:
            try:
                program = bot.dialog(str(name))
            except Exception as exc:  # a tool that does not compile now is left out, said in the log
                log.warning("bot %s: tool %s left out: %s", bot.name, name, exc)
                continue
            if program is None:
                continue
            schema = tool_schema(str(name), program)
            out[schema["function"]["name"]] = (str(name), schema)
        return out

    async def _complete(self, session: Session, bot: BotPackage, config: LlmConfig, messages: list[dict[str, Any]],
                        tools: list[dict[str, Any]] | None, on_delta: Delta | None,
                        stop: asyncio.Event | None) -> Completion:
        day = self.clock().astimezone(dt.UTC).date()
        await self._check_budget(session, bot, day)
        try:
            completion = await self.client.complete(config, messages, tools=tools, on_delta=on_delta, stop=stop)
        except LlmStopped:  # the prompt was read by the model: counted (estimated), or stopping beats the budget
            await self.ledger.spend(bot.name, session.id, estimated_prompt_tokens(messages), day)
            raise
        await self.ledger.spend(bot.name, session.id, completion.total_tokens, day)
        return completion

    async def _check_budget(self, session: Session, bot: BotPackage, day: dt.date) -> None:
        extra = bot.settings.extra
        per_bot = _limit(extra, "llm-max-tokens-per-day", bot.name)
        per_session = _limit(extra, "llm-max-session-tokens-per-day", bot.name)
        if not per_bot and not per_session:
            return
        used_bot, used_session = await self.ledger.used(bot.name, session.id, day)
        if per_bot and used_bot >= per_bot:
            raise BudgetUsedUp(f"bot {bot.name} used its {per_bot:,} tokens of today (llm-max-tokens-per-day)")
        if per_session and used_session >= per_session:
            raise BudgetUsedUp(f"this session used its {per_session:,} tokens of today "
                               "(llm-max-session-tokens-per-day)")

    # --- the prompt -----------------------------------------------------------------------------
    def _system(self, session: Session, bot: BotPackage) -> str:
        ctx = session.context
        parts = [str(ctx.get("system_prompt") or bot.settings.extra.get("llm-system-prompt")
                     or DEFAULT_SYSTEM.format(bot=bot.name))]
        contexts = ctx.get("contexts") if isinstance(ctx.get("contexts"), dict) else {}
        for name, text in (contexts or {}).items():
            parts.append(f"Context ({name}): {values.to_str(values.decode(text))}")
        if ctx.get("answer_mode"):
            parts.append(f"Answer mode: {ctx['answer_mode']}.")
        return "\n\n".join(parts)

    async def _prompt(self, session: Session, bot: BotPackage, text: str, history: Sequence[Any]) -> _Prompt:
        system = self._system(session, bot)
        passages = await self.search(session, bot, text, KB_PASSAGES)
        sources: list[str] = []
        if passages:
            lines = []
            for i, p in enumerate(passages, 1):
                where = f"{p.kb}/{p.source}" + (f", {p.heading}" if p.heading else "")
                sources.append(f"{p.kb}/{p.source}")
                lines.append(f"[{i}] ({where}) {p.text}")
            system += "\n\n" + CITE + "\n\n" + "\n\n".join(lines)
        turns = [{"role": m.role, "content": m.content} for m in history if m.role in ("user", "assistant")]
        if not turns or turns[-1] != {"role": "user", "content": text}:
            turns.append({"role": "user", "content": text})
        return _Prompt([{"role": "system", "content": system}, *turns], sources)


def _cited(text: str, sources: list[str]) -> str:
    """The answer with the sources it cites (``[n]``) listed after it."""
    cited = sorted({int(n) for n in re.findall(r"\[(\d{1,2})\]", text) if 1 <= int(n) <= len(sources)})
    if not cited:
        return text.strip()
    return text.strip() + "\n\nSources: " + "; ".join(f"[{n}] {sources[n - 1]}" for n in cited)


def _limit(extra: dict[str, str], key: str, bot: str) -> int:
    raw = (extra.get(key) or "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BotConfigError(f"bot {bot}: {key} must be a whole number of tokens, got {raw!r}") from None
    if value < 0:
        raise BotConfigError(f"bot {bot}: {key} must be 0 (no limit) or more, got {raw!r}")
    return value


def _question(param: Any) -> str:
    """How the asking dialog asks for a parameter: its DESCRIPTION, else its name."""
    text = literal(param.description)
    if isinstance(text, str) and text.strip():
        return text.strip().rstrip(".?") + "?"
    return f"What is the {param.name.replace('_', ' ')}?"


def _ask_source(types: list[str | None]) -> str:
    """The asking dialog for parameters of these types: a TALK and a typed HEAR each, then
    RETURN the answers (its prompts come in as variables ask_0, ask_1 ...)."""
    lines = []
    for i, typ in enumerate(types):
        kind = (typ or "").upper()
        lines += [f"TALK ask_{i}", f"HEAR answer_{i} AS {kind}" if kind in HEAR_TYPES else f"HEAR answer_{i}"]
    lines += ["answers = [" + ", ".join(f"answer_{i}" for i in range(len(types))) + "]", "RETURN answers"]
    return "\n".join(lines) + "\n"

