"""``gb kb index`` and ``gb kb search`` on the embedded database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gb_runtime.kb_cli import kb
from tests.helpers.bots import make_bot, write


def test_index_then_search_then_index_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "bots"
    make_bot(root, "shop", kb={"faq/returns.md": "# Returns\n\nReturns are accepted within 30 days.\n",
                               "faq/broken.docx": "not a docx",
                               "faq/hours.html": "<h1>Hours</h1><p>We open at nine.</p>"})
    env = {"GB_DATA_DIR": str(tmp_path / "data"), "GB_BOTS_DIR": str(root), "GB_DATABASE_URL": ""}
    runner = CliRunner()
    first = runner.invoke(kb, ["index", "shop", "--quiet"], env=env)
    assert first.exit_code == 1  # a file could not be read: said, and the exit status says so
    assert "shop: 3 files indexed (2 passages" in first.output
    assert "faq/broken.docx: broken.docx: cannot read this DOCX file" in first.output
    found = runner.invoke(kb, ["search", "shop", "when do you open?"], env=env)
    assert found.exit_code == 0 and found.output.startswith("[1] faq/hours.html # Hours (score ")
    assert "We open at nine." in found.output
    (root / "shop.gbai/shop.gbkb/faq/broken.docx").unlink()
    write(root / "shop.gbai/shop.gbkb/faq/returns.md", "# Returns\n\nNo returns.\n")
    again = runner.invoke(kb, ["index", "--quiet"], env=env)
    assert again.exit_code == 0, again.output
    assert "shop: 1 files indexed (1 passages" in again.output and "1 unchanged, 1 dropped" in again.output
    assert runner.invoke(kb, ["search", "shop", "parking"], env=env).output == "no passage found\n"
    unknown = runner.invoke(kb, ["search", "nobot", "x"], env=env)
    assert unknown.exit_code == 1 and "no bot 'nobot'" in unknown.output
