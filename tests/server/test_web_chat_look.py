"""The web chat as end users see it, on a real `gb serve` in Debian's headless Chromium
(Playwright): the bot's name, avatar and colour from config.csv, timestamps, markdown through
DOMPurify, Yes/No buttons for a BOOLEAN HEAR, end-user wording in the bot's language (en,
pt-BR), keyboard use and visible focus, axe-core's check, a new conversation, the favicon."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gb_server.pages import page_policy
from tests.browser import ARTIFACTS, axe_violations, chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.files import png
from tests.helpers.servers import Server, gb_environ

SHOP = ('TALK "**Welcome** to the shop. See [our prices](https://example.com/prices) or type `help`:\n'
        '- returns\n- shipping"\n'
        'HEAR agree AS BOOLEAN WITH "Shall we start?"\n'
        'HEAR mail AS EMAIL WITH "What is your e-mail?"\n'
        'TALK "Thanks, <b>" + mail + "</b>"\n'
        'HEAR more AS "Prices", "Nothing" WITH "Anything else?"\n'
        'TALK "You said " + more\n')
LOJA = 'HEAR ok AS BOOLEAN WITH "Vamos começar?"\nHEAR mail AS EMAIL WITH "Qual é o seu e-mail?"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
    root = tmp_path_factory.mktemp("look")
    shop = make_bot(root / "bots", "shop", {"start": SHOP},
                    config="bot-name,Shop Assistant\nbot-avatar,face.png\ntheme-color,#0f766e\nlanguage,en\n")
    (shop / "shop.gbot" / "face.png").write_bytes(png(16, 16))
    make_bot(root / "bots", "loja", {"start": LOJA},
             config="bot-name,Loja\ntheme-color,red;}\nbot-avatar,../segredo.png\nlanguage,pt-BR\n")
    with Server(gb_environ(root / "bots", root / "data"), root / "server.log") as s:
        yield s


def opened(page: Any, url: str, last: str) -> Any:
    """The page at `url`, connected, its last message `last`; the messages' locator."""
    from playwright.sync_api import expect

    page.goto(url)
    messages = page.get_by_test_id("message")
    expect(messages.last).to_have_text(last, timeout=20_000)
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected", timeout=20_000)
    return messages


def test_the_bots_look_words_buttons_keyboard_and_a_new_conversation(server: Server) -> None:
    from playwright.sync_api import expect

    with chromium_page("web-chat-look-failure.png", viewport={"width": 480, "height": 860}) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        messages = opened(page, server.url + "/shop", "Shall we start?")
        # config.csv's bot-name, bot-avatar (a file of the .gbot folder) and theme-color
        expect(page.locator("h1")).to_have_text("Shop Assistant")
        expect(page).to_have_title("Shop Assistant")
        face = page.get_by_test_id("avatar").locator("img")
        expect(face).to_have_attribute("src", "/shop/avatar")
        assert face.evaluate("img => img.complete && img.naturalWidth") == 16
        send = page.get_by_test_id("send")
        assert send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 118, 110)"
        # markdown in the bot's message: bold, a link that opens safely, code, a list
        welcome = messages.first
        expect(welcome.locator("strong")).to_have_text("Welcome")
        link = welcome.get_by_role("link", name="our prices")
        expect(link).to_have_attribute("href", "https://example.com/prices")
        expect(link).to_have_attribute("target", "_blank")
        assert "noopener" in (link.get_attribute("rel") or "").split()
        expect(welcome.locator("code")).to_have_text("help")
        expect(welcome.locator("li")).to_have_text(["returns", "shipping"])
        # a BOOLEAN HEAR: Yes / No buttons, and what to do in the user's words
        expect(page.get_by_test_id("choice")).to_have_text(["Yes", "No"])
        expect(page.get_by_test_id("waiting")).to_have_text("Answer yes or no")
        body = page.locator("body").inner_text()
        assert "(boolean)" not in body and "waiting for your answer" not in body
        # keyboard only: from the input back to the No button, visibly focused, Enter answers
        expect(page.get_by_test_id("input")).to_be_focused()
        page.keyboard.press("Shift+Tab")  # the attach button
        page.keyboard.press("Shift+Tab")
        no = page.get_by_test_id("choice").filter(has_text="No")
        expect(no).to_be_focused()
        assert no.evaluate("b => getComputedStyle(b).outlineStyle") != "none", "keyboard focus must show"
        page.keyboard.press("Enter")
        expect(messages.last).to_have_text("What is your e-mail?", timeout=20_000)
        expect(messages.nth(-2)).to_have_text("No")
        expect(page.get_by_test_id("input")).to_be_focused()  # the button is gone, the focus is not lost
        expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "Type your e-mail address")
        expect(page.get_by_test_id("waiting")).to_have_text("Type your e-mail address")
        # a blank message is not sent
        page.get_by_test_id("input").fill("   ")
        expect(send).to_be_disabled()
        page.get_by_test_id("input").press("Enter")
        expect(messages).to_have_count(4)
        page.get_by_test_id("input").fill("ann@example.com")
        page.get_by_test_id("input").press("Enter")
        expect(messages.last).to_have_text("Anything else?", timeout=20_000)
        # HTML in a bot's message (which held what the user typed) and in the user's text is text
        expect(messages.nth(-2)).to_have_text("Thanks, <b>ann@example.com</b>")
        markup = '<img src=x onerror="document.title=1">'
        page.get_by_test_id("input").fill(markup)
        page.get_by_test_id("input").press("Enter")
        expect(messages.nth(-2)).to_have_text(markup, timeout=20_000)
        assert page.locator("[data-testid=transcript] b, [data-testid=transcript] img:not(.gb-avatar img)").count() == 0
        # every message has its time
        times = page.get_by_test_id("time")
        expect(times).to_have_count(messages.count())
        assert all(t for t in times.evaluate_all("ts => ts.map((t) => Date.parse(t.dateTime))"))
        # accessible: a live log, labelled controls; axe finds nothing serious
        expect(page.get_by_test_id("transcript")).to_have_attribute("aria-live", "polite")
        expect(page.get_by_test_id("transcript")).to_have_attribute("role", "log")
        assert axe_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-chat-look.png"), full_page=True)
        # a new conversation ends this session and starts another
        old = page.evaluate("localStorage.getItem('gb.token.shop')")
        page.get_by_role("button", name="New conversation").click()
        expect(messages).to_have_count(2, timeout=20_000)
        expect(messages.last).to_have_text("Shall we start?")
        expect(page.get_by_test_id("status")).to_have_attribute("data-state", "connected", timeout=20_000)
        new = page.evaluate("localStorage.getItem('gb.token.shop')")
        assert new and new != old
        ended = httpx.get(server.url + "/shop/api/session", headers={"Authorization": f"Bearer {old}"})
        assert ended.status_code == 401 and ended.json()["error"]["code"] == "session_ended"
        page.get_by_role("button", name="Yes").click()
        expect(messages.last).to_have_text("What is your e-mail?", timeout=20_000)
        assert errors == []
    icon = httpx.get(server.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.content.startswith(b"\x00\x00\x01\x00")
    face_file = httpx.get(server.url + "/shop/avatar")
    assert face_file.headers["content-type"] == "image/png" and face_file.content == png(16, 16)
    assert httpx.get(server.url + "/loja/avatar").status_code == 404


def test_portuguese_words_a_bad_theme_color_and_the_dark_scheme(server: Server) -> None:
    from playwright.sync_api import expect

    with chromium_page("web-chat-look-pt-failure.png", color_scheme="dark") as page:  # axe checks the dark scheme
        messages = opened(page, server.url + "/loja", "Vamos começar?")
        expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
        expect(page.get_by_test_id("status")).to_have_text("conectado")
        expect(page.get_by_test_id("choice")).to_have_text(["Sim", "Não"])
        expect(page.get_by_test_id("waiting")).to_have_text("Responda sim ou não")
        expect(page.get_by_test_id("send")).to_have_text("Enviar")
        expect(page.get_by_test_id("new-conversation")).to_have_text("Nova conversa")
        expect(page.get_by_test_id("avatar")).to_have_text("L")  # no usable picture: the name's first letter
        # theme-color "red;}" is not used (never broken CSS): the default accent
        assert page.get_by_test_id("send").evaluate("b => getComputedStyle(b).backgroundColor") \
            == "rgb(37, 99, 235)"
        page.get_by_test_id("choice").filter(has_text="Sim").click()
        expect(messages.last).to_have_text("Qual é o seu e-mail?", timeout=20_000)
        expect(page.get_by_test_id("input")).to_have_attribute("placeholder", "Digite seu e-mail")
        expect(page.locator("time").last).to_have_attribute("datetime", re.compile(r".+"))
        assert axe_violations(page) == []
    log = server.log.read_text()
    assert "loja.gbot/config.csv: theme-color: 'red;}' is not a CSS hex colour" in log
    assert "bot-avatar: '../segredo.png' must be a file inside the bot's .gbot folder" in log


def test_the_page_policy_allows_the_avatar_origin_and_the_embedding_sites_only() -> None:
    policy = page_policy("https://cdn.example.com/a/bot.png", ("https://shop.example", "http://localhost:3000"))
    assert "img-src 'self' https://cdn.example.com;" in policy
    assert "frame-ancestors 'self' https://shop.example http://localhost:3000;" in policy
    assert "default-src 'self';" in policy and "unsafe-inline" not in policy
    assert "img-src 'self';" in page_policy("/shop/avatar", ()) and "frame-ancestors 'self';" in page_policy("", ())
    assert "frame-ancestors *;" in page_policy("", ("*",))
