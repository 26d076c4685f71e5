"""A convention's reading split into a regex and a `str.translate` table (issue 19) reads every
token as the plain alternation of its rules does: same phonemes, same evidence score."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.translit import _COMMON, CONVENTIONS, Convention, _evidence_weight


def reference_read_scored(conv: Convention, token: str) -> tuple[str, int]:
    """The straightforward reading: one alternation of all rules, earliest rule winning at a position."""
    rx = re.compile("|".join(f"({p})" for p, _ in conv.rules))
    outs = [o for _, o in conv.rules]
    weights = [0 if r in _COMMON else _evidence_weight(r[0]) for r in conv.rules]
    hits = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal hits
        i = m.lastindex - 1  # type: ignore[operator]
        hits += weights[i]
        return outs[i]

    return rx.sub(repl, token), hits


# Every letter any rule names, the vowels of the context rules, and a few others.
_RULE_LETTERS = sorted(
    {ch for conv in CONVENTIONS for pattern, _ in conv.rules for ch in pattern if ch.isalpha() or ch in "'-"}
)
tokens = st.text(st.sampled_from([*_RULE_LETTERS, "a", "e", "o", "r", "x", "ʹ", "1"]), max_size=14)


@settings(max_examples=1000, deadline=None)
@given(tokens)
def test_fast_reading_equals_reference(token: str) -> None:
    for conv in CONVENTIONS:
        assert conv.read_scored(token) == reference_read_scored(conv, token), conv.code


def test_reference_examples() -> None:
    for token in ("shchukin", "schtschukin", "kudriavtsev", "ciascin", "ilinicina", "boutiagine", "aphanova"):
        for conv in CONVENTIONS:
            assert conv.read_scored(token) == reference_read_scored(conv, token), (conv.code, token)
