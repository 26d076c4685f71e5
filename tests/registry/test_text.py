"""The core's one text check (person/text.py), on its own: pure, no database."""

from __future__ import annotations

import pytest

from kinlink.person.text import MAX_DEPTH, TooDeep, describe, json_too_deep, loads_bounded, text_problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Іван\ud800", "contains U+D800, which is not a character of any text (a lone surrogate): remove it"),
        (
            ["ok", {"k": "\udfff"}],
            "contains U+DFFF, which is not a character of any text (a lone surrogate): remove it",
        ),
        (
            "abc\u202egnp.exe",
            "contains a bidirectional control character (U+202E), which can disguise text: remove it",
        ),
        (
            "\u2066x\u2069",
            "contains a bidirectional control character (U+2066), which can disguise text: remove it",
        ),
        ("a\x00b", "contains a control character (U+0000): remove it"),
        ({"\x7f": 1}, "contains a control character (U+007F): remove it"),
    ],
)
def test_text_that_is_not_text_is_described(value: object, expected: str) -> None:
    assert describe(value) == expected


@pytest.mark.parametrize(
    "value", ["Ткаченко\u200f\u200e", "می\u200cخواهم", "क्\u200dष", "line\nline\ttab", None, 3, [1.5]]
)
def test_marks_joiners_and_ordinary_values_pass(value: object) -> None:
    assert describe(value) is None


def test_one_line_text_refuses_inner_breaks_but_not_its_ends() -> None:
    assert describe(" Ivan Petrenko\n", multiline=False) is None
    assert describe("Ivan\nPetrenko", multiline=False) == "contains a control character (U+000A): remove it"
    assert describe("Ivan\tPetrenko", multiline=False) == "contains a control character (U+0009): remove it"
    assert describe("Ivan\x1f", multiline=False) == "contains a control character (U+001F): remove it"


def test_nesting_is_bounded_without_recursion() -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert text_problem(deep) == ("is nested more than %(n)s levels deep", {"n": MAX_DEPTH})
    assert json_too_deep('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": [1]}') is None  # brackets in a string
    assert json_too_deep('{"a": 1, "ev\\u0065nts": ' + "[" * 50_000 + "]" * 50_000 + "}") == "events"
    assert json_too_deep("[" * 21 + "]" * 21) == ""
    assert loads_bounded("[" * 20 + "]" * 20) is not None
    with pytest.raises(TooDeep) as e:
        loads_bounded('{"events": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert e.value.key == "events" and str(e.value) == "is nested more than 20 levels deep"
