"""docs/language.md is the notebook's help, generated: it lists everything and cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from gb_basic.builtins import DOCS as BUILTIN_DOCS
from gb_basic.keywords import KEYWORDS as KEYWORD_TABLE
from gb_basic.validators import HEAR_TYPES
from gb_kernel.docs import HEAR_TYPE_DOCS, MAGICS, help_for
from gb_kernel.reference import reference
from gb_runtime.bots import _NUMERIC, CONFIG_DOCS

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    assert committed == reference(), "regenerate it: python -m gb_kernel.reference > docs/language.md"


def test_every_keyword_builtin_hear_type_and_magic_is_in_it_with_its_help() -> None:
    text = reference()
    for name in KEYWORD_TABLE:
        assert f"### {name}\n" in text and KEYWORD_TABLE[name].example in text, name
    for name in BUILTIN_DOCS:
        assert f"- `{BUILTIN_DOCS[name].partition(' -> ')[0]}`" in text, name
    assert set(HEAR_TYPE_DOCS) == set(HEAR_TYPES)
    for name in HEAR_TYPE_DOCS:
        assert f"### {name}\n\n{HEAR_TYPE_DOCS[name]}" in text
    for name in MAGICS:
        assert f"### {name}\n" in text
    assert help_for("TALK") is not None and help_for("TALK") in text  # the Shift+Tab text itself


def test_every_config_key_gb_reads_is_documented() -> None:
    read = set(_NUMERIC) | {"language", "http-allow"}
    for path in [*ROOT.glob("gb_runtime/**/*.py"), *ROOT.glob("gb_server/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"""settings\.extra\.get\(["']([a-z0-9-]+)["']""", source))
        read |= set(re.findall(r"""config\.(?:get|require|number|has)\(["']([a-z0-9-]+)["']""", source))
    assert read <= set(CONFIG_DOCS), f"config.csv keys without a doc: {sorted(read - set(CONFIG_DOCS))}"
    table = reference().split("## config.csv keys", 1)[1]
    for key in CONFIG_DOCS:
        assert f"| `{key}` |" in table, key
