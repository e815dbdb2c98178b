"""Real mail servers for the email channel's tests: Debian's Dovecot (IMAP) with a throwaway
mailbox, and an aiosmtpd SMTP server that records what it receives.

`imap_server(tmp)` starts ``dovecot -F -c <conf>`` on a free port of 127.0.0.1: one user (a
passwd-file) whose maildir is in `tmp`; mails reach it by IMAP APPEND (:meth:`Imap.deliver`)
the way an MTA's delivery would leave them. A machine without dovecot skips the test, and on
CI fails it (tests/helpers/prereqs.py). `smtp_server()` is aiosmtpd's Controller on a free
port, offering AUTH (the test's user and password: the login it got is recorded) and an off
switch (`down`: answers 421 to every mail, as a submission server that is unavailable).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aioimaplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from tests.helpers.prereqs import unavailable

__all__ = ["Imap", "Smtp", "imap_server", "smtp_server", "free_port", "mail"]

PASSWORD = "mailbox-secret"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{maildir}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={maildir}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
"""


@dataclass
class Imap:
    """A running Dovecot: its `url` for config.csv (``imap://user:pass@127.0.0.1:port/INBOX``)."""

    host: str
    port: int
    conf: Path
    user: str
    password: str = PASSWORD

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"imap://{quote(self.user)}:{quote(self.password)}@{self.host}:{self.port}/INBOX"

    async def _client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=10)
        await client.wait_hello_from_server()
        response = await client.login(self.user, self.password)
        assert response.result == "OK", response
        return client

    async def deliver(self, *messages: EmailMessage) -> None:
        """Put mails into the INBOX (unseen), as an MTA's delivery would."""
        client = await self._client()
        try:
            for message in messages:
                response = await client.append(message.as_bytes(policy=email.policy.SMTP), mailbox="INBOX",
                                               flags=None)
                assert response.result == "OK", response
        finally:
            await client.logout()

    async def flags(self) -> dict[int, str]:
        """UID -> the flags of every mail of the INBOX."""
        client = await self._client()
        try:
            await client.select("INBOX")
            response = await client.uid("fetch", "1:*", "(FLAGS)")
            found: dict[int, str] = {}
            for line in response.lines:
                text = line.decode() if isinstance(line, bytes) else str(line)
                if "UID" in text and "FLAGS" in text:
                    uid = int(text.split("UID", 1)[1].split()[0].strip("()"))
                    found[uid] = text.split("FLAGS", 1)[1]
            return found
        finally:
            await client.logout()

    def new_uidvalidity(self, value: int) -> None:
        """Give the INBOX a new UIDVALIDITY (what a restored or rebuilt mailbox shows clients)."""
        subprocess.run([DOVEADM, "-c", str(self.conf), "mailbox", "update", "-u", self.user, "--uid-validity",
                        str(value), "INBOX"], check=True, capture_output=True, timeout=20)


@asynccontextmanager
async def imap_server(root: Path) -> AsyncIterator[Imap]:
    """Dovecot on a free port with one user's empty maildir under `root`, until the block ends."""
    if not os.path.exists(DOVECOT):
        unavailable("dovecot is not installed (apt-get install -y dovecot-imapd; `make test` installs it)")
    if os.geteuid() != 0:
        unavailable("dovecot runs as root in the tests (its login processes change user)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "state").mkdir(exist_ok=True)
    # its sockets' folder is short, in /tmp: a Unix socket's path holds at most 107 bytes, and
    # pytest-xdist's tmp_path (.../pytest-19/popen-gw2/test_a_whole_dialog_by_email_i0/) with
    # dovecot's run/token-login/imap-urlauth came to 108
    run = Path(tempfile.mkdtemp(prefix="gb-dv-"))
    # the mail processes run as the dovecot user (Dovecot refuses uid 0 for mail), and pytest's
    # tmp_path sits in a folder only root may enter: the maildir is a folder of its own in /tmp
    maildir = Path(tempfile.mkdtemp(prefix="gb-maildir-"))
    owner = pwd.getpwnam("dovecot")
    os.chown(maildir, owner.pw_uid, owner.pw_gid)
    user = f"bot-{uuid.uuid4().hex[:8]}@example.test"  # its own mailbox cursor in the shared test database
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(CONF.format(root=root, run=run, maildir=maildir, port=port, uid=owner.pw_uid, gid=owner.pw_gid,
                                user="dovecot", group="dovecot"))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        await _wait_listening(port, process, root)
        yield Imap("127.0.0.1", port, conf, user)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(maildir, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)


async def _wait_listening(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise AssertionError(f"dovecot exited ({process.returncode}): {out} {log}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("dovecot did not listen within 10 s")


# --- SMTP ----------------------------------------------------------------------------------------------
@dataclass
class Received:
    """One mail the SMTP server took: its envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class Smtp:
    """A running aiosmtpd: `url` for config.csv, what it `received`, `down` to refuse mail."""

    port: int
    user: str = "submitter"
    password: str = "smtp-secret"
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    down: bool = False

    @property
    def url(self) -> str:
        return f"smtp://{self.user}:{self.password}@127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]

    async def wait_for(self, address: str, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The first `count` mails to `address`, once there are that many."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            got = self.to(address)
            if len(got) >= count:
                return got[:count]
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} mails to {address}, got {[m['Subject'] for m in self.to(address)]}")


class _Handler:
    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp

    async def handle_MAIL(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if self.smtp.down:
            self.smtp.refused += 1
            return "421 4.3.2 service not available, try later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(),
                                           policy=email.policy.default)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.smtp.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                           message, login))  # type: ignore[arg-type]
        return "250 OK queued"


@contextmanager
def smtp_server() -> Iterator[Smtp]:
    """aiosmtpd on a free port (AUTH PLAIN/LOGIN without TLS: a test's loopback), until the block ends."""
    smtp = Smtp(free_port())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == smtp.user \
            and auth_data.password.decode() == smtp.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    controller = Controller(_Handler(smtp), hostname="127.0.0.1", port=smtp.port, authenticator=authenticate,
                            auth_require_tls=False, auth_required=False)
    controller.start()
    try:
        yield smtp
    finally:
        controller.stop()


def mail(sender: str, subject: str, body: str, *, to: str = "bot@example.test", message_id: str | None = None,
         in_reply_to: str | None = None, references: str | None = None,
         headers: dict[str, str] | None = None, attachment: tuple[str, str, bytes] | None = None) -> EmailMessage:
    """A user's mail (its Message-ID unique unless given): text, threading headers, one attachment
    (name, type, bytes)."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.example>"
    m["Date"] = email.utils.formatdate()
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    if references:
        m["References"] = references
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    if attachment is not None:
        name, mime, data = attachment
        maintype, subtype = mime.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m
