"""The Jupyter project's protocol suite (jupyter_kernel_test) run against the gb kernel.

Every sample of ``KernelTests`` is set, so none of its tests skips. Four of the suite's tests
check features gb does not have (a stderr stream, a pager payload, the history_request store,
clear_output); for each, the override below says why, runs the suite's own test as soon as its
sample is set, and otherwise checks what the kernel does instead, over the same protocol.

The kernel runs on its own copy of the bots and its own data folder (like ``conftest.start_kernel``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import jupyter_kernel_test as jkt
from jupyter_client.manager import KernelManager, start_new_kernel
from jupyter_kernel_test.msgspec_v5 import validate_message

from tests.helpers.bots import copy_example_bots
from tests.helpers.servers import gb_environ


def _project() -> tuple[tempfile.TemporaryDirectory[str], dict[str, str]]:
    """A temporary project (a copy of bots/ and an empty data/) and the kernel's environment for it."""
    from gb_kernel.kernelspec import install

    install()  # as the gb_kernelspec fixture does, for direct pytest runs
    tmp = tempfile.TemporaryDirectory(prefix="gb-protocol-")
    root = Path(tmp.name)
    copy_example_bots(root / "bots")
    (root / "data").mkdir()
    return tmp, gb_environ(root / "bots", root / "data", JPY_SESSION_NAME="protocol.ipynb")


class InProject:
    """A suite class whose kernel runs in its own temporary project (see _project)."""

    _project_dir: ClassVar[tempfile.TemporaryDirectory[str]]

    @classmethod
    def start(cls, env: dict[str, str], cwd: str) -> None:
        raise NotImplementedError

    @classmethod
    def setUpClass(cls) -> None:
        cls._project_dir, env = _project()
        cls.start(env, cls._project_dir.name)

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            super().tearDownClass()  # type: ignore[misc]
        finally:
            cls._project_dir.cleanup()


class GbKernelProtocolTests(InProject, jkt.KernelTests):
    kernel_name = "gb"
    language_name = "basic"
    file_extension = ".bas"

    code_hello_world = 'TALK "hello, world"'

    # No cell writes stderr on its own: see test_execute_stderr.
    code_stderr = ""

    completion_samples: ClassVar[list[dict[str, Any]]] = [
        {"text": "TAL", "matches": {"TALK", "TALK TO"}},
        {"text": "tal", "matches": {"talk", "talk to"}},  # a lower-case prefix completes in lower case
        {"text": "%v", "matches": {"%vars"}},
        {"text": "x = UPP", "matches": {"UPPER"}},
    ]

    complete_code_samples: ClassVar[list[str]] = [
        'TALK "x"',
        "x = 1 + 2",
        'IF x THEN\n  TALK "a"\nEND IF',
        "FOR i = 1 TO 3\n  TALK i\nNEXT",
        "%vars",
    ]
    incomplete_code_samples: ClassVar[list[str]] = [
        "IF x THEN",
        "FOR i = 1 TO 3",
        "SELECT CASE x",
        'HEAR c AS "a",',
    ]
    invalid_code_samples: ClassVar[list[str]] = ["END IF", "NEXT", "x = = 1"]

    # gb has no pager: see test_pager.
    code_page_something = ""

    code_generate_error = "x = 1 / 0"

    code_execute_result: ClassVar[list[dict[str, str]]] = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"a" + "b"', "result": '"ab"'},
        {"code": 'UPPER("abc")', "result": '"ABC"'},
    ]

    # %vars shows the session's variables (a table in HTML, "name = value" lines in text);
    # on a fresh session its text is "(no variables)". Magics go on the first lines of a cell.
    code_display_data: ClassVar[list[dict[str, str]]] = [
        {"code": "%vars", "mime": "text/plain"},
        {"code": "%vars", "mime": "text/html"},
    ]

    # The kernel keeps no input history (the base Kernel's do_history answers an empty list):
    # see test_history. (%history is something else: the session's chat messages.)
    code_history_pattern = ""
    supported_history_operations = ()

    code_inspect_sample = "HEAR"

    # gb never clears output: see test_clear_output.
    code_clear_output = ""

    @classmethod
    def start(cls, env: dict[str, str], cwd: str) -> None:
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, env=env, cwd=cwd)

    # --- the suite's tests that gb cannot pass as written ----------------------------------------------

    def outputs(self, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self.flush_channels()
        return self.execute_helper(code)

    def test_execute_stderr(self) -> None:
        """No gb cell writes stderr by itself: BASIC has no statement that writes to it (TALK
        and the magics write stdout, failures are ``error`` messages). The kernel's one stderr
        line, "the last cell's changes were not saved", needs another process to change the
        session while a save is in flight, which one code sample cannot do. Instead: a failing
        cell, which makes the dialog runtime log a warning in the kernel process, shows only its
        ``error`` message; the log line does not leak as stderr."""
        if self.code_stderr:
            super().test_execute_stderr()
            return
        for code in (self.code_generate_error, 'TALK "before"\nx = LEN()'):
            with self.subTest(code=code):
                reply, msgs = self.outputs(code)
                self.assertEqual(reply["content"]["status"], "error")
                stderr = [(m["content"]["text"], m["parent_header"].get("msg_id"))
                          for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
                self.assertEqual(stderr, [], "stderr (text, parent msg_id) published while the cell ran")
                self.assertEqual([m["msg_type"] for m in msgs if m["msg_type"] != "stream"], ["error"])

    def test_pager(self) -> None:
        """gb has no pager: help comes from inspect_request (Shift-Tab, test_inspect), and no
        cell returns a ``page`` payload. Instead: the cells that show information (magics) reply
        ok with an empty payload list and put their text in the outputs."""
        if self.code_page_something:
            super().test_pager()
            return
        for code in ("%session", "%vars", "%history", "%bot"):
            with self.subTest(code=code):
                reply, msgs = self.outputs(code)
                self.assertEqual(reply["content"]["status"], "ok")
                self.assertEqual(reply["content"]["payload"], [])
                self.assertGreaterEqual(len(msgs), 1)

    def test_history(self) -> None:
        """gb keeps no input history: the suite's test needs ``tail`` at least (it compares the
        cells it ran with the history), and with no operation supported it only skips. Instead:
        each kind of history_request gets a valid, ok history_reply with no entries."""
        if self.supported_history_operations:
            super().test_history()
            return
        for code in (s["code"] for s in self.code_execute_result):
            self.execute_helper(code)
        requests: list[dict[str, Any]] = [
            {"hist_access_type": "tail", "n": 3},
            {"hist_access_type": "range", "session": 0, "start": 1, "stop": 3},
            {"hist_access_type": "search", "pattern": "*", "n": 3},
        ]
        for request in requests:
            with self.subTest(**request):
                self.flush_channels()
                msg_id = self.kc.history(output=False, raw=True, **request)
                reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
                assert reply is not None
                validate_message(reply, "history_reply", msg_id)
                self.assertEqual(reply["content"]["status"], "ok")
                self.assertEqual(reply["content"]["history"], [])

    def test_clear_output(self) -> None:
        """gb never sends clear_output: a cell's output only grows (a suspended HEAR's
        "waiting for" line stays, and the ``%user`` cell that answers it prints the rest), and
        the ``%chat`` widget updates itself over comm messages. Instead: that conversation,
        over two cells, shows stdout streams only and no clear_output."""
        if self.code_clear_output:
            super().test_clear_output()
            return
        self.kc.allow_stdin = False  # else the HEAR asks the front end (input_request), which the suite never answers
        try:
            for code, expected in (('TALK "Your name?"\nname = HEAR\nTALK "Hi " + name',
                                    "Your name?\n(waiting for HEAR name"),
                                   ("%user Bo", "Hi Bo\n")):
                with self.subTest(code=code):
                    reply, msgs = self.outputs(code)
                    self.assertEqual(reply["content"]["status"], "ok")
                    self.assertEqual({m["msg_type"] for m in msgs}, {"stream"})
                    self.assertTrue("".join(m["content"]["text"] for m in msgs).startswith(expected))
        finally:
            self.kc.allow_stdin = True
        reply, msgs = self.outputs("name")
        self.assertEqual([m["content"]["data"]["text/plain"] for m in msgs], ['"Bo"'])


class GbIopubWelcomeTests(InProject, jkt.IopubWelcomeTests):
    """The suite's other class: ipykernel 7 (the base of gb) greets a new iopub subscriber (JEP 65)."""

    kernel_name = "gb"
    support_iopub_welcome = True

    @classmethod
    def start(cls, env: dict[str, str], cwd: str) -> None:
        """The suite's own test starts the channels and waits for the welcome: the kernel is
        started and answering first (a client of its own), so that the test's subscriber meets no
        "starting" status of a kernel that was still starting (a race on a busy machine)."""
        cls.km = KernelManager(kernel_name=cls.kernel_name)
        cls.km.start_kernel(env=env, cwd=cwd)
        ready = cls.km.client()
        ready.start_channels()
        try:
            ready.wait_for_ready(timeout=60)
        finally:
            ready.stop_channels()
        cls.kc = cls.km.client()
