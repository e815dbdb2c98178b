"""ChatWidget, Python side without a browser: traits, the send protocol, repr, the ES module."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gb_kernel.widget import ChatWidget

JS = (Path(__file__).parents[2] / "gb_kernel" / "widget.js").read_text(encoding="utf-8")
SESSION = "1234abcd-5678-90ef-1234-567890abcdef"


def send(widget: ChatWidget, content: object) -> None:
    """Play the front end: deliver a custom comm message the way ipywidgets does."""
    widget._handle_custom_msg(content, [])


def test_esm_is_an_es_module_with_a_default_render() -> None:
    widget = ChatWidget()
    assert widget._esm.strip()
    assert "export default" in widget._esm
    assert re.search(r"\brender\s*\(\s*\{\s*model\s*,\s*el\s*\}", widget._esm)
    assert ".gb-chat" in widget._css


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_esm_parses(tmp_path: Path) -> None:
    module = tmp_path / "widget.mjs"
    module.write_text(JS, encoding="utf-8")
    result = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_traits_are_synced() -> None:
    widget = ChatWidget(bot="default", session_id=SESSION)
    widget.add_message("assistant", "Pick one", choices=["red", "blue"])
    widget.variables = {"name": "Ana", "age": 30}
    widget.waiting = "HEAR name AS EMAIL, line 3"
    widget.busy = True
    widget.channel, widget.hear_type, widget.error = "web", "BOOLEAN", "division by zero (start.bas, line 4)"

    state = widget.get_state()

    assert state["messages"] == [{"role": "assistant", "content": "Pick one", "choices": ["red", "blue"]}]
    assert state["variables"] == {"name": "Ana", "age": 30}
    assert state["waiting"] == "HEAR name AS EMAIL, line 3"
    assert state["bot"] == "default"
    assert state["session_id"] == SESSION
    assert state["busy"] is True
    assert (state["channel"], state["hear_type"], state["error"]) == \
        ("web", "BOOLEAN", "division by zero (start.bas, line 4)")
    assert state["_esm"] == JS
    assert "_css" in state


def test_add_message_assigns_a_new_list_so_the_change_is_seen() -> None:
    widget = ChatWidget()
    seen: list[object] = []
    widget.observe(lambda change: seen.append(change["new"]), names="messages")

    widget.add_message("user", "hi")
    widget.add_message("system", "two\nlines")

    assert seen == [
        [{"role": "user", "content": "hi"}],
        [{"role": "user", "content": "hi"}, {"role": "system", "content": "two\nlines"}],
    ]


def test_set_messages_copies() -> None:
    widget = ChatWidget()
    given = [{"role": "user", "content": "hi"}]
    widget.set_messages(given)
    given[0]["content"] = "changed"
    assert widget.messages == [{"role": "user", "content": "hi"}]


def test_send_message_calls_a_plain_callback() -> None:
    widget = ChatWidget()
    received: list[str] = []
    widget.on_send(received.append)

    send(widget, {"type": "send", "text": "hi"})
    send(widget, {"type": "other", "text": "ignored"})
    send(widget, {"type": "send"})

    assert received == ["hi"]


def test_on_send_remove() -> None:
    widget = ChatWidget()
    received: list[str] = []
    widget.on_send(received.append)
    widget.on_send(received.append, remove=True)
    send(widget, {"type": "send", "text": "hi"})
    assert received == []


async def test_send_message_schedules_an_async_callback() -> None:
    widget = ChatWidget()
    received: list[str] = []
    done = asyncio.Event()

    async def on_text(text: str) -> None:
        await asyncio.sleep(0)
        received.append(text)
        done.set()

    widget.on_send(on_text)
    send(widget, {"type": "send", "text": "hi"})
    await asyncio.wait_for(done.wait(), timeout=5)

    assert received == ["hi"]


def test_callback_exception_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    widget = ChatWidget()

    def broken(text: str) -> None:
        raise ValueError(f"cannot handle {text}")

    widget.on_send(broken)
    with caplog.at_level(logging.ERROR, logger="gb.kernel"):
        send(widget, {"type": "send", "text": "hi"})

    [record] = [r for r in caplog.records if r.name == "gb.kernel"]
    assert record.exc_info is not None
    assert "cannot handle hi" in str(record.exc_info[1])


async def test_async_callback_exception_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    widget = ChatWidget()
    started = asyncio.Event()

    async def broken(text: str) -> None:
        started.set()
        raise ValueError(f"cannot handle {text}")

    widget.on_send(broken)
    with caplog.at_level(logging.ERROR, logger="gb.kernel"):
        send(widget, {"type": "send", "text": "hi"})
        await asyncio.wait_for(started.wait(), timeout=5)
        for _ in range(3):  # let the done callback run
            await asyncio.sleep(0)

    [record] = [r for r in caplog.records if r.name == "gb.kernel"]
    assert record.exc_info is not None
    assert "cannot handle hi" in str(record.exc_info[1])


def test_plain_repr_is_stable() -> None:
    widget = ChatWidget(bot="default", session_id=SESSION)
    expected = "ChatWidget(bot='default', session='1234abcd')"

    assert repr(widget) == expected
    bundle = widget._repr_mimebundle_()
    assert bundle is not None
    data, _metadata = bundle
    assert data["text/plain"] == expected
    assert "application/vnd.jupyter.widget-view+json" in data
    assert not re.search(r"0x[0-9a-f]+", data["text/plain"])


def test_js_inserts_user_data_as_text_only() -> None:
    assert "innerHTML" not in JS
    assert "outerHTML" not in JS
    assert "insertAdjacentHTML" not in JS
    assert "bubble.textContent = " in JS


def test_js_keeps_enter_from_jupyterlab_and_sends_the_protocol_message() -> None:
    assert re.search(r'addEventListener\("keydown"[^}]*stopPropagation\(\)', JS, re.S)
    assert 'model.send({ type: "send", text })' in JS
    for testid in ("gb-chat", "gb-message", "gb-choice", "gb-yes-no", "gb-input", "gb-send", "gb-waiting",
                   "gb-error", "gb-vars", "gb-var-row", "gb-header-channel"):
        assert f'"{testid}"' in JS, testid
    for event in ("messages", "variables", "waiting", "busy", "channel", "hear_type", "error"):
        assert f'"change:{event}"' in JS, event
