"""The web chat shows an LLM's answer as it is generated (delta frames over the WebSocket), then
the answer as stored; in Debian's headless Chromium against a real `gb serve` and a local
OpenAI-compatible stand-in that streams its answer slowly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.browser import chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.llm_server import Scripted, llm_server_in_thread
from tests.helpers.servers import Server, gb_environ


@contextmanager
def asked(tmp_path: Path, answer: str, screenshot: str) -> Iterator[tuple[Any, Any, Server]]:
    """A page of the web chat of a bot with an LLM that streams `answer` slowly, "What is a
    session?" sent: (the page, the stand-in, the server)."""
    from playwright.sync_api import expect

    need_chromium()
    with llm_server_in_thread() as llm:
        make_bot(tmp_path / "bots", "default", {"start": 'TALK "Ask me anything."\n'},
                 config=f"llm-url,{llm.url}\nllm-model,{llm.model}\nllm-key,{llm.key}\n")
        llm.script.append(Scripted.say(answer, pause=0.25))
        with Server(gb_environ(tmp_path / "bots", tmp_path / "data"), tmp_path / "server.log") as server, \
                chromium_page(screenshot) as page:
            page.goto(server.url + "/")
            expect(page.get_by_test_id("message").last).to_have_text("Ask me anything.", timeout=20_000)
            expect(page.get_by_test_id("status")).to_contain_text("connected", timeout=20_000)
            expect(page.get_by_test_id("stop")).to_be_hidden()
            page.get_by_test_id("input").fill("What is a session?")
            page.get_by_test_id("input").press("Enter")
            yield page, llm, server


def test_the_answer_grows_as_it_is_generated_then_is_the_stored_one(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    words = "Sessions keep each conversation apart from every other one".split()
    with asked(tmp_path, " ".join(words), "web-chat-llm-failure.png") as (page, llm, _):
        messages = page.get_by_test_id("message")
        growing = page.get_by_test_id("streaming")
        typing = page.get_by_test_id("typing")  # while the turn runs, until the first piece of the answer
        expect(typing).to_be_visible()
        expect(typing).to_contain_text("default is typing…")
        expect(growing).to_contain_text("Sessions keep", timeout=20_000)
        expect(typing).to_be_hidden()
        partial = growing.inner_text()
        assert partial != " ".join(words), "the answer was shown only once it was whole"
        expect(growing).to_have_count(0, timeout=20_000)  # the reply frame took its place
        expect(messages.last).to_have_text(" ".join(words))
        expect(typing).to_be_hidden()
        assert llm.requests[0]["stream"] is True
        page.reload()  # the stored answer is the whole one
        expect(messages.last).to_have_text(" ".join(words), timeout=20_000)


def test_the_stop_button_stops_the_answer_and_nothing_of_it_is_kept(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    answer = "Sessions keep each conversation apart from every other one and more words follow"
    with asked(tmp_path, answer, "web-chat-llm-stop.png") as (page, llm, _):
        messages = page.get_by_test_id("message")
        stop = page.get_by_test_id("stop")
        expect(page.get_by_test_id("streaming")).to_contain_text("Sessions keep", timeout=20_000)
        expect(stop).to_be_visible()
        stop.click()
        stopped = "Stopped: the answer was not finished, and nothing of it was kept."
        expect(messages.last).to_have_text(stopped, timeout=20_000)
        expect(page.get_by_test_id("streaming")).to_have_count(0)
        expect(stop).to_be_hidden()
        page.reload()  # nothing partial was stored
        expect(messages.last).to_have_text(stopped, timeout=20_000)
        assert not any("Sessions keep" in t for t in messages.all_inner_texts())
        for _ in range(50):  # the model's stream was closed, not read to its end
            if llm.disconnected:
                break
            time.sleep(0.1)
        assert llm.disconnected == 1
