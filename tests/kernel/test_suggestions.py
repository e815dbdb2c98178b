"""Suggestions in the notebook: a real gb kernel prints them when they change; the widget's trait
(Python side) and its module's handling of labels (text only)."""

from __future__ import annotations

from pathlib import Path

from gb_kernel.widget import ChatWidget
from tests.kernel.conftest import run

JS = (Path(__file__).parents[2] / "gb_kernel" / "widget.js").read_text(encoding="utf-8")


def test_a_cell_prints_the_suggestions_when_they_change(kernel) -> None:
    _, kc = kernel
    r = run(kc, 'ADD SUGGESTION "products" AS "View products"\nADD SWITCHER "tables" AS "Tables"\nTALK "hello"')
    assert r.status == "ok" and r.stdout == "hello\n(suggestions: View products | Tables)\n"
    r = run(kc, 'TALK "again"')  # the same suggestions: not printed again
    assert r.stdout == "again\n"
    r = run(kc, 'CLEAR SUGGESTIONS\nCLEAR SWITCHERS\nTALK "bye"')
    assert r.stdout == "bye\n(no suggestions)\n"
    r = run(kc, 'SET USER MEMORY "color", "blue"\nREMEMBER "code", 7, "1 hour"\n'
                'x = GET USER MEMORY("color")\ny = RECALL "code"\nTALK x + " " + y')
    assert r.status == "ok" and r.stdout == "blue 7\n"


def test_the_widget_keeps_only_suggestions_with_a_text_and_a_value() -> None:
    widget = ChatWidget(bot="default")
    widget.set_suggestions([{"kind": "context", "text": "View products", "value": "View products", "name": "p"},
                            {"kind": "switcher", "text": "Tables", "value": "Tables", "active": True},
                            {"kind": "text", "text": 3, "value": "3"}, {"text": "no value"}])
    assert widget.get_state()["suggestions"] == [
        {"kind": "context", "text": "View products", "value": "View products"},
        {"kind": "switcher", "text": "Tables", "value": "Tables", "active": True}]


def test_the_widget_module_shows_labels_as_text_and_sends_the_value() -> None:
    assert "innerHTML" not in JS and "insertAdjacentHTML" not in JS
    assert "button.textContent = suggestion.text;" in JS
    assert 'send(suggestion.value)' in JS and '"change:suggestions"' in JS and '"gb-suggestion")' in JS
