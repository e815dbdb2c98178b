"""The web chat page (gb_server/static) in a real headless Chromium, against a FAKE server.

The fake Tornado server below speaks exactly the page's protocol (POST {base}/api/session,
WebSocket {base}/ws with hello/ready/message/reply/error) so the page is tested on its own;
the tests against the real gb server reuse the same page. Debian's chromium, driven by
Playwright for Python (never a browser download). A screenshot goes to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import tornado.template
import tornado.web
import tornado.websocket

from tests.browser import ARTIFACTS, CHROMIUM, FLAGS, need_chromium
from tests.helpers import ROOT
from tests.helpers.servers import free_port

STATIC = ROOT / "gb_server" / "static"
CSP = "default-src 'self'; connect-src 'self' ws: wss:"  # the real server's header: no inline code allowed
T = TypeVar("T")


# --- the fake server -------------------------------------------------------------------------------


@dataclass
class Session:
    id: str
    bot: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    waiting: dict[str, Any] | None = None


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class FakeBots:
    """State of the fake server; touched only on its own loop (see `call`)."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}  # token -> session
        self.sockets: set[ChatSocket] = set()
        self.uris: list[str] = []  # every request the server saw (pages, static files, API, socket upgrades)
        self.frames: list[dict[str, Any]] = []  # every frame a socket received
        self.refuse_sockets = False  # answer socket upgrades with 503 (the page keeps reconnecting)
        self.drop_next_reply = False  # store the next reply, then close the socket without sending it
        self.busy_hellos = 0  # answer that many hellos with a `store_unavailable` error (socket left open)
        self.loop: asyncio.AbstractEventLoop | None = None

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the server's loop and return its result (the test thread never races the server)."""
        assert self.loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    # the fake bot: HEAR name, then a menu, then the answer
    def start(self, bot: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(str(uuid.uuid4()), bot)
        self.sessions[token] = session
        self.say(session, "What is your name?")
        session.waiting = {"variable": "name", "type": "STRING", "choices": [], "line": 1}
        return token, session

    def say(self, session: Session, text: str, choices: list[str] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text, "timestamp": now()}
        if choices:
            message["choices"] = choices
        session.messages.append(message)
        return message

    def answer(self, session: Session, text: str) -> list[dict[str, Any]]:
        session.messages.append({"role": "user", "content": text, "timestamp": now()})
        waiting, session.waiting = session.waiting, None
        if waiting and waiting["variable"] == "name":
            session.waiting = {"variable": "choice", "type": "MENU", "choices": ["A", "B"], "line": 2}
            return [self.say(session, f"Hi {text}, pick one:", ["A", "B"])]
        if waiting and waiting["variable"] == "choice":
            return [self.say(session, f"You picked {text}")]
        return [self.say(session, f"You said {text}")]

    def close_sockets(self) -> None:
        for sock in list(self.sockets):
            sock.close(1012, "restarting")

    def revoke(self, token: str) -> None:
        self.sessions.pop(token, None)


class Recorded:
    def prepare(self) -> None:
        self.application.settings["fake"].uris.append(self.request.uri)  # type: ignore[attr-defined]


class StaticFiles(Recorded, tornado.web.StaticFileHandler):
    pass


class ChatPage(Recorded, tornado.web.RequestHandler):
    def initialize(self, bot: str, base: str) -> None:
        self.bot, self.base = bot, base

    def get(self) -> None:
        page = tornado.template.Loader(str(STATIC)).load("chat.html").generate(
            bot=self.bot, base=self.base, max_upload_mb=10, display_name=self.bot, avatar="",
            theme_color="#2563eb", language="en")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class NewSession(Recorded, tornado.web.RequestHandler):
    def initialize(self, bot: str) -> None:
        self.bot = bot

    def post(self) -> None:
        fake: FakeBots = self.settings["fake"]
        assert json.loads(self.request.body) == {}, "the page posts an empty JSON object"
        assert self.request.headers.get("Content-Type", "").startswith("application/json")
        token, session = fake.start(self.bot)
        self.set_status(201)
        self.finish({"session_id": session.id, "token": token, "bot": self.bot,
                     "messages": [{k: v for k, v in m.items() if k != "timestamp"} for m in session.messages],
                     "waiting": session.waiting})


class ChatSocket(Recorded, tornado.websocket.WebSocketHandler):
    def initialize(self, bot: str) -> None:
        self.bot = bot
        self.session: Session | None = None

    def prepare(self) -> None:
        super().prepare()
        if self.settings["fake"].refuse_sockets:
            raise tornado.web.HTTPError(503)

    def open(self) -> None:
        self.settings["fake"].sockets.add(self)

    def on_close(self) -> None:
        self.settings["fake"].sockets.discard(self)

    def send(self, payload: dict[str, Any]) -> None:
        self.write_message(json.dumps(payload))

    def error(self, code: str, message: str) -> None:
        self.send({"type": "error", "error": {"code": code, "message": message}})

    def on_message(self, raw: str | bytes) -> None:
        fake: FakeBots = self.settings["fake"]
        frame = json.loads(raw)
        fake.frames.append(frame)
        if frame.get("type") == "hello":
            session = fake.sessions.get(frame.get("token") or "")
            if fake.busy_hellos:
                fake.busy_hellos -= 1
                self.error("store_unavailable", "The database is unavailable; try again soon.")
            elif session is None:
                self.error("invalid_token", "This conversation is no longer valid; a new one was started.")
                self.close(4001, "invalid token")
            elif session.bot != self.bot:
                self.error("wrong_bot", "This token belongs to another bot.")
                self.close(4001, "wrong bot")
            else:
                self.session = session
                self.send({"type": "ready", "session_id": session.id, "messages": session.messages,
                           "waiting": session.waiting})
        elif frame.get("type") == "message" and self.session is not None:
            messages = fake.answer(self.session, frame["text"])
            if fake.drop_next_reply:
                fake.drop_next_reply = False
                self.close(1012, "restarting")
                return
            self.send({"type": "reply", "messages": messages, "waiting": self.session.waiting})
        else:
            self.error("bad_request", "say hello first")



@pytest.fixture
def server() -> Iterator[tuple[str, FakeBots]]:
    """The fake server on a free port, in a background thread with its own asyncio loop."""
    fake, port = FakeBots(), free_port()
    app = tornado.web.Application([
        (r"/static/(.*)", StaticFiles, {"path": str(STATIC)}),
        (r"/", ChatPage, {"bot": "default", "base": ""}),
        (r"/api/session", NewSession, {"bot": "default"}),
        (r"/ws", ChatSocket, {"bot": "default"}),
        (r"/support", ChatPage, {"bot": "support", "base": "/support"}),
        (r"/support/api/session", NewSession, {"bot": "support"}),
        (r"/support/ws", ChatSocket, {"bot": "support"}),
    ], fake=fake)
    started, stop = threading.Event(), threading.Event()

    def run() -> None:
        async def main() -> None:
            fake.loop = asyncio.get_running_loop()
            http = app.listen(port, "127.0.0.1")
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            fake.close_sockets()
            http.stop()
            await http.close_all_connections()

        asyncio.run(main())

    thread = threading.Thread(target=run, name="fake-gb-server", daemon=True)
    thread.start()
    assert started.wait(10), "the fake server did not start"
    try:
        yield f"http://127.0.0.1:{port}", fake
    finally:
        stop.set()
        thread.join(10)


# --- the browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Page:
    """A fresh browser context (its own localStorage) with what the page did recorded."""

    page: Any
    sockets: list[str] = field(default_factory=list)  # WebSocket URLs
    requests: list[str] = field(default_factory=list)  # every request URL
    sent: list[Any] = field(default_factory=list)  # frames the page sent on its sockets
    console: list[str] = field(default_factory=list)  # console messages and page errors

    def token(self, bot: str = "default") -> str | None:
        return self.page.evaluate("key => localStorage.getItem(key)", f"gb.token.{bot}")

    def messages(self) -> list[tuple[str, str]]:
        items = self.page.get_by_test_id("message")
        return [(items.nth(i).get_attribute("data-role"), items.nth(i).inner_text()) for i in range(items.count())]

    def say(self, text: str) -> None:
        box = self.page.get_by_test_id("input")
        box.fill(text)
        box.press("Enter")

    def open(self, url: str) -> None:
        """Load the page and wait for its socket."""
        from playwright.sync_api import expect

        self.page.goto(url)
        expect(self.page.get_by_test_id("status")).to_have_text("connected")

    def answer_the_name(self, name: str = "Ann") -> None:
        """Say the name the test bot asks for first, and wait for its menu's message."""
        from playwright.sync_api import expect

        self.say(name)
        expect(self.page.get_by_test_id("message")).to_have_count(3)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 420, "height": 760})
    tab = Page(context.new_page())
    tab.page.on("websocket", lambda ws: (tab.sockets.append(ws.url),
                                         ws.on("framesent", lambda payload: tab.sent.append(payload))))
    tab.page.on("request", lambda r: tab.requests.append(r.url))
    tab.page.on("console", lambda m: tab.console.append(m.text))
    tab.page.on("pageerror", lambda e: tab.console.append(f"pageerror: {e}"))
    failed_before = request.session.testsfailed
    try:
        yield tab
    finally:
        if request.session.testsfailed > failed_before:  # the call phase failed: keep a picture of it
            ARTIFACTS.mkdir(exist_ok=True)
            tab.page.screenshot(path=str(ARTIFACTS / f"web-chat-failure-{request.node.name}.png"))
        context.close()


def no_secrets_leaked(tab: Page, fake: FakeBots, tokens: list[str]) -> None:
    """No token in a URL (page side and server side) nor in the console; each went in a hello frame."""
    urls = tab.sockets + tab.requests + fake.call(lambda: list(fake.uris))
    assert tab.sockets and urls
    for token in tokens:
        assert not [u for u in urls if token in u], "a token appeared in a URL"
        assert not [c for c in tab.console if token in c], "a token was logged"
        assert {"type": "hello", "token": token} in [json.loads(f) for f in tab.sent]


def csp_clean(tab: Page) -> None:
    assert not [c for c in tab.console if "Content Security Policy" in c or "pageerror" in c], tab.console


# --- the tests -------------------------------------------------------------------------------------


def test_chat_through_hear_and_menu(server: tuple[str, FakeBots], page: Page) -> None:
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    p.goto(url + "/")
    expect(p.get_by_test_id("status")).to_have_text("connected")
    chat = p.get_by_test_id("chat")
    expect(chat).to_have_attribute("data-bot", "default")
    expect(chat).to_have_attribute("data-base", "")
    expect(p.get_by_test_id("message").last).to_have_text("What is your name?")
    expect(p.get_by_test_id("message").last).to_have_attribute("data-role", "assistant")
    expect(p.get_by_test_id("waiting")).to_be_hidden()  # a plain HEAR: nothing to explain
    expect(p.get_by_test_id("choice")).to_have_count(0)

    page.say("Ann")
    expect(p.get_by_test_id("message").last).to_have_text("Hi Ann, pick one:")
    expect(p.get_by_test_id("input")).to_have_value("")
    expect(p.get_by_test_id("choice")).to_have_text(["A", "B"])
    expect(p.get_by_test_id("waiting")).to_have_text("Choose an option or type your answer")
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "web-chat.png"), full_page=True)

    p.get_by_test_id("choice").filter(has_text="B").click()
    expect(p.get_by_test_id("message").last).to_have_text("You picked B")
    expect(p.get_by_test_id("choice")).to_have_count(0)
    expect(p.get_by_test_id("waiting")).to_be_hidden()
    markup = "<img src=x onerror=\"document.title='owned'\"><b>bold</b>"
    p.get_by_test_id("input").fill(markup)
    p.get_by_test_id("send").click()  # the button sends too; the text is shown as text, never as markup
    expect(p.get_by_test_id("message").last).to_have_text(f"You said {markup}")
    assert p.locator("#gb-chat img, #gb-chat b").count() == 0
    assert p.title() != "owned"
    assert page.messages() == [("assistant", "What is your name?"), ("user", "Ann"),
                               ("assistant", "Hi Ann, pick one:"), ("user", "B"),
                               ("assistant", "You picked B"), ("user", markup), ("assistant", f"You said {markup}")]
    page.say("   ")  # blank input sends nothing, and the button says so
    expect(p.get_by_test_id("send")).to_be_disabled()
    assert len(page.messages()) == 7
    frames = fake.call(lambda: list(fake.frames))
    assert [f for f in frames if f["type"] == "message"] == [
        {"type": "message", "text": t} for t in ("Ann", "B", markup)]
    expect(p.get_by_test_id("error")).to_be_hidden()
    csp_clean(page)


def test_reload_continues_the_conversation(server: tuple[str, FakeBots], page: Page) -> None:
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    page.open(url + "/")
    page.say("Ann")
    expect(p.get_by_test_id("choice")).to_have_count(2)
    token = page.token()
    assert token and fake.call(lambda: token in fake.sessions)

    p.reload()
    expect(p.get_by_test_id("status")).to_have_text("connected")
    expect(p.get_by_test_id("message")).to_have_count(3)
    assert page.messages() == [("assistant", "What is your name?"), ("user", "Ann"),
                               ("assistant", "Hi Ann, pick one:")]
    expect(p.get_by_test_id("choice")).to_have_text(["A", "B"])  # the menu is back after the reload
    assert page.token() == token
    p.get_by_test_id("choice").filter(has_text="A").click()
    expect(p.get_by_test_id("message").last).to_have_text("You picked A")

    assert fake.call(lambda: len(fake.sessions)) == 1, "the reload did not start another session"
    posts = [u for u in page.requests if u.endswith("/api/session")]
    assert posts == [url + "/api/session"], "one POST: the reload reused the stored token"
    assert page.sockets == [url.replace("http:", "ws:") + "/ws"] * 2
    no_secrets_leaked(page, fake, [token])
    csp_clean(page)


def test_each_bot_has_its_own_session(server: tuple[str, FakeBots], page: Page) -> None:
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    page.open(url + "/")
    page.answer_the_name()
    default_token = page.token("default")

    page.open(url + "/support")
    expect(p.get_by_test_id("chat")).to_have_attribute("data-base", "/support")
    expect(p.locator("h1")).to_have_text("support")
    expect(p.get_by_test_id("message")).to_have_count(1)  # a fresh conversation, not the default bot's
    support_token = page.token("support")
    assert support_token and support_token != default_token
    assert page.token("default") == default_token
    sessions = fake.call(lambda: {t: s.bot for t, s in fake.sessions.items()})
    assert sessions == {default_token: "default", support_token: "support"}
    assert page.sockets[-1].endswith("/support/ws")
    assert url + "/support/api/session" in page.requests

    # a token of another bot under the support key: wrong_bot, so the page starts a new session
    p.evaluate("t => localStorage.setItem('gb.token.support', t)", default_token)
    p.reload()
    expect(p.get_by_test_id("status")).to_have_text("connected")
    expect(p.get_by_test_id("error")).to_have_text("Your previous conversation has ended; a new one has started.")
    fresh = page.token("support")
    assert fresh not in (None, default_token, support_token)
    assert fake.call(lambda: fake.sessions[fresh].bot) == "support"
    page.say("Bea")
    expect(p.get_by_test_id("message").last).to_have_text("Hi Bea, pick one:")
    expect(p.get_by_test_id("error")).to_be_hidden()

    p.goto(url + "/")  # the default bot's conversation is still there
    expect(p.get_by_test_id("message")).to_have_count(3)
    expect(p.get_by_test_id("message").nth(2)).to_have_text("Hi Ann, pick one:")
    no_secrets_leaked(page, fake, [default_token, support_token, fresh])


def test_reconnects_and_catches_up(server: tuple[str, FakeBots], page: Page) -> None:
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    p.goto(url + "/")
    status = p.get_by_test_id("status")
    expect(status).to_have_text("connected")

    # the server stores the reply, then drops the socket before sending it, and refuses for a while
    def go_down() -> None:
        fake.drop_next_reply = True
        fake.refuse_sockets = True

    fake.call(go_down)
    page.say("Ann")
    expect(status).to_have_text("reconnecting")
    expect(p.get_by_test_id("send")).to_be_disabled()
    p.wait_for_timeout(1500)  # a few refused attempts
    expect(status).to_have_text("reconnecting")
    expect(p.get_by_test_id("message").last).to_have_text("Ann")

    fake.call(lambda: setattr(fake, "refuse_sockets", False))
    expect(status).to_have_text("connected", timeout=15_000)
    expect(p.get_by_test_id("message").last).to_have_text("Hi Ann, pick one:")  # caught up from `ready`
    assert page.messages() == [("assistant", "What is your name?"), ("user", "Ann"),
                               ("assistant", "Hi Ann, pick one:")]

    # a plain close (a server restart): back again, and the conversation goes on
    with p.expect_websocket(timeout=10_000):  # the page opens a new socket
        fake.call(fake.close_sockets)
    expect(status).to_have_text("connected")
    p.get_by_test_id("choice").filter(has_text="A").click()
    expect(p.get_by_test_id("message").last).to_have_text("You picked A")
    assert fake.call(lambda: len(fake.sessions)) == 1
    assert len(page.sockets) >= 3
    no_secrets_leaked(page, fake, [page.token()])


def test_invalid_token_starts_a_new_session(server: tuple[str, FakeBots], page: Page) -> None:
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    page.open(url + "/")
    page.answer_the_name()
    old = page.token()
    assert old

    def revoke() -> None:
        fake.revoke(old)
        fake.close_sockets()

    fake.call(revoke)  # the hello of the reconnect gets invalid_token
    expect(p.get_by_test_id("error")).to_have_text("Your previous conversation has ended; a new one has started.")
    expect(p.get_by_test_id("status")).to_have_text("connected")
    expect(p.get_by_test_id("message")).to_have_count(1)
    expect(p.get_by_test_id("message")).to_have_text("What is your name?")
    new = page.token()
    assert new and new != old and fake.call(lambda: new in fake.sessions)
    assert {"type": "hello", "token": old} in fake.call(lambda: list(fake.frames))
    page.say("Cid")
    expect(p.get_by_test_id("message").last).to_have_text("Hi Cid, pick one:")
    no_secrets_leaked(page, fake, [old, new])


def test_a_refused_hello_is_retried(server: tuple[str, FakeBots], page: Page) -> None:
    """An error that is not about the token (the server is busy) keeps the session and retries with backoff."""
    from playwright.sync_api import expect

    url, fake = server
    p = page.page
    p.goto(url + "/")
    expect(p.get_by_test_id("status")).to_have_text("connected")
    token = page.token()
    fake.call(lambda: setattr(fake, "busy_hellos", 2))
    with p.expect_websocket():
        fake.call(fake.close_sockets)
    expect(p.get_by_test_id("error")).to_have_text("The service is unavailable right now; trying again…")
    expect(p.get_by_test_id("status")).to_have_text("connected", timeout=15_000)
    assert fake.call(lambda: fake.busy_hellos) == 0
    assert page.token() == token and fake.call(lambda: len(fake.sessions)) == 1
    assert len(page.sockets) == 4  # first, then two refused hellos, then the good one
    page.say("Ann")
    expect(p.get_by_test_id("message").last).to_have_text("Hi Ann, pick one:")
    expect(p.get_by_test_id("error")).to_be_hidden()
