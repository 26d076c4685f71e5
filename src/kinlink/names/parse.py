"""Parsing a person's name as written into family name, given name(s), patronymic, initials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kinlink.names.caching import WORD_CACHE
from kinlink.names.cases import CaseReading, nominative, read_as_written, word_facts_now
from kinlink.names.frozen import quick_init
from kinlink.names.gendered import patronymic_of
from kinlink.names.given import given_forms, given_sex, is_known_given_name
from kinlink.names.language import (
    _given_language,
    _language_bits,
    _language_of,
    _letters,
    _sex,
    _told_by_letters,
)
from kinlink.names.order import (  # noqa: F401  (FAMILY_FIRST, GIVEN_FIRST, UNKNOWN: read from here too)
    FAMILY_FIRST,
    GIVEN_FIRST,
    UNKNOWN,
    TokenFacts,
    assign_parts,
    fathered,
    has_family_suffix,
)
from kinlink.names.script import (
    MIXED,
    SCRIPT_OF_FLAGS,
    clean_text,
    fix_homoglyphs,
    script_flags,
)


@quick_init
@dataclass(frozen=True, slots=True)
class ParsedName:
    original: str
    family: str | None
    given: tuple[str, ...]
    patronymic: str | None
    initials: tuple[str, ...]
    script: str
    language: str | None
    sex: str | None
    # How the order was told: "family_first" (registry style), "given_first" (press style) or
    # "unknown" when nothing in the name settled it (compare() then also tries the other way).
    order: str = UNKNOWN
    # The grammatical case the name was written in when not the nominative ("gent", "datv", "accs",
    # "ablt", "loct"; see `kinlink.names.cases`), and each declined word as (written, nominative): the
    # parts above are the nominative forms.
    case: str | None = None
    written: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.family or self.given or self.patronymic or self.initials)


# Titles and forms of address that are not part of the name.
_TITLES = frozenset(
    [
        "г-н",
        "г-жа",
        "гн",
        "гжа",
        "тов",
        "товарищ",
        "гражданин",
        "гражданка",
        "гр",
        "пан",
        "пані",
        "панна",
        "добродій",
        "добродійка",
        "спадар",
        "спадарыня",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "herr",
        "frau",
        "mme",
        "mlle",
        "monsieur",
        "madame",
        "pan",
        "pani",
        "domnul",
        "doamna",
        "dl",
        "dna",
        "sr",
        "sra",
        "signor",
        "signora",
        "sig",
    ]
)
_INITIALS = re.compile(r"^(?:[^\W\d_]{1,2}\.){1,3}$|^[^\W\d_]$")


@lru_cache(maxsize=WORD_CACHE)
def _tok(tok: str) -> TokenFacts:
    if _is_initial(tok):
        return tok, True, False, False, False, _language_bits(tok)
    return (
        tok,
        False,
        is_known_given_name(tok),
        patronymic_of(tok, strict=True) is not None,
        _is_upper_word(tok),
        _language_bits(tok),
    )


def _tokens(text: str) -> tuple[list[TokenFacts], bool, str]:
    """Name tokens, whether a comma put the family name first ("Paktishev, Leonid"), and the script of
    the text (as `detect_script` tells it, from each word's letters: a comma has none)."""
    if "," in text:
        head, _, tail = text.partition(",")
        family_first = bool(head.strip() and tail.strip() and " " not in head.strip())
        text = head + " " + tail
    else:
        family_first = False
    out: list[TokenFacts] = []
    flags = 0
    for word in text.split():
        toks, f = _raw_word(word)
        out += toks
        flags |= f
    return out, family_first, SCRIPT_OF_FLAGS[flags]


@lru_cache(maxsize=WORD_CACHE)
def _raw_word(raw: str) -> tuple[tuple[TokenFacts, ...], int]:
    """The name tokens of one whitespace-separated word, and its script facts."""
    return tuple([_tok(t) for t in _token_parts(raw)]), script_flags(raw)


_PARTS = re.compile(r"[^\W\d_]+\.?|[-'][^\W\d_]+")


@lru_cache(maxsize=WORD_CACHE)  # per word as written: names share their words, and this runs for each
def _token_parts(raw: str) -> tuple[str, ...]:
    """The name tokens one whitespace-separated word gives (none for a title or stray marks)."""
    tok = fix_homoglyphs(raw.strip('()[]"«»„“”;:'))
    if not tok or tok.lower().strip(".") in _TITLES:
        return ()
    if tok.isalpha():
        # Letters only (nearly every word): `_PARTS` finds the whole word, one token (a letter is a word
        # character and no digit), which has no full stop to strip (issue 19).
        return (tok,)
    # "Л.А." and "L.A." are two initials; "Л.Андреевич" is an initial and a word.
    parts = _PARTS.findall(tok)
    if len(parts) > 1 and all(p.endswith(".") for p in parts[:-1]) and not ("-" in tok and "." not in tok):
        out = tuple(parts)
    else:
        out = (tok if tok.endswith(".") and len(tok) <= 3 else tok.strip("."),)
    return tuple(t for t in out if t.strip(".-'"))


@lru_cache(maxsize=WORD_CACHE)
def _is_initial(tok: str) -> bool:
    return bool(_INITIALS.match(tok)) and (tok.endswith(".") or len(tok) == 1)


@lru_cache(maxsize=WORD_CACHE)
def _is_upper_word(tok: str) -> bool:
    if tok[1:].islower():
        # A letter after the first in lower case (nearly every word): not all its letters are capitals.
        return False
    letters = [c for c in tok if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


@lru_cache(maxsize=131072)
def parse_name(text: str) -> ParsedName:
    """Parse a name as written: "ПАКТЫШЕВ Леонид Андреевич", "Leonid Paktishev",
    "Paktishev, Leonid", "Пактышев Л.А.", "Пактышев"."""
    # The ordinary registry name (family, given name, patronymic) from what its words' shape already
    # settled, else in full: the same parse either way (`plain_parse`; issue 19).
    return plain_parse(text) or parse_in_full(text)


def parse_in_full(text: str) -> ParsedName:
    """`parse_name` worked out step by step, whatever the name's shape."""
    original = text
    toks, comma_first, script, initials, facts, words, declined = _read(text)
    family, given, patronymic, order = assign_parts(facts, comma_first)
    if initials and words:
        strs = [t[0] for t in toks]
        if strs.index(initials[0]) > strs.index(words[0]):
            order = FAMILY_FIRST if family == words[0] else order
    lang = _language_of(*_letters(toks, script), given)
    sex = _sex(family, given, patronymic)
    if declined is not None and sex is None:
        sex = "m" if declined.gender == "masc" else "f"
    p = _new(ParsedName)
    _set_original(p, original)
    _set_family(p, family)
    _set_given(p, given)
    _set_patronymic(p, patronymic)
    _set_initials(p, tuple([_initial_form(i) for i in initials]))
    _set_script(p, script)
    _set_language(p, lang)
    _set_sex(p, sex)
    _set_order(p, order)
    _set_case(p, declined.case if declined is not None else None)
    _set_written(
        p,
        tuple([(w, n) for w, n in zip(declined.written, declined.words, strict=True) if w != n])
        if declined is not None
        else (),
    )
    return p


def name_language(text: str) -> str | None:
    """`parse_name(text).language`, without the rest of the parse: a name whose parts a row gives is parsed
    only for its language, and its given names are told only when the letters leave it open (issue 19).
    An ordinary name of three plain words takes its shape's language (`plain_parse`'s, what its parse gives),
    a look-up a word rather than the steps below (100,000 new names of known words: 0.53 -> 0.16 CPU-s)."""
    plain = _plain_shape(text)
    if plain is not None:
        return plain[0][1]
    toks, comma_first, script, _initials, facts, _words, _declined = _read(text)
    bits, script = _letters(toks, script)
    given = () if _told_by_letters(bits, script) else assign_parts(facts, comma_first)[1]
    return _language_of(bits, script, given)


def _read(
    text: str,
) -> tuple[list[TokenFacts], bool, str, list[str], list[TokenFacts], list[str], CaseReading | None]:
    """A name's tokens, whether a comma put the family first, its script, its initials, the facts of its
    other tokens and their words, in the nominative, and its declension (when it was declined)."""
    toks, comma_first, script = _tokens(clean_text(text))
    initials = [t[0] for t in toks if t[1]]
    facts = [t for t in toks if not t[1]] if initials else toks
    words = [t[0] for t in facts]
    # A declined name ("Андрія Петровича Мельника") is read in the nominative before its parts are told.
    declined = nominative(tuple(words))
    if declined is not None:
        swap = dict(zip(declined.written, declined.words, strict=True))
        toks = [_tok(swap.get(t[0], t[0])) for t in toks]
        words = list(declined.words)
        facts = [_tok(w) for w in words]
    return toks, comma_first, script, initials, facts, words, declined


# A ParsedName is built a slot at a time: its frozen dataclass __init__ sets each field through
# object.__setattr__ (1.6 µs, a sixth of a parse of known words; issue 19). Slots, not a __dict__: one object
# for the garbage collector to walk, not two, in the caches that hold parsed names.
_new = object.__new__
_set_original = ParsedName.original.__set__
_set_family = ParsedName.family.__set__
_set_given = ParsedName.given.__set__
_set_patronymic = ParsedName.patronymic.__set__
_set_initials = ParsedName.initials.__set__
_set_script = ParsedName.script.__set__
_set_language = ParsedName.language.__set__
_set_sex = ParsedName.sex.__set__
_set_order = ParsedName.order.__set__
_set_case = ParsedName.case.__set__
_set_written = ParsedName.written.__set__


@lru_cache(maxsize=4096)
def _initial_form(tok: str) -> str:
    return tok.rstrip(".") + "."


# --- the ordinary three-word name, parsed from its shape --------------------------------------------
#
# A registry's full names are nearly all new, their words are not (issue 19: 865,000 distinct names of a
# million records, 166,000 distinct words). `parse_in_full` reads a name of three plain words through its
# steps, 12-15 µs a name of known words, yet each step reads a word only through a few facts of its own
# (`_tok`'s, its script, `cases`' first look at it, whether it ends like a family name, and for the given
# name's and the patronymic's place whether and how it reads as a patronymic, a given name's sex and
# language). So the parse is worked out once a shape (the three words' facts), where it holds whatever the
# letters: the words are family name, given name and patronymic in turn, the declension analysis stops at
# the facts (`read_as_written`), the script is one, and the given name or the patronymic tells the sex. Each
# other name of that shape is built from it with its own words; any other name is parsed in full.

# A word's facts (as every step of a three-word parse may read them), numbered: a shape's key is three
# numbers, which hash in one step.
_FACTS: dict[tuple[Any, ...], int] = {}
# (the family name's, the given name's and the patronymic's facts' numbers) -> the parts their parse gives
# besides the words themselves (script, language, sex, order), or None: parsed in full.
_SHAPES: dict[tuple[int, int, int], tuple[Any, ...] | None] = {}
_MAX_SHAPES = 2**16  # emptied when full: a bound for a long-lived process, far above a registry's shapes
_UNSEEN = object()


def _numbered(facts: tuple[Any, ...]) -> int:
    return _FACTS.setdefault(facts, len(_FACTS))


# The per-word steps below, past their caches: a plain word's facts are worked out in one pass and cached
# once, as its `_family_word` or `_other_word` (issue 19: a family word first met asked ~18 cached functions
# of about a microsecond each, each hashing the word and adding an entry that only this pass read).
_token_parts_now = _token_parts.__wrapped__
_is_initial_now = _is_initial.__wrapped__
_is_upper_now = _is_upper_word.__wrapped__
_language_bits_now = _language_bits.__wrapped__
_given_forms_now = given_forms.__wrapped__
_patronymic_now = patronymic_of.__wrapped__
_family_suffix_now = has_family_suffix.__wrapped__


def _plain_word(raw: str) -> tuple[str, tuple[Any, ...]] | None:
    """A word's token and its facts as a family name's are read (`_raw_word`'s token facts and script flags,
    `_word_facts`, `has_family_suffix`), each step as those functions take it, none through their caches;
    None for a word that is not one plain token (an initial, a title, "Л.Андреевич")."""
    parts = _token_parts_now(raw)
    if len(parts) != 1:
        return None
    word = parts[0]
    if _is_initial_now(word):
        return None
    return word, (
        # `_tok`'s facts of a token that is not an initial
        False,
        bool(_given_forms_now(word)),
        _patronymic_now(word, True) is not None,
        _is_upper_now(word),
        _language_bits_now(word),
        script_flags(raw),
        *word_facts_now(word)[1:],
        _family_suffix_now(word),
    )


@lru_cache(maxsize=WORD_CACHE)
def _family_word(raw: str) -> tuple[str, int] | None:
    """A word's token and the number of its facts as a family name's are read; None for a word that is not
    one plain token (an initial, a title, "Л.Андреевич")."""
    plain = _plain_word(raw)
    if plain is None:
        return None
    word, facts = plain
    return word, _numbered(("f", *facts))


@lru_cache(maxsize=WORD_CACHE)
def _other_word(raw: str) -> tuple[str, int] | None:
    """`_family_word` for the given name's and the patronymic's place, whose facts are read further: as a
    patronymic (`patronymic_of`, its sex, a father's name), a given name's sex and language."""
    plain = _plain_word(raw)
    if plain is None:
        return None
    word, facts = plain
    patronymic = patronymic_of(word)
    more = (
        patronymic is not None,
        patronymic.sex if patronymic is not None else None,
        fathered(word),
        given_sex(word),
        _given_language(word),
    )
    return word, _numbered(("o", *facts, *more))


def plain_parse(text: str) -> ParsedName | None:
    """`parse_in_full(text)` for a name of three plain words whose shape's parse is known to hold for any
    words of the same facts; None for any other (the caller parses it in full)."""
    plain = _plain_shape(text)
    if plain is None:
        return None
    shape, family, given, patronymic = plain
    return _build(text, family, given, patronymic, shape)


def _plain_shape(text: str) -> tuple[tuple[Any, ...], str, str, str] | None:
    """The shape's parse of a name of three plain words (script, language, sex, order) and its words as
    family name, given name and patronymic; None where the name is parsed in full."""
    cleaned = clean_text(text)
    words = cleaned.split(" ")
    if len(words) != 3 or "," in cleaned:
        return None
    family = _family_word(words[0])
    given = _other_word(words[1])
    patronymic = _other_word(words[2])
    if family is None or given is None or patronymic is None:
        return None
    key = (family[1], given[1], patronymic[1])
    shape = _SHAPES.get(key, _UNSEEN)
    if shape is _UNSEEN:
        shape = _shape(text, family[0], given[0], patronymic[0])
        if shape is _UNSEEN:  # two of its words are spelt alike: which part came from which is not told
            return None
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[key] = shape
    if shape is None:
        return None
    return shape, family[0], given[0], patronymic[0]


def _shape(text: str, family: str, given: str, patronymic: str) -> Any:
    """The script, language, sex and order every name of this shape parses to, with its words as family name,
    given name and patronymic in turn; None where the parse is not that or may read the words further than
    their facts. Each step is `parse_in_full`'s, as it reads a name of three plain tokens and no comma."""
    words = (family, given, patronymic)
    if len(set(words)) < 3:
        return _UNSEEN
    toks = [_tok(w) for w in words]
    flags = 0
    for raw in clean_text(text).split(" "):
        flags |= _raw_word(raw)[1]
    script = SCRIPT_OF_FLAGS[flags]
    # The declension analysis must stop at the words' facts, and the script come from the words' flags (a
    # mixed one is told from the letters themselves).
    if script == MIXED or not read_as_written(words):
        return None
    # `assign_parts` reads three tokens through their facts, `patronymic_of`, `fathered` and
    # `has_family_suffix`.
    if assign_parts(toks, False)[:3] != (family, (given,), patronymic):
        return None
    order = assign_parts(toks, False)[3]
    # The family name's sex counts only where the given name and the patronymic do not tell one.
    sex = _sex(None, (given,), patronymic)
    if sex is None:
        return None
    shape = (script, _language_of(*_letters(toks, script), (given,)), sex, order)
    # Held to the full parse of the name it was worked out from (a safeguard: the steps above are its own).
    if parse_in_full(text) != _build(text, family, given, patronymic, shape):
        return None
    return shape


def _build(text: str, family: str, given: str, patronymic: str, shape: tuple[Any, ...]) -> ParsedName:
    # Slot by slot, as parse_in_full builds it (the frozen dataclass's __init__ costs as much again).
    script, language, sex, order = shape
    p = _new(ParsedName)
    _set_original(p, text)
    _set_family(p, family)
    _set_given(p, (given,))
    _set_patronymic(p, patronymic)
    _set_initials(p, ())
    _set_script(p, script)
    _set_language(p, language)
    _set_sex(p, sex)
    _set_order(p, order)
    _set_case(p, None)
    _set_written(p, ())
    return p
