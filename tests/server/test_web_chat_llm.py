"""The web chat shows an LLM's answer as it is generated (delta frames over the WebSocket), then
the answer as stored; in Debian's headless Chromium against a real `gb serve` and a local
OpenAI-compatible stand-in that streams its answer slowly."""

from __future__ import annotations

from pathlib import Path

from tests.browser import chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.llm_server import Scripted, llm_server_in_thread
from tests.helpers.servers import Server, gb_environ


def test_the_answer_grows_as_it_is_generated_then_is_the_stored_one(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    need_chromium()
    with llm_server_in_thread() as llm:
        make_bot(tmp_path / "bots", "default", {"start": 'TALK "Ask me anything."\n'},
                 config=f"llm-url,{llm.url}\nllm-model,{llm.model}\nllm-key,{llm.key}\n")
        words = "Sessions keep each conversation apart from every other one".split()
        llm.script.append(Scripted.say(" ".join(words), pause=0.25))
        with Server(gb_environ(tmp_path / "bots", tmp_path / "data"), tmp_path / "server.log") as server, \
                chromium_page("web-chat-llm-failure.png") as page:
            page.goto(server.url + "/")
            messages = page.get_by_test_id("message")
            expect(messages.last).to_have_text("Ask me anything.", timeout=20_000)
            expect(page.get_by_test_id("status")).to_contain_text("connected", timeout=20_000)
            page.get_by_test_id("input").fill("What is a session?")
            page.get_by_test_id("input").press("Enter")
            growing = page.get_by_test_id("streaming")
            expect(growing).to_contain_text("Sessions keep", timeout=20_000)
            partial = growing.inner_text()
            assert partial != " ".join(words), "the answer was shown only once it was whole"
            expect(growing).to_have_count(0, timeout=20_000)  # the reply frame took its place
            expect(messages.last).to_have_text(" ".join(words))
            assert llm.requests[0]["stream"] is True
            page.reload()  # the stored answer is the whole one
            expect(messages.last).to_have_text(" ".join(words), timeout=20_000)
