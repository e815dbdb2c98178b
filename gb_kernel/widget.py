"""The chat + variables widget a gb notebook shows: a live chat with the bot.

The front end (``widget.js``, ``widget.css``) ships as strings in the ``_esm`` and ``_css``
traits, so no JavaScript build step is needed. Protocol, front end to kernel: one custom
message ``{"type": "send", "text": str}`` when the user sends a line or clicks a choice or a
suggestion, and ``{"type": "stop"}`` when the user stops an LLM answer being generated (the
Stop button, shown while ``streaming``: it sets the widget's ``stop`` event). The kernel
answers by updating the synced traits; the front end adds no optimistic bubble.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import anywidget
import traitlets

__all__ = ["ChatWidget", "Role", "SendCallback"]

log = logging.getLogger("gb.kernel")

_HERE = Path(__file__).parent

Role = Literal["user", "assistant", "system"]
"""Who wrote a transcript message; the front end shows any other role as ``system``."""

SendCallback = Callable[[str], Awaitable[object] | None]
"""Called with the text the user sent; may be a coroutine function."""


class ChatWidget(anywidget.AnyWidget):
    """Chat transcript, menu choices, suggestions, input box and session variables of one bot session.

    The kernel owns the state: it sets the traits and registers :meth:`on_send` to hear the
    user. Each ``messages`` item is ``{"role": Role, "content": str, "choices"?: list[str]}``;
    the choices of the last assistant message show as buttons until the user answers.
    ``suggestions`` are the bot's buttons as of its last turn (ADD SUGGESTION, ADD SWITCHER),
    each ``{"kind", "text", "value", "active"?}``: a click sends its ``value``. While a
    ``HEAR ... AS BOOLEAN`` waits (``hear_type``), Yes and No buttons send "yes" or "no".
    ``error`` (a failed dialog's headline) shows in an alert above the input, not as a chat line;
    the user can dismiss it, and the next message clears it. The header names the bot, the
    channel and the session.
    """

    _esm = (_HERE / "widget.js").read_text(encoding="utf-8")
    _css = (_HERE / "widget.css").read_text(encoding="utf-8")

    messages = traitlets.List(traitlets.Dict()).tag(sync=True)
    suggestions = traitlets.List(traitlets.Dict()).tag(sync=True)
    variables = traitlets.Dict().tag(sync=True)
    waiting = traitlets.Unicode("").tag(sync=True)
    bot = traitlets.Unicode("").tag(sync=True)
    channel = traitlets.Unicode("").tag(sync=True)
    session_id = traitlets.Unicode("").tag(sync=True)
    hear_type = traitlets.Unicode("").tag(sync=True)  # the waiting HEAR's type: BOOLEAN shows Yes / No
    error = traitlets.Unicode("").tag(sync=True)  # what went wrong last, shown apart from the conversation
    busy = traitlets.Bool(False).tag(sync=True)
    streaming = traitlets.Unicode("").tag(sync=True)  # an LLM's answer while it is generated ("" otherwise)

    # Set by the kernel while a turn it runs for the widget may stream an answer; "stop" sets it.
    stop: asyncio.Event | None = None
    # Created on the first on_send, so the framework's __init__ stays untouched.
    _send_callbacks: list[SendCallback] | None = None
    # Strong references to running callback tasks: the event loop keeps only weak ones.
    _tasks: set[asyncio.Future[object]] | None = None

    def on_send(self, callback: SendCallback, *, remove: bool = False) -> None:
        """Register (or with ``remove=True`` unregister) a callback for text the user sends.

        Called from the comm handler, once per ``{"type": "send"}`` message, with the text. A
        callback that returns an awaitable has it scheduled on the running asyncio loop. An
        exception raised by a callback (or its awaitable) is logged on ``gb.kernel``, never
        raised into the comm machinery.

        Args:
            callback: Called with the sent text; may be a coroutine function.
            remove: Unregister ``callback`` instead of registering it.
        """
        if self._send_callbacks is None:
            self._send_callbacks = []
            self._tasks = set()
            self.on_msg(self._handle_frontend_msg)
        if not remove:
            self._send_callbacks.append(callback)
        elif callback in self._send_callbacks:
            self._send_callbacks.remove(callback)

    def add_message(self, role: Role, content: str, choices: Sequence[str] | None = None) -> None:
        """Append one message to the transcript (a new list, so the trait syncs).

        Args:
            role: ``"user"``, ``"assistant"`` or ``"system"``.
            content: The text; line breaks are kept.
            choices: The menu the bot offers with this message, if any.
        """
        message: dict[str, Any] = {"role": role, "content": content}
        if choices:
            message["choices"] = list(choices)
        self.messages = [*self.messages, message]

    def set_suggestions(self, suggestions: Sequence[dict[str, Any]]) -> None:
        """Replace the suggestions (``Suggestion.to_dict()`` items; those without a text and a value
        are left out)."""
        self.suggestions = [{k: s[k] for k in ("kind", "text", "value", "active") if k in s} for s in suggestions
                            if isinstance(s.get("text"), str) and isinstance(s.get("value"), str)]

    def set_messages(self, messages: Sequence[dict[str, Any]]) -> None:
        """Replace the whole transcript (copied, so later changes to ``messages`` do not leak in)."""
        self.messages = [dict(message) for message in messages]

    def __repr__(self) -> str:
        """A stable repr without a memory address, so executed notebooks compare equal."""
        return f"ChatWidget(bot={self.bot!r}, session={self.session_id[:8]!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The widget view bundle of anywidget, with the stable repr as ``text/plain``."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, "text/plain": repr(self)}, metadata

    def _handle_frontend_msg(self, widget: object, content: object, buffers: object) -> None:
        """Dispatch a custom message from the front end; registered with ``on_msg``."""
        if isinstance(content, dict) and content.get("type") == "stop":
            if self.stop is not None:
                self.stop.set()
            return
        if not isinstance(content, dict) or content.get("type") != "send":
            log.debug("chat widget: ignored front-end message %r", content)
            return
        text = content.get("text")
        if not isinstance(text, str):
            log.warning("chat widget: send message without text: %r", content)
            return
        for callback in list(self._send_callbacks or ()):
            self._call(callback, text)

    def _call(self, callback: SendCallback, text: str) -> None:
        """Run one callback; schedule what it returns if awaitable; log what it raises."""
        try:
            result = callback(text)
        except Exception:
            log.exception("chat widget: send callback %r failed", callback)
            return
        if not inspect.isawaitable(result):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.error("chat widget: send callback %r returned an awaitable outside an event loop", callback)
            if inspect.iscoroutine(result):
                result.close()  # no "coroutine was never awaited" warning on top of the error
            return
        task = asyncio.ensure_future(result, loop=loop)
        tasks = self._tasks if self._tasks is not None else set()
        self._tasks = tasks
        tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[object]) -> None:
        """Forget a finished callback task and log its exception, if any."""
        if self._tasks is not None:
            self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("chat widget: send callback failed", exc_info=exc)
