"""Corpus-style dialogs end to end: bots written the way General Bots' templates are (a tables.bas of
TABLE blocks, PARAM/DESCRIPTION headers, typed HEARs, SAVE/FIND/UPDATE/DELETE, POST to an API, SET BOT
MEMORY, suggestions) run as transcripts through DialogRuntime.handle, on SQLite and on PostgreSQL with
Valkey, against a real local HTTP server (Tornado on 127.0.0.1) that checks what it receives. After
each transcript the bot's own table rows are read back through the runtime's TableStore.

The bots live in tests/runtime/corpus_style/<bot>.gbai; each test deploys a copy under a name of its
own (the PostgreSQL database is shared by the run), whose admin dialog ``setup.bas`` stores the local
API's address in the bot memory, as a real bot's owner would. Every dialog passes ``gb check`` with
no warning. Transcripts are the ``%%transcript`` cells' format (gb_kernel.transcript).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.web

from gb_basic.filters import parse_filter
from gb_kernel.transcript import bot_lines, diff, parse_transcript
from gb_runtime import BotRegistry, DialogRuntime, Inbound
from gb_runtime.http_keywords import new_http_client
from gb_runtime.tables import sync_bot_tables
from gb_sessions.config import Stores
from gb_sessions.tables import TableStore
from tests.backends import open_backend
from tests.helpers.bots import TEST_CREATE_RATE, write
from tests.helpers.servers import local_app
from tests.helpers.tables import unique_bot

BOTS = Path(__file__).parent / "corpus_style"


# --- the local APIs the bots call ------------------------------------------------------------------------

API_KEY = "key-42"  # what each bot's setup.bas stores as its api_key


@dataclass
class Seen:
    """One request the API received: its method, path, headers (lower-case names) and JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class Api:
    """The catalog, payments, carrier, alert, classifier, LMS, scoring, mailing, reminder and approval APIs."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    catalog: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "A100": {"name": "Coffee beans", "price": 12.5}, "B200": {"name": "Mug", "price": 7.25}})
    shipments: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "TRK1": {"status": "in transit", "location": "Porto", "eta": "2030-03-06"},
        "TRK2": {"status": "delivered", "delivered_on": "2030-03-01"}})
    counter: int = 1000

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self, path_prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(path_prefix)]

    def next_number(self) -> int:
        self.counter += 1
        return self.counter


class ApiHandler(tornado.web.RequestHandler):
    """Routes ``/<service>/<rest>`` to ``do_<service>``, after recording the request. A request
    without what the API needs (JSON, the key) is refused as a real API would (415, 401, 422)."""

    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def initialize(self, api: Api) -> None:
        self.api = api

    def prepare(self) -> None:
        r = self.request
        body = json.loads(r.body) if r.body else None
        self.api.seen.append(Seen(r.method or "", r.path, {k.lower(): v for k, v in r.headers.get_all()}, body))

    async def get(self, service: str, rest: str) -> None:
        getattr(self, "do_" + service)(rest, self.api.seen[-1].json)

    post = put = patch = delete = get

    def need_json(self, body: Any, *fields: str) -> None:
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            raise tornado.web.HTTPError(415, "JSON expected")
        missing = [f for f in fields if f not in (body or {})]
        if missing:
            raise tornado.web.HTTPError(422, f"missing {missing}")

    def need_key(self, header: str, value: str) -> None:
        if self.request.headers.get(header) != value:
            raise tornado.web.HTTPError(401, f"{header} expected")

    def do_catalog(self, sku: str, _: Any) -> None:
        product = self.api.catalog.get(sku)
        self.write({"found": False} if product is None else {"found": True, "sku": sku, **product})

    def do_payments(self, _: str, body: Any) -> None:
        self.need_json(body, "cart", "amount", "customer")
        if not isinstance(body["amount"], (int, float)) or body["amount"] <= 0:
            raise tornado.web.HTTPError(422, "amount must be a positive number")
        self.write({"order_number": f"ORD-{self.api.next_number()}", "status": "authorized"})

    def do_carrier(self, rest: str, _: Any) -> None:
        self.need_key("Authorization", f"Bearer {API_KEY}")
        carrier, _sep, code = rest.partition("/")
        if carrier != "FastShip" or code not in self.api.shipments:
            raise tornado.web.HTTPError(404)
        self.write({"code": code, **self.api.shipments[code]})

    def do_alerts(self, _: str, body: Any) -> None:
        self.need_json(body, "sku", "name", "quantity", "minimum")
        self.write({"alert": self.api.next_number()})

    def do_classify(self, _: str, body: Any) -> None:
        self.need_json(body, "text", "language")
        text = body["text"].lower()
        if "log in" in text or "password" in text:
            self.write({"category": "access", "priority": "high"})
        elif "invoice" in text:
            self.write({"category": "billing", "priority": "normal"})
        else:
            self.write({"category": "general", "priority": "normal"})

    def do_lms(self, rest: str, body: Any) -> None:
        assert rest == "accounts"
        self.need_json(body, "name", "email", "course")
        self.write({"login": body["name"].lower().replace(" ", ".")})

    def do_score(self, _: str, body: Any) -> None:
        self.need_key("X-Api-Key", API_KEY)
        self.need_json(body, "email", "company", "employees")
        n = body["employees"]
        self.write({"score": 85 if n >= 200 else 45 if n >= 20 else 15})

    def do_mailing(self, rest: str, body: Any) -> None:
        if self.request.method == "DELETE":
            self.set_status(204)
            return
        self.need_json(body, "email", "topics")
        self.write({"member": body["email"]})

    def do_reminders(self, _: str, body: Any) -> None:
        self.need_json(body, "customer", "service", "day", "hour")
        self.write({"send_at": f"{body['day'][:10]} 08:00"})

    def do_approvals(self, _: str, body: Any) -> None:
        self.need_json(body, "employee", "category", "amount", "approver")
        self.write({"ticket": f"APR-{self.api.next_number()}"})


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    found = Api()
    async with local_app(tornado.web.Application([(r"/(\w+)/?(.*)", ApiHandler, {"api": found})])) as found.port:
        yield found


# --- the runtime over a real store, and the bots deployed under a name of their own ----------------------

@pytest.fixture(params=["sqlite", "postgres+valkey"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_backend(request.param, request, tmp_path) as s:
        yield s


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client() as c:
        yield c


@dataclass
class Deployed:
    """A bot of tests/runtime/corpus_style, copied under `name`, and the runtime that serves it."""

    name: str
    runtime: DialogRuntime
    tables: TableStore

    async def transcript(self, dialog: str, text: str) -> uuid.UUID:
        """Run `dialog` in a new session, whose id comes back; the conversation must be `text`
        (``bot:``/``user:`` lines)."""
        expected = parse_transcript(text)
        rt = self.runtime
        started = await rt.start(self.name, run_start=False)
        result = await rt.start_dialog(started.session_id, dialog)
        actual = bot_lines(result)
        for line in expected.user_lines:
            if result.error is not None:
                break
            actual.append(("user", line))
            result = await rt.handle(Inbound(self.name, line, token=started.token))
            actual += bot_lines(result)
        assert result.error is None, f"{dialog}.bas failed: {result.error}"
        delta = diff(expected.lines, actual)
        assert not delta, f"{dialog}.bas: the bot's replies differ from the transcript:\n{delta}"
        return started.session_id

    async def seed(self, table: str, *rows: dict[str, Any]) -> None:
        """Create the bot's tables from its TABLE blocks (as its first table keyword would) and insert `rows`."""
        await sync_bot_tables(self.runtime.bots.get(self.name), self.tables)
        await self.tables.bot(self.name).insert(table, rows)

    async def rows(self, table: str, where: str = "") -> list[dict[str, Any]]:
        """The rows of one of the bot's tables (`where`: a FIND filter)."""
        return await self.tables.bot(self.name).find(table, parse_filter(where))


def deploy(template: str, tmp_path: Path, stores: Stores, tables: TableStore, client: httpx.AsyncClient) -> Deployed:
    """Copy ``corpus_style/<template>.gbai`` to ``tmp_path/bots/<unique>.gbai`` (its folders renamed)."""
    name = unique_bot(template)
    dst = tmp_path / "bots" / f"{name}.gbai"
    shutil.copytree(BOTS / f"{template}.gbai", dst)
    for part in dst.iterdir():
        part.rename(dst / part.name.replace(template, name, 1))
    config = dst / f"{name}.gbot" / "config.csv"
    write(config, config.read_text(encoding="utf-8") + f"session-create-rate,{TEST_CREATE_RATE}\n")
    rt = DialogRuntime(stores.store, BotRegistry(tmp_path / "bots", tmp_path / "data"), users=stores.users,
                       tables=tables, http=client)
    return Deployed(name, rt, tables)


async def configured(template: str, title: str, api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                     client: httpx.AsyncClient) -> Deployed:
    """A deployed bot whose setup.bas has stored the local API's address and key in the bot memory."""
    bot = deploy(template, tmp_path, stores, tables, client)
    await bot.transcript("setup", f"""
        bot: Address of the {title} API?
        user: {api.host}
        bot: API key?
        user: {API_KEY}
        bot: The {title} is configured.
    """)
    return bot


# --- the dialogs --------------------------------------------------------------------------------------------

async def test_store_checkout(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                              client: httpx.AsyncClient) -> None:
    bot = await configured("store", "store", api, tmp_path, stores, tables, client)
    await bot.transcript("checkout", """
        bot: Welcome to the store! Type a product code to add it to your cart, or DONE to check out.
        user: a100
        bot: How many Coffee beans (12.50 each)?
        user: two
        bot: Please enter a whole number, like 42.
        user: 2
        bot: Added 2 x Coffee beans. Next code, or DONE.
        user: Z999
        bot: There is no product Z999. Try another code.
        user: B200
        bot: How many Mug (7.25 each)?
        user: 3
        bot: Added 3 x Mug. Next code, or DONE.
        user: done
        bot: Your cart: 2 product(s), total 46.75.
        bot: Your e-mail for the receipt?
        user: Ann@Example.com
        bot: Order ORD-1001 placed. A receipt goes to ann@example.com.
    """)
    assert [(s.method, s.path) for s in api.calls("/catalog")] == \
        [("GET", "/catalog/A100"), ("GET", "/catalog/Z999"), ("GET", "/catalog/B200")]
    (payment,) = api.calls("/payments")
    assert payment.method == "POST" and payment.headers["content-type"] == "application/json"
    cart = payment.json["cart"]
    assert payment.json == {"cart": cart, "amount": 46.75, "customer": "ann@example.com"}
    items = await bot.rows("cart_items", "cart_id = '" + cart + "' ORDER BY sku")
    assert [(i["sku"], i["name"], i["quantity"], i["unit_price"]) for i in items] == \
        [("A100", "Coffee beans", 2, 12.5), ("B200", "Mug", 3, 7.25)]
    (order,) = await bot.rows("orders")
    assert (order["order_number"], order["cart_id"], order["customer_email"], order["total"], order["status"]) == \
        ("ORD-1001", cart, "ann@example.com", 46.75, "placed")


async def test_order_tracking(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                              client: httpx.AsyncClient) -> None:
    bot = await configured("store", "store", api, tmp_path, stores, tables, client)
    await bot.seed("orders",
                   {"order_number": "ORD-7", "total": 20, "status": "shipped", "carrier": "FastShip",
                    "tracking_code": "TRK1"},
                   {"order_number": "ORD-8", "total": 35.5, "status": "shipped", "carrier": "FastShip",
                    "tracking_code": "TRK2"},
                   {"order_number": "ORD-9", "total": 9.9})
    await bot.transcript("tracking", """
        bot: What is your order number?
        user: ord-7
        bot: Order ORD-7 is in transit with FastShip.
        bot: Last seen in Porto, expected on 2030-03-06.
    """)
    await bot.transcript("tracking", """
        bot: What is your order number?
        user: ORD-8
        bot: Order ORD-8 is delivered with FastShip.
        bot: It was delivered on 2030-03-01.
    """)
    await bot.transcript("tracking", """
        bot: What is your order number?
        user: ORD-9
        bot: Order ORD-9 is placed and has not been shipped yet.
    """)
    await bot.transcript("tracking", """
        bot: What is your order number?
        user: ORD-404
        bot: I could not find the order ORD-404. Please check the number on your receipt.
    """)
    calls = api.calls("/carrier")
    assert [(c.method, c.path) for c in calls] == [("GET", "/carrier/FastShip/TRK1"), ("GET", "/carrier/FastShip/TRK2")]
    assert all(c.headers["authorization"] == f"Bearer {API_KEY}" and c.headers["accept"] == "application/json"
               for c in calls)
    status = {r["order_number"]: r["status"] for r in await bot.rows("orders")}
    assert status == {"ORD-7": "shipped", "ORD-8": "delivered", "ORD-9": "placed"}


async def test_inventory_update_alerts_on_low_stock(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                                    client: httpx.AsyncClient) -> None:
    bot = await configured("store", "store", api, tmp_path, stores, tables, client)
    await bot.seed("stock", {"sku": "A100", "name": "Coffee beans", "quantity": 12, "minimum": 10},
                   {"sku": "B200", "name": "Mug", "quantity": 4, "minimum": 2})
    await bot.transcript("inventory", """
        bot: Which product code?
        user: b200
        bot: Mug: 4 in stock. Sold or received?
        user: Received
        bot: How many units?
        user: 20
        bot: Mug: 24 in stock (1 product updated).
    """)
    await bot.transcript("inventory", """
        bot: Which product code?
        user: A100
        bot: Coffee beans: 12 in stock. Sold or received?
        user: sold
        bot: How many units?
        user: 30
        bot: Only 12 units of Coffee beans are in stock; nothing was changed.
    """)
    assert api.calls("/alerts") == []
    await bot.transcript("inventory", """
        bot: Which product code?
        user: A100
        bot: Coffee beans: 12 in stock. Sold or received?
        user: 1
        bot: How many units?
        user: 5
        bot: Coffee beans: 7 in stock (1 product updated).
        bot: That is below the minimum of 10: purchasing has been alerted.
    """)
    (alert,) = api.calls("/alerts")
    assert (alert.method, alert.json) == ("POST", {"sku": "A100", "name": "Coffee beans", "quantity": 7, "minimum": 10})
    stock = {r["sku"]: (r["quantity"], r["updated_at"] is not None) for r in await bot.rows("stock")}
    assert stock == {"A100": (7, True), "B200": (24, True)}


async def test_helpdesk_ticket_and_status(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                          client: httpx.AsyncClient) -> None:
    bot = await configured("helpdesk", "helpdesk", api, tmp_path, stores, tables, client)
    await bot.transcript("ticket", """
        bot: Hello! I will open a support ticket for you.
        bot: What is your e-mail address?
        user: not an address
        bot: Please enter a valid email address.
        user: Ann@Example.com
        bot: Please describe the problem in one sentence.
        user: I cannot log in since this morning
        bot: Ticket #1 is open: access, high priority.
        bot: An agent will call you within the hour.
    """)
    sid = await bot.transcript("ticket", """
        bot: Hello! I will open a support ticket for you.
        bot: What is your e-mail address?
        user: bob@example.com
        bot: Please describe the problem in one sentence.
        user: My invoice shows the wrong amount
        bot: Ticket #2 is open: billing, normal priority.
        bot: We will answer by e-mail within one working day.
    """)
    assert [c.json for c in api.calls("/classify")] == [
        {"text": "I cannot log in since this morning", "language": "en"},
        {"text": "My invoice shows the wrong amount", "language": "en"}]
    await bot.transcript("status", """
        bot: What is the ticket number?
        user: 7
        bot: There is no ticket #7.
        bot: What is the ticket number?
        user: 2
        bot: Ticket #2: My invoice shows the wrong amount
        bot: Status: open (billing, normal priority).
    """)
    rows = await bot.rows("tickets", "ORDER BY id")
    assert [(r["id"], r["email"], r["category"], r["priority"], r["status"]) for r in rows] == \
        [(1, "ann@example.com", "access", "high", "open"), (2, "bob@example.com", "billing", "normal", "open")]
    session = await stores.store.load(sid)
    assert session is not None
    assert [s["text"] for s in session.context["suggestions"]] == ["Check a ticket", "Rate our service"]


async def test_customer_feedback_nps(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                     client: httpx.AsyncClient) -> None:
    bot = deploy("helpdesk", tmp_path, stores, tables, client)
    await bot.transcript("feedback", """
        bot: From 0 to 10, how likely are you to recommend us to a friend?
        user: 10
        bot: Thank you! What is the main reason for your score?
        user: Fast answers
        bot: Thanks for your feedback! Average 10.0 from 1 answers, NPS 100.
    """)
    await bot.transcript("feedback", """
        bot: From 0 to 10, how likely are you to recommend us to a friend?
        user: 11
        bot: Please answer with a number from 0 to 10.
        user: 3
        bot: Thank you! What is the main reason for your score?
        user: Slow delivery
        bot: Thanks for your feedback! Average 6.5 from 2 answers, NPS 0.
    """)
    await bot.transcript("feedback", """
        bot: From 0 to 10, how likely are you to recommend us to a friend?
        user: eight
        bot: Please enter a whole number, like 42.
        user: 8
        bot: Thank you! What is the main reason for your score?
        user: OK
        bot: Thanks for your feedback! Average 7.0 from 3 answers, NPS 0.
    """)
    rows = await bot.rows("feedback", "ORDER BY id")
    assert [(r["score"], r["grade"], r["comment"]) for r in rows] == \
        [(10, "promoter", "Fast answers"), (3, "detractor", "Slow delivery"), (8, "passive", "OK")]
    assert api.seen == []  # the feedback dialog calls no API


async def test_course_enrollment_with_capacity(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                               client: httpx.AsyncClient) -> None:
    bot = await configured("school", "school", api, tmp_path, stores, tables, client)
    await bot.seed("courses",
                   {"code": "DS200", "title": "Data Science", "capacity": 1, "starts_on": dt.date(2030, 4, 1)},
                   {"code": "PY101", "title": "Python Basics", "capacity": 20, "starts_on": dt.date(2030, 3, 4)},
                   {"code": "OLD1", "title": "Closed course", "capacity": 0})
    courses = """
        bot: We have 2 courses open:
        bot: DS200 - Data Science (starts 01/04/2030)
        bot: PY101 - Python Basics (starts 04/03/2030)
        bot: Which course code?
    """
    await bot.transcript("enroll", courses + """
        user: ds200
        bot: Your e-mail address?
        user: ann@example.com
        bot: Your full name?
        user: Ann Lee
        bot: Your date of birth?
        user: 2001-09-23
        bot: Done, Ann Lee: you are enrolled in Data Science. Your LMS login is ann.lee.
        bot: 0 seat(s) left.
    """)
    await bot.transcript("enroll", courses + """
        user: DS200
        bot: Sorry, Data Science is full (1 seats).
    """)
    await bot.transcript("enroll", courses + """
        user: PY101
        bot: Your e-mail address?
        user: ANN@example.com
        bot: Welcome back, Ann Lee!
        bot: Done, Ann Lee: you are enrolled in Python Basics. Your LMS login is ann.lee.
        bot: 19 seat(s) left.
    """)
    await bot.transcript("enroll", courses + """
        user: PY101
        bot: Your e-mail address?
        user: ann@example.com
        bot: Welcome back, Ann Lee!
        bot: You are already enrolled in Python Basics.
    """)
    (student,) = await bot.rows("students")
    assert (student["name"], student["email"], student["birth_date"]) == ("Ann Lee", "ann@example.com",
                                                                          dt.date(2001, 9, 23))
    enrolled = await bot.rows("enrollments", "ORDER BY course_code")
    assert [(e["course_code"], e["student_id"], e["lms_login"]) for e in enrolled] == \
        [("DS200", student["id"], "ann.lee"), ("PY101", student["id"], "ann.lee")]
    assert [c.json for c in api.calls("/lms")] == [
        {"name": "Ann Lee", "email": "ann@example.com", "course": "DS200"},
        {"name": "Ann Lee", "email": "ann@example.com", "course": "PY101"}]


async def test_crm_lead_capture_dedupes_and_scores(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                                   client: httpx.AsyncClient) -> None:
    bot = await configured("crm", "CRM", api, tmp_path, stores, tables, client)
    intro = """
        bot: Great that you are interested! A few questions and a specialist will contact you.
        bot: What is your name?
    """
    await bot.transcript("lead", intro + """
        user: Ann Lee
        bot: Your work e-mail?
        user: ann@acme
        bot: Please enter a valid email address.
        user: Ann@Acme.com
        bot: Which company do you work for?
        user: Acme
        bot: How many employees does Acme have?
        user: 350
        bot: Thank you, Ann Lee! Your lead scored 85 (hot).
        bot: A specialist will call you today.
    """)
    await bot.transcript("lead", intro + """
        user: Bob Stone
        bot: Your work e-mail?
        user: bob@tiny.io
        bot: Which company do you work for?
        user: Tiny
        bot: How many employees does Tiny have?
        user: 25
        bot: Thank you, Bob Stone! Your lead scored 45 (warm).
        bot: We will send you material about our plans.
    """)
    await bot.transcript("lead", intro + """
        user: Ann
        bot: Your work e-mail?
        user: ann@acme.com
        bot: We already have your details, Ann Lee: your lead is hot. A specialist will be in touch.
    """)
    scored = api.calls("/score")
    assert [s.json for s in scored] == [{"email": "ann@acme.com", "company": "Acme", "employees": 350},
                                        {"email": "bob@tiny.io", "company": "Tiny", "employees": 25}]
    assert all(s.headers["x-api-key"] == API_KEY for s in scored)
    leads = await bot.rows("leads", "ORDER BY email")
    assert [(r["name"], r["email"], r["company"], r["employees"], r["score"], r["stage"]) for r in leads] == \
        [("Ann Lee", "ann@acme.com", "Acme", 350, 85, "hot"), ("Bob Stone", "bob@tiny.io", "Tiny", 25, 45, "warm")]


async def test_newsletter_subscribe_and_unsubscribe(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                                    client: httpx.AsyncClient) -> None:
    bot = await configured("crm", "CRM", api, tmp_path, stores, tables, client)
    ask = "bot: Do you want to subscribe to our newsletter or unsubscribe?\n"
    await bot.transcript("newsletter", ask + """
        user: subscribe
        bot: Your e-mail address?
        user: ann@acme.com
        bot: What would you like to receive?
        user: Offers
        bot: Subscribed! You will receive offers at ann@acme.com.
    """)
    await bot.transcript("newsletter", ask + """
        user: Subscribe
        bot: Your e-mail address?
        user: bob@tiny.io
        bot: What would you like to receive?
        user: 3
        bot: Subscribed! You will receive both at bob@tiny.io.
    """)
    await bot.transcript("newsletter", ask + """
        user: Subscribe
        bot: Your e-mail address?
        user: ann@acme.com
        bot: ann@acme.com is already subscribed.
    """)
    await bot.transcript("newsletter", ask + """
        user: Unsubscribe
        bot: Your e-mail address?
        user: ann@acme.com
        bot: Done: ann@acme.com will receive no more e-mails from us.
    """)
    await bot.transcript("newsletter", ask + """
        user: 2
        bot: Your e-mail address?
        user: carl@x.org
        bot: carl@x.org was not subscribed.
    """)
    assert [(c.method, c.path, c.json) for c in api.calls("/mailing")] == [
        ("POST", "/mailing/members", {"email": "ann@acme.com", "topics": "offers"}),
        ("POST", "/mailing/members", {"email": "bob@tiny.io", "topics": "both"}),
        ("DELETE", "/mailing/members/ann@acme.com", None)]
    assert [(r["email"], r["topics"]) for r in await bot.rows("subscribers")] == [("bob@tiny.io", "both")]


async def test_appointment_booking_checks_conflicts(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                                    client: httpx.AsyncClient) -> None:
    bot = await configured("office", "office", api, tmp_path, stores, tables, client)
    await bot.transcript("booking", """
        bot: Which service would you like to book?
        user: Haircut
        bot: Which day?
        user: 2030-03-04
        bot: At what time? We are open from 09:00 to 18:00.
        user: 10am
        bot: Your name, please?
        user: Ann Lee
        bot: Booked: Haircut for Ann Lee on 04/03/2030 at 10:00.
        bot: A reminder is scheduled for 2030-03-04 08:00.
    """)
    await bot.transcript("booking", """
        bot: Which service would you like to book?
        user: 2
        bot: Which day?
        user: 2030-03-03
        bot: We are closed on Sundays. Another day?
        user: 2030-03-04
        bot: At what time? We are open from 09:00 to 18:00.
        user: 10:00
        bot: 10:00 on 04/03/2030 is taken.
        bot: At what time? We are open from 09:00 to 18:00.
        user: 19:30
        bot: 19:30 is outside our opening hours.
        bot: At what time? We are open from 09:00 to 18:00.
        user: 14h30
        bot: Your name, please?
        user: Bob Stone
        bot: Booked: Beard for Bob Stone on 04/03/2030 at 14:30.
        bot: A reminder is scheduled for 2030-03-04 08:00.
    """)
    rows = await bot.rows("appointments", "ORDER BY hour")
    assert [(r["customer"], r["service"], r["day"], r["hour"]) for r in rows] == \
        [("Ann Lee", "Haircut", dt.date(2030, 3, 4), "10:00"), ("Bob Stone", "Beard", dt.date(2030, 3, 4), "14:30")]
    assert [c.json["hour"] for c in api.calls("/reminders")] == ["10:00", "14:30"]


async def test_expense_approval_thresholds(api: Api, tmp_path: Path, stores: Stores, tables: TableStore,
                                          client: httpx.AsyncClient) -> None:
    bot = await configured("office", "office", api, tmp_path, stores, tables, client)
    claims = [("Meals", "45.90", "Claim 1 for 45.90 is approved. It will be paid with your salary."),
              ("Meals", "180", "Claim 2 is over the Meals limit of 150.00 and was rejected."),
              ("Travel", "640.00", "Claim 3 for 640.00 waits for your manager (ticket APR-1001)."),
              ("Equipment", "1,299.99", "Claim 4 for 1299.99 waits for your director (ticket APR-1002).")]
    for category, amount, answer in claims:
        await bot.transcript("expense", f"""
            bot: Your name?
            user: Ann Lee
            bot: What kind of expense?
            user: {category}
            bot: How much did you spend?
            user: {amount}
            bot: {answer}
        """)
    rows = await bot.rows("expenses", "ORDER BY id")
    assert [(r["id"], r["category"], r["amount"], r["status"], r["approval_ticket"]) for r in rows] == [
        (1, "Meals", 45.9, "approved", ""), (2, "Meals", 180, "rejected", ""),
        (3, "Travel", 640, "pending manager", "APR-1001"), (4, "Equipment", 1299.99, "pending director", "APR-1002")]
    assert [c.json for c in api.calls("/approvals")] == [
        {"employee": "Ann Lee", "category": "Travel", "amount": 640, "approver": "manager"},
        {"employee": "Ann Lee", "category": "Equipment", "amount": 1299.99, "approver": "director"}]


def test_every_corpus_style_dialog_passes_gb_check_without_warnings() -> None:
    r = subprocess.run([sys.executable, "-m", "gb_basic.cli", "check", str(BOTS)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    checked = sorted(Path(line.split(": ok")[0]).relative_to(BOTS).as_posix() for line in r.stdout.splitlines())
    assert len(checked) == 21 and all(line.endswith(": ok") for line in r.stdout.splitlines()), r.stdout
