"""SAVE and LOAD TEMPLATE against a hostile file system and hostile names: every refusal is a
BasicError at the statement's line that names the file as the dialog wrote it (never a path of
the server), the session goes on, and nothing is written outside the bot's storage."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gb_runtime import DialogRuntime, Inbound
from gb_sessions.config import Stores
from tests.helpers.bots import runtime_with_bot, texts

# the dialog SAVEs what it hears, names and contents alike, on line 3 (column 3): each message is one SAVE
SAVER = 'DO\n  name = HEAR\n  SAVE name, "content of " + name\n  TALK "saved " + name\nLOOP\n'
SORRY = "Sorry, something went wrong in this conversation."


async def saver(stores: Stores, tmp_path: Path) -> tuple[DialogRuntime, str]:
    rt = runtime_with_bot(stores, tmp_path, "files", {"start": SAVER})
    s = await rt.start("files")
    assert s.token is not None
    return rt, s.token


async def refused(rt: DialogRuntime, token: str, name: str, tmp_path: Path) -> str:
    """SAVE `name` fails at line 3 with a clear message (returned), no server path in it."""
    r = await rt.handle(Inbound("files", name, token=token))
    assert texts(r) == [SORRY], texts(r)
    assert r.error is not None and (r.error.line, r.error.column) == (3, 3), r.error
    message = r.error.headline
    assert str(tmp_path) not in message and "/bots/files/files" not in message, message
    return message


def storage(tmp_path: Path) -> Path:
    return tmp_path / "data/bots/files/files"


async def test_a_folder_where_a_file_is_meant_and_a_file_where_a_folder_is(stores: Stores, tmp_path: Path) -> None:
    rt, token = await saver(stores, tmp_path)
    assert texts(await rt.handle(Inbound("files", "d/x.txt", token=token))) == ["saved d/x.txt"]
    rt2, token2 = rt, (await rt.start("files")).token
    assert token2 is not None
    assert (await refused(rt2, token2, "d", tmp_path)).endswith(":3:3] Error: SAVE 'd': 'd' is a folder")
    token3 = (await rt.start("files")).token
    assert token3 is not None
    assert texts(await rt.handle(Inbound("files", "f", token=token3))) == ["saved f"]
    for name in ("f/x.txt", "f/g/x.txt"):  # FileExistsError, NotADirectoryError underneath
        token4 = (await rt.start("files")).token
        assert token4 is not None
        assert (await refused(rt, token4, name, tmp_path)).endswith(f"SAVE {name!r}: 'f' is a file, not a folder")
    assert (storage(tmp_path) / "d/x.txt").read_text() == "content of d/x.txt"
    assert (storage(tmp_path) / "f").read_text() == "content of f"


@pytest.mark.parametrize(("name", "says"), [
    ("../x.txt", "SAVE refused: bot files: '../x.txt' is outside the bot's storage"),
    ("d/../../x.txt", "SAVE refused: bot files: 'd/../../x.txt' is outside the bot's storage"),
    ("/etc/passwd", "SAVE refused: bot files: absolute path '/etc/passwd' not allowed"),
    ("C:\\x.txt", "SAVE refused: bot files: absolute path 'C:\\\\x.txt' not allowed"),
    ("  ", "SAVE refused: bot files: empty or invalid file name '  '"),
    (".", "SAVE refused: bot files: '.' is outside the bot's storage"),
    ("d/", "SAVE refused: 'd/' names a folder, not a file"),
    ("x" * 300, "SAVE '" + "x" * 80 + "...': the file name is too long (at most 255 bytes between slashes)"),
    ("y" * 5000, "SAVE refused: the file name has 5,000 characters (at most 1,024)"),
], ids=["dotdot", "nested-dotdot", "absolute", "drive", "blank", "dot", "trailing-slash", "long-part",
        "long-name"])
async def test_names_the_storage_refuses(stores: Stores, tmp_path: Path, name: str, says: str) -> None:
    rt, token = await saver(stores, tmp_path)
    assert (await refused(rt, token, name, tmp_path)).endswith(f":3:3] Error: {says}")
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and "x.txt" in p.name]
    assert outside == []
    token2 = (await rt.start("files")).token  # the bot goes on for everyone
    assert token2 is not None
    assert texts(await rt.handle(Inbound("files", "ok.txt", token=token2))) == ["saved ok.txt"]


async def test_names_and_text_no_file_can_hold(stores: Stores, tmp_path: Path) -> None:
    """A NUL, a lone surrogate (no message can carry one: the dialog makes them, FROMJSON of escapes)."""
    rt = runtime_with_bot(stores, tmp_path, "files", {
        "start": 'x = HEAR\nlone = FROMJSON("""ab\\udc00""")\nnul = FROMJSON("""a\\u0000b""")\n'
                 'IF x = "name" THEN\n    SAVE lone, "t"\nELSEIF x = "nul" THEN\n    SAVE nul, "t"\nELSE\n'
                 '    SAVE "t.txt", lone\nEND IF\n'})
    for message, line, says in (("name", 5, "SAVE refused: the file name has a lone surrogate (\\udc00) at position 2"),
                                ("nul", 7, "SAVE refused: bot files: empty or invalid file name 'a\\x00b'"),
                                ("text", 9, "SAVE 't.txt': the text has a lone surrogate (\\udc00) at position 2, "
                                            "which a UTF-8 file cannot hold")):
        s = await rt.start("files")
        r = await rt.handle(Inbound("files", message, token=s.token))
        assert texts(r) == [SORRY]
        assert r.error is not None and (r.error.line, r.error.column) == (line, 5), r.error
        assert r.error.headline.endswith(f"Error: {says}")
    assert list(storage(tmp_path).iterdir()) == []


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` cannot be written, for root too (chattr +i) and for anyone else (chmod)."""
    path.chmod(0o444)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


async def test_a_file_the_os_will_not_write(stores: Stores, tmp_path: Path) -> None:
    rt, token = await saver(stores, tmp_path)
    assert texts(await rt.handle(Inbound("files", "locked.txt", token=token))) == ["saved locked.txt"]
    with read_only(storage(tmp_path) / "locked.txt"):
        token2 = (await rt.start("files")).token
        assert token2 is not None
        assert (await refused(rt, token2, "locked.txt", tmp_path)).endswith(
            "SAVE 'locked.txt': the bot's storage does not allow this write (permission denied)")
    assert (storage(tmp_path) / "locked.txt").read_text() == "content of locked.txt"


async def test_a_template_that_is_not_json_names_the_package_file(stores: Stores, tmp_path: Path) -> None:
    rt = runtime_with_bot(stores, tmp_path, "tpl", {"start": 'TALK "a"\n  LOAD TEMPLATE "broken"\n'},
                          templates={"broken": "{not json"})
    s = await rt.start("tpl")
    assert texts(s) == ["a", SORRY]
    assert s.error is not None and (s.error.line, s.error.column) == (2, 3)
    assert s.error.headline.endswith("Error: tpl.gbai/tpl.gbot/templates/broken.json:1: invalid JSON: "
                                     "Expecting property name enclosed in double quotes")
    assert str(tmp_path) not in s.error.headline
