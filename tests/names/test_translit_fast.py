"""A convention's reading split into a regex and a `str.translate` table (issue 19) reads every
token as the plain alternation of its rules does: same phonemes, same evidence score."""

from __future__ import annotations

import re
from operator import add

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.convention import COMMON_RULES, Convention, _evidence_weight
from kinlink.names.script import token_script
from kinlink.names.translit import _CYRILLIC_PHONEMES, CONVENTIONS, _script_of


def reference_read_scored(conv: Convention, token: str) -> tuple[str, int]:
    """The straightforward reading: one alternation of all rules, earliest rule winning at a position."""
    rx = re.compile("|".join(f"({p})" for p, _ in conv.rules))
    outs = [o for _, o in conv.rules]
    weights = [0 if r in COMMON_RULES else _evidence_weight(r[0]) for r in conv.rules]
    hits = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal hits
        i = m.lastindex - 1  # type: ignore[operator]
        hits += weights[i]
        return outs[i]

    return rx.sub(repl, token), hits


# Every letter any rule names, the vowels of the context rules, a few others, and the digraphs
# and longer spellings the rules read (so that they meet and overlap often).
_RULE_LETTERS = sorted(
    {ch for conv in CONVENTIONS for pattern, _ in conv.rules for ch in pattern if ch.isalpha() or ch in "'-"}
)
_SPELLINGS = sorted({p for conv in CONVENTIONS for p, _ in conv.rules if len(p) > 1 and p.isalpha()})
tokens = st.lists(
    st.sampled_from([*_RULE_LETTERS, "a", "e", "o", "r", "x", "ʹ", "1"]) | st.sampled_from(_SPELLINGS),
    max_size=8,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(tokens)
def test_fast_reading_equals_reference(token: str) -> None:
    letters, pairs = set(token), set(map(add, token, token[1:]))
    for conv in CONVENTIONS:
        expected = reference_read_scored(conv, token)
        assert conv.read_scored(token) == expected, conv.code
        assert conv.read_known(token, letters, pairs) == expected, conv.code


def test_reference_examples() -> None:
    for token in ("shchukin", "schtschukin", "kudriavtsev", "ciascin", "ilinicina", "boutiagine", "aphanova"):
        for conv in CONVENTIONS:
            assert conv.read_scored(token) == reference_read_scored(conv, token), (conv.code, token)


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        st.sampled_from([*_CYRILLIC_PHONEMES, "a", "e", "x", "ʼ", "’", "1", " ", "Ж", "ß", "α"]), max_size=10
    )
)
def test_script_shortcut_equals_token_script(token: str) -> None:
    """A word of Cyrillic letters is told Cyrillic without the general scan, as the scan tells it."""
    assert _script_of(token) == token_script(token)
