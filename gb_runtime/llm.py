"""An OpenAI-compatible chat completions client: llama.cpp's server, vLLM, Ollama and OpenAI speak it.

``llm-url`` in a bot's config.csv is the base URL up to and including its version (OpenAI's
``base_url``: ``https://api.openai.com/v1``, ``http://127.0.0.1:8081/v1``); the client POSTs
``{llm-url}/chat/completions`` with ``llm-model``, the messages, ``llm-temperature`` and
``llm-max-tokens`` when set, the tools when there are, and ``Authorization: Bearer {llm-key}``
when a key is set (``env:NAME`` reads the environment variable NAME).

With an ``on_delta`` callback the answer is streamed (``"stream": true``, server-sent events):
each piece of text goes to the callback as it comes; tool calls are put together from their
pieces. Either way the whole answer comes back as a :class:`Completion` with its token usage (the
server's ``usage``, or an estimate: a token a 4 characters). One deadline, ``llm-timeout``, covers
the whole call. Every failure is an :class:`LlmError` that names the URL and what went wrong;
nothing blocks the event loop (httpx's async client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from gb_basic import Program
from gb_basic.ast import Const

from .bots import BotSettings
from .errors import BotConfigError

__all__ = ["EmbeddingConfig", "LlmConfig", "LlmClient", "LlmError", "LlmStopped", "estimated_prompt_tokens",
           "Completion", "ToolCall", "literal", "tool_schema"]


class LlmError(Exception):
    """The LLM gave no (complete, well-formed) answer; the message says what and where."""


class LlmStopped(LlmError):
    """The answer was stopped (the user's stop button) before it was finished."""


@dataclass(frozen=True)
class LlmConfig:
    """A bot's LLM, from its config.csv."""

    url: str
    model: str
    key: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float = 60.0

    @classmethod
    def of(cls, bot: str, settings: BotSettings, environ: Mapping[str, str] = os.environ) -> LlmConfig | None:
        """The bot's LLM; None when config.csv sets no ``llm-url``.

        Raises:
            BotConfigError: a number is not one, the URL is not http(s).
            LlmError: ``llm-key`` reads an environment variable that is not set.
        """
        extra = settings.extra
        url = _url(bot, extra, "llm-url")
        if url is None:
            return None
        key = _key(bot, extra, "llm-key", environ)
        temperature = _number(bot, extra, "llm-temperature", float, 0.0)
        max_tokens = _number(bot, extra, "llm-max-tokens", int, 1)
        timeout = _number(bot, extra, "llm-timeout", float, 0.001)
        return cls(url, (extra.get("llm-model") or "").strip() or "default", key,
                   float(temperature) if temperature is not None else None,
                   int(max_tokens) if max_tokens is not None else None,
                   float(timeout) if timeout is not None else 60.0)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/chat/completions"


@dataclass(frozen=True)
class EmbeddingConfig:
    """A bot's embeddings endpoint (dense retrieval of its KBs), from its config.csv."""

    url: str
    model: str
    key: str | None = None
    timeout: float = 10.0
    min_similarity: float = 0.25

    @classmethod
    def of(cls, bot: str, settings: BotSettings, environ: Mapping[str, str] = os.environ) -> EmbeddingConfig | None:
        """The bot's embeddings endpoint; None when config.csv sets no ``embedding-url``.

        Raises:
            BotConfigError: the timeout is not a number, the URL is not http(s).
            LlmError: ``embedding-key`` reads an environment variable that is not set.
        """
        extra = settings.extra
        url = _url(bot, extra, "embedding-url")
        if url is None:
            return None
        timeout = _number(bot, extra, "embedding-timeout", float, 0.001)
        least = _number(bot, extra, "embedding-min-similarity", float, -1.0)
        return cls(url, (extra.get("embedding-model") or "").strip() or "default",
                   _key(bot, extra, "embedding-key", environ), float(timeout) if timeout is not None else 10.0,
                   float(least) if least is not None else 0.25)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/embeddings"


def _url(bot: str, extra: Mapping[str, str], name: str) -> str | None:
    url = (extra.get(name) or "").strip().rstrip("/")
    if not url:
        return None
    if not re.match(r"https?://", url, re.I):
        raise BotConfigError(f"bot {bot}: {name} must be an http:// or https:// URL, got {url!r}")
    return url


def _key(bot: str, extra: Mapping[str, str], name: str, environ: Mapping[str, str]) -> str | None:
    key = (extra.get(name) or "").strip() or None
    if key is not None and key.lower().startswith("env:"):
        variable = key[4:].strip()
        key = environ.get(variable) or None
        if key is None:
            raise LlmError(f"bot {bot}: {name} reads the environment variable {variable}, which is not set")
    return key


def _number(bot: str, extra: Mapping[str, str], key: str, kind: type, least: float) -> float | None:
    raw = (extra.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise BotConfigError(f"bot {bot}: {key} must be a number, got {raw!r}") from None
    if not least <= value < float("inf"):
        raise BotConfigError(f"bot {bot}: {key} must be at least {least:g}, got {raw!r}")
    return float(value)


@dataclass(frozen=True)
class ToolCall:
    """A function the model calls, with its arguments (parsed from the model's JSON)."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """The model's whole answer."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


Delta = Callable[[str], Awaitable[None]]


class LlmClient:
    """Calls OpenAI-compatible chat completions endpoints.

    Args:
        http: the client to use (its own when None, closed by :meth:`close`).
    """

    def __init__(self, http: httpx.AsyncClient | None = None) -> None:
        self._http = http
        self._own = http is None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=None)
        return self._http

    async def close(self) -> None:
        if self._own and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def complete(self, config: LlmConfig, messages: list[dict[str, Any]], *,
                       tools: list[dict[str, Any]] | None = None, on_delta: Delta | None = None,
                       stop: asyncio.Event | None = None) -> Completion:
        """The model's answer to `messages` (streamed to `on_delta` when given).

        `stop` set before the answer is finished closes the request (a server that streams sees
        the client go and stops generating) and raises :class:`LlmStopped`.

        Raises:
            LlmError: unreachable, a non-2xx answer, not valid JSON, a stream cut off, no answer
                within ``config.timeout``; LlmStopped: `stop` was set.
        """
        call = self._complete(config, messages, tools, on_delta)
        if stop is None:
            return await call
        if stop.is_set():
            call.close()
            raise LlmStopped(f"LLM {config.endpoint}: the answer was stopped before it began")
        answer = asyncio.ensure_future(call)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({answer, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not answer.done():
                answer.cancel()
                with contextlib.suppress(asyncio.CancelledError, LlmError):
                    await answer
        if answer.cancelled():
            raise LlmStopped(f"LLM {config.endpoint}: the answer was stopped before it was finished")
        return answer.result()

    async def _complete(self, config: LlmConfig, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                        on_delta: Delta | None) -> Completion:
        body: dict[str, Any] = {"model": config.model, "messages": messages}
        if config.temperature is not None:
            body["temperature"] = config.temperature
        if config.max_tokens is not None:
            body["max_tokens"] = config.max_tokens
        if tools:
            body["tools"] = tools
        if on_delta is not None:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        accept = "text/event-stream" if on_delta else "application/json"
        headers = {"Content-Type": "application/json", "Accept": accept}
        if config.key:
            headers["Authorization"] = f"Bearer {config.key}"
        where = f"LLM {config.endpoint}"
        try:
            async with asyncio.timeout(config.timeout):
                async with self.http.stream("POST", config.endpoint, headers=headers,
                                            content=json.dumps(body, ensure_ascii=False).encode()) as response:
                    if response.status_code // 100 != 2:
                        start = (await response.aread())[:200].decode("utf-8", "replace")
                        raise LlmError(f"{where}: {response.status_code} {response.reason_phrase}"
                                       + (f" ({' '.join(start.split())})" if start.strip() else ""))
                    if on_delta is None:
                        return _whole(await response.aread(), messages, where)
                    return await _streamed(response, on_delta, messages, where)
        except TimeoutError:
            raise LlmError(f"{where}: no complete answer within {config.timeout:g} s (llm-timeout)") from None
        except httpx.HTTPError as exc:
            raise LlmError(f"{where}: {type(exc).__name__}: {exc or 'the connection failed'}") from None


    async def embed(self, config: EmbeddingConfig, texts: list[str]) -> list[list[float]]:
        """The embeddings of `texts`, in order (one request; the caller batches).

        Raises:
            LlmError: unreachable, a non-2xx answer, not an embeddings answer (one vector a text,
                all of one dimension), no answer within ``config.timeout``.
        """
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.key:
            headers["Authorization"] = f"Bearer {config.key}"
        where = f"embeddings {config.endpoint}"
        body = json.dumps({"model": config.model, "input": texts}, ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(config.timeout):
                response = await self.http.post(config.endpoint, headers=headers, content=body)
        except TimeoutError:
            raise LlmError(f"{where}: no answer within {config.timeout:g} s (embedding-timeout)") from None
        except httpx.HTTPError as exc:
            raise LlmError(f"{where}: {type(exc).__name__}: {exc or 'the connection failed'}") from None
        if response.status_code // 100 != 2:
            start = response.content[:200].decode("utf-8", "replace")
            raise LlmError(f"{where}: {response.status_code} {response.reason_phrase}"
                           + (f" ({' '.join(start.split())})" if start.strip() else ""))
        try:
            data = sorted(json.loads(response.content)["data"], key=lambda d: int(d.get("index", 0)))
            vectors = [[float(x) for x in item["embedding"]] for item in data]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise LlmError(f"{where}: the answer is not valid JSON of embeddings: "
                           f"{response.content[:100].decode('utf-8', 'replace')!r}") from None
        if len(vectors) != len(texts) or len({len(v) for v in vectors}) > 1 or (vectors and not vectors[0]):
            raise LlmError(f"{where}: asked for {len(texts)} embeddings of one dimension, got "
                           f"{len(vectors)} of dimensions {sorted({len(v) for v in vectors})}")
        return vectors


def estimated_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """The tokens of a prompt, estimated: a token a 4 characters."""
    return max(1, sum(len(str(m.get("content") or "")) for m in messages) // 4)


def _estimate(messages: list[dict[str, Any]], text: str) -> tuple[int, int]:
    return estimated_prompt_tokens(messages), max(1, len(text) // 4) if text else 0


def _arguments(raw: Any, where: str, name: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        raise LlmError(f"{where}: the arguments of the call of {name} are not valid JSON: {str(raw)[:100]!r}") from None
    if not isinstance(parsed, dict):
        raise LlmError(f"{where}: the arguments of the call of {name} are not a JSON object")
    return parsed


def _whole(raw: bytes, messages: list[dict[str, Any]], where: str) -> Completion:
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
        calls = [ToolCall(str(c.get("id") or f"call_{i}"), str(c["function"]["name"]),
                          _arguments(c["function"].get("arguments"), where, str(c["function"]["name"])))
                 for i, c in enumerate(message.get("tool_calls") or [])]
    except LlmError:
        raise
    except (ValueError, KeyError, IndexError, TypeError):
        raise LlmError(f"{where}: the answer is not valid JSON of a chat completion: "
                       f"{raw[:100].decode('utf-8', 'replace')!r}") from None
    usage = data.get("usage") or {}
    prompt, completion = _estimate(messages, text)
    return Completion(str(text), calls, choice.get("finish_reason"),
                      int(usage.get("prompt_tokens") or prompt), int(usage.get("completion_tokens") or completion))


async def _streamed(response: httpx.Response, on_delta: Delta, messages: list[dict[str, Any]],
                    where: str) -> Completion:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] = {}
    finish: str | None = None
    done = False
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(payload)
        except ValueError:
            raise LlmError(f"{where}: a streamed piece is not valid JSON: {payload[:100]!r}") from None
        if not isinstance(chunk, dict):
            raise LlmError(f"{where}: a streamed piece is not a JSON object: {payload[:100]!r}")
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            finish = choice.get("finish_reason") or finish
            piece = delta.get("content")
            if piece:
                text.append(str(piece))
                await on_delta(str(piece))
            for part in delta.get("tool_calls") or []:
                slot = calls.setdefault(int(part.get("index", 0)), {"id": None, "name": "", "arguments": ""})
                slot["id"] = part.get("id") or slot["id"]
                function = part.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
    if not done:
        raise LlmError(f"{where}: the stream ended before [DONE] (the answer was cut off)")
    whole = "".join(text)
    prompt, completion = _estimate(messages, whole)
    tool_calls = [ToolCall(str(c["id"] or f"call_{i}"), c["name"], _arguments(c["arguments"], where, c["name"]))
                  for i, c in sorted(calls.items())]
    return Completion(whole, tool_calls, finish, int(usage.get("prompt_tokens") or prompt),
                      int(usage.get("completion_tokens") or completion))


# --- tools ------------------------------------------------------------------------------------------

_TYPES = {"INTEGER": ("integer", None), "NUMBER": ("number", None), "FLOAT": ("number", None),
          "DOUBLE": ("number", None), "MONEY": ("number", None), "BOOLEAN": ("boolean", None),
          "DATE": ("string", "date"), "HOUR": ("string", "time"), "EMAIL": ("string", "email"),
          "OBJECT": ("object", None)}


def literal(expr: Any) -> Any:
    """A PARAM's LIKE / DESCRIPTION / default when it is a literal; else None."""
    return expr.value if isinstance(expr, Const) else None


def tool_schema(name: str, program: Program) -> dict[str, Any]:
    """The OpenAI ``tools`` entry of a dialog: its DESCRIPTION and its PARAMs as a JSON schema."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for p in program.params:
        kind, fmt = _TYPES.get((p.type or "").upper(), ("string", None))
        like = literal(p.like)
        if kind == "object" and isinstance(like, str) and like.lstrip().startswith("["):
            kind = "array"
        prop: dict[str, Any] = {"type": kind}
        if fmt:
            prop["format"] = fmt
        described = literal(p.description)
        if isinstance(described, str) and described.strip():
            prop["description"] = described.strip()
        if like is not None and kind not in ("object", "array"):
            prop["examples"] = [like]
        elif like is not None:
            prop.setdefault("description", "")
            prop["description"] = (prop["description"] + f" Like: {like}").strip()
        if p.choices:
            prop["enum"] = list(p.choices)
        if p.name.lower() in properties:  # a PARAM written twice is one property (the first one describes it)
            continue
        properties[p.name.lower()] = prop
        if not p.optional and p.default is None:
            required.append(p.name.lower())
    function_name = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "tool"
    function: dict[str, Any] = {"name": function_name,
                                "parameters": {"type": "object", "properties": properties, "required": required}}
    if program.description:
        function["description"] = str(program.description)
    return {"type": "function", "function": function}
