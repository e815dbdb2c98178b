"""The gb kernel over the Jupyter protocol: cells, HEAR sources, suspension, magics, widget comms."""

from __future__ import annotations

import uuid
from pathlib import Path

from .conftest import run, start_kernel


def test_talk_prints_and_variables_persist_across_cells(kernel) -> None:
    _, kc = kernel
    r = run(kc, 'name = "Ann"\nTALK "Hello, " + name')
    assert r.status == "ok" and r.stdout == "Hello, Ann\n"
    r = run(kc, 'TALK "Again, {name}"')
    assert r.stdout == "Again, Ann\n"


def test_a_bare_expression_returns_an_execute_result(kernel) -> None:
    _, kc = kernel
    run(kc, "x = 20")
    r = run(kc, "x * 2 + 2")
    assert r.results[0]["data"]["text/plain"] == "42"
    assert run(kc, "UPPER(\"abc\")").results[0]["data"]["text/plain"] == '"ABC"'
    assert run(kc, "x").results[0]["data"]["text/plain"] == "20"


def test_errors_name_the_line_within_the_cell(kernel) -> None:
    _, kc = kernel
    r = run(kc, 'TALK "one"\nx = 1 / 0')
    assert r.status == "error" and r.stdout == "one\n"
    assert r.reply["content"]["evalue"].endswith(":2:1] Error: division by zero")
    r = run(kc, 'IF x THEN\n  TALK "a"')
    assert r.status == "error" and r.reply["content"]["ename"] == "BasicSyntaxError"
    assert ":1:1] Error at 'IF': the IF at line 1 has no END IF" in r.reply["content"]["evalue"]


def test_hear_takes_scripted_answers(kernel) -> None:
    _, kc = kernel
    r = run(kc, '%answers Ann | 33\nHEAR name\nHEAR age AS INTEGER WITH "Age?"\nTALK name + " " + age')
    assert r.stdout == "> Ann\nAge?\n> 33\nAnn 33\n"


def test_hear_over_stdin(kernel) -> None:
    _, kc = kernel
    r = run(kc, 'HEAR n AS INTEGER WITH "How many?"\nTALK n * 2', allow_stdin=True, stdin=["lots", "21"])
    assert r.prompts == ["n? ", "n? "]
    assert "Please enter a whole number" in r.stdout and r.stdout.endswith("42\n")


def test_a_cell_suspends_and_a_later_user_cell_resumes_it(kernel) -> None:
    _, kc = kernel
    r = run(kc, 'TALK "Your name?"\nname = HEAR\nTALK "Hi " + name')
    assert r.status == "ok"
    assert r.stdout == "Your name?\n(waiting for HEAR name, line 2: answer with %user TEXT or in %chat)\n"
    r = run(kc, "%user Bo")
    assert r.stdout == "Hi Bo\n"
    assert run(kc, "name").results[0]["data"]["text/plain"] == '"Bo"'


def test_the_session_survives_a_kernel_restart(kernel, project: Path, gb_kernelspec: str) -> None:
    km, kc = kernel
    run(kc, 'color = "green"\nHEAR size AS "S", "M", "L"\nTALK color + " " + size')
    sid = run(kc, "%session").stdout.split("\n")[0].split()[1]
    km.restart_kernel(now=True)
    kc.wait_for_ready(timeout=60)
    assert run(kc, "%session").stdout.split("\n")[0] == f"session {sid}"
    assert run(kc, "%user 2").stdout == "green M\n"
    assert run(kc, "color").results[0]["data"]["text/plain"] == '"green"'


def test_magics(kernel, project: Path) -> None:
    _, kc = kernel
    r = run(kc, "%bot")
    assert r.stdout.startswith("bot default (bots: default, loja, sales, support)")
    r = run(kc, "%bot support")
    assert r.stdout.startswith("bot support, new session ")
    r = run(kc, "%session")
    assert "bot support, channel notebook, active" in r.stdout and "waiting for: nothing" in r.stdout
    r = run(kc, "%run start")
    assert "Welcome to Support! First time here?" in r.stdout
    assert "waiting for HEAR need AS MENU" in r.stdout or "waiting for HEAR need" in r.stdout
    r = run(kc, "%user Shipping")
    assert "Orders ship within 2 business days." in r.stdout
    r = run(kc, "%vars")
    assert 'support_topic = "Shipping"' in r.displays[0]["data"]["text/plain"]
    assert "<table>" in r.displays[0]["data"]["text/html"]
    r = run(kc, "%history")
    assert "user: Shipping" in r.stdout and "assistant: How can I help?" in r.stdout
    old = run(kc, "%session").stdout.split()[1]
    r = run(kc, "%session new")
    assert r.stdout.startswith("new session ") and old not in r.stdout
    r = run(kc, "%session list")
    assert old in r.stdout
    r = run(kc, f"%session attach {old}")
    assert r.stdout == f"attached session {old} of bot support\n"
    r = run(kc, "%session end")
    assert r.stdout == "session ended\n"
    assert run(kc, "%nope").reply["content"]["ename"] == "UnknownMagic"


def test_attach_a_session_started_elsewhere(kernel, project: Path) -> None:
    """A session of the web channel (same embedded database) can be attached from the notebook."""
    import asyncio

    from gb_runtime import BotRegistry, DialogRuntime
    from gb_sessions.config import StoreSettings, open_stores

    async def web_session() -> str:
        stores = await open_stores(StoreSettings.from_env({}, data_dir=project / "data"))
        try:
            rt = DialogRuntime(stores.store, BotRegistry(project / "bots", project / "data"))
            return str((await rt.start("default")).session_id)
        finally:
            await stores.close()

    _, kc = kernel
    run(kc, "%session")  # the kernel creates the database first
    sid = asyncio.run(web_session())
    assert run(kc, f"%session attach {sid}").status == "ok"
    r = run(kc, "%session")
    assert f"session {sid}" in r.stdout and "channel web" in r.stdout
    assert "waiting for: HEAR name AS NAME" in r.stdout  # the web chat's start.bas waits for a name
    assert "Hi Zoe" in run(kc, "%user Zoe").stdout


TRANSCRIPT_OK = """%%transcript support refund
bot: What is your order number?
user: 1234
bot: Which e-mail address did you order with?
user: ann@example.com
bot: Why are you returning it?
bot: [Damaged | Wrong item | Changed my mind]
"""


def test_transcript_passes_and_shows_a_readable_diff_when_it_fails(kernel) -> None:
    _, kc = kernel
    r = run(kc, TRANSCRIPT_OK.replace("bot: [Damaged | Wrong item | Changed my mind]\n", ""))
    assert r.status == "ok" and r.stdout.startswith("transcript ok")
    bad = TRANSCRIPT_OK.replace("Which e-mail address did you order with?", "Your e-mail?") \
        .replace("bot: [Damaged | Wrong item | Changed my mind]\n", "")
    r = run(kc, bad)
    assert r.status == "error" and r.reply["content"]["ename"] == "TranscriptMismatch"
    text = "\n".join(r.reply["content"]["traceback"])
    assert "-bot: Your e-mail?" in text and "+bot: Which e-mail address did you order with?" in text


def test_interrupt_stops_a_running_cell_and_the_kernel_lives(kernel) -> None:
    km, kc = kernel
    r = run(kc, "x = 0\nDO WHILE TRUE\n  x = x + 1\n  WAIT 1\nLOOP", interrupt_after=1.5, km=km, timeout=30)
    assert r.status == "error" and r.reply["content"]["ename"] == "KeyboardInterrupt"
    assert run(kc, 'TALK "alive"').stdout == "alive\n"


def test_a_cell_goes_on_after_a_wait_when_its_timer_fires(kernel) -> None:
    import time

    _, kc = kernel
    started = time.monotonic()
    r = run(kc, '%answers Ann\nTALK "one"\nWAIT 0.5\nTALK "two"\nHEAR name\nWAIT 0\nTALK "hi " + name', timeout=30)
    assert r.status == "ok" and r.stdout == "one\ntwo\n> Ann\nhi Ann\n"
    assert time.monotonic() - started >= 0.5  # the kernel's timer service fired the WAIT's timer
    assert run(kc, "name").results[0]["data"]["text/plain"] == '"Ann"'


def test_interrupt_stops_a_cell_waiting_at_the_input_box(kernel) -> None:
    km, kc = kernel
    r = run(kc, "HEAR name\nTALK name", allow_stdin=True, answer_stdin=False, interrupt_after=2, km=km, timeout=30)
    assert r.prompts == ["name? "]
    assert r.status == "error" and r.reply["content"]["ename"] == "KeyboardInterrupt"
    assert run(kc, 'TALK "alive"').stdout == "alive\n"


def test_completion_inspection_and_is_complete(kernel) -> None:
    _, kc = kernel
    run(kc, "customer_name = 1")
    msg = kc.complete("TALK cust", 9, reply=True)["content"]
    assert "customer_name" in msg["matches"] and msg["cursor_start"] == 5
    msg = kc.complete("%se", 3, reply=True)["content"]
    assert "%session" in msg["matches"]
    msg = kc.complete("%run ", 5, reply=True)["content"]  # the bot's dialogs, not keywords
    assert msg["matches"] == ["export", "start"] and msg["cursor_start"] == 5
    msg = kc.complete("%run ex", 7, reply=True)["content"]
    assert msg["matches"] == ["export"] and msg["cursor_start"] == 5
    msg = kc.complete("%bot s", 6, reply=True)["content"]
    assert msg["matches"] == ["sales", "support"]
    msg = kc.complete("%%transcript support r", 22, reply=True)["content"]
    assert msg["matches"] == ["refund"]
    msg = kc.complete("%session a", 10, reply=True)["content"]
    assert msg["matches"] == ["attach"]
    run(kc, "%run start")  # waits at the name, then at the menu
    run(kc, "%user Ann")
    msg = kc.complete("%user Ch", 8, reply=True)["content"]
    assert msg["matches"] == ["Channels"]
    msg = kc.inspect("HEAR x", 2, reply=True)["content"]
    assert msg["found"] and "HEAR" in msg["data"]["text/plain"]
    assert complete_status(kc, "IF x THEN") == "incomplete"
    assert complete_status(kc, "FOR i = 1 TO 3") == "incomplete"
    assert complete_status(kc, "END IF") == "invalid"
    assert complete_status(kc, 'TALK "x"') == "complete"


def complete_status(kc, code: str) -> str:
    msg_id = kc.is_complete(code)
    while True:
        reply = kc.get_shell_msg(timeout=10)
        if reply["parent_header"].get("msg_id") == msg_id:
            return str(reply["content"]["status"])


def test_the_chat_widget_over_comm_messages(kernel) -> None:
    _, kc = kernel
    run(kc, "%bot default")
    r = run(kc, "%chat")
    view = r.displays[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert r.displays[0]["data"]["text/plain"].startswith("ChatWidget(bot='default'")
    model_id = view["model_id"]
    assert any(m["msg_type"] == "comm_open" and m["content"]["comm_id"] == model_id for m in r.comms)
    # the front end sends what the user typed
    kc.session.send(kc.shell_channel.socket, "comm_msg",
                    {"comm_id": model_id, "data": {"method": "custom", "content": {"type": "send", "text": "export"}}})
    states = _collect_states(kc, model_id, want=lambda s: any("conversation is saved" in m.get("content", "")
                                                               for m in s.get("messages", [])))
    messages = [m for s in states for m in s.get("messages", [])]
    assert any(m["role"] == "user" and m["content"] == "export" for m in messages)
    assert any(m["role"] == "assistant" and "conversation is saved" in m["content"] for m in messages)


def _collect_states(kc, model_id: str, want, timeout: float = 30.0) -> list[dict]:
    import queue
    import time

    states = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == model_id:
            state = msg["content"]["data"].get("state", {})
            states.append(state)
            if want(state):
                return states
    raise AssertionError(f"no widget update matched; got {states}")


def test_a_second_kernel_uses_the_same_notebook_session(project: Path, gb_kernelspec: str) -> None:
    """A shutdown right after a cell keeps it: the background save is flushed first."""
    km, kc = start_kernel(project, gb_kernelspec)
    value = uuid.uuid4().hex
    try:
        run(kc, f'kept = "{value}"')  # (not `remember`: a bare REMEMBER is the keyword statement)
    finally:
        kc.stop_channels()
        km.shutdown_kernel()  # a shutdown request, as JupyterLab sends
    km, kc = start_kernel(project, gb_kernelspec)
    try:
        assert run(kc, "kept").results[0]["data"]["text/plain"] == f'"{value}"'
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_the_widget_shows_an_llm_answer_as_it_is_generated(tmp_path: Path, gb_kernelspec: str) -> None:
    """The widget's `streaming` trait grows with the answer's pieces, then clears when the whole
    answer is in its transcript (a real kernel, a local OpenAI-compatible stand-in)."""
    from tests.helpers.bots import make_bot
    from tests.helpers.kernels import stop_kernel
    from tests.helpers.llm_server import Scripted, llm_server_in_thread

    with llm_server_in_thread() as llm:
        make_bot(tmp_path / "bots", "default", {"start": 'TALK "hi"\n'},
                 config=f"llm-url,{llm.url}\nllm-model,{llm.model}\nllm-key,{llm.key}\n")
        (tmp_path / "data").mkdir()
        km, kc = start_kernel(tmp_path, gb_kernelspec)
        try:
            run(kc, "%bot default")
            model_id = run(kc, "%chat").displays[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
            llm.script.append(Scripted.say("alpha beta gamma delta", pause=0.1))
            kc.session.send(kc.shell_channel.socket, "comm_msg", {"comm_id": model_id, "data": {
                "method": "custom", "content": {"type": "send", "text": "tell me"}}})
            states = _collect_states(kc, model_id, want=lambda s: any(
                m.get("content") == "alpha beta gamma delta" for m in s.get("messages", [])))
            states += _collect_states(kc, model_id, want=lambda s: s.get("streaming") == "")
            grown = [s["streaming"] for s in states if s.get("streaming")]
            assert grown[:2] == ["alpha ", "alpha beta "] and grown[-1] == "alpha beta gamma delta", grown
            assert llm.requests[0]["stream"] is True
        finally:
            stop_kernel(km, kc)
