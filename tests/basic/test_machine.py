"""The machine: suspension, JSON state, resuming after the source changed, budgets, sandbox."""

from __future__ import annotations

import json
import time

import pytest

from gb_basic import (
    BasicRuntimeError,
    BudgetExceeded,
    DialogChanged,
    Finished,
    Machine,
    Suspended,
    UnsupportedKeyword,
    compile_source,
)


def talk(result):
    return [o.text for o in result.outputs]


def roundtrip(state):
    return json.loads(json.dumps(state))


def test_hear_suspends_with_a_request_and_plain_json_state():
    p = compile_source('TALK "Name?"\nHEAR name AS NAME\nTALK "Hi " + name', "d.bas")
    r = Machine(p).run()
    assert isinstance(r, Suspended)
    assert talk(r) == ["Name?"]
    req = r.request
    assert (req.kind, req.line, req.data["var"], req.data["type"]) == ("hear", 2, "name", "NAME")
    assert r.request.describe() == "HEAR name AS NAME, line 2"
    assert roundtrip(r.state) == r.state
    fresh = compile_source('TALK "Name?"\nHEAR name AS NAME\nTALK "Hi " + name', "d.bas")
    r2 = Machine(fresh).run(roundtrip(r.state), "Ann")
    assert isinstance(r2, Finished)
    assert talk(r2) == ["Hi Ann"]


def test_state_keeps_values_of_every_type():
    src = '''
d = DATEADD(NOW(), 1, "day")
l = [1, 2.5, "x", TRUE, NULL, {"a": [1]}]
HEAR x
TALK TYPEOF(d) + " " + YEAR(d) + " " + TOJSON(l)
'''
    p = compile_source(src, "v.bas")
    r = Machine(p).run()
    r2 = Machine(compile_source(src, "v.bas")).run(roundtrip(r.state), "go")
    assert talk(r2)[0].startswith("date 20")
    assert talk(r2)[0].endswith('[1,2.5,"x",true,null,{"a":[1]}]')


def test_suspended_inside_a_sub_called_from_a_loop_resumes_in_a_new_machine():
    src = '''
FOR i = 1 TO 3
  CALL Ask(i)
NEXT
TALK "total " + total
SUB Ask(n)
  HEAR v AS INTEGER WITH "number " + n + "?"
  SET last = v
END SUB
'''
    answers = iter(["10", "20", "30"])
    r = Machine(compile_source(src, "s.bas")).run()
    seen = []
    while isinstance(r, Suspended):
        seen += talk(r)
        if r.request.kind == "hear":
            assert [f["unit"] for f in r.state["frames"]] == ["main", "ask"]
            r = Machine(compile_source(src, "s.bas")).run(roundtrip(r.state), next(answers))
        else:
            r = Machine(compile_source(src, "s.bas")).run(roundtrip(r.state), None)
    seen += talk(r)
    assert seen == ["number 1?", "number 2?", "number 3?", "total "]


WAITING = '''TALK "first"
name = HEAR
TALK "Hi " + name
'''


def suspended(src):
    r = Machine(compile_source(src, "w.bas")).run()
    assert isinstance(r, Suspended)
    return roundtrip(r.state)


def test_resume_continues_when_only_comments_and_lines_moved():
    state = suspended(WAITING)
    changed = "' a new comment\n\n" + WAITING.replace('TALK "first"', 'TALK "first"  \' trailing')
    r = Machine(compile_source(changed, "w.bas")).run(state, "Ann")
    assert talk(r) == ["Hi Ann"]
    assert r.outputs[0].line == 5  # positions come from the new source


def test_resume_continues_when_a_function_off_the_stack_changed():
    src = WAITING + "FUNCTION Twice(x)\n  Twice = x * 2\nEND FUNCTION\n"
    state = suspended(src)
    r = Machine(compile_source(src.replace("x * 2", "x + x"), "w.bas")).run(state, "Ann")
    assert talk(r) == ["Hi Ann"]


def test_resume_refuses_when_the_waiting_code_changed():
    state = suspended(WAITING)
    changed = WAITING.replace('TALK "Hi " + name', 'TALK "Hello " + name\nTALK "extra"')
    with pytest.raises(DialogChanged) as exc:
        Machine(compile_source(changed, "w.bas")).run(state, "Ann")
    assert "dialog changed since it was suspended" in str(exc.value)
    assert "line 2" in str(exc.value)


def test_resume_refuses_when_a_sub_on_the_stack_changed():
    src = 'CALL Ask\nTALK "done"\nSUB Ask\n  HEAR x\n  TALK x\nEND SUB\n'
    state = suspended(src)
    with pytest.raises(DialogChanged, match="FUNCTION/SUB ask"):
        Machine(compile_source(src.replace("TALK x", "TALK x + 1"), "w.bas")).run(state, "1")


def test_a_finished_dialog_cannot_be_resumed():
    r = Machine(compile_source('TALK "x"', "f.bas")).run()
    assert isinstance(r, Finished)
    with pytest.raises(BasicRuntimeError, match="already ended"):
        Machine(compile_source('TALK "x"', "f.bas")).run(r.state, "more")


@pytest.mark.parametrize("src, line", [
    ("x = 0\nDO\n  x = x + 1\nLOOP\n", 2),
    ("i = 0\nWHILE TRUE\n  i = i + 1\nWEND\n", 2),
    ("top:\nx = x + 1\nGOTO top\n", 3),
    ("FOR i = 1 TO 10 STEP 0\n  x = 1\nNEXT\n", 1),
])
def test_step_budget_stops_a_runaway_loop_naming_its_line(src, line):
    """The error names the line of the loop (or GOTO) that ran away."""
    with pytest.raises(BudgetExceeded) as exc:
        Machine(compile_source(src, "loop.bas"), max_steps=100_000).run()
    assert exc.value.line == line
    assert "more than 100,000 steps" in exc.value.headline
    assert exc.value.headline.startswith(f"[loop.bas:{line}:")


def test_step_budget_also_stops_endless_recursion():
    src = "x = F(1)\nFUNCTION F(n)\n  F = F(n + 1)\nEND FUNCTION\n"
    with pytest.raises(BasicRuntimeError) as exc:
        Machine(compile_source(src, "rec.bas"), max_steps=100_000).run()
    assert exc.value.line == 3


def test_wall_time_budget_stops_a_slow_loop():
    src = 'x = ""\nDO\n  x = x & "a"\n  IF LEN(x) > 1000 THEN x = ""\nLOOP\n'
    t0 = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"longer than 0\.3 s"):
        Machine(compile_source(src, "slow.bas"), max_steps=10**12, max_seconds=0.3).run()
    assert time.monotonic() - t0 < 5


def test_budget_is_per_message():
    src = 'FOR k = 1 TO 3\n  FOR i = 1 TO 30000\n    x = i\n  NEXT\n  HEAR y\nNEXT\nTALK "done"'
    p = compile_source(src, "b.bas")
    r = Machine(p, max_steps=50_000).run()
    for _ in range(3):
        r = Machine(p, max_steps=50_000).run(r.state, "go")
    assert talk(r) == ["done"]


def test_unsupported_keyword_fails_only_when_it_runs():
    src = 'TALK "before"\nIF FALSE THEN\n  CREATE SITE "a", "b"\nEND IF\nHEAR x\nCREATE DRAFT "a@b.c", "s", "hi"\n'
    p = compile_source(src, "u.bas")
    assert [w.headline for w in p.warnings] == [
        "[u.bas:3:3] Warning at 'CREATE SITE': keyword CREATE SITE is not supported (line 3)",
        "[u.bas:6:1] Warning at 'CREATE DRAFT': keyword CREATE DRAFT is not supported (line 6)",
    ]
    r = Machine(p).run()
    assert talk(r) == ["before"]
    with pytest.raises(UnsupportedKeyword) as exc:
        Machine(p).run(r.state, "ok")
    assert exc.value.message == "keyword CREATE DRAFT is not supported yet: channel not configured (line 6)"
    assert exc.value.keyword == "CREATE DRAFT"


@pytest.mark.parametrize("expr", ['__import__("os")', 'OPEN("/etc/passwd")', 'EVAL("1")', 'EXEC("x")',
                                  'GLOBALS()', 'GETATTR(x, "__class__")'])
def test_sandbox_python_is_out_of_reach(expr):
    p = compile_source(f"x = {expr}\n", "s.bas")
    with pytest.raises(UnsupportedKeyword, match="is not supported"):
        Machine(p).run()


@pytest.mark.parametrize("src", ['x = "abc"\ny = x.__class__', 'x = [1]\ny = x.__len__',
                                 'x = {"a": 1}\ny = x.__class__.__name__ + "!"'])
def test_sandbox_no_python_attributes(src):
    p = compile_source(src, "s.bas")
    try:
        r = Machine(p).run()
    except BasicRuntimeError as exc:
        assert "has no field" in exc.message
    else:
        assert "class" not in json.dumps(r.variables, default=str)


def test_generated_code_sees_no_python_builtins():
    p = compile_source("x = 1", "n.bas")
    assert set(p.units["main"].fn.__globals__["__builtins__"]) <= {"type", "int", "float", "str", "len", "list",
                                                                    "isinstance"}


def test_requests_are_returned_not_performed():
    src = 'SET a = 1\nb = GET "session.id"\nUSE KB "policies"\nSET_BOT_MEMORY "k", NOW()\nv = GET_BOT_MEMORY("k")\n'
    p = compile_source(src, "r.bas")
    r = Machine(p).run()
    kinds = []
    while isinstance(r, Suspended):
        kinds.append((r.request.kind, r.request.data))
        r = Machine(p).run(roundtrip(r.state), {"get": "sid", "keyword": "mem"}.get(r.request.kind))
    assert [k for k, _ in kinds] == ["set", "get", "keyword", "keyword", "keyword"]
    assert kinds[0][1] == {"name": "a", "value": 1}
    assert kinds[2][1] == {"keyword": "USE KB", "args": ["policies"]}
    assert "$date" in kinds[3][1]["args"][1]  # a date travels as plain JSON
    assert r.variables == {"a": 1, "b": "sid", "v": "mem"}


def test_runtime_error_names_file_line_and_column_with_a_caret():
    p = compile_source('x = 1\n\n  y = x / 0\n', "div.bas")
    with pytest.raises(BasicRuntimeError) as exc:
        Machine(p).run()
    assert exc.value.headline == "[div.bas:3:3] Error: division by zero"
    assert str(exc.value).endswith("    y = x / 0\n      ^")


def test_menu_answer_by_number_and_giving_up_after_three_tries():
    src = 'HEAR c AS "Red", "Green"\nTALK "got " + c\nHEAR n AS INTEGER\nTALK "n is " + n + (n IS NULL)'
    p = compile_source(src, "m.bas")
    r = Machine(p).run()
    assert r.request.data["choices"] == ["Red", "Green"]
    r = Machine(p).run(roundtrip(r.state), "2")
    assert talk(r) == ["got Green"]
    for answer in ["a", "b"]:
        r = Machine(p).run(roundtrip(r.state), answer)
        assert isinstance(r, Suspended) and talk(r) == ["Please enter a whole number, like 42."]
    r = Machine(p).run(roundtrip(r.state), "c")
    assert talk(r) == ["Sorry, I could not understand your answer.", "n is true"]


def test_portuguese_re_ask():
    p = compile_source("HEAR e AS EMAIL", "pt.bas")
    r = Machine(p, language="pt-BR").run()
    r = Machine(p, language="pt-BR").run(r.state, "não é email")
    assert talk(r) == ["Por favor, informe um e-mail válido."]


def test_step_budget_spans_the_requests_of_one_message():
    """A loop that only makes requests (SET, GET) still ends: the budget is per message."""
    p = compile_source("DO WHILE TRUE\n  SET a = 1\n  GET a\nLOOP\n", "req.bas")
    r = Machine(p, max_steps=1_000).run()
    with pytest.raises(BudgetExceeded) as exc:
        for _ in range(10_000):
            r = Machine(p, max_steps=1_000).run(roundtrip(r.state), 1)
    assert exc.value.line in (2, 3)


def test_on_login_is_its_own_entry_point():
    src = 'TALK "main"\nON LOGIN\n  TALK "welcome back"\n  MERGE_SESSION "anon", "user"\nEND\nTALK "end"\n'
    p = compile_source(src, "login.bas")
    r = Machine(p).run()
    assert talk(r) == ["main", "end"]
    r = Machine(p).start("on login")
    assert talk(r) == ["welcome back"]
    assert r.request.data == {"keyword": "MERGE SESSION", "args": ["anon", "user"]}


def test_hear_tries_are_configurable():
    p = compile_source("HEAR n AS INTEGER\nTALK n IS NULL", "t.bas")
    r = Machine(p, hear_tries=1).run()
    r = Machine(p, hear_tries=1).run(r.state, "x")
    assert talk(r) == ["Sorry, I could not understand your answer.", "true"]


def test_tool_params_and_description():
    src = 'PARAM city AS STRING LIKE "Lisbon" DESCRIPTION "The city"\nDESCRIPTION "Weather for a city"\nTALK city'
    p = compile_source(src, "weather.bas")
    assert p.description == "Weather for a city"
    [param] = p.params
    assert (param.name, param.type) == ("city", "STRING")
    assert Machine(p).start(variables={"city": "Porto"}).outputs[0].text == "Porto"
