"""Key functions made cheaper (issue 19) give what their plain code gave: `translit._normalised` without its
regex steps but the first, for any loose key (a string of the phonemic alphabet, as `loose_key` leaves
it); `loose_key` in one table; `gendered.family_form` with one test of all endings first; `given_forms` once
for a word's spellings that read alike and share a lower case."""

from __future__ import annotations

import re
from operator import itemgetter

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.gendered import _FAMILY_ENDINGS, family_form
from kinlink.names.given import GivenForm, _table, given_forms
from kinlink.names.translit import _FOLD, _fold_leftovers, _normalised, loose_key, normalise_key, readings

_RUNS = re.compile(r"([^aeou])\1+")
_I_BEFORE_E = re.compile(r"i(?=e)")
_HUSHER_O = re.compile(r"([CSZ])o(va?)$")


def reference_normalised(loose: str) -> str:
    """The steps as they were: a regex each, and the runs collapsed again at the end."""
    s = _RUNS.sub(itemgetter(1), loose)
    s = s.replace("ou", "u")
    s = _I_BEFORE_E.sub("", s).replace("io", "e")
    s = _HUSHER_O.sub(lambda m: m[1] + "e" + m[2], s)
    return _RUNS.sub(itemgetter(1), s)


# The phonemic alphabet, weighted toward the letters the steps act on (vowels, i, the hushers, v).
_LETTERS = "aeiouCSZQxvbgkn"
loose_keys = st.text(alphabet=_LETTERS, max_size=14) | st.lists(
    st.sampled_from(["i", "e", "o", "u", "ie", "io", "ou", "ii", "ov", "ova", "Co", "So", "Zo", "nn", "a"]),
    max_size=8,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(loose_keys)
def test_normalised_as_the_regex_steps(loose: str) -> None:
    assert _normalised(loose) == reference_normalised(loose)


@given(st.text(max_size=12))
def test_normalise_key_of_any_text_as_the_regex_steps(text: str) -> None:
    assert normalise_key(text) == reference_normalised(loose_key(text))


def test_examples() -> None:
    assert _normalised("Sevcenko") == "Sevcenko"
    assert _normalised("gorbaCov") == "gorbaCev"  # Горбачов, Горбачёв
    assert _normalised("gorbacov") == "gorbacov"  # ц is no husher
    assert _normalised("soloviiov") == "solovev"
    assert _normalised("savva") == "sava"


def reference_loose_key(phonemes: str) -> str:
    """`loose_key` as it was: the fold, then a regex dropping all but the phonemic alphabet."""
    return re.sub(r"[^a-zCSZQx]", "", _fold_leftovers(phonemes).translate(_FOLD))


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=16) | st.text(alphabet="abchjkwxyzCHQSXZ'-~ 1äłčś\n", max_size=16))
def test_loose_key_as_fold_then_regex(phonemes: str) -> None:
    assert loose_key(phonemes) == reference_loose_key(phonemes)


def reference_family_form(key: str) -> tuple[str, str | None, bool]:
    for ending, neutral, sex in _FAMILY_ENDINGS:
        if key.endswith(ending) and len(key) > len(ending) + 1:
            return key[: -len(ending)] + neutral, sex, True
    if len(key) > 3 and key[-1] in "ia" and key[-2] not in "aeiou":
        return key[:-1], "m" if key[-1] == "i" else None, True
    return key, None, False


_ENDING_PIECES = ["sk", "ck", "aia", "oi", "ova", "eva", "ina", "ov", "ev", "in", "a", "i", "kovalenk", "o"]


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.sampled_from(_ENDING_PIECES), max_size=4).map("".join)
    | st.text(alphabet="aeiosvnkcd", max_size=9)
)
def test_family_form_as_the_ending_loop(key: str) -> None:
    f = family_form(key)
    assert (f.stem, f.sex, f.derived) == reference_family_form(key)


def reference_given_forms(token: str) -> tuple[GivenForm, ...]:
    """`given_forms` as it was, read from the token's own readings."""
    tok = token.strip('.,;:()[]"')
    if len(tok) < 2:
        return ()
    t = _table()
    r = readings(tok)
    for keys in (r.likely, r.keys):
        found: list[GivenForm] = []
        for key in keys:
            for gf in t.by_key.get(key, ()):
                if gf not in found:
                    found.append(gf)
        if found:
            low = tok.lower()
            found.sort(
                key=lambda g: (g.form.lower() != low, g.kind == "diminutive", t.class_order[g.class_id])
            )
            return tuple(found)
    return ()


_GIVEN = ["Алексей", "Олексій", "Alexei", "Саша", "Michail", "Jan", "Валентин", "Ганна", "Hann", "Ярослава"]
# Given names, cased and stripped otherwise, with Latin look-alikes typed in (a homoglyph mix) or around.
given_tokens = st.builds(
    lambda w, how, extra: (
        (w.upper(), w.lower(), w, "(" + w + ".", w.replace("а", "a").replace("е", "e"))[how] + extra
    ),
    st.sampled_from(_GIVEN),
    st.integers(0, 4),
    st.sampled_from(["", "'", "o", "о", "B", "В", "z"]),
) | st.text(alphabet="AaаBВeеoоpрcсxхIiіЁё'.(", max_size=8)


@settings(max_examples=1000, deadline=None)
@given(given_tokens)
def test_given_forms_as_read_from_the_tokens_own_readings(token: str) -> None:
    assert given_forms(token) == reference_given_forms(token)
