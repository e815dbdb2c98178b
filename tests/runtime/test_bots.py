"""Bot packages: config.csv, settings, dialogs with hot reload, KB search, templates, storage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gb_basic import BasicSyntaxError, Program
from gb_runtime.bots import (
    DEFAULT_THEME_COLOR,
    BotConfigError,
    BotPackage,
    BotRegistry,
    BotSettings,
    BotStorageError,
    TemplateNotFound,
    UnknownBot,
    parse_config_csv,
)
from tests.helpers.bots import EXAMPLE_BOTS, make_bot, write


@pytest.fixture
def bot(tmp_path: Path) -> BotPackage:
    pkg = make_bot(tmp_path / "bots", "demo", {"start": 'TALK "one"\n', "Refund": 'TALK "refund"\n'},
                   create_rate=None)
    write(pkg / "demo.gbdialog" / "notes.txt", "not a dialog")
    return BotPackage(pkg, tmp_path / "data")


# -- config.csv ---------------------------------------------------------------------------------

def test_config_comments_blank_lines_header_and_commas() -> None:
    text = (
        "# a comment\n"
        "name,value\n"
        "\n"
        "Session-Timeout , 45 \n"
        "  # an indented comment\n"
        "greeting,Hello, welcome to the bot, friend\n"
        'quoted,"a, b, ""c"""\n'
        "empty,\n"
    )
    assert parse_config_csv(text) == {
        "session-timeout": "45",
        "greeting": "Hello, welcome to the bot, friend",
        "quoted": 'a, b, "c"',
        "empty": "",
    }


def test_config_header_only_skipped_as_first_line() -> None:
    assert parse_config_csv("\ufeffName,Value\nx,1\n") == {"x": "1"}
    assert parse_config_csv("x,1\nname,value\n") == {"x": "1", "name": "value"}


def test_config_later_line_wins() -> None:
    assert parse_config_csv("a,1\nA,2\n") == {"a": "2"}


def test_config_line_without_comma_names_file_and_line() -> None:
    with pytest.raises(BotConfigError, match=r"bots/x\.gbot/config\.csv:4: expected 'name,value'") as info:
        parse_config_csv("# c\nname,value\na,1\nbroken line\n", "bots/x.gbot/config.csv")
    assert isinstance(info.value, ValueError)


def test_config_empty_name_is_an_error() -> None:
    with pytest.raises(BotConfigError, match=":1:"):
        parse_config_csv(",value-without-name\n")


# -- settings -------------------------------------------------------------------------------------

def test_settings_defaults_match_design() -> None:
    s = BotSettings.from_config({})
    assert s == BotSettings()
    assert (s.session_timeout_minutes, s.session_expiry_days, s.history_limit, s.max_variables_kb) == (30, 7, 50, 1024)
    assert (s.max_upload_mb, s.max_sessions, s.rate_limit_per_minute, s.hear_tries) == (10, 1000, 60, 3)
    assert (s.language, s.max_steps, s.max_seconds, s.extra, s.max_wait_seconds) == ("en", 1_000_000, 10, {}, 86_400)


def test_settings_overrides_and_extra_keys() -> None:
    s = BotSettings.from_config(parse_config_csv(
        "session-timeout,5\nsession-expiry-days,2\nhistory-limit,20\nmax-variables-kb,64\nmax-upload-mb,1\n"
        "max-sessions,3\nrate-limit,10\nhear-tries,5\nlanguage,pt-BR\nmax-steps,500\nmax-seconds,2.5\n"
        "max-memory-mb,64\ngreeting,Hi, there\nmax-wait,60\n"))
    assert s == BotSettings(
        session_timeout_minutes=5, session_expiry_days=2, history_limit=20, max_variables_kb=64, max_upload_mb=1,
        max_sessions=3, rate_limit_per_minute=10, hear_tries=5, language="pt-BR", max_steps=500, max_seconds=2.5,
        max_memory_mb=64, extra={"greeting": "Hi, there"}, max_wait_seconds=60)


def test_settings_of_new_sessions() -> None:
    assert (BotSettings().session_create_rate, BotSettings().empty_session_seconds) == (20, 120)
    s = BotSettings.from_config(parse_config_csv("session-create-rate,5\nempty-session-seconds,0.5\n"))
    assert (s.session_create_rate, s.empty_session_seconds) == (5, 0.5)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        BotSettings().history_limit = 3  # type: ignore[misc]


@pytest.mark.parametrize("key,value", [
    ("session-timeout", "thirty"), ("rate-limit", ""), ("history-limit", "12.5"),
    ("max-seconds", "soon"), ("hear-tries", "0"), ("max-sessions", "-4"), ("max-seconds", "inf"),
    ("session-create-rate", "0"), ("empty-session-seconds", "never"),
])
def test_settings_bad_numbers_name_key_and_file(key: str, value: str) -> None:
    with pytest.raises(BotConfigError) as info:
        BotSettings.from_config({key: value}, "bots/x.gbot/config.csv")
    assert key in str(info.value)
    assert "bots/x.gbot/config.csv" in str(info.value)


def test_the_web_chat_look_keys(caplog: pytest.LogCaptureFixture) -> None:
    s = BotSettings.from_config(parse_config_csv("bot-name, Shop Assistant \nbot-avatar,img/bot.png\n"
                                                 "theme-color,#0F766E\n"))
    assert (s.bot_name, s.bot_avatar, s.theme_color) == ("Shop Assistant", "img/bot.png", "#0f766e")
    assert BotSettings.from_config({"bot-avatar": "https://cdn.example.com/bot.webp"}).bot_avatar \
        == "https://cdn.example.com/bot.webp"
    assert BotSettings.from_config({"theme-color": "#17b"}).theme_color == "#17b"
    assert caplog.records == []
    # a colour that is not one would be broken CSS: the default, and a config error in the log
    for bad in ("red", "#12345", "#0f766e; background: url(x)", "#gggggg"):
        caplog.clear()
        assert BotSettings.from_config({"theme-color": bad}, "x.gbot/config.csv").theme_color == DEFAULT_THEME_COLOR
        assert [(r.name, r.levelname) for r in caplog.records] == [("gb.bots", "ERROR")]
        assert "x.gbot/config.csv: theme-color:" in caplog.text and "not a CSS hex colour" in caplog.text
    for bad in ("../secret.png", "/etc/bot.png", "avatar.exe", "javascript:alert(1)", "https://x.example/a b.png"):
        caplog.clear()
        assert BotSettings.from_config({"bot-avatar": bad}, "x.gbot/config.csv").bot_avatar == ""
        assert "bot-avatar:" in caplog.text and caplog.records[0].levelname == "ERROR", bad


def test_the_avatar_file_is_inside_the_gbot_folder(tmp_path: Path) -> None:
    pkg = make_bot(tmp_path / "bots", "shop", config="bot-avatar,face.png\n")
    bot = BotRegistry(tmp_path / "bots", tmp_path / "data").get("shop")
    assert bot.avatar_file() is None  # named, not there
    (pkg / "shop.gbot" / "face.png").write_bytes(b"png")
    assert bot.avatar_file() == (pkg / "shop.gbot" / "face.png").resolve()
    (tmp_path / "outside.png").write_bytes(b"png")
    (pkg / "shop.gbot" / "face.png").unlink()
    (pkg / "shop.gbot" / "face.png").symlink_to(tmp_path / "outside.png")
    assert bot.avatar_file() is None  # a symlink out of the folder is not followed


def test_package_settings_missing_config_gives_defaults(bot: BotPackage) -> None:
    assert bot.settings == BotSettings()


def test_package_settings_reload_when_config_changes(tmp_path: Path) -> None:
    pkg = make_bot(tmp_path, "cfg", config="history-limit,20\n")
    bot = BotPackage(pkg, tmp_path / "data")
    first = bot.settings
    assert first.history_limit == 20
    assert bot.settings is first  # cached while the file is unchanged
    config = pkg / "cfg.gbot" / "config.csv"
    write(config, "name,value\nhistory-limit,30\ngreeting,Hi, you\n")
    assert bot.settings.history_limit == 30
    assert bot.settings.extra == {"greeting": "Hi, you"}
    write(config, "name,value\nhistory-limit,lots\n")
    with pytest.raises(BotConfigError, match=r"config\.csv: history-limit must be a whole number"):
        bot.settings  # noqa: B018


# -- dialogs --------------------------------------------------------------------------------------

def test_dialog_names_and_start(bot: BotPackage) -> None:
    assert bot.name == "demo"
    assert bot.dialog_names() == ["Refund", "start"]
    assert bot.has_start


def test_no_start_and_no_dialog_folder(tmp_path: Path) -> None:
    (tmp_path / "empty.gbai").mkdir()
    bot = BotPackage(tmp_path / "empty.gbai", tmp_path / "data")
    assert not bot.has_start
    assert bot.dialog_names() == []
    assert bot.dialog("start") is None


def test_dialog_lookup_is_case_insensitive_and_cached(bot: BotPackage) -> None:
    program = bot.dialog("refund")
    assert isinstance(program, Program)
    assert bot.dialog("REFUND") is program
    assert bot.dialog("Refund.bas") is program
    assert bot.dialog("start") is bot.dialog("Start")
    assert bot.dialog("missing") is None
    assert bot.dialog("notes") is None


def test_dialog_recompiled_after_change(bot: BotPackage) -> None:
    before = bot.dialog("start")
    assert before is not None and 'TALK "one"' in before.source
    write(bot.dialog_dir / "start.bas", 'TALK "two"\n')
    after = bot.dialog("start")
    assert after is not None and after is not before
    assert 'TALK "two"' in after.source
    assert bot.dialog("start") is after


def test_dialog_change_with_same_size_and_mtime_bump(bot: BotPackage) -> None:
    before = bot.dialog("start")
    path = bot.dialog_dir / "start.bas"
    st = path.stat()
    with path.open("r+", encoding="utf-8") as f:  # same inode, same size
        f.write('TALK "eno"\n')
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    after = bot.dialog("start")
    assert after is not before and after is not None and "eno" in after.source


def test_new_and_removed_dialogs_seen_without_restart(bot: BotPackage) -> None:
    assert bot.dialog("order") is None
    (bot.dialog_dir / "order.bas").write_text('TALK "order"\n')
    assert bot.dialog("order") is not None
    assert "order" in bot.dialog_names()
    (bot.dialog_dir / "order.bas").unlink()
    assert bot.dialog("order") is None


def test_dialog_syntax_error_raises_and_recovers(bot: BotPackage) -> None:
    write(bot.dialog_dir / "start.bas", 'IF x = 1 THEN\n  TALK "one"\n')
    with pytest.raises(BasicSyntaxError, match=r"start\.bas:1"):
        bot.dialog("start")
    write(bot.dialog_dir / "start.bas", 'TALK "fixed"\n')
    program = bot.dialog("start")
    assert program is not None and "fixed" in program.source


# -- registry -------------------------------------------------------------------------------------

def test_registry_discovers_new_package_without_restart(tmp_path: Path) -> None:
    root = tmp_path / "bots"
    make_bot(root, "default")
    (root / "not-a-bot").mkdir()
    (root / "file.gbai").parent.mkdir(exist_ok=True)
    (root / "file.gbai").write_text("a file, not a folder")
    registry = BotRegistry(root, tmp_path / "data")
    assert registry.names() == ["default"]
    with pytest.raises(UnknownBot):
        registry.get("support")
    make_bot(root, "support")
    assert registry.names() == ["default", "support"]
    assert registry.get("support").name == "support"


def test_registry_get_unknown_lists_known_bots(tmp_path: Path) -> None:
    make_bot(tmp_path, "alpha")
    make_bot(tmp_path, "beta")
    registry = BotRegistry(tmp_path, tmp_path / "data")
    with pytest.raises(UnknownBot) as info:
        registry.get("gamma")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown bot 'gamma' (bots: alpha, beta)"  # no server path in a message


def test_registry_keeps_package_objects_and_is_case_insensitive(tmp_path: Path) -> None:
    make_bot(tmp_path, "Support")
    registry = BotRegistry(tmp_path, tmp_path / "data")
    pkg = registry.get("Support")
    assert registry.get("support") is pkg
    registry.names()
    assert registry.get("Support") is pkg  # caches (compiled dialogs) survive a rescan


def test_registry_removed_package(tmp_path: Path) -> None:
    pkg = make_bot(tmp_path, "gone", create_rate=None)
    registry = BotRegistry(tmp_path, tmp_path / "data")
    registry.get("gone")
    for f in (pkg / "gone.gbdialog").iterdir():
        f.unlink()
    (pkg / "gone.gbdialog").rmdir()
    pkg.rmdir()
    with pytest.raises(UnknownBot):
        registry.get("gone")
    assert registry.names() == []


def test_registry_default(tmp_path: Path) -> None:
    registry = BotRegistry(tmp_path, tmp_path / "data")
    assert registry.default is None
    assert registry.names() == []
    make_bot(tmp_path, "default")
    assert registry.default is not None and registry.default.name == "default"


# -- knowledge bases ------------------------------------------------------------------------------

# -- templates ------------------------------------------------------------------------------------

@pytest.fixture
def tpl_bot(tmp_path: Path) -> BotPackage:
    pkg = make_bot(tmp_path, "tpl", templates={
        "customer_support": json.dumps(
            {"kb": ["policies"], "tools": ["weather"], "system_prompt": "Be kind.", "message": "Hello!"}),
        "broken": '{"kb": [', "wrong": '{"kb": "policies"}', "list": "[]"})
    return BotPackage(pkg, tmp_path / "data")


def test_template_loads(tpl_bot: BotPackage) -> None:
    t = tpl_bot.template("customer_support")
    assert t == {"kb": ["policies"], "tools": ["weather"], "system_prompt": "Be kind.", "message": "Hello!"}
    assert tpl_bot.template("Customer_Support") == t
    t["kb"].append("x")
    assert tpl_bot.template("customer_support")["kb"] == ["policies"]  # a fresh dict every time
    assert tpl_bot.template_names() == ["broken", "customer_support", "list", "wrong"]


def test_template_not_found(tpl_bot: BotPackage) -> None:
    with pytest.raises(TemplateNotFound) as info:
        tpl_bot.template("sales_pitch")
    assert "template 'sales_pitch' not found in bot 'tpl'" in str(info.value)
    assert isinstance(info.value, KeyError)
    with pytest.raises(TemplateNotFound):
        tpl_bot.template("../tpl.gbot/templates/customer_support")


@pytest.mark.parametrize("name,message", [
    ("broken", r"broken\.json:1: invalid JSON"), ("wrong", "'kb' must be a list"), ("list", "JSON object"),
])
def test_template_malformed(tpl_bot: BotPackage, name: str, message: str) -> None:
    with pytest.raises(BotConfigError, match=message):
        tpl_bot.template(name)


# -- storage --------------------------------------------------------------------------------------

def test_storage_dir_created_on_demand(bot: BotPackage, tmp_path: Path) -> None:
    expected = tmp_path / "data" / "bots" / "demo" / "files"
    assert not expected.exists()
    assert bot.storage_dir == expected
    assert expected.is_dir()


def test_safe_path_allows_names_inside(bot: BotPackage) -> None:
    base = bot.storage_dir.resolve()
    assert bot.safe_path("notes/conversation.txt") == base / "notes" / "conversation.txt"
    assert bot.safe_path("conversation.txt") == base / "conversation.txt"
    assert bot.safe_path("a/../b.txt") == base / "b.txt"


@pytest.mark.parametrize("name", [
    "../etc/passwd", "/etc/passwd", "a/../../b", "", "   ", ".", "a/..", "..", "..\\..\\x", "C:\\x", "a\x00b",
])
def test_safe_path_refuses_names_outside(bot: BotPackage, name: str) -> None:
    with pytest.raises(BotStorageError) as info:
        bot.safe_path(name)
    assert isinstance(info.value, PermissionError)


def test_safe_path_refuses_symlinks_out(bot: BotPackage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (bot.storage_dir / "link").symlink_to(outside, target_is_directory=True)
    (bot.storage_dir / "file-link").symlink_to(outside / "secret.txt")
    for name in ("link/secret.txt", "file-link"):
        with pytest.raises(BotStorageError):
            bot.safe_path(name)
    (bot.storage_dir / "inside").mkdir()
    (bot.storage_dir / "ok-link").symlink_to(bot.storage_dir / "inside", target_is_directory=True)
    assert bot.safe_path("ok-link/x.txt") == bot.storage_dir.resolve() / "inside" / "x.txt"


# -- the example bots -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> BotRegistry:
    return BotRegistry(EXAMPLE_BOTS, tmp_path_factory.mktemp("data"))


def test_example_bots_load(examples: BotRegistry) -> None:
    assert examples.names() == ["default", "loja", "sales", "support"]
    assert examples.default is not None and examples.default.name == "default"
    for name in examples.names():
        bot = examples.get(name)
        assert bot.has_start, name
        assert len(bot.dialog_names()) >= 2, name
        assert bot.config_path.is_file(), name
        assert "," in bot.settings.extra["greeting"], name


def test_example_configs_have_comments(examples: BotRegistry) -> None:
    for name in examples.names():
        text = examples.get(name).config_path.read_text()
        assert re.search(r"^#", text, re.M), name


@pytest.mark.parametrize("name", ["default", "loja", "sales", "support"])
def test_example_dialogs_compile_without_warnings(examples: BotRegistry, name: str) -> None:
    bot = examples.get(name)
    for dialog in bot.dialog_names():
        program = bot.dialog(dialog)
        assert program is not None
        assert program.warnings == [], (name, dialog, [w.headline for w in program.warnings])


def test_example_dialogs_pass_gb_check() -> None:
    files = sorted(str(p) for p in EXAMPLE_BOTS.glob("*.gbai/*.gbdialog/*.bas"))
    r = subprocess.run([sys.executable, "-m", "gb_basic.cli", "check", *files],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.count(": ok\n") == len(files)


def test_example_second_dialogs(examples: BotRegistry) -> None:
    assert examples.get("support").dialog("refund") is not None
    assert examples.get("sales").dialog("order") is not None
    assert examples.get("default").dialog("export") is not None


def test_example_kbs_exist(examples: BotRegistry) -> None:
    support, sales, default = examples.get("support"), examples.get("sales"), examples.get("default")
    assert support.kb_names() == ["policies"]
    assert sales.kb_names() == ["products"]
    assert default.kb_names() == ["guide"]
    for bot in (support, sales, default):
        for kb in bot.kb_names():
            assert list((bot.kb_dir / kb).glob("*.md")), (bot.name, kb)


def test_example_kbs_used_by_dialogs_exist(examples: BotRegistry) -> None:
    for name in examples.names():
        bot = examples.get(name)
        for dialog in bot.dialog_names():
            program = bot.dialog(dialog)
            assert program is not None
            for kb in re.findall(r'USE KB "([^"]+)"', program.source):
                assert kb in bot.kb_names(), (name, dialog, kb)


def test_support_template_refers_to_what_the_bot_ships(examples: BotRegistry) -> None:
    support = examples.get("support")
    start = support.dialog("start")
    assert start is not None and 'LOAD_TEMPLATE "customer_support"' in start.source
    t = support.template("customer_support")
    assert set(t["kb"]) <= set(support.kb_names())
    for tool in t["tools"]:
        program = support.dialog(tool)
        assert program is not None and program.params, tool
    assert t["message"] and t["system_prompt"]


def test_example_bots_share_nothing(examples: BotRegistry) -> None:
    kbs: dict[str, set[str]] = {}
    variables: dict[str, set[str]] = {}
    for name in examples.names():
        bot = examples.get(name)
        kbs[name] = set(bot.kb_names())
        sources = "\n".join(bot.dialog(d).source for d in bot.dialog_names())  # type: ignore[union-attr]
        variables[name] = {v.lower() for v in re.findall(r"^\s*SET (\w+) =", sources, re.M)}
        assert variables[name], name
    names = list(kbs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not kbs[a] & kbs[b], (a, b)
            assert not variables[a] & variables[b], (a, b)


def test_example_settings(examples: BotRegistry) -> None:
    assert examples.get("support").settings.hear_tries == 4
    assert examples.get("support").settings.extra["escalation-email"] == "help@example.com"
    assert examples.get("sales").settings.extra["greeting"] == "Welcome to Sales! Plans, prices and orders: ask away."
    assert examples.get("default").settings.session_timeout_minutes == 30
