"""The email channel against real mail servers: Dovecot (IMAP, a throwaway mailbox the mails are
APPENDed to) and aiosmtpd (SMTP submission, recording what it gets). A threaded dialog, the
IMAP cursor across a restart and a UIDVALIDITY change, two processes on one database, quoted
text, an attachment for HEAR AS FILE, automatic mail, the per-sender rate, SEND MAIL from a web
chat, and a submission server down then up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from gb_server.channels.email import new_text, read_mail, reply_subject
from gb_server.channels.mailbox import MailPoller
from gb_sessions.config import Stores
from tests.helpers.bots import make_bot
from tests.helpers.mail import Imap, Smtp, imap_server, mail, smtp_server
from tests.server.inproc import InProcess, serving

DIALOGS = {
    "start": 'TALK "Hello! What is your name?"\nHEAR name\nTALK "Nice to meet you, " + name\n',
}
FILE_DIALOGS = {"start": 'TALK "Send me the file"\nHEAR doc AS FILE\nTALK "Got " + doc.name + " (" + doc.type + ")"\n'}
MAILER = {"start": 'HEAR to\nSEND MAIL to, "Your order", "Dear Ana,\n\nit is ready."\n'
                    'SEND EMAIL to, "Your invoice", "Attached.", "invoice.txt"\nTALK "sent to " + to\n'}


def config(imap: Imap, smtp: Smtp, extra: str = "") -> str:
    return (f"email-imap-url,{imap.url}\nemail-smtp-url,env:GB_TEST_SMTP_URL\nemail-from,Bot <{imap.user}>\n"
            f"email-poll-seconds,0.1\noutbox-retry-seconds,0.2\n{extra}")


@pytest.fixture
async def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Imap, Smtp]]:
    async with imap_server(tmp_path / "dovecot") as imap:
        with smtp_server() as smtp:
            monkeypatch.setenv("GB_TEST_SMTP_URL", smtp.url)
            yield imap, smtp


def person() -> str:
    return f"ana-{uuid.uuid4().hex[:10]}@example.com"


def poller(server: InProcess) -> MailPoller:
    return server.ctx.mail_poller


async def eventually(check: Any, timeout: float = 15.0, what: str = "") -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = await check() if asyncio.iscoroutinefunction(check) else check()
        if got:
            return got
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def inbox_of(server: InProcess, address: str) -> list[Any]:
    from sqlalchemy import select

    from gb_sessions.schema import InboxRow

    queue = server.runtime.channels
    assert queue is not None
    async with queue.engine.connect() as conn:
        rows = (await conn.execute(select(InboxRow.platform_id, InboxRow.status).where(
            InboxRow.channel == "email", InboxRow.address == address).order_by(InboxRow.id))).all()
    return list(rows)


def parts(message: EmailMessage) -> dict[str, str]:
    """content type -> text of a mail's parts (the alternatives)."""
    return {p.get_content_type(): str(p.get_content()).replace("\r\n", "\n") for p in message.walk()
            if not p.is_multipart()
            and p.get_content_disposition() != "attachment"}


async def test_a_whole_dialog_by_email_is_one_thread(channel_stores: Stores, servers: Any, tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    ana = person()
    first = mail(f"Ana <{ana}>", "Pedido 123", "oi")
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(first)
        (hello,) = await smtp.wait_for(ana, 1)
        assert hello["Subject"] == "Re: Pedido 123"
        assert hello["In-Reply-To"] == first["Message-ID"]
        assert hello["References"] == first["Message-ID"]
        assert hello["Auto-Submitted"] == "auto-replied"
        assert hello["To"] == ana and imap.user in hello["From"]
        assert hello.get_content_type() == "multipart/alternative"
        body = parts(hello)
        assert body["text/plain"].strip() == "Hello! What is your name?"
        assert "<p>Hello! What is your name?</p>" in body["text/html"]
        assert smtp.received[-1].login == smtp.user

        answer = mail(ana, "Re: Re: Pedido 123",
                      "Ana\n\n-- \nAna Silva\nACME Ltd\n\nOn Wed, 2 Dec 2026 at 10:00, Bot wrote:\n"
                      "> Hello! What is your name?\n",
                      in_reply_to=hello["Message-ID"], references=f"{first['Message-ID']} {hello['Message-ID']}")
        await imap.deliver(answer)
        _, nice = await smtp.wait_for(ana, 2)
        assert parts(nice)["text/plain"].strip() == "Nice to meet you, Ana"
        assert nice["Subject"] == "Re: Pedido 123"  # never "Re: Re:"
        assert nice["In-Reply-To"] == answer["Message-ID"]
        assert nice["References"].split() == [first["Message-ID"], hello["Message-ID"], answer["Message-ID"]]
        sid = await server.runtime.store.find("default", "email", ana)
        assert sid is not None
        history = [(m.role, m.content) for m in await server.runtime.history(sid)]
        assert history == [("user", "oi"), ("assistant", "Hello! What is your name?"), ("user", "Ana"),
                           ("assistant", "Nice to meet you, Ana")]
        flags = await imap.flags()
        assert len(flags) == 2 and all("\\Seen" in f for f in flags.values())
        rows = await inbox_of(server, ana)
        assert [r.platform_id for r in rows] == [first["Message-ID"], answer["Message-ID"]]
        queue = server.runtime.channels
        assert queue is not None
        sent = [o for o in await queue.outbox(bot_id="default") if o.address == ana]
        assert [o.platform_id for o in sent] == [hello["Message-ID"], nice["Message-ID"]]  # a reply finds the thread


async def test_a_reply_from_another_address_in_the_thread_continues_its_conversation(
        channel_stores: Stores, servers: Any, tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    ana, work = person(), person()
    first = mail(ana, "Hi", "oi")
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(first)
        (hello,) = await smtp.wait_for(ana, 1)
        await imap.deliver(mail(work, "Re: Hi", "Ana", in_reply_to=hello["Message-ID"],
                                references=f"{first['Message-ID']} {hello['Message-ID']}"))
        _, nice = await smtp.wait_for(ana, 2)
        assert parts(nice)["text/plain"].strip() == "Nice to meet you, Ana"
        assert await server.runtime.store.find("default", "email", work) is None


async def test_the_cursor_survives_a_restart_and_a_new_uidvalidity_rereads_safely(
        channel_stores: Stores, servers: Any, tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    senders = [person() for _ in range(4)]
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as first:
        await imap.deliver(mail(senders[0], "a", "oi"), mail(senders[1], "b", "oi"))
        await smtp.wait_for(senders[0], 1)
        await smtp.wait_for(senders[1], 1)
        assert poller(first).fetched == 2
    await imap.deliver(mail(senders[2], "c", "oi"))  # while no server runs
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as second:
        await smtp.wait_for(senders[2], 1)
        assert poller(second).fetched == 1  # the two stored before are not fetched again
        imap.new_uidvalidity(4242)
        await eventually(lambda: poller(second).fetched >= 4, what="the folder read again")
        await imap.deliver(mail(senders[3], "d", "oi"))
        await smtp.wait_for(senders[3], 1)
        await asyncio.sleep(0.5)
        for s in senders:  # each mail handled once: one greeting each, one inbox row each
            assert len(smtp.to(s)) == 1
            assert len(await inbox_of(second, s)) == 1
        assert poller(second).fetched == 5


async def test_two_processes_on_one_database_never_both_fetch_a_mail(channel_stores: Stores, servers: Any,
                                                                    tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    senders = [person() for _ in range(6)]
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as a, \
            serving(channel_stores, tmp_path / "bots", tmp_path / "data") as b:
        for s in senders[:3]:
            await imap.deliver(mail(s, "x", "oi"))
        await asyncio.sleep(0.3)
        await imap.deliver(*(mail(s, "y", "oi") for s in senders[3:]))
        for s in senders:
            await smtp.wait_for(s, 1)
        await asyncio.sleep(0.5)
        assert poller(a).fetched + poller(b).fetched == 6
        assert 0 in (poller(a).fetched, poller(b).fetched)  # one holds the mailbox's lease
        for s in senders:
            assert len(smtp.to(s)) == 1


async def test_an_attachment_reaches_hear_as_file(channel_stores: Stores, servers: Any, tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", FILE_DIALOGS, config=config(imap, smtp))
    ana = person()
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(mail(ana, "file", "hello"))
        (ask,) = await smtp.wait_for(ana, 1)
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
        await imap.deliver(mail(ana, "Re: file", "here it is\n\n> Send me the file", in_reply_to=ask["Message-ID"],
                                attachment=("invoice.pdf", "application/pdf", pdf)))
        _, got = await smtp.wait_for(ana, 2)
        assert parts(got)["text/plain"].strip() == "Got invoice.pdf (application/pdf)"
        files = server.runtime.files
        assert files is not None
        stored = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and p.read_bytes() == pdf]
        assert len(stored) == 1  # the mail's own bytes, kept by the turn


async def test_automatic_mail_bounces_and_no_reply_senders_are_passed_over(channel_stores: Stores, servers: Any,
                                                                           tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    auto, bulk, daemon, noreply, marker = person(), person(), "MAILER-DAEMON@example.com", \
        f"no-reply-{uuid.uuid4().hex[:6]}@example.com", person()
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(mail(auto, "Out of office", "away", headers={"Auto-Submitted": "auto-replied"}),
                           mail(bulk, "News", "sale", headers={"Precedence": "bulk"}),
                           mail(daemon, "Undelivered Mail Returned to Sender", "failed"),
                           mail(noreply, "Your receipt", "thanks"),
                           mail(marker, "hi", "oi", headers={"Auto-Submitted": "no"}))
        await smtp.wait_for(marker, 1)
        await eventually(imap.flags, what="flags")
        flags = await imap.flags()
        assert len(flags) == 5 and all("\\Seen" in f for f in flags.values())
        for skipped in (auto, bulk, daemon.lower(), noreply):
            assert smtp.to(skipped) == []
            assert await inbox_of(server, skipped) == []


async def test_a_sender_past_the_hourly_rate_is_passed_over(channel_stores: Stores, servers: Any,
                                                            tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp, "email-rate-per-hour,2\n"))
    ana = person()
    third = mail(ana, "3", "and again")
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(mail(ana, "1", "oi"), mail(ana, "2", "Ana"), third)
        await smtp.wait_for(ana, 2)
        await eventually(lambda: poller(server).fetched == 3, what="three fetched")
        await asyncio.sleep(0.5)
        rows = await inbox_of(server, ana)
        assert len(rows) == 2 and third["Message-ID"] not in [r.platform_id for r in rows]
        assert len(smtp.to(ana)) == 2


async def test_send_mail_from_a_web_chat_reaches_the_smtp_server(channel_stores: Stores, servers: Any,
                                                                 tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                                 ) -> None:
    _, smtp = servers
    pkg = make_bot(tmp_path / "bots", "mailer", MAILER,
                   config=f"email-smtp-url,{smtp.url}\nemail-from,Shop <shop@example.test>\n")
    (pkg / "mailer.gbdrive").mkdir()
    (pkg / "mailer.gbdrive" / "invoice.txt").write_text("Invoice 42: 10.00\n")
    make_bot(tmp_path / "bots", "plain", MAILER, config="")
    ana = person()
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        async with httpx.AsyncClient(base_url=server.url) as c:
            session = (await c.post("/mailer/api/session", json={})).json()
            r = await c.post("/mailer/api/chat", json={"message": ana},
                             headers={"Authorization": f"Bearer {session['token']}"})
            assert r.status_code == 200, r.text
            assert r.json()["messages"][-1]["content"] == f"sent to {ana}"
            sent, invoice = await smtp.wait_for(ana, 2)
            assert sent["Subject"] == "Your order" and sent["In-Reply-To"] is None
            assert sent["Auto-Submitted"] == "auto-generated" and "shop@example.test" in sent["From"]
            assert parts(sent)["text/plain"].strip() == "Dear Ana,\n\nit is ready."
            assert "<p>Dear Ana,</p><p>it is ready.</p>" in parts(sent)["text/html"]
            assert invoice["Subject"] == "Your invoice" and parts(invoice)["text/plain"].strip() == "Attached."
            (attached,) = invoice.iter_attachments()
            assert attached.get_filename() == "invoice.txt"
            assert attached.get_payload(decode=True) == b"Invoice 42: 10.00\n"
            plain = (await c.post("/plain/api/session", json={})).json()
            r = await c.post("/plain/api/chat", json={"message": ana},
                             headers={"Authorization": f"Bearer {plain['token']}"})
            assert r.status_code == 200 and "sent to" not in r.text
            assert "SEND MAIL: channel not configured (no email channel is set up for bot plain)" in caplog.text
            assert smtp.to(ana) == [sent, invoice]


async def test_an_smtp_server_down_then_up_gets_the_mail_once(channel_stores: Stores, servers: Any,
                                                              tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp))
    ana = person()
    smtp.down = True
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(mail(ana, "hello", "oi"))
        await eventually(lambda: smtp.refused >= 2, what="two refused attempts")
        assert smtp.to(ana) == []
        smtp.down = False
        (hello,) = await smtp.wait_for(ana, 1)
        await asyncio.sleep(1.0)
        assert len(smtp.to(ana)) == 1
        queue = server.runtime.channels
        assert queue is not None
        (row,) = [o for o in await queue.outbox(bot_id="default") if o.address == ana]
        assert row.status == "sent" and row.platform_id == hello["Message-ID"] and row.attempts >= 3


def test_quoted_history_and_signatures_are_not_the_users_text() -> None:
    body = ("Yes, tomorrow at 10.\n\n-- \nAna Silva\n\nOn Tue, 1 Dec 2026 at 09:00, Bot <bot@example.com> wrote:\n"
            "> When shall we meet?\n> \n")
    assert new_text(body) == "Yes, tomorrow at 10."
    assert new_text("Sim\n\nEm ter., 1 de dez. de 2026 às 09:00, Bot escreveu:\n> Quando?\n") == "Sim"
    assert new_text("> quoted only\nmine\n> more") == "mine"
    assert reply_subject("Re: RE: re:Pedido 123") == "Re: Pedido 123"
    assert reply_subject("Pedido") == "Re: Pedido"


def test_a_mail_of_no_person_is_skipped_and_a_missing_message_id_is_made_up() -> None:
    from gb_server.channels.email import Skipped

    auto = mail("ana@example.com", "x", "y", headers={"Auto-Submitted": "auto-generated"})
    with pytest.raises(Skipped, match="Auto-Submitted"):
        read_mail(auto.as_bytes(), "bot@example.test", "1.1@box")
    with pytest.raises(Skipped, match="own"):
        read_mail(mail("Bot@Example.test", "x", "y").as_bytes(), "bot@example.test", "1.2@box")
    bare = mail("ana@example.com", "Only a subject", "")
    del bare["Message-ID"]
    received = read_mail(bare.as_bytes(), "bot@example.test", "7.9@box")
    assert received.platform_id == "<7.9@box>" and received.text == "Only a subject"


AUTHSERV = "mx.bot.test"  # the receiving server's authserv-id in these tests


def authenticated(sender: str, results: str, *more: str) -> EmailMessage:
    """A mail as the bot's receiving server leaves it: its Authentication-Results on top (and
    `more` below it: headers the sender or servers on the way wrote)."""
    m = mail(sender, "hi", "oi")
    for value in (f"{AUTHSERV}; {results}", *more):
        m["Authentication-Results"] = value
    return m


def test_with_email_authserv_id_only_mail_the_receiving_server_authenticated_is_a_message() -> None:
    """From is a claim: with email-authserv-id a mail is one only when that server's
    Authentication-Results vouch for the From domain (DMARC, else an aligned DKIM signature)."""
    from gb_server.channels.email import Skipped

    ok = [authenticated("ana@example.com", "dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; "
                                           "dmarc=pass header.from=example.com"),
          authenticated("ana@mail.example.com", "dkim=pass header.d=example.com header.s=s1"),  # a parent domain
          authenticated("Ana@Example.com", "dmarc=pass header.from=example.com")]
    for m in ok:
        assert read_mail(m.as_bytes(), "bot@example.test", "1.1@box", AUTHSERV).address == m["From"].lower()
    refused = [
        (authenticated("ceo@example.com", "spf=fail smtp.mailfrom=example.com; dmarc=fail header.from=example.com"),
         f"{AUTHSERV} says dmarc=fail for example.com"),
        (authenticated("ceo@example.com", "dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example"),
         "found no DMARC pass and no DKIM pass for example.com (dkim=pass, spf=pass)"),
        # the sender wrote a header in the server's name below the server's own: only the top one counts
        (authenticated("ceo@example.com", "none", f"{AUTHSERV}; dmarc=pass header.from=example.com"),
         "found no DMARC pass and no DKIM pass for example.com (none)"),
        (mail("ceo@example.com", "hi", "oi", headers={"Authentication-Results": "other.mx; dmarc=pass"}),
         f"no Authentication-Results of {AUTHSERV}"),
        (mail("ceo@example.com", "hi", "oi"), f"no Authentication-Results of {AUTHSERV}"),
    ]
    for m, why in refused:
        with pytest.raises(Skipped, match="not authenticated") as skipped:
            read_mail(m.as_bytes(), "bot@example.test", "1.2@box", AUTHSERV)
        assert why in str(skipped.value), (str(skipped.value), why)
    # without the key, From is taken as it is (the documented default)
    assert read_mail(refused[0][0].as_bytes(), "bot@example.test", "1.3@box").address == "ceo@example.com"


async def test_a_spoofed_mail_is_passed_over_and_an_authenticated_one_answered(channel_stores: Stores, servers: Any,
                                                                               tmp_path: Path) -> None:
    imap, smtp = servers
    make_bot(tmp_path / "bots", "default", DIALOGS, config=config(imap, smtp, f"email-authserv-id,{AUTHSERV}\n"))
    ana, ceo = person(), person()
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await imap.deliver(authenticated(ceo, "dmarc=fail header.from=example.com"),
                           authenticated(ana, "dmarc=pass header.from=example.com"))
        await smtp.wait_for(ana, 1)
        await eventually(lambda: poller(server).fetched == 2, what="both fetched")
        await asyncio.sleep(0.3)
        assert smtp.to(ceo) == [] and await inbox_of(server, ceo) == []
        assert len(await inbox_of(server, ana)) == 1
        flags = await imap.flags()
        assert len(flags) == 2 and all("\\Seen" in f for f in flags.values())  # read, passed over: not again


def test_an_html_only_mail_is_read_as_its_text_without_the_quoted_part() -> None:
    m = EmailMessage()
    m["From"], m["Subject"], m["Message-ID"] = "ana@example.com", "Re: x", "<h1@mail.example>"
    m.set_content("<div>Blue, please.</div><blockquote>What colour?</blockquote>", subtype="html")
    assert read_mail(m.as_bytes(), "bot@example.test", "1.1@box").text == "Blue, please."


def test_a_mail_server_url_is_checked_and_read() -> None:
    from gb_server.base import ApiError
    from gb_server.channels.email import server_of

    imap = server_of("b", "email-imap-url", "imaps://bot%40example.com:p%40ss@mail.example.com/Support")
    assert (imap.host, imap.port, imap.tls, imap.user, imap.password, imap.folder) == (
        "mail.example.com", 993, True, "bot@example.com", "p@ss", "Support")
    smtp = server_of("b", "email-smtp-url", "smtp://u:p@smtp.example.com")
    assert (smtp.port, smtp.tls, smtp.folder) == (587, False, "INBOX")
    with pytest.raises(ApiError, match="email-smtp-url must be smtp://"):
        server_of("b", "email-smtp-url", "imap://u:p@host")


async def test_with_imap_idle_a_mail_is_read_when_it_arrives_not_a_poll_later(
        channel_stores: Stores, servers: Any, tmp_path: Path) -> None:
    imap, smtp = servers
    slow = config(imap, smtp).replace("email-poll-seconds,0.1\n", "email-poll-seconds,60\n")  # a poll a minute
    make_bot(tmp_path / "bots", "default", DIALOGS, config=slow)
    ana = person()
    async with serving(channel_stores, tmp_path / "bots", tmp_path / "data") as server:
        await eventually(lambda: "default" in poller(server)._idling, 15, "the first poll waiting in IDLE")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await imap.deliver(mail(ana, "Hi", "oi"))
        (hello,) = await smtp.wait_for(ana, 1, timeout=10)  # the server's EXISTS started the next poll
        assert loop.time() - sent < 10
        assert parts(hello)["text/plain"].strip() == "Hello! What is your name?"
        stopping = loop.time()
    assert loop.time() - stopping < 5  # a poll waiting in IDLE is cut off at once when the server stops
