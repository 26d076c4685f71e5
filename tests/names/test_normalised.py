"""`translit._normalised` without its regex steps but the first (issue 19) gives the key the five regex
steps gave, for any loose key (a string of the phonemic alphabet, as `loose_key` leaves it)."""

from __future__ import annotations

import re
from operator import itemgetter

from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.names.translit import _normalised, loose_key, normalise_key

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
