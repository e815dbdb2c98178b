"""A tool the LLM calls asks for a parameter it lacks with a HEAR; `gb serve` is killed (-9) while
it waits, a new one starts on the same data, the answer goes to it, and the tool finishes: the
conversation with the model waited in the session's saved dialog. A real server subprocess, the
REST API, and a local OpenAI-compatible stand-in that checks what it receives."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers.bots import make_bot
from tests.helpers.llm_server import BOOK, Scripted, llm_server_in_thread
from tests.helpers.servers import Server, bearer, gb_environ


def test_a_tools_question_survives_a_kill_9_and_the_tool_finishes(tmp_path: Path) -> None:
    with llm_server_in_thread() as llm:
        make_bot(tmp_path / "bots", "default", {"start": 'USE TOOL "book"\nTALK "Hello!"\n', "book": BOOK},
                 config=f"llm-url,{llm.url}\nllm-model,{llm.model}\nllm-key,{llm.key}\n")
        server = Server(gb_environ(tmp_path / "bots", tmp_path / "data"), tmp_path / "server.log").start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                session = c.post("/api/session").json()
                assert session["token"], session
                llm.script.append(Scripted.call("book", {"city": "Porto"}))
                asked = c.post("/api/chat", json={"message": "a table in Porto, please"},
                               headers=bearer(session["token"])).json()
                assert [m["content"] for m in asked["messages"]] == ["How many people?"]
                assert asked["waiting"]["type"] == "INTEGER"
                server.kill9()
                server.start()
                llm.script.append(Scripted.say("Done: your table in Porto is booked."))
                done = c.post("/api/chat", json={"message": "4"}, headers=bearer(session["token"])).json()
                assert [m["content"] for m in done["messages"]] == [
                    "Booking for 4 in Porto", "Done: your table in Porto is booked."]
                tool_result = llm.requests[1]["messages"][-1]
                assert tool_result["role"] == "tool" and json.loads(tool_result["content"])["returned"] == \
                    "booking B-Porto-4"
                assert not llm.refused and len(llm.requests) == 2
        finally:
            server.stop()
