"""A real gb kernel (jupyter_client), with its own copy of the bots and its own data folder."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager

from tests.browser import Lab, jupyterlab, need_chromium
from tests.helpers import ROOT, kernels
from tests.helpers.bots import copy_example_bots, make_bot
from tests.helpers.llm_server import LlmServer, llm_server_in_thread
from tests.helpers.servers import gb_environ

__all__ = ["ROOT", "Run", "run", "start_kernel"]


@pytest.fixture(scope="session")
def gb_kernelspec(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The kernelspec and the session inspector's server extension in this venv (make test
    installs them; installed here too for direct pytest runs, when missing or different).

    Never reinstalled when they are there already: installing replaces the kernelspec's folder,
    and a kernel another test process starts meanwhile would find no kernel.json. Under
    pytest-xdist one process at a time checks (a lock file in the run's temporary folder)."""
    import fcntl
    import json
    import sys

    from gb_kernel import inspector
    from gb_kernel.kernelspec import KERNEL_NAME, install, kernel_json

    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json"
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / inspector.CONFIG_NAME
    with open(tmp_path_factory.getbasetemp().parent / "gb-kernelspec.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not spec.exists() or json.loads(spec.read_text(encoding="utf-8")) != kernel_json():
            install()
        if not config.exists():
            inspector.enable()
    return KERNEL_NAME


# The bot of the suggestion buttons' browser test (test_suggestions_browser), beside the example bots.
SHOP = {
    "start": 'ADD SUGGESTION "products" AS "View products"\n'
             'ADD SUGGESTION "Help <i>me</i>"\n'
             'ADD SWITCHER "tables" AS "Tables"\n'
             'TALK "Welcome! Your name?"\n'
             'HEAR name\n'
             'TALK "Hi " + name + ", pick a button"\n',
    "view_products": 'TALK "We have hats and caps"\n',
    "clear": 'CLEAR SUGGESTIONS\nTALK "No more suggestions"\n',
}

# The bot of the widget's Yes / No and error test (test_browser): a BOOLEAN HEAR, then a failure.
QUIZ = {
    "start": 'HEAR ready AS BOOLEAN WITH "Ready?"\n'
             'TALK "Ready: " + ready\n'
             'HEAR n AS INTEGER WITH "Divide 10 by?"\n'
             'TALK "That is " + (10 / n)\n',
}


@pytest.fixture(scope="package")
def lab_llm() -> Iterator[LlmServer]:
    """The stand-in LLM of the ``ai`` bot of the kernel tests' JupyterLab (push to its script)."""
    with llm_server_in_thread() as llm:
        yield llm


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory, gb_kernelspec: str, lab_llm: LlmServer) -> Iterator[Lab]:
    """One JupyterLab server for the browser tests of the kernel (starting one takes seconds): the
    example bots, the ``shop`` bot of SHOP, the ``quiz`` bot of QUIZ and the ``ai`` bot, whose
    LLM is `lab_llm`; each test opens a notebook of its own in it."""
    need_chromium()
    root = tmp_path_factory.mktemp("lab")
    copy_example_bots(root / "bots")
    make_bot(root / "bots", "shop", SHOP)
    make_bot(root / "bots", "quiz", QUIZ)
    make_bot(root / "bots", "ai", {"start": 'TALK "Ask me."\n'},
             config=f"llm-url,{lab_llm.url}\nllm-model,{lab_llm.model}\nllm-key,{lab_llm.key}\n")
    with jupyterlab(root, root / "bots") as running:
        yield running


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy_example_bots(tmp_path / "bots")
    (tmp_path / "data").mkdir()
    return tmp_path


def start_kernel(project: Path, kernel_name: str, env: dict[str, str] | None = None
                 ) -> tuple[KernelManager, BlockingKernelClient]:
    """A kernel in `project` on its embedded database (or on the storage `env` names)."""
    if env is None:
        env = gb_environ(project / "bots", project / "data", JPY_SESSION_NAME="test.ipynb")
    return kernels.start_kernel(kernel_name, env, project)


@pytest.fixture
def kernel(project: Path, gb_kernelspec: str) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start_kernel(project, gb_kernelspec)
    yield km, kc
    kernels.stop_kernel(km, kc)


@dataclass
class Run:
    reply: dict[str, Any]
    stdout: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    displays: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    comms: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.reply["content"]["status"])


def run(kc: BlockingKernelClient, code: str, *, allow_stdin: bool = False, stdin: list[str] | None = None,
        timeout: float = 60, interrupt_after: float | None = None, km: KernelManager | None = None,
        answer_stdin: bool = True) -> Run:
    """Execute a cell and collect what it printed, displayed and raised, until the kernel is idle."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    out = Run(reply={})
    answers = list(stdin or [])
    deadline = time.monotonic() + timeout
    interrupted = False
    idle = False
    while time.monotonic() < deadline and not (idle and out.reply):
        if allow_stdin:
            try:
                req = kc.get_stdin_msg(timeout=0.05)
                out.prompts.append(req["content"]["prompt"])
                if answer_stdin:
                    kc.input(answers.pop(0) if answers else "\x04")
            except queue.Empty:
                pass
        if interrupt_after is not None and not interrupted and time.monotonic() > deadline - timeout + interrupt_after:
            assert km is not None
            km.interrupt_kernel()
            interrupted = True
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            msg = None
        if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
            t, c = msg["msg_type"], msg["content"]
            if t == "stream" and c["name"] == "stdout":
                out.stdout += c["text"]
            elif t == "execute_result":
                out.results.append(c)
            elif t == "display_data":
                out.displays.append(c)
            elif t == "error":
                out.errors.append(c)
            elif t.startswith("comm_"):
                out.comms.append(msg)
            elif t == "status" and c["execution_state"] == "idle":
                idle = True
        if not out.reply:
            try:
                r = kc.get_shell_msg(timeout=0.01)
                if r["parent_header"].get("msg_id") == msg_id:
                    out.reply = r
            except queue.Empty:
                pass
    assert out.reply, f"no reply to {code!r} within {timeout} s; printed so far: {out.stdout!r}"
    return out
