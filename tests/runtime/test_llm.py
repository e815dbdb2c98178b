"""The LLM in a session (gb_runtime/assistant.py, llm.py) against a real local OpenAI-compatible
server (tests/helpers/llm_server.py) that checks every request: ``x = LLM``, the answer to a
message no dialog handles (history, the KB's passages, citations), streaming, failures that keep
nothing partial, the daily token budget, and tools whose dialogs HEAR across a restart. On SQLite
and PostgreSQL, with and without Valkey; each message through a new runtime where it matters."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from gb_basic import compile_source
from gb_runtime import Inbound
from gb_runtime.llm import LlmClient, LlmConfig, LlmError, tool_schema
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot, runtime_for, texts
from tests.helpers.corpus import corpus_files
from tests.helpers.llm_server import BOOK, LlmServer, Scripted, llm_server


def _bot(tmp: Path, llm: LlmServer | None, dialogs: dict[str, str], extra: str = "", **kw: object) -> Path:
    config = (f"llm-url,{llm.url}\nllm-model,{llm.model}\nllm-key,{llm.key}\n" if llm else "") + extra
    make_bot(tmp / "bots", "ai", dialogs, config=config, **kw)  # type: ignore[arg-type]
    return tmp / "bots"


async def _say(stores: Stores, tmp: Path, session_id: object, text: str, **kw: object) -> list[str]:
    runtime = runtime_for(stores, tmp / "bots", tmp / "data")  # a new runtime: a restart between messages
    result = await runtime.handle(Inbound("ai", text, session_id=session_id, **kw))  # type: ignore[arg-type]
    return texts(result)


async def test_without_an_llm_the_keyword_says_so_and_the_kb_answers(stores: Stores, tmp_path: Path) -> None:
    _bot(tmp_path, None, {"start": 'TALK "hi"\n', "ask": 'x = LLM "Say hi"\nTALK x\n'},
         kb={"guide/sessions.md": "# Sessions\n\nA session is one conversation of a user with a bot.\n"})
    runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
    started = await runtime.start("ai")
    answered = await runtime.handle(Inbound("ai", "What is a session?", session_id=started.session_id))
    assert texts(answered) == ["A session is one conversation of a user with a bot."]
    failed = await runtime.handle(Inbound("ai", "ask", session_id=started.session_id))
    assert failed.error is not None and "no LLM configured" in str(failed.error)


async def test_x_equals_llm_asks_under_the_sessions_system_prompt(stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'BEGIN SYSTEM PROMPT\nYou are Ana, of ACME.\nEND SYSTEM PROMPT\n'
                                      'SET CONTEXT "Orders ship on Mondays."\nTALK "hi"\n',
                             "ask": 'x = LLM "Write a haiku about " + "tea"\nTALK "Haiku: " + x\n'})
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script.append(Scripted.say("green leaves in hot cup"))
        result = await runtime.handle(Inbound("ai", "ask", session_id=started.session_id))
        assert texts(result) == ["Haiku: green leaves in hot cup"]
        body = llm.requests[0]
        assert body["model"] == "test-model" and "stream" not in body
        system, user = body["messages"]
        assert "You are Ana, of ACME." in system["content"] and "Orders ship on Mondays." in system["content"]
        assert user == {"role": "user", "content": "Write a haiku about tea"}
        history = await runtime.history(started.session_id, roles=("user", "assistant", "system"))
        noted = [m for m in history if m.token_count]
        assert [m.role for m in noted] == ["system"] and noted[0].token_count == 20 + 5


async def test_an_unhandled_message_is_answered_with_history_passages_and_sources(
        stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'USE KB "policies"\nTALK "hi"\n'}, "history-limit,10\n",
             kb={"policies/returns.md": "# Returns\n\nYou may return an item within 30 days.\n",
                 "other/secret.md": "# Secret\n\nThe return code is 1234.\n"})
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script.append(Scripted.say("Sure, ask away."))
        await runtime.handle(Inbound("ai", "hello there", session_id=started.session_id))
        llm.script.append(Scripted.say("Within 30 days [1]."))
        result = await _say(stores, tmp_path, started.session_id, "Can I return an item?")
        assert result == ["Within 30 days [1].\n\nSources: [1] policies/returns.md"]
        messages = llm.requests[1]["messages"]
        assert "You may return an item within 30 days." in messages[0]["content"]
        assert "1234" not in messages[0]["content"]  # a KB this session does not use
        assert [(m["role"], m["content"]) for m in messages[1:]] == [
            ("assistant", "hi"), ("user", "hello there"), ("assistant", "Sure, ask away."),
            ("user", "Can I return an item?")]
        stored = await runtime.history(started.session_id)
        assert stored[-1].content.startswith("Within 30 days") and stored[-1].token_count == 50 + 4


async def test_an_answer_streams_its_pieces_and_is_stored_whole(stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'TALK "hi"\n'})
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        pieces: list[str] = []

        async def shown(piece: str) -> None:
            pieces.append(piece)

        llm.script.append(Scripted.say("one two three four", pause=0.01))
        result = await runtime.handle(Inbound("ai", "count", session_id=started.session_id, on_delta=shown))
        assert pieces == ["one ", "two ", "three ", "four"] and texts(result) == ["one two three four"]
        assert llm.requests[0]["stream"] is True
        assert (await runtime.history(started.session_id))[-1].content == "one two three four"


@pytest.mark.parametrize("failure", ["cut", "slow", "status", "malformed"])
async def test_a_failed_answer_keeps_nothing_partial_and_says_so(stores: Stores, tmp_path: Path,
                                                                 failure: str) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'TALK "hi"\n'}, "llm-timeout,0.5\n")
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script.append({"cut": Scripted.say("the partial answer goes here", cut=True),
                           "slow": Scripted.say("too late", pause=2),
                           "status": Scripted(status=503), "malformed": Scripted(malformed=True)}[failure])

        async def shown(piece: str) -> None:
            pass

        result = await runtime.handle(Inbound("ai", "tell me", session_id=started.session_id,
                                              on_delta=shown if failure == "cut" else None))
        assert texts(result) == ["Sorry, I could not answer that just now: the assistant did not finish its "
                                 "answer, and nothing of it was kept. Please try again."]
        history = await runtime.history(started.session_id, roles=("user", "assistant", "system"))
        assert not any("partial" in m.content or "too late" in m.content for m in history)
        why = {"cut": "cut off", "slow": "no complete answer within 0.5 s", "status": "503",
               "malformed": "not valid JSON"}[failure]
        assert any(m.role == "system" and why in m.content for m in history), [m.content for m in history]


async def test_the_daily_token_budget_stops_the_llm(stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'TALK "hi"\n'}, "llm-max-session-tokens-per-day,40\n")
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script.append(Scripted.say("first answer here"))  # 3 messages * 10 + 4 = 34 tokens
        assert texts(await runtime.handle(Inbound("ai", "q1", session_id=started.session_id))) == [
            "first answer here"]
        llm.script.append(Scripted.say("second"))  # 34 < 40: still allowed, 34 + 51 after
        await runtime.handle(Inbound("ai", "q2", session_id=started.session_id))
        refused = await runtime.handle(Inbound("ai", "q3", session_id=started.session_id))
        assert texts(refused) == ["Sorry, I cannot answer more questions today: the assistant's daily budget "
                                  "is used up."]
        assert len(llm.requests) == 2
        other = await runtime.start("ai")  # another session of the bot has its own budget
        llm.script.append(Scripted.say("fresh"))
        assert texts(await runtime.handle(Inbound("ai", "q1", session_id=other.session_id))) == ["fresh"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_asks_what_is_missing_across_a_restart_and_the_model_answers(
        stores: Stores, tmp_path: Path, stream: bool) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'USE TOOL "book"\nTALK "hi"\n', "book": BOOK})
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script.append(Scripted.call("book", {"city": "Porto"}))  # `people` is left out

        async def shown(piece: str) -> None:
            pass

        on_delta = shown if stream else None
        asked = await _say(stores, tmp_path, started.session_id, "book me a table in Porto", on_delta=on_delta)
        assert asked == ["How many people?"]
        tools = llm.requests[0]["tools"]
        assert tools == [tool_schema("book", compile_source(BOOK, "book.bas"))]
        assert tools[0]["function"]["parameters"]["required"] == ["city", "people"]
        again = await _say(stores, tmp_path, started.session_id, "lots")  # HEAR AS INTEGER asks again
        assert len(again) == 1 and again[0] != "How many people?"
        llm.script.append(Scripted.say("Your table in Porto is booked."))
        done = await _say(stores, tmp_path, started.session_id, "4", on_delta=on_delta)
        assert done == ["Booking for 4 in Porto", "Your table in Porto is booked."]
        final = llm.requests[1]["messages"]
        assert final[-2]["tool_calls"][0]["function"]["name"] == "book"
        result = json.loads(final[-1]["content"])
        assert final[-1]["role"] == "tool" and result == {"returned": "booking B-Porto-4",
                                                           "said_to_the_user": ["Booking for 4 in Porto"]}
        assert not llm.refused
        nothing = await _say(stores, tmp_path, started.session_id, "thanks")  # the conversation is over
        assert nothing == ["(no scripted answer)"]


async def test_a_tool_the_model_makes_up_is_refused_to_the_model(stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'TALK "hi"\n', "book": BOOK})  # book is no tool of this session
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        llm.script += [Scripted.call("book", {"city": "Porto", "people": 2}), Scripted.say("I cannot book.")]
        result = await runtime.handle(Inbound("ai", "please book", session_id=started.session_id))
        assert texts(result) == ["I cannot book."]
        assert "tools" not in llm.requests[0]
        assert "no tool 'book'" in llm.requests[1]["messages"][-1]["content"]


# --- the client alone -------------------------------------------------------------------------------


async def test_the_client_checks_and_reports() -> None:
    async with llm_server(key="k1") as llm:
        client = LlmClient()
        try:
            good = LlmConfig(llm.url, llm.model, "k1", temperature=0.2, max_tokens=50, timeout=5)
            llm.script.append(Scripted.say("hello", usage=False))
            answer = await client.complete(good, [{"role": "user", "content": "hi there, model"}])
            assert answer.text == "hello" and answer.prompt_tokens == 3 and answer.completion_tokens == 1
            assert llm.requests[0]["temperature"] == 0.2 and llm.requests[0]["max_tokens"] == 50
            with pytest.raises(LlmError, match=r"401 Unauthorized"):
                await client.complete(LlmConfig(llm.url, llm.model, "wrong"), [{"role": "user", "content": "x"}])
            with pytest.raises(LlmError, match=r"ConnectError"):
                await client.complete(LlmConfig("http://127.0.0.1:9/v1", "m"), [{"role": "user", "content": "x"}])
        finally:
            await client.close()


def test_llm_key_reads_the_environment_and_bad_numbers_are_named(tmp_path: Path) -> None:
    from gb_runtime.bots import BotSettings
    from gb_runtime.errors import BotConfigError
    settings = BotSettings.from_config({"llm-url": "http://x/v1", "llm-key": "env:GB_TEST_LLM_KEY"})
    assert LlmConfig.of("b", settings, {"GB_TEST_LLM_KEY": "s3"}).key == "s3"  # type: ignore[union-attr]
    with pytest.raises(LlmError, match="GB_TEST_LLM_KEY, which is not set"):
        LlmConfig.of("b", settings, {})
    with pytest.raises(BotConfigError, match="llm-timeout must be a number"):
        LlmConfig.of("b", BotSettings.from_config({"llm-url": "http://x/v1", "llm-timeout": "soon"}))
    assert LlmConfig.of("b", BotSettings()) is None


def test_every_corpus_tool_has_a_valid_schema() -> None:
    checked = 0
    for path in corpus_files():
        source = path.read_text(encoding="utf-8")
        if "PARAM" not in source:
            continue
        try:
            program = compile_source(source, path.name)
        except Exception:
            continue
        if not program.params:
            continue
        schema = tool_schema(path.stem, program)
        jsonschema.Draft202012Validator.check_schema(schema["function"]["parameters"])
        checked += 1
    assert checked >= 20


async def test_a_stopped_answer_keeps_nothing_and_closes_the_models_stream(stores: Stores, tmp_path: Path) -> None:
    async with llm_server() as llm:
        _bot(tmp_path, llm, {"start": 'TALK "hi"\n'})
        runtime = runtime_for(stores, tmp_path / "bots", tmp_path / "data")
        started = await runtime.start("ai")
        stop = asyncio.Event()
        pieces: list[str] = []

        async def shown(piece: str) -> None:
            pieces.append(piece)
            if len(pieces) == 2:
                stop.set()  # the user's stop button, mid-answer

        llm.script.append(Scripted.say("one two three four five six seven eight", pause=0.05))
        result = await runtime.handle(Inbound("ai", "count", session_id=started.session_id, on_delta=shown,
                                              stop=stop))
        assert texts(result) == ["Stopped: the answer was not finished, and nothing of it was kept."]
        assert pieces == ["one ", "two "]
        history = await runtime.history(started.session_id, roles=("user", "assistant", "system"))
        assert not any("one two" in m.content for m in history)
        assert any(m.role == "system" and "stopped before it was finished" in m.content for m in history)
        day = dt.datetime.now(dt.UTC).date()  # the prompt was read by the model: it counts
        assert (await runtime.assistant.ledger.used("ai", started.session_id, day))[1] > 0
        for _ in range(100):  # the model's server sees the client go and stops sending
            if llm.disconnected:
                break
            await asyncio.sleep(0.02)
        assert llm.disconnected == 1
        # a stop set before the message: the model is not asked
        result = await runtime.handle(Inbound("ai", "count", session_id=started.session_id, stop=stop))
        assert texts(result) == ["Stopped: the answer was not finished, and nothing of it was kept."]
        assert len(llm.requests) == 1
        # the next message, not stopped, is answered
        llm.script.append(Scripted.say("fine"))
        assert texts(await runtime.handle(Inbound("ai", "again", session_id=started.session_id,
                                                  stop=asyncio.Event()))) == ["fine"]
