"""``gb kb index`` and ``gb kb search`` on the embedded database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gb_runtime.kb_cli import kb
from tests.helpers.bots import make_bot, write
from tests.helpers.embeddings import ConceptEmbedder
from tests.helpers.llm_server import llm_server_in_thread


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


def test_index_embeds_the_passages_of_a_bot_with_an_embeddings_endpoint(tmp_path: Path) -> None:
    root = tmp_path / "bots"
    env = {"GB_DATA_DIR": str(tmp_path / "data"), "GB_BOTS_DIR": str(root), "GB_DATABASE_URL": ""}
    runner = CliRunner()
    with llm_server_in_thread(key=None) as llm:
        llm.embedder = ConceptEmbedder({"refund": ["refund", "money", "back"]})
        make_bot(root, "shop", config=f"embedding-url,{llm.url}\nembedding-model,test-embed\n",
                 kb={"faq/returns.md": "# Returns\n\nRefunds take five days.\n\nReturns are free.\n",
                     "faq/hours.md": "We open at nine.\n"})
        first = runner.invoke(kb, ["index", "shop", "--quiet"], env=env)
        assert first.exit_code == 0, first.output
        assert "2 files indexed (3 passages" in first.output and "3 passages embedded" in first.output
        assert [len(b) for b in llm.embedded] == [3]
        found = runner.invoke(kb, ["search", "shop", "money back?", "-k", "1"], env=env)
        assert "Refunds take five days." in found.output, found.output
        again = runner.invoke(kb, ["index", "shop", "--quiet"], env=env)
        assert again.exit_code == 0 and "embedded" not in again.output
        llm.embed_status = 500
        write(root / "shop.gbai/shop.gbkb/faq/hours.md", "We open at ten.\n")
        failed = runner.invoke(kb, ["index", "shop", "--quiet"], env=env)
        assert failed.exit_code == 1
        assert f"embeddings: embeddings {llm.url}/embeddings: 500 Internal Server Error" in failed.output
