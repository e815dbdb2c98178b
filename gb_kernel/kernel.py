"""The gb Jupyter kernel: BASIC cells run against a live session of a bot.

Built on ``ipykernel.kernelbase.Kernel`` (the bash_kernel way): the base owns the protocol and
this class fills the ``do_*`` hooks. Cells go through the same DialogRuntime as the server.
A HEAR takes its answer from, in order: the cell's ``%answers``, the ``%chat`` widget when one
is shown, a stdin prompt when the front end allows it; otherwise the dialog suspends and a
later ``%user`` cell (or the widget) answers it. At a ``WAIT`` the cell waits (interruptibly)
for the timer's turn, which the timer service of this kernel or of a server on the same store
fires; its replies reach the cell and the widget as the session's turn event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import json
import logging
import re
import signal
import threading
import uuid
from typing import Any

import comm
from ipykernel.comm.comm import BaseComm
from ipykernel.comm.manager import CommManager
from ipykernel.kernelbase import Kernel

from gb_basic import BasicError, BasicSyntaxError, parse, parse_expression, values
from gb_basic import ast as A
from gb_runtime import Refusal, Reply, Result, Suggestion, Waiting

from . import docs
from .kernelspec import LANGUAGE_INFO
from .notebook import NotebookSession
from .transcript import TranscriptError, bot_lines, diff, parse_transcript

__all__ = ["GbKernel"]

__version__ = "0.1.0"

# ipykernel's base Kernel has no comm manager: widgets need one (jupyter-notes.md).
_comm_lock = threading.Lock()
_comm_manager: CommManager | None = None


def _create_comm(*args: Any, **kwargs: Any) -> BaseComm:
    return BaseComm(*args, **kwargs)  # type: ignore[no-untyped-call]


def _get_comm_manager(*args: Any, **kwargs: Any) -> CommManager:
    global _comm_manager
    with _comm_lock:
        if _comm_manager is None:
            _comm_manager = CommManager(*args, **kwargs)  # type: ignore[no-untyped-call]
    return _comm_manager


comm.create_comm = _create_comm
comm.get_comm_manager = _get_comm_manager

_WORD = re.compile(r"[%\w.]*$")
_MAGIC_ARGS = re.compile(r"^\s*%(?P<magic>%?\w+)\s+(?P<before>(?:\S+\s+)*)(?P<word>\S*)$")
_EXPR_VAR = "expr__"


class _Interrupted(Exception):
    pass


ANSWERED_ELSEWHERE = "\x00answered elsewhere"  # what a cell waiting for the widget gets when another front answered
TIMER_GRACE = 10.0  # seconds past a WAIT's due time a cell waits for its timer's turn before it ends


class GbKernel(Kernel):
    """A kernel for General Bots BASIC."""

    implementation = "gb"
    implementation_version = __version__
    language = "basic"
    language_info = LANGUAGE_INFO
    banner = "gb BASIC: General Bots dialogs, run against a live session (%bot, %session, %chat, %user)"

    def start(self) -> None:
        """Called once the kernel's sockets are up: wire the comm manager, then start.

        gb's loggers get the kernel's log handlers: a bare logger would fall back to stderr,
        which ipykernel publishes on iopub with no parent (a stray output for clients)."""
        gb_log = logging.getLogger("gb")
        gb_log.propagate = False
        gb_log.handlers = list(self.log.handlers) or [logging.NullHandler()]
        self.comm_manager = comm.get_comm_manager()
        for msg_type in ("comm_open", "comm_msg", "comm_close"):
            self.shell_handlers[msg_type] = getattr(self.comm_manager, msg_type)
        import ipywidgets

        ipywidgets.register_comm_target()
        self.nb = NotebookSession()
        self.nb.on_turn(self.on_turn)
        self.widget: Any = None
        self.widget_answer: asyncio.Future[str] | None = None
        self.timer_turn: asyncio.Future[dict[str, Any]] | None = None  # a cell at a WAIT waits for its timer's turn
        self.answers: list[str] = []
        self.offered: list[str] = []  # the suggestions' texts a cell printed last (printed again when they change)
        self._tasks: set[asyncio.Future[Any]] = set()
        self.remote_turns = 0  # turns of the session committed by other processes, seen so far
        self.cell_remote_turns = 0  # ... when the cell's last result came
        self.cell_loop: asyncio.AbstractEventLoop | None = None
        super().start()  # type: ignore[no-untyped-call]

    @property
    def kernel_info(self) -> dict[str, Any]:
        info: dict[str, Any] = super().kernel_info
        info["supported_features"] = []  # no debugger, no subshells
        return info

    # --- output --------------------------------------------------------------------------------------
    def publish(self, msg_type: str, content: dict[str, Any]) -> None:
        """Send an iopub message for the current cell."""
        self.send_response(self.iopub_socket, msg_type, content)  # type: ignore[no-untyped-call]

    def out(self, text: str, name: str = "stdout") -> None:
        if text:
            self.publish("stream", {"name": name, "text": text})

    def show(self, data: dict[str, Any]) -> None:
        self.publish("display_data", {"data": data, "metadata": {}})

    def replies(self, result: Result) -> None:
        """A turn's replies on the cell's stdout: ``[a | b]`` under a menu's message, and the
        bot's suggestions as ``(suggestions: a | b)`` when they differ from those printed last."""
        for r in result.replies:
            prefix = f"(to {r.to}) " if r.to else ""
            choices = f"\n[{' | '.join(r.choices)}]" if r.choices else ""
            self.out(prefix + r.content + choices + "\n")
        offered = [s.text for s in result.suggestions]
        if offered != self.offered:
            self.offered = offered
            self.out(f"(suggestions: {' | '.join(offered)})\n" if offered else "(no suggestions)\n")

    def error(self, ename: str, evalue: str, tb: list[str] | None = None) -> dict[str, Any]:
        content = {"ename": ename, "evalue": evalue, "traceback": tb or [evalue]}
        self.publish("error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def ok(self, **extra: Any) -> dict[str, Any]:
        return {"status": "ok", "execution_count": self.execution_count, "payload": [],
                "user_expressions": {}, **extra}

    # --- execute -------------------------------------------------------------------------------------
    async def do_execute(self, code: str, silent: bool, store_history: bool = True,
                         user_expressions: dict[str, Any] | None = None, allow_stdin: bool = False,
                         *, cell_meta: dict[str, Any] | None = None, cell_id: str | None = None
                         ) -> dict[str, Any]:
        """Run a cell; an interrupt (SIGINT) cancels it and leaves the kernel alive."""
        self._allow_stdin = allow_stdin
        self.cell_loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(self._execute(code))
        previous = signal.signal(signal.SIGINT, lambda *_: task.cancel())
        try:
            return await task
        except asyncio.CancelledError:
            return self.error("KeyboardInterrupt", "interrupted: the cell was stopped")
        finally:
            signal.signal(signal.SIGINT, previous)
            if self.widget_answer is not None and not self.widget_answer.done():
                self.widget_answer.cancel()
            self.widget_answer = None
            if self.timer_turn is not None and not self.timer_turn.done():
                self.timer_turn.cancel()
            self.timer_turn = None

    async def _execute(self, code: str) -> dict[str, Any]:
        try:
            stripped = code.strip()
            if stripped.startswith("%%"):
                return await self.cell_magic(stripped)
            answers: list[str] = []
            lines = code.split("\n")
            while lines and lines[0].strip().startswith("%"):
                magic = lines.pop(0).strip()
                if magic.lower().startswith("%answers"):
                    answers += [a.strip() for a in magic[len("%answers"):].split("|") if a.strip()]
                else:
                    reply = await self.line_magic(magic, answers)
                    if reply["status"] != "ok":
                        return reply
            body = "\n".join(lines)
            if not body.strip():
                return self.ok()
            return await self.run_basic(body, answers)
        except Refusal as exc:
            return self.error(type(exc).__name__, exc.message)
        except BasicError as exc:
            return self.error(type(exc).__name__, exc.headline, str(exc).split("\n"))
        finally:
            for warning in self.nb.take_warnings():
                self.out(warning + "\n", "stderr")

    async def run_basic(self, body: str, answers: list[str]) -> dict[str, Any]:
        name = f"cell[{self.execution_count}]"
        expression = _expression(body)
        if expression is not None:
            result = await self.nb.run_cell(f"{_EXPR_VAR} = {expression}", name, result_var=_EXPR_VAR)
        else:
            result = await self.nb.run_cell(body, name)
        result = await self.converse(result, answers)
        if result.error is not None:
            err = result.error
            headline = err.headline if isinstance(err, BasicError) else str(err)
            return self.error(type(err).__name__, headline, str(err).split("\n"))
        await self.refresh_widget()
        if expression is not None and result.waiting is None:
            data = {"text/plain": _display(result.value)}
            self.publish("execute_result", {"execution_count": self.execution_count, "data": data, "metadata": {}})
        return self.ok()

    async def converse(self, result: Result, answers: list[str]) -> Result:
        """Print the replies; answer each HEAR from the answers, the widget or stdin, else suspend."""
        while True:
            self.cell_remote_turns = self.remote_turns  # what other fronts did before this result
            self.replies(result)
            await self.refresh_widget()
            if result.error is not None and self.widget is not None and _alive(self.widget):
                self.widget.error = getattr(result.error, "headline", str(result.error))  # apart, in %chat too
            if result.waiting is None or result.error is not None:
                return result
            waiting = result.waiting
            if waiting.kind == "wait":
                fired = await self.after_wait(waiting)
                if fired is None:
                    self.out(f"(the dialog waits at {waiting.describe()}; what it says then appears in "
                             "%chat and %history)\n")
                    return result
                result = fired
                continue
            answer = await self.next_answer(result, answers)
            if answer is ANSWERED_ELSEWHERE:
                self.out("(answered in another channel of this session: see %chat or %history)\n")
                return result
            if answer is None:
                self.out(f"(waiting for {waiting.describe()}: answer with %user TEXT or in %chat)\n")
                return result
            self.out(f"> {answer}\n")
            if self.widget is not None:
                self.widget.error = ""  # a new answer: the last error is old news
            result = await self.nb.send(answer)

    async def after_wait(self, waiting: Waiting) -> Result | None:
        """The turn of the timer of a WAIT (the session's turn event with origin "timer"), or None
        when it did not come within 10 s after the due time."""
        self.timer_turn = asyncio.get_running_loop().create_future()
        due = waiting.due or dt.datetime.now(dt.UTC)
        timeout = max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()) + TIMER_GRACE
        try:
            event = await asyncio.wait_for(asyncio.shield(self.timer_turn), timeout)
        except TimeoutError:
            return None
        finally:
            self.timer_turn = None
        replies = [Reply(m["content"], choices=m.get("choices"), to=m.get("to")) for m in event.get("messages") or []]
        w = event.get("waiting")
        return Result(uuid.UUID(event["session_id"]), str(event.get("bot")), replies,
                      Waiting.from_dict(w) if w else None,
                      suggestions=[Suggestion.from_dict(s) for s in event.get("suggestions") or []])

    async def next_answer(self, result: Result, answers: list[str]) -> str | None:
        if answers:
            return answers.pop(0)
        if self.widget is not None and _alive(self.widget):
            if self.remote_turns != self.cell_remote_turns:  # another front moved the dialog on meanwhile
                return ANSWERED_ELSEWHERE
            self.widget_answer = asyncio.get_running_loop().create_future()
            return await self.widget_answer
        if self._allow_stdin:
            return self.ask_stdin(result)
        return None

    def ask_stdin(self, result: Result) -> str | None:
        """The front end's input box (input_request); Ctrl-C interrupts it."""
        variable = result.waiting.variable if result.waiting else None
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            answer: str = self.raw_input(f"{variable}? ")  # type: ignore[no-untyped-call]
            return answer
        except KeyboardInterrupt:
            raise asyncio.CancelledError() from None
        except EOFError:
            return None
        finally:
            signal.signal(signal.SIGINT, previous)

    # --- magics ----------------------------------------------------------------------------------------
    async def line_magic(self, line: str, answers: list[str]) -> dict[str, Any]:
        """Run a %magic; `answers` (from %answers lines above it) answer the HEARs it reaches."""
        name, _, arg = line[1:].partition(" ")
        name, arg = name.lower(), arg.strip()
        handler = getattr(self, f"magic_{name}", None)
        if handler is None:
            return self.error("UnknownMagic", f"unknown magic %{name} (magics: {', '.join(sorted(docs.MAGICS))})")
        self.answers = answers
        reply: dict[str, Any] = await handler(arg)
        return reply

    async def magic_bot(self, arg: str) -> dict[str, Any]:
        if not arg:
            await self.nb.open()
            assert self.nb.bots is not None
            self.out(f"bot {self.nb.bot} (bots: {', '.join(self.nb.bots.names())})\n")
            return self.ok()
        sid = await self.nb.new(arg)
        self.out(f"bot {self.nb.bot}, new session {sid}\n")
        return self.ok()

    async def magic_session(self, arg: str) -> dict[str, Any]:
        verb, _, rest = arg.partition(" ")
        verb = verb.lower()
        if verb == "new":
            self.out(f"new session {await self.nb.new()} with bot {self.nb.bot}\n")
        elif verb in ("resume", "attach"):
            try:
                sid = uuid.UUID(rest.strip())
            except ValueError:
                return self.error("ValueError", f"%session {verb} needs a session id, got {rest.strip()!r}")
            await self.nb.attach(sid)
            self.out(f"{verb.rstrip('e')}ed session {sid} of bot {self.nb.bot}\n")
        elif verb == "list":
            rows = await self.nb.sessions()
            lines = [f"{r.id}  {r.channel:<9} {r.status:<7} {r.last_activity:%Y-%m-%d %H:%M}" for r in rows]
            self.out("\n".join(lines) + "\n" if lines else "no sessions\n")
        elif verb == "end":
            await self.nb.end()
            self.out("session ended\n")
        elif verb == "":
            st = await self.nb.state()
            self.out(f"session {st['id']}\nbot {st['bot']}, channel {st['channel']}, {st['status']}\n"
                     f"messages from the user: {st['message_count']}\n"
                     f"waiting for: {st['waiting'] or 'nothing'}\n")
        else:
            return self.error("UnknownMagic", "%session [new | resume ID | attach ID | list | end]")
        return self.ok()

    async def magic_user(self, arg: str) -> dict[str, Any]:
        result = await self.converse(await self.nb.send(arg), self.answers)
        if result.error is not None:
            return self.error(type(result.error).__name__, getattr(result.error, "headline", str(result.error)))
        return self.ok()

    async def magic_vars(self, arg: str) -> dict[str, Any]:
        variables = (await self.nb.state())["variables"]
        rows = [(k, values.to_json(v)) for k, v in sorted(variables.items())]
        plain = "\n".join(f"{k} = {v}" for k, v in rows) or "(no variables)"
        table = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(v)}</code></td></tr>"
                        for k, v in rows)
        self.show({"text/plain": plain, "text/html": f"<table><tr><th>variable</th><th>value</th></tr>{table}</table>"})
        return self.ok()

    async def magic_history(self, arg: str) -> dict[str, Any]:
        msgs = await self.nb.history()
        self.out("\n".join(f"{m.role}: {m.content}" for m in msgs) + "\n" if msgs else "(no messages)\n")
        return self.ok()

    async def magic_run(self, arg: str) -> dict[str, Any]:
        if not arg:
            return self.error("ValueError", f"%run DIALOG (dialogs: {', '.join(self.nb.dialog_names())})")
        result = await self.converse(await self.nb.run_dialog(arg.strip().removesuffix(".bas")), self.answers)
        if result.error is not None:
            return self.error(type(result.error).__name__, getattr(result.error, "headline", str(result.error)))
        return self.ok()

    async def magic_chat(self, arg: str) -> dict[str, Any]:
        from .widget import ChatWidget

        st = await self.nb.state()
        w = ChatWidget(bot=st["bot"], session_id=st["id"], channel=st["channel"])
        w.set_messages([{"role": m.role, "content": m.content} for m in await self.nb.history(limit=50)])
        w.variables = _jsonable(st["variables"])
        w.waiting = st["waiting"] or ""
        w.hear_type = st["hear_type"] or ""
        w.set_suggestions(st["suggestions"])
        w.on_send(self.on_widget_send)
        self.widget = w
        bundle: Any = w._repr_mimebundle_()
        self.show(bundle[0] if isinstance(bundle, tuple) else bundle)
        return self.ok()

    async def magic_answers(self, arg: str) -> dict[str, Any]:
        return self.error("UsageError", "%answers goes on the first lines of a cell with a HEAR")

    async def cell_magic(self, cell: str) -> dict[str, Any]:
        first, _, body = cell.partition("\n")
        name, _, arg = first[2:].partition(" ")
        if name.lower() != "transcript":
            return self.error("UnknownMagic", f"unknown cell magic %%{name} (there is %%transcript [BOT] [DIALOG])")
        return await self.transcript(arg.split(), body)

    async def transcript(self, args: list[str], body: str) -> dict[str, Any]:
        try:
            expected = parse_transcript(body)
        except TranscriptError as exc:
            return self.error("TranscriptError", str(exc))
        await self.nb.open()
        keep = (self.nb.bot, self.nb.session_id)
        bot = args[0] if args else self.nb.bot
        dialog = args[1] if len(args) > 1 else "start"
        actual: list[tuple[str, str]] = []
        try:
            await self.nb.new(bot, remember=False)
            result = await self.nb.run_dialog(dialog)
            actual += bot_lines(result)
            for text in expected.user_lines:
                actual.append(("user", text))
                result = await self.nb.send(text)
                actual += bot_lines(result)
                if result.error is not None:
                    break
        finally:
            self.nb.bot, self.nb.session_id = keep
        delta = diff(expected.lines, actual)
        if delta:
            return self.error("TranscriptMismatch", "the bot's replies differ from the transcript",
                              ["The bot's replies differ from the transcript:", delta])
        self.out(f"transcript ok: {len(expected.lines)} lines, bot {bot}, dialog {dialog}\n")
        return self.ok()

    # --- the widget ------------------------------------------------------------------------------------
    async def on_widget_send(self, text: str) -> None:
        """The user typed into %chat: answer the cell that waits, or run a turn (whose messages
        reach the widget as the session's turn event, like those of any other front)."""
        w = self.widget
        if self.widget_answer is not None and not self.widget_answer.done():
            self.widget_answer.set_result(text)
            return
        if w is None:
            return
        w.busy = True
        w.error = ""

        async def grow(piece: str) -> None:  # an LLM's answer as it is generated
            w.streaming += piece

        w.stop = asyncio.Event()  # the widget's Stop button sets it
        try:
            result = await self.nb.send(text, on_delta=grow, stop=w.stop)
            w.streaming = ""
            if result.error is not None:  # apart from the conversation (the user heard the apology, if any)
                w.error = getattr(result.error, "headline", str(result.error))
            await self.refresh_widget()
        finally:
            w.streaming = ""
            w.busy = False
            w.stop = None

    def on_turn(self, event: dict[str, Any]) -> None:
        """A committed turn of the notebook's session, from this kernel or from any other front
        (a web chat attached to the session): its messages go into the widget, once."""
        remote = self.nb.runtime is None or event.get("runtime") != self.nb.runtime.instance
        if event.get("origin") == "timer" and self.timer_turn is not None and not self.timer_turn.done() \
                and event.get("session_id") == str(self.nb.session_id):
            self.timer_turn.set_result(event)  # the cell waiting at the WAIT goes on
        if remote:
            self.remote_turns += 1
            if self.widget_answer is not None and not self.widget_answer.done():
                self.widget_answer.set_result(ANSWERED_ELSEWHERE)  # the cell waiting here stops waiting
        w = self.widget
        if w is None or not _alive(w) or event.get("session_id") != w.session_id:
            return
        if event.get("type") != "turn":  # too large to travel: read the session again
            self._later(self.reload_widget())
            return
        received = event.get("received")
        if received:
            w.add_message("user", received["content"])
        for m in event.get("messages") or []:
            prefix = f"(to {m['to']}) " if m.get("to") else ""
            w.add_message("assistant", prefix + m["content"], m.get("choices"))
        waiting = event.get("waiting")
        w.waiting = Waiting.from_dict(waiting).describe() if waiting else ""
        w.hear_type = str(waiting.get("type") or "") if waiting else ""
        w.set_suggestions(event.get("suggestions") or [])
        if remote:
            self._later(self.refresh_widget())  # another process's turn: its variables too

    def _later(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload_widget(self) -> None:
        w = self.widget
        if w is not None and _alive(w):
            w.set_messages([{"role": m.role, "content": m.content} for m in await self.nb.history(limit=50)])
            await self.refresh_widget()

    async def refresh_widget(self) -> None:
        """The widget's variables and what the dialog waits for, read again."""
        w = self.widget
        if w is None or not _alive(w):
            return
        st = await self.nb.state()
        w.variables = _jsonable(st["variables"])
        w.waiting = st["waiting"] or ""
        w.hear_type = st["hear_type"] or ""
        w.channel = st["channel"]
        w.set_suggestions(st["suggestions"])

    # --- completion, inspection, completeness -------------------------------------------------------------
    async def do_complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        line = code[:cursor_pos].rsplit("\n", 1)[-1]
        magic = _MAGIC_ARGS.match(line)
        if magic is not None:  # a magic's argument: dialog, bot, session verb or id
            word = magic.group("word")
            matches = [m for m in await self.magic_choices(magic.group("magic").lower(), magic.group("before"))
                       if m.lower().startswith(word.lower())]
        else:
            prefix = _WORD.search(code[:cursor_pos])
            word = prefix.group() if prefix else ""
            matches = docs.completions(word, variables=list(self.nb.variables), dialogs=self.nb.dialog_names())
        return {"status": "ok", "matches": matches, "cursor_start": cursor_pos - len(word),
                "cursor_end": cursor_pos, "metadata": {}}

    async def magic_choices(self, magic: str, before: str) -> list[str]:
        """What may follow ``%magic <before>``: the bot's dialogs for %run, the bots for %bot
        and %%transcript (then that bot's dialogs), the verbs and recent sessions for %session,
        the menu the dialog waits at for %user."""
        await self.nb.open()
        assert self.nb.bots is not None
        args = before.split()
        if magic == "run":
            return self.nb.dialog_names()
        if magic == "bot" or (magic == "%transcript" and not args):
            return self.nb.bots.names()
        if magic == "%transcript" and len(args) == 1 and args[0] in self.nb.bots.names():
            return self.nb.bots.get(args[0]).dialog_names()
        if magic == "session" and not args:
            return ["new", "resume", "attach", "list", "end"]
        if magic == "session" and len(args) == 1 and args[0].lower() in ("resume", "attach"):
            return [str(r.id) for r in await self.nb.sessions()]
        if magic == "user" and not args:
            return await self.nb.menu()
        return []

    async def do_inspect(self, code: str, cursor_pos: int, detail_level: int = 0,
                         omit_sections: Any = ()) -> dict[str, Any]:
        word = _word_at(code, cursor_pos)
        text = None
        if word.lower() in self.nb.variables:  # a variable named like a keyword shows its value
            text = f"{word} = {values.to_json(self.nb.variables[word.lower()])}"
        elif word:
            text = docs.help_for(word)
        if text is None:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": text, "text/markdown": text}, "metadata": {}}

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        if code.strip().startswith("%"):
            return {"status": "complete"}
        try:
            parse(code, "cell")
        except BasicSyntaxError as exc:
            if getattr(exc, "incomplete", False) or code.rstrip().endswith(","):
                return {"status": "incomplete", "indent": "  "}
            return {"status": "invalid"}
        return {"status": "complete"}

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Flush the notebook's background saves, on the loop that runs the cells (shutdown
        requests arrive on ipykernel's control thread, which has a loop of its own)."""
        loop = self.cell_loop
        try:
            if loop is not None and loop.is_running() and loop is not asyncio.get_running_loop():
                done = asyncio.run_coroutine_threadsafe(self.nb.close(), loop)
                await asyncio.wait_for(asyncio.wrap_future(done), timeout=30)
            else:
                await self.nb.close()
        except Exception:  # a shutdown must not fail; the error is logged
            self.log.exception("closing the notebook's session store failed")
        return {"status": "ok", "restart": restart}


@functools.lru_cache(maxsize=512)
def _expression(body: str) -> str | None:
    """The expression of a cell that is one bare expression (``1 + 2``, ``name``, ``LEN(x)``)."""
    text = body.strip()
    if "\n" in text or not text:
        return None
    try:
        module = parse(text, "cell")
    except BasicSyntaxError:
        module = None
    if module is not None:
        stmts = module.body
        single = len(stmts) == 1 and not module.functions
        # `seats`, `seats + 1`: a name first parses as an unknown keyword statement
        unknown_word = single and isinstance(stmts[0], A.Keyword) and not stmts[0].supported \
            and " " not in stmts[0].keyword
        function_call = single and isinstance(stmts[0], A.CallStmt) and stmts[0].name.upper() in _functions()
        if not (unknown_word or function_call):
            return None
    try:
        parse_expression(text)
    except BasicSyntaxError:
        return None
    return text


def _functions() -> set[str]:
    """Functions whose call alone is an expression cell: built-ins and runtime functions."""
    from gb_basic.analysis import REQUEST_FUNCTIONS
    from gb_basic.builtins import BUILTINS

    return set(BUILTINS) | set(REQUEST_FUNCTIONS)


def _display(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return values.to_str(value) if value is not None else "NULL"


def _jsonable(variables: dict[str, Any]) -> dict[str, Any]:
    return {k: values.encode(v) for k, v in variables.items()}


def _word_at(code: str, pos: int) -> str:
    left = re.search(r"[\w%]*$", code[:pos])
    right = re.match(r"\w*", code[pos:])
    return (left.group() if left else "") + (right.group() if right else "")


def _alive(widget: Any) -> bool:
    return getattr(widget, "comm", None) is not None


