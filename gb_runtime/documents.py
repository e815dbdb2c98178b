"""A knowledge base's documents as passages: markdown, text, HTML, PDF (pypdf) and DOCX (python-docx).

A passage is a paragraph (or a list, a table row block, a PDF page's paragraph) with the heading
above it. A paragraph's hard line breaks are reflowed into spaces, except those that start a
list item or a table row: "...email and voice⏎assistants." reads "...email and voice assistants.".
The knowledge index (knowledge.py) stores them; this module only reads files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["DOCUMENT_SUFFIXES", "DocumentError", "Passage", "read_passages", "text_passages"]

# what a KB folder's files may be; other files are not read
DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


class DocumentError(Exception):
    """A KB file could not be read (a broken PDF or DOCX); the message names the file."""


@dataclass(frozen=True)
class Passage:
    """A paragraph of a document and the heading above it ("" when none)."""

    heading: str
    text: str


# a line that starts a list item or a table row keeps its line break when a paragraph is reflowed
_KEEPS_BREAK = re.compile(r"\s*(?:[-*+]\s|\d+[.)]\s|\|)")


def reflow(lines: list[str]) -> str:
    """The lines of a paragraph as one text: joined with spaces, but a list item or a table row
    starts a line of its own."""
    out = ""
    for line in lines:
        if not out:
            out = line.strip()
        elif _KEEPS_BREAK.match(line):
            out += "\n" + line.strip()
        else:
            out += " " + line.strip()
    return out


def text_passages(text: str, heading: str = "") -> list[Passage]:
    """Split markdown or plain text into paragraphs (blank lines between them), each with the
    markdown heading (``#`` lines) above it; `heading` is the one before the first."""
    out: list[Passage] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        titles = [ln.strip().lstrip("#").strip() for ln in lines if ln.lstrip().startswith("#")]
        if titles:
            heading = " ".join(titles)
        body = reflow([ln for ln in lines if not ln.lstrip().startswith("#")])
        if body:
            out.append(Passage(heading, body))
    return out


class _HtmlText(HTMLParser):
    """HTML as markdown-like text: headings as ``#`` lines, blocks apart, list items as ``-``;
    scripts, styles and the head are dropped."""

    _BLOCKS = frozenset("p div section article main header footer aside blockquote pre table tr ul ol dl "
                        "br hr li dt dd figure figcaption nav".split())
    _HIDDEN = frozenset(("script", "style", "head", "template", "noscript"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n" if tag not in ("br", "tr") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in ("p", "ul", "ol", "table", "div", "section", "pre"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html(data: bytes) -> list[Passage]:
    parser = _HtmlText()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    text = "".join(parser.parts)
    return text_passages("\n".join(ln.strip() for ln in text.splitlines()))


def _pdf(data: bytes) -> list[Passage]:
    from pypdf import PdfReader  # imported on use: a bot without PDFs never pays for it

    out: list[Passage] = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages, 1):
        out += text_passages(page.extract_text() or "", f"Page {number}")
    return out


def _docx(data: bytes) -> list[Passage]:
    import docx  # python-docx, imported on use

    out: list[Passage] = []
    heading, lines = "", list[str]()
    for paragraph in docx.Document(io.BytesIO(data)).paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = paragraph.text.strip()
        if style.startswith(("Heading", "Title")):
            if lines:
                out += text_passages("\n\n".join(lines), heading)
                lines = []
            heading = text or heading
        elif text:
            lines.append(("- " if style.startswith("List") else "") + text)
    if lines:
        out += text_passages("\n\n".join(lines), heading)
    return out


def read_passages(name: str, data: bytes) -> list[Passage]:
    """The passages of a KB file, read by its suffix (`name`) from its bytes `data`.

    Raises:
        DocumentError: a PDF or DOCX that cannot be read.
    """
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            return _html(data)
        if suffix == ".pdf":
            return _pdf(data)
        if suffix == ".docx":
            return _docx(data)
    except Exception as exc:  # the readers raise their own errors (PdfReadError, BadZipFile, KeyError ...)
        raise DocumentError(f"{name}: cannot read this {suffix[1:].upper()} file: {exc}") from exc
    return text_passages(data.decode("utf-8", errors="replace"))
