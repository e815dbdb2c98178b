"""The knowledge bases: documents into passages, the index in the session database (SQLite FTS5,
PostgreSQL full text, the in-memory SQLite of the memory store), kept in step with the files."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gb_runtime.bots import BotPackage
from gb_runtime.documents import DocumentError, read_passages
from gb_runtime.knowledge import KnowledgeBase
from gb_sessions.knowledge import KnowledgeIndex
from tests.backends import open_backend
from tests.helpers.bots import EXAMPLE_BOTS, make_bot, write


@pytest.fixture(params=["sqlite", "postgres", "memory"])
async def knowledge(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KnowledgeBase]:
    if request.param == "memory":
        index = KnowledgeIndex(None)
        yield KnowledgeBase(index)
        await index.close()
        return
    async with open_backend(request.param, request, tmp_path) as stores:
        yield KnowledgeBase(KnowledgeIndex(stores.engine))


@pytest.fixture
def kb_bot(tmp_path: Path) -> BotPackage:
    name = f"kb{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is shared: a bot of its own
    pkg = make_bot(tmp_path, name, kb={
        "policies/returns.md": "# Returns\n\nYou may return an item within 30 days of delivery.\n\n"
                               "Refunds are paid to the original card within 5 business days.\n",
        "policies/shipping.txt": "Orders ship within two days.\nExpress delivery costs extra.\n",
        "products/sub/plans.md": "O plano Pró custa 25 reais por mês.\n\nA política de devolução é simples.\n"})
    (pkg / f"{name}.gbkb" / "policies" / "image.png").write_bytes(b"\x89PNG shipping returns refunds")
    return BotPackage(pkg, tmp_path / "data")


async def best(knowledge: KnowledgeBase, bot: BotPackage, kbs: list[str], question: str) -> str | None:
    found = await knowledge.search(bot, kbs, question, 1)
    return found[0].text if found else None


@pytest.mark.parametrize("question,expected", [
    ("How do I return something I bought?", "You may return an item within 30 days of delivery."),
    ("When will my refund be paid?", "Refunds are paid to the original card within 5 business days."),
    ("How fast do you ship orders?", "Orders ship within two days. Express delivery costs extra."),
    ("Is shipping expensive?", "Orders ship within two days. Express delivery costs extra."),
    ("returns?", "You may return an item within 30 days of delivery."),  # the heading counts
])
async def test_the_index_finds_the_right_paragraph(knowledge: KnowledgeBase, kb_bot: BotPackage, question: str,
                                                   expected: str) -> None:
    assert await best(knowledge, kb_bot, ["policies"], question) == expected


async def test_accents_case_and_sub_folders(knowledge: KnowledgeBase, kb_bot: BotPackage) -> None:
    assert await best(knowledge, kb_bot, ["Products"], "politica de devolucao") == "A política de devolução é simples."
    assert await best(knowledge, kb_bot, ["products"], "Quanto CUSTA o plano PRO?") == \
        "O plano Pró custa 25 reais por mês."


async def test_unrelated_empty_unknown_or_other_kbs_find_nothing(knowledge: KnowledgeBase, kb_bot: BotPackage) -> None:
    assert await best(knowledge, kb_bot, ["policies"], "What is the weather like on Mars?") is None
    assert await best(knowledge, kb_bot, ["policies"], "") is None
    assert await best(knowledge, kb_bot, ["policies"], "is it a an of to") is None
    assert await best(knowledge, kb_bot, [], "return an item") is None
    assert await best(knowledge, kb_bot, ["nope"], "return an item") is None
    assert await best(knowledge, kb_bot, ["products"], "return an item within 30 days") is None
    assert await best(knowledge, kb_bot, ["policies"], 'refund" OR "x* NEAR(') is not None  # FTS syntax is words


async def test_another_bots_kb_is_never_reached(knowledge: KnowledgeBase, kb_bot: BotPackage, tmp_path: Path) -> None:
    other = BotPackage(make_bot(tmp_path, f"other{uuid.uuid4().hex[:6]}", kb={
        "policies/a.md": "Refunds of the other bot take a year.\n"}), tmp_path / "data")
    await knowledge.sync(other)
    found = await knowledge.search(kb_bot, ["policies"], "refunds", 5)
    assert [p.text for p in found] == ["Refunds are paid to the original card within 5 business days."]
    found = await knowledge.search(other, ["policies"], "refunds", 5)
    assert found[0].text == "Refunds of the other bot take a year."


async def test_a_file_changed_added_or_removed_is_indexed_again(knowledge: KnowledgeBase, kb_bot: BotPackage) -> None:
    path = kb_bot.kb_dir / "policies" / "shipping.txt"
    assert await best(knowledge, kb_bot, ["policies"], "pickup points") is None
    write(path, "You can collect parcels at pickup points.\n")
    assert await best(knowledge, kb_bot, ["policies"], "pickup points") == "You can collect parcels at pickup points."
    added = kb_bot.kb_dir / "policies" / "gifts.md"
    write(added, "# Gifts\n\nGift wrapping is free in December.\n")
    assert await best(knowledge, kb_bot, ["policies"], "gift wrapping") == "Gift wrapping is free in December."
    added.unlink()
    assert await best(knowledge, kb_bot, ["policies"], "gift wrapping") is None


async def test_only_changed_content_is_read_into_passages_again(knowledge: KnowledgeBase, kb_bot: BotPackage) -> None:
    first = await knowledge.sync(kb_bot)
    assert (first.indexed, first.passages, first.errors) == (3, 5, {})
    assert (await knowledge.sync(kb_bot)).indexed == 0
    path = kb_bot.kb_dir / "policies" / "returns.md"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched, same content
    touched = await knowledge.sync(kb_bot)
    assert (touched.indexed, touched.unchanged) == (0, 3)
    write(path, "# Returns\n\nNo returns after 60 days.\n")
    changed = await knowledge.sync(kb_bot)
    assert (changed.indexed, changed.passages) == (1, 1)
    # a second process (a fresh KnowledgeBase over the same index) finds nothing to do
    again = await KnowledgeBase(knowledge.index).sync(kb_bot)
    assert (again.indexed, again.dropped) == (0, 0)


async def test_what_is_a_session_finds_the_sessions_passage_of_the_default_bot(knowledge: KnowledgeBase,
                                                                              tmp_path: Path) -> None:
    bot = BotPackage(EXAMPLE_BOTS / "default.gbai", tmp_path / "data")
    found = await knowledge.search(bot, bot.kb_names(), "What is a session?", 3)
    assert (found[0].kb, found[0].source, found[0].heading) == ("guide", "sessions.md", "Sessions")
    assert "Every conversation has memory. A session remembers who you are" in "".join(p.text for p in found)


async def test_the_example_bots_kbs_answer(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    support = BotPackage(EXAMPLE_BOTS / "support.gbai", tmp_path / "data")
    sales = BotPackage(EXAMPLE_BOTS / "sales.gbai", tmp_path / "data")
    assert "30 days" in (await best(knowledge, support, ["policies"], "Can I return an item I bought?") or "")
    assert "business days" in (await best(knowledge, support, ["policies"], "How long does shipping take?") or "")
    assert "25 dollars" in (await best(knowledge, sales, ["products"], "How much does the Pro plan cost?") or "")


async def test_a_broken_document_is_reported_and_the_rest_is_searchable(knowledge: KnowledgeBase,
                                                                       kb_bot: BotPackage) -> None:
    (kb_bot.kb_dir / "policies" / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a PDF")
    report = await knowledge.sync(kb_bot)
    assert list(report.errors) == ["policies/broken.pdf"]
    assert "broken.pdf: cannot read this PDF file" in report.errors["policies/broken.pdf"]
    assert await best(knowledge, kb_bot, ["policies"], "refund") is not None


# -- documents --------------------------------------------------------------------------------


def test_markdown_paragraphs_are_reflowed_but_not_lists() -> None:
    text = ("# Channels\n\nThe same bot answers on the web, email and voice\nassistants.\n\n"
            "It speaks:\n- WhatsApp\n- Teams\n")
    found = [(p.heading, p.text) for p in read_passages("a.md", text.encode())]
    assert found == [("Channels", "The same bot answers on the web, email and voice assistants."),
                     ("Channels", "It speaks:\n- WhatsApp\n- Teams")]


def test_html_headings_paragraphs_and_lists_without_scripts() -> None:
    html = ("<html><head><title>x</title><style>p{}</style></head><body><h1>Opening hours</h1>"
            "<p>We open at <b>nine</b>\n every day.</p><script>alert('no')</script>"
            "<ul><li>Monday</li><li>Tuesday</li></ul><h2>Holidays</h2><p>Closed on &amp; after Christmas.</p>"
            "</body></html>")
    found = [(p.heading, p.text) for p in read_passages("hours.html", html.encode())]
    assert found == [("Opening hours", "We open at nine every day."),
                     ("Opening hours", "- Monday\n- Tuesday"),
                     ("Holidays", "Closed on & after Christmas.")]


def test_docx_headings_and_paragraphs() -> None:
    import docx

    document = docx.Document()
    document.add_heading("Warranty", level=1)
    document.add_paragraph("Every device has a two year warranty.")
    document.add_paragraph("Batteries", style="List Bullet")
    document.add_heading("Repairs", level=2)
    document.add_paragraph("Repairs take a week.")
    buffer = io.BytesIO()
    document.save(buffer)
    found = [(p.heading, p.text) for p in read_passages("w.docx", buffer.getvalue())]
    assert found == [("Warranty", "Every device has a two year warranty."), ("Warranty", "- Batteries"),
                     ("Repairs", "Repairs take a week.")]


def test_pdf_pages_are_passages_under_their_page() -> None:
    found = [(p.heading, p.text) for p in read_passages("f.pdf", _pdf(["Opening hours are nine to five.",
                                                                      "Parking is free for customers."]))]
    assert found == [("Page 1", "Opening hours are nine to five."), ("Page 2", "Parking is free for customers.")]


def test_a_broken_docx_names_the_file() -> None:
    with pytest.raises(DocumentError, match=r"bad\.docx: cannot read this DOCX file"):
        read_passages("bad.docx", b"PK not a zip")


def _pdf(pages: list[str]) -> bytes:
    """A PDF with one line of text a page (Helvetica), written by hand: pypdf reads, not writes, text."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        content = len(objects) + 1
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
        kids.append(len(objects) + 1)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       f"/Resources << /Font << /F1 {{font}} 0 R >> >> >>")
    font = len(objects) + 1
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body.replace('{font}', str(font))}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
