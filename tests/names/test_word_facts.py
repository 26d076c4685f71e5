"""Issue 19: a plain word's facts worked out in one pass (`parse._plain_word`, cached once as its
`_family_word` or `_other_word`) are those the separately cached steps gave; the steps' fast paths
(`_token_parts` of a word of letters, `_is_upper_word`, `family_skeletons` of one name, `_family_keys` of
one skeleton) give what their general code gives.

Each test holds the code as it was and compares both on real name words, their romanisations, case and
homoglyph variants, and random text over the letters and marks a name's words are made of."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.names.name_words import NAME_WORDS, as_typed

from kinlink.names.blocking import (
    _family_keys,
    _pair_keys,
    belarusian_keys,
    family_skeletons,
    given_signatures,
)
from kinlink.names.cases import _CYRILLIC_WORD, _PLAIN_NOMINATIVE, _word_facts
from kinlink.names.gendered import patronymic_of
from kinlink.names.given import given_forms, given_sex, initial_letters
from kinlink.names.language import _given_language
from kinlink.names.order import fathered, has_family_suffix
from kinlink.names.parse import (
    _PARTS,
    _TITLES,
    _family_word,
    _is_upper_word,
    _numbered,
    _other_word,
    _plain_word,
    _raw_word,
    _tok,
    _token_parts,
)
from kinlink.names.script import fix_homoglyphs
from kinlink.names.translit import readings, skeleton

_WORDS = sorted(
    NAME_WORDS
    # Belarusian traits, apostrophes of every kind, a title, double names
    | {"Шчарбакоў", "Marozau", "Сямёнава", "В'ячеслав", "Вʼячеслав", "В’ячеслав", "пан", "Лисенко-Коваль"}
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Letters and marks of names' words, and some that are letters to str.isalpha but odd (ʼ and ʹ are modifier
# letters, ǅ is title case, ß and İ change length in case, ⓐ is a lower-case symbol, ² a digit but not
# decimal).
_ODD = "AaаBВeеoоpрcсxхIiіЁёїўŭčšžłșțäöüßéïñ'’ʼʹ`.-()«»\"ǅİⓐ²1_"


@st.composite
def words(draw: st.DrawFn) -> str:
    w = as_typed(draw, draw(st.sampled_from(_WORDS)))
    odd = draw(st.integers(0, 2))
    if odd == 1:
        w = w + draw(st.sampled_from(_ODD))
    elif odd == 2:
        w = draw(st.sampled_from(_ODD)) + w
    return w


any_word = words() | st.text(alphabet=_ODD, min_size=1, max_size=8) | st.text(min_size=1, max_size=6)


# --- the code as it was ------------------------------------------------------------------------------


def reference_token_parts(raw: str) -> tuple[str, ...]:
    tok = fix_homoglyphs(raw.strip('()[]"«»„“”;:'))
    if not tok or tok.lower().strip(".") in _TITLES:
        return ()
    parts = _PARTS.findall(tok)
    if len(parts) > 1 and all(p.endswith(".") for p in parts[:-1]) and not ("-" in tok and "." not in tok):
        out = tuple(parts)
    else:
        out = (tok if tok.endswith(".") and len(tok) <= 3 else tok.strip("."),)
    return tuple(t for t in out if t.strip(".-'"))


def reference_is_upper_word(tok: str) -> bool:
    letters = [c for c in tok if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


_NOMINATIVE_PATRONYMIC = re.compile(r"(?:вна|чна)$")


def reference_word_facts(word: str) -> tuple[str, bool, bool, bool, bool]:
    """`cases._word_facts` as it was, each question through `given_forms` and a cached function of its own."""
    low = word.lower().replace("’", "'").replace("ʼ", "'")
    if not _CYRILLIC_WORD.match(low):
        return low, False, False, False, False
    plainly = bool(given_forms(low)) or bool(_PLAIN_NOMINATIVE.search(low))
    surely = bool(_NOMINATIVE_PATRONYMIC.search(low)) or (
        not low.endswith(("а", "я", "о"))
        and any(g.sex == "m" and g.kind == "full" and g.form.lower() == low for g in given_forms(low))
    )
    return low, True, plainly, bool(given_forms(low)), surely


def reference_family_facts(raw: str) -> tuple[str, tuple[object, ...]] | None:
    """`_family_word` as it was, before its facts were numbered: through `_raw_word`, `_tok`, `_word_facts`
    and `has_family_suffix`."""
    toks, flags = _raw_word(raw)
    if len(toks) != 1 or toks[0][1]:
        return None
    tok = toks[0]
    word = tok[0]
    return word, ("f", *tok[1:], flags, *reference_word_facts(word)[1:], has_family_suffix(word))


def reference_other_facts(raw: str) -> tuple[str, tuple[object, ...]] | None:
    found = reference_family_facts(raw)
    if found is None:
        return None
    word, facts = found
    p = patronymic_of(word)
    more = (
        p is not None,
        p.sex if p is not None else None,
        fathered(word),
        given_sex(word),
        _given_language(word),
    )
    return word, ("o", *facts[1:], *more)


def reference_family_skeletons(token: str) -> tuple[str, ...]:
    parts = token.replace("-", " ").split()[:2] or [token]
    per_part: list[list[str]] = []
    for part in parts:
        r = readings(part)
        keys = [*(dict.fromkeys((r.primary, *r.likely)) if r.primary else r.likely), *belarusian_keys(part)]
        per_part.append(list(dict.fromkeys(skeleton(key) or "_" + key for key in keys)))
    out: list[str] = []
    for rank in range(3):
        for sks in per_part:
            if rank < len(sks) and sks[rank] not in out:
                out.append(sks[rank])
    return tuple(out[: 3 + len(parts) - 1])


def reference_family_keys(
    fams: tuple[str, ...], givs: tuple[str, ...], inits: frozenset[str]
) -> tuple[str, ...]:
    keys: dict[str, None] = {}
    for i, fs in enumerate(fams):
        keys["f:" + fs] = None
        if givs:
            keys.update(dict.fromkeys(_pair_keys(fs, i < 2, givs)))
        for ini in inits:
            keys[f"i:{fs}|{ini}"] = None
    return tuple(keys)


# --- the tests ---------------------------------------------------------------------------------------


@SETTINGS
@given(any_word)
def test_token_parts_as_the_regex_steps(raw: str) -> None:
    assert _token_parts.__wrapped__(raw) == reference_token_parts(raw)


@SETTINGS
@given(any_word)
def test_is_upper_word_as_its_letters_tell(tok: str) -> None:
    assert _is_upper_word.__wrapped__(tok) == reference_is_upper_word(tok)


@SETTINGS
@given(any_word)
def test_word_facts_as_each_question_asked_alone(word: str) -> None:
    assert _word_facts.__wrapped__(word) == reference_word_facts(word)


@SETTINGS
@given(any_word)
def test_plain_word_facts_as_the_cached_steps_gave_them(raw: str) -> None:
    found = _plain_word(raw)
    family, other = reference_family_facts(raw), reference_other_facts(raw)
    if found is None:
        assert family is None and other is None
        return
    assert family is not None and other is not None
    word, facts = found
    assert (word, ("f", *facts)) == family
    # the cached functions number the facts as they were (one number a set of facts)
    assert _family_word(raw) == (word, _numbered(family[1]))
    assert _other_word(raw) == (other[0], _numbered(other[1]))


@SETTINGS
@given(words())
def test_family_skeletons_as_the_loop_over_parts(token: str) -> None:
    assert family_skeletons.__wrapped__(token) == reference_family_skeletons(token)


@SETTINGS
@given(st.lists(words(), min_size=2, max_size=2).map("-".join))
def test_double_family_skeletons_as_the_loop_over_parts(token: str) -> None:
    assert family_skeletons.__wrapped__(token) == reference_family_skeletons(token)


@SETTINGS
@given(words(), words())
def test_family_keys_as_the_loop(family: str, given_name: str) -> None:
    fams = family_skeletons(family)
    givs = given_signatures(given_name)
    inits = initial_letters(given_name)
    for f, g in ((fams, givs), (fams[:1], givs[:1]), (fams[:1], ()), (fams, ())):
        assert _family_keys.__wrapped__(f, g, inits) == reference_family_keys(f, g, inits)


def test_examples() -> None:
    assert _plain_word("Пактышев") is not None
    assert _plain_word("Л.А.") is None  # two initials
    assert _plain_word("Л.") is None  # an initial
    assert _plain_word("пан") is None  # a title
    assert _token_parts.__wrapped__("Вʼячеслав") == ("В'ячеслав",)
    assert _is_upper_word.__wrapped__("ПАКТЫШЕВ") and not _is_upper_word.__wrapped__("Пактышев")
    assert family_skeletons.__wrapped__("Лисенко-Коваль") == reference_family_skeletons("Лисенко-Коваль")
    assert _tok("Пактышев")[0] == "Пактышев"
