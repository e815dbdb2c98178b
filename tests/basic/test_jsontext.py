"""gb_basic.jsontext: orjson's speed, json's range (what orjson refuses or misreads goes to json)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

import pytest

from gb_basic import jsontext

VALUES: list[Any] = [
    {"name": "Zoë", "n": 3, "x": 1.5, "ok": True, "none": None, "list": [1, [2, {"a": "b"}]]},
    2 ** 70, -(2 ** 63) - 1, 2 ** 63, 12345678901234567890123,  # beyond orjson's 64 bits
    {"k": 10 ** 40, "deep": [[-(10 ** 30)]]},
    "\udc80 lone surrogate", {"\ud800": "key with one"},  # a client's broken UTF-16
    "digits in a text: 12345678901234567890", 0.1, 1e300, -0.0,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_a_value_reads_back_as_it_was(value: Any) -> None:
    assert jsontext.loads(jsontext.dumps(value)) == value
    assert jsontext.loads(jsontext.dumps_bytes(value)) == value
    assert json.loads(jsontext.dumps(value)) == value  # and it is JSON that json reads the same


def test_big_integers_stay_integers() -> None:
    back = jsontext.loads(b'{"a": 1180591620717411303424, "b": [9223372036854775808]}')
    assert back == {"a": 2 ** 70, "b": [2 ** 63]} and type(back["a"]) is int


def test_bytes_are_utf8_and_a_lone_surrogate_is_escaped() -> None:
    assert jsontext.dumps_bytes({"t": "é"}) == '{"t":"é"}'.encode()
    assert jsontext.dumps_bytes("\udc80") == b'"\\udc80"'


def test_what_json_has_no_form_for_goes_to_default_as_with_json() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    when = dt.datetime(2026, 12, 1, 19, 30, tzinfo=dt.UTC)
    data = {"at": when, "id": uuid.UUID(int=7), "p": Point(1)}
    assert jsontext.loads(jsontext.dumps_bytes(data, default=str)) == json.loads(json.dumps(data, default=str))
    with pytest.raises(TypeError):
        jsontext.dumps({"at": when})


def test_not_json_is_a_value_error() -> None:
    for text in ("{", "[1,]", "", "nope"):
        with pytest.raises(ValueError):
            jsontext.loads(text)
