"""A real local OpenAI-compatible server (Tornado) standing in for an LLM: it checks each request
(the bearer key, the model, well-formed messages, tool schemas that are valid JSON Schema),
records it, and answers from a script the test writes: texts, tool calls, SSE streams (with a pause
between pieces), an error status, malformed JSON, a stream cut off, a slow answer. Its
``/v1/embeddings`` embeds with the `embedder` the test sets (tests/helpers/embeddings.py) and
checks the key and the `embedding_model`; `embed_status`, `embed_pause` and `embed_malformed`
make it fail.

    async with llm_server(model="m", key="k") as llm:
        llm.script.append(Scripted.text("Hello"))
        ... config.csv: llm-url,{llm.url} ...
        llm.requests[0]["messages"]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web

__all__ = ["BOOK", "Scripted", "LlmServer", "llm_server", "llm_server_in_thread"]

# A tool dialog for the tests: two required PARAMs (one typed INTEGER), a TALK and a RETURN value
BOOK = """PARAM city AS STRING LIKE "Lisbon" DESCRIPTION "The city to book a table in"
PARAM people AS INTEGER LIKE 2 DESCRIPTION "How many people"
DESCRIPTION "Books a table in a restaurant"
TALK "Booking for " + people + " in " + city
RETURN "booking B-" + city + "-" + people
"""


@dataclass
class Scripted:
    """One answer of the stand-in."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    malformed: bool = False
    cut: bool = False  # a stream that stops before [DONE]
    pause: float = 0.0  # seconds before the answer (and between streamed pieces)
    usage: bool = True

    @classmethod
    def say(cls, text: str, **kw: Any) -> Scripted:
        return cls(text=text, **kw)

    @classmethod
    def call(cls, name: str, arguments: dict[str, Any], **kw: Any) -> Scripted:
        return cls(tool_calls=[(name, arguments)], **kw)


@dataclass
class LlmServer:
    url: str
    model: str
    key: str | None
    script: list[Scripted | Callable[[dict[str, Any]], Scripted]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were answered 400/401
    disconnected: int = 0  # streams the client closed before the end
    embedder: Callable[[str], list[float]] | None = None
    embedding_model: str = "test-embed"
    embedded: list[list[str]] = field(default_factory=list)  # the inputs of each embeddings request
    embed_status: int = 200
    embed_pause: float = 0.0
    embed_malformed: bool = False

    def check(self, headers: Any, body: Any) -> str | None:
        if self.key is not None and headers.get("Authorization") != f"Bearer {self.key}":
            return "unauthorized"
        if not isinstance(body, dict) or body.get("model") != self.model:
            return f"model {body.get('model') if isinstance(body, dict) else None!r} is not {self.model!r}"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages must be a non-empty list"
        calls: set[str] = set()
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool"):
                return f"bad message {m!r}"
            if m["role"] == "assistant" and m.get("tool_calls"):
                calls |= {c["id"] for c in m["tool_calls"]}
            elif m["role"] == "tool":
                if m.get("tool_call_id") not in calls:
                    return f"tool message for an unknown call {m.get('tool_call_id')!r}"
            elif not isinstance(m.get("content"), str):
                return f"a {m['role']} message needs text content"
        for tool in body.get("tools") or []:
            try:
                assert tool["type"] == "function" and tool["function"]["name"]
                jsonschema.Draft202012Validator.check_schema(tool["function"]["parameters"])
            except (AssertionError, KeyError, jsonschema.SchemaError) as exc:
                return f"bad tool schema: {exc}"
        return None


class _Completions(tornado.web.RequestHandler):
    def initialize(self, server: LlmServer) -> None:
        self.server = server
        self.closed = False

    def on_connection_close(self) -> None:
        self.closed = True

    async def post(self) -> None:
        s = self.server
        try:
            body = json.loads(self.request.body)
        except ValueError:
            body = None
        problem = s.check(self.request.headers, body)
        if problem is not None:
            s.refused.append(problem)
            self.set_status(401 if problem == "unauthorized" else 400)
            self.finish({"error": {"message": problem, "type": "invalid_request_error"}})
            return
        s.requests.append(body)
        entry = s.script.pop(0) if s.script else Scripted.say("(no scripted answer)")
        reply = entry(body) if callable(entry) else entry
        if reply.pause:
            await asyncio.sleep(reply.pause)
        if reply.status != 200:
            self.set_status(reply.status)
            self.finish({"error": {"message": "scripted failure", "type": "server_error"}})
            return
        if reply.malformed:
            self.set_header("Content-Type", "application/json")
            self.finish(b"{not json")
            return
        calls = [{"id": f"call_{len(s.requests)}_{i}", "type": "function",
                  "function": {"name": n, "arguments": json.dumps(a)}} for i, (n, a) in enumerate(reply.tool_calls)]
        usage = {"prompt_tokens": 10 * len(body["messages"]), "completion_tokens": max(1, len(reply.text) // 4),
                 "total_tokens": 10 * len(body["messages"]) + max(1, len(reply.text) // 4)}
        if not body.get("stream"):
            answer: dict[str, Any] = {
                "id": "chatcmpl-1", "object": "chat.completion", "model": s.model,
                "choices": [{"index": 0, "finish_reason": "tool_calls" if calls else "stop",
                             "message": {"role": "assistant", "content": reply.text or None,
                                         **({"tool_calls": calls} if calls else {})}}]}
            if reply.usage:
                answer["usage"] = usage
            self.finish(answer)
            return
        self.set_header("Content-Type", "text/event-stream")
        words = [w + " " for w in reply.text.split(" ")] if reply.text else []
        if words:
            words[-1] = words[-1][:-1]
        for i, piece in enumerate(words):
            if self.closed:
                s.disconnected += 1
                return
            await self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            if reply.cut and i == len(words) // 2:
                self.finish()
                return
            if reply.pause:
                await asyncio.sleep(reply.pause)
        for i, c in enumerate(calls):  # a call's arguments in two pieces
            args = c["function"]["arguments"]
            half = len(args) // 2
            await self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "id": c["id"], "type": "function", "function": {"name": c["function"]["name"],
                                                                             "arguments": args[:half]}}]}}]})
            await self._event({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "function": {"arguments": args[half:]}}]}}]})
        await self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if calls else "stop"}]})
        if reply.usage:
            await self._event({"choices": [], "usage": usage})
        self.write("data: [DONE]\n\n")
        self.finish()

    async def _event(self, data: dict[str, Any]) -> None:
        self.write(f"data: {json.dumps(data)}\n\n")
        try:
            await self.flush()
        except tornado.iostream.StreamClosedError:
            self.closed = True


class _Embeddings(tornado.web.RequestHandler):
    def initialize(self, server: LlmServer) -> None:
        self.server = server

    async def post(self) -> None:
        s = self.server
        body: Any
        try:
            body = json.loads(self.request.body)
        except ValueError:
            body = None
        problem = None
        if s.key is not None and self.request.headers.get("Authorization") != f"Bearer {s.key}":
            problem = "unauthorized"
        elif not isinstance(body, dict) or body.get("model") != s.embedding_model:
            problem = f"model {body.get('model') if isinstance(body, dict) else None!r} is not {s.embedding_model!r}"
        elif not isinstance(body.get("input"), list) or not all(isinstance(t, str) and t for t in body["input"]):
            problem = "input must be a list of non-empty strings"
        elif s.embedder is None:
            problem = "no embedder set"
        if problem is not None:
            s.refused.append(problem)
            self.set_status(401 if problem == "unauthorized" else 400)
            self.finish({"error": {"message": problem, "type": "invalid_request_error"}})
            return
        assert s.embedder is not None
        s.embedded.append(list(body["input"]))
        if s.embed_pause:
            await asyncio.sleep(s.embed_pause)
        if s.embed_status != 200:
            self.set_status(s.embed_status)
            self.finish({"error": {"message": "scripted failure", "type": "server_error"}})
            return
        if s.embed_malformed:
            self.finish({"data": [{"index": 0}]})
            return
        data = [{"object": "embedding", "index": i, "embedding": s.embedder(t)} for i, t in enumerate(body["input"])]
        data.reverse()  # the order is the "index"'s, not the list's
        self.finish({"object": "list", "model": s.embedding_model, "data": data,
                     "usage": {"prompt_tokens": sum(len(t) // 4 for t in body["input"]), "total_tokens": 0}})


@asynccontextmanager
async def llm_server(model: str = "test-model", key: str | None = "test-key") -> AsyncIterator[LlmServer]:
    """The stand-in on a free port of 127.0.0.1; `url` is its base (…/v1), as llm-url."""
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    server = LlmServer(f"http://127.0.0.1:{port}/v1", model, key)
    app = tornado.web.Application([(r"/v1/chat/completions", _Completions, {"server": server}),
                                   (r"/v1/embeddings", _Embeddings, {"server": server})])
    http = tornado.httpserver.HTTPServer(app)
    http.add_sockets(sockets)
    try:
        yield server
    finally:
        http.stop()
        await http.close_all_connections()


@contextlib.contextmanager
def llm_server_in_thread(model: str = "test-model", key: str | None = "test-key") -> Iterator[LlmServer]:
    """:func:`llm_server` on an event loop of its own thread (for tests that are not async: a
    browser's, a `gb serve` subprocess's). Push to `script` before the request comes."""
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[LlmServer] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with llm_server(model, key) as server:
                ready.set_result(server)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
