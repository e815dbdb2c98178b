"""The web chat's attach button on a real `gb serve`, in Debian's headless Chromium (Playwright):
a file chosen with the paperclip answers HEAR AS IMAGE, shows as the user's message, and the
bot's SEND FILE shows as an image with a link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import ARTIFACTS, chromium_page, need_chromium
from tests.helpers.bots import make_bot
from tests.helpers.files import pdf, png
from tests.helpers.servers import Server, gb_environ

DIALOGS = {"start": 'TALK "Send me a photo"\nHEAR photo AS IMAGE\nTALK "got " + photo.name + " " + photo.type\n'
                    'SEND FILE photo, "Your photo back"\n'}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    need_chromium()
    make_bot(tmp_path / "bots", "media", DIALOGS, config="max-upload-mb,1\n")
    with Server(gb_environ(tmp_path / "bots", tmp_path / "data"), tmp_path / "server.log") as s:
        yield s


def test_attach_a_file_in_the_web_chat(server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    (tmp_path / "photo.png").write_bytes(png(8, 8))
    (tmp_path / "contract.pdf").write_bytes(pdf())
    (tmp_path / "big.txt").write_bytes(b"x" * (1024 * 1024 + 1))
    with chromium_page("web-chat-files-failure.png") as page:
        page.goto(server.url + "/media")
        messages = page.get_by_test_id("message")
        expect(messages.last).to_have_text("Send me a photo", timeout=20_000)
        expect(page.get_by_test_id("status")).to_contain_text("connected", timeout=20_000)
        attach = page.get_by_role("button", name="Attach a file")
        expect(attach).to_be_enabled()
        expect(attach).to_have_attribute("data-wanted", "true")  # the dialog waits for an image
        # a PDF is refused with the re-ask
        with page.expect_file_chooser() as chooser:
            attach.click()
        chooser.value.set_files(str(tmp_path / "contract.pdf"))
        expect(messages.last).to_have_text("Please send an image, like a photo (JPEG or PNG).", timeout=20_000)
        expect(messages.nth(-2).get_by_test_id("file-link")).to_have_text("contract.pdf")
        # over max-upload-mb: said at once, nothing sent
        with page.expect_file_chooser() as chooser:
            attach.click()
        chooser.value.set_files(str(tmp_path / "big.txt"))
        expect(page.get_by_test_id("error")).to_contain_text("larger than 1 MB")
        # a PNG: the user's message shows it, the bot's SEND FILE shows it back
        with page.expect_file_chooser() as chooser:
            attach.click()
        chooser.value.set_files(str(tmp_path / "photo.png"))
        expect(messages.last).to_contain_text("Your photo back", timeout=20_000)
        expect(messages.nth(-2)).to_have_text("got photo.png image/png")
        sent = messages.nth(-3)
        expect(sent).to_have_attribute("data-role", "user")
        expect(sent.get_by_test_id("file-image")).to_have_attribute("alt", "photo.png")
        back = messages.last.get_by_test_id("file-image")
        expect(back).to_be_visible()
        assert back.evaluate("img => img.complete && img.naturalWidth") == 8  # the browser loaded and decoded it
        link = messages.last.get_by_test_id("file-link")
        href = link.get_attribute("href")
        assert href and href.startswith("/media/files/")
        assert messages.count() == 6  # no echo of the uploads from the page's own socket
        page.screenshot(path=str(ARTIFACTS / "web-chat-files.png"), full_page=True)
    r = httpx.get(server.url + href)
    assert r.content == png(8, 8) and r.headers["X-Content-Type-Options"] == "nosniff"
