"""Comparing one name part with another: family names, given names, initials and patronymics, each with its
comparison level and reason (`kinlink.names.compare` combines the parts into a whole name's comparison).

A part's reason is a `kinlink.messages.Message` that leaves the part unnamed ("identical (Гаврилов)")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial

from rapidfuzz.distance import OSA, JaroWinkler

from kinlink.messages import Message, message_id, say
from kinlink.names.caching import WORD_CACHE
from kinlink.names.correspondence import correspondence
from kinlink.names.frozen import quick_init
from kinlink.names.gendered import FamilyForm, family_form, patronymic_of
from kinlink.names.given import LANG_NAMES, GivenForm, given_forms, given_sex, head_form, initial_letters
from kinlink.names.parse import ParsedName
from kinlink.names.script import CYRILLIC
from kinlink.names.spelling import (
    SPELLING_OF,
    best_fuzzy,
    best_similarity,
    common_key,
    norm_token,
    translit_reason,
)
from kinlink.names.translit import readings

# Comparison levels, strongest first. The matching engine uses them as Fellegi-Sunter levels:
# keep the names and meanings stable.
LEVELS: tuple[str, ...] = (
    "exact",  # same spelling (case, ё/е and homoglyphs aside)
    "transliteration",  # same name in another script, romanisation or ru/uk/be orthography
    "equivalent",  # another language's form of the same given name (Алексей/Олексій/Alexis)
    "diminutive",  # a diminutive of the same given name (Лёня/Леонид)
    "gender_form",  # the other sex's form (Иванов/Иванова; Андреевич/Андреевна)
    "fuzzy",  # close spelling, likely a typo
    "initial",  # an initial that fits the full name
    "different",  # the parts disagree
    "missing",  # one side lacks the part
)

LEVEL_SCORES: dict[str, float] = {
    "exact": 1.0,
    "transliteration": 0.97,
    "equivalent": 0.94,
    "diminutive": 0.9,
    "gender_form": 0.8,
    "initial": 0.8,
}

_FUZZY_MIN = {"family": 0.74, "given": 0.85, "patronymic": 0.8}


@quick_init
@dataclass(frozen=True)
class PartComparison:
    score: float
    level: str
    reason: Message


# --- helpers ---------------------------------------------------------------------------------


def _translit_score(a: str, b: str, key: str) -> float:
    """0.97 for the same key by each spelling's most probable reading and the same letters; up
    to 0.02 less when one side needs a less usual convention ("Jarov": Яров, or French Жаров)
    or only the normalisation makes them one (Gostiyev is Гостиев before Гостев, Baranyk
    Бараник before Баранник), so that the likelier of two records ranks first."""
    ra, rb = readings(a), readings(b)
    primary = ra.primary == key == rb.primary
    letters = max(OSA.normalized_similarity(x, y) for x in ra.loose for y in rb.loose)
    return round(LEVEL_SCORES["transliteration"] - 0.01 * (not primary) - 0.01 * (1 - letters), 4)


def _close(a: str, b: str, sim: float) -> Message:
    return say("%(a)s and %(b)s are close (%(similarity)s), maybe a typo", a=a, b=b, similarity=f"{sim:.2f}")


def _differ(a: str, b: str) -> Message:
    return say("%(a)s and %(b)s differ", a=a, b=b)


def _identical(a: str) -> Message:
    return say("identical (%(name)s)", name=a)


def _fuzzy_level(part: str, sim: float) -> str:
    return "fuzzy" if sim >= _FUZZY_MIN[part] else "different"


def _fuzzy(part: str, a: str, b: str, sim: float, same_start: bool = True) -> PartComparison:
    if _fuzzy_level(part, sim) == "different":
        return PartComparison(round(0.3 * sim, 4), "different", _differ(a, b))
    if part == "patronymic":
        # A father's name with a typo still says who the father was.
        return PartComparison(round(0.92 * sim - (0 if same_start else 0.01), 4), "fuzzy", _close(a, b, sim))
    # Scored well below a transliteration: one letter apart is as often another name
    # (Булдаков/Болдаков) as a typo, so a fuzzy part alone never makes a probable match.
    # Typists rarely get the first letter wrong (Pollock and Zamora 1984, the reason for
    # Jaro-Winkler's prefix weight): of two equally close names, the one that begins
    # the same way is the likelier typo (Vrenikova: Верникова before Хренникова).
    score = sim - 0.2 - (0 if same_start else 0.01)
    return PartComparison(round(score, 4), "fuzzy", _close(a, b, sim))


# --- parts -----------------------------------------------------------------------------------


@lru_cache(maxsize=WORD_CACHE)  # asked twice of every new pair of family names
def family_parts(name: str) -> tuple[str, ...]:
    """The family names a double-barrelled one is made of ("Лисенко-Коваль", "Лисенко Коваль")."""
    return tuple(p for p in name.replace("-", " ").split() if p)


# A record's one family name against a double-barrelled one that contains it (Коваль, Лисенко-Коваль): the
# same family name for the matching engine (level "equivalent"), but a name score well below the whole
# double's, below a gender form's: the other name may be another family's, and with the given name alone
# a part must not make a probable name match (bench/names' false-match rate), only a candidate that ranks
# above typos of other names.
_PART_SHARE = 0.74
PART_OF_DOUBLE = message_id("%(part)s is one of the family names in %(name)s")
SAME_DOUBLE = message_id("%(a)s and %(b)s are the same double-barrelled family name")
SAME_DOUBLE_REORDERED = message_id(
    "%(a)s and %(b)s are the same double-barrelled family name, in another order"
)
_STRONG = ("exact", "transliteration", "equivalent")


def _compare_double(a: str, b: str, pa: tuple[str, ...], pb: tuple[str, ...]) -> PartComparison | None:
    """Double-barrelled family names part by part: all parts paired (in either order), or one shared."""
    pairs = {(x, y): compare_family(x, y) for x in pa[:3] for y in pb[:3]}
    if len(pa) == len(pb) == 2:
        for order, (p1, p2) in enumerate(
            (((pa[0], pb[0]), (pa[1], pb[1])), ((pa[0], pb[1]), (pa[1], pb[0])))
        ):
            c1, c2 = pairs[p1], pairs[p2]
            if c1.level in _STRONG and c2.level in _STRONG:
                level = max(c1.level, c2.level, key=LEVELS.index)
                if level == "exact" and not order:
                    return PartComparison(1.0, "exact", _identical(a))
                score = round((c1.score + c2.score) / 2 - 0.01 * order, 4)
                reason = say(SAME_DOUBLE_REORDERED if order else SAME_DOUBLE, a=a, b=b)
                return PartComparison(score, level, reason)
    (x, y), best = max(pairs.items(), key=lambda kv: kv[1].score)
    if best.level in _STRONG:
        part, name = (x, b) if len(pa) < len(pb) else (y, a)
        return PartComparison(
            round(_PART_SHARE * best.score, 4), "equivalent", say(PART_OF_DOUBLE, part=part, name=name)
        )
    if best.level == "gender_form":
        return PartComparison(round(best.score - 0.05, 4), "gender_form", best.reason)
    return None


def _same_or_transliterated(a: str, b: str) -> PartComparison | None:
    """A family name's or patronymic's first two levels: the same word, or one word in two scripts."""
    if norm_token(a) == norm_token(b):
        return PartComparison(1.0, "exact", _identical(a))
    key = common_key(a, b)
    if key is not None:
        return PartComparison(_translit_score(a, b, key), "transliteration", translit_reason(a, b, key))
    return None


@lru_cache(maxsize=262144)
def compare_family(a: str, b: str) -> PartComparison:
    # A pair whose level was just worked out (`family_level`: a search's winner is weighed by its level
    # first, then explained) is made from those steps, not taken through them again (issue 19).
    make = _level_steps.pop((a, b), None)
    return (_family_steps(a, b)[1] if make is None else make)()


@lru_cache(maxsize=262144)
def family_level(a: str, b: str) -> str:
    """`compare_family(a, b).level`, without the score and reason a comparison works out: a search's bound
    weighs a candidate's family name by its level alone, for a dozen candidates a query, most of them met
    for the first time (issue 19)."""
    level, make = _family_steps(a, b)
    if len(_level_steps) >= _LEVEL_STEPS_KEPT:
        _level_steps.clear()
    _level_steps[(a, b)] = make
    return level


# How `family_level`'s latest pairs' comparisons are made (`_family_steps`), for `compare_family` to
# finish: a few thousand pairs, the last searches' (each steps' closure holds what they found).
_level_steps: dict[tuple[str, str], Callable[[], PartComparison]] = {}
_LEVEL_STEPS_KEPT = 4096


def _family_steps(a: str, b: str) -> tuple[str, Callable[[], PartComparison]]:
    """Two family names' level, and how to make their comparison (score and reason), which only
    `compare_family` asks for: one set of steps for both."""
    if norm_token(a) == norm_token(b):
        return "exact", lambda: PartComparison(1.0, "exact", _identical(a))
    key = common_key(a, b)
    if key is not None:
        return "transliteration", lambda: PartComparison(
            _translit_score(a, b, key), "transliteration", translit_reason(a, b, key)
        )
    pa, pb = family_parts(a), family_parts(b)
    if len(pa) > 1 or len(pb) > 1:
        double = _compare_double(a, b, pa, pb)  # rare: made whole
        if double is not None:
            return double.level, lambda: double
    found = correspondence(a, b)
    if found is not None:
        return "transliteration", lambda: _orthography(a, b, *found)
    forms_b = _family_forms(b)
    for fa in _family_forms(a):
        for fb in forms_b:
            # Both through an ending: Вишиваний/Вишивана, Иванов/Иванова; but Гузь and Гузій
            # are two names, not a bare stem and its adjectival form.
            if fa.stem != fb.stem or fa.derived != fb.derived:
                continue
            if fa.sex and fb.sex and fa.sex != fb.sex:
                return "gender_form", partial(_gender_form, *((a, b) if fa.sex == "f" else (b, a)))
            return "transliteration", lambda: PartComparison(
                0.95,
                "transliteration",
                say("%(a)s and %(b)s are Russian and Ukrainian forms of one name", a=a, b=b),
            )
    sim, same_start = best_fuzzy(a, b)
    return _fuzzy_level("family", sim), lambda: _fuzzy("family", a, b, sim, same_start)


@lru_cache(maxsize=WORD_CACHE)
def _family_forms(name: str) -> tuple[FamilyForm, ...]:
    """The family form of each of the name's readings, in their order: a new pair of family names reads
    them for each reading of the other name, and a name's readings and forms never change."""
    return tuple([family_form(key) for key in readings(name).keys])


def _gender_form(feminine: str, masculine: str) -> PartComparison:
    return PartComparison(
        LEVEL_SCORES["gender_form"],
        "gender_form",
        say("%(feminine)s is the feminine form of %(masculine)s", feminine=feminine, masculine=masculine),
    )


def _orthography(a: str, b: str, lang: str, form: str) -> PartComparison:
    """One name in the Belarusian or Ukrainian orthography and in Russian (Шчарбакоў, Щербаков; Корольов,
    Королёв; `correspondence`'s language and form): a convention, scored as the Russian and Ukrainian forms
    of one family name are."""
    return PartComparison(
        0.95, "transliteration", say(SPELLING_OF[lang], form=form, name=b if form == a else a)
    )


def _pick_pair(fa: tuple[GivenForm, ...], fb: tuple[GivenForm, ...]) -> tuple[GivenForm, GivenForm] | None:
    best: tuple[int, GivenForm, GivenForm] | None = None
    for ga in fa:
        for gb in fb:
            if ga.class_id != gb.class_id:
                continue
            rank = (ga.sex != gb.sex) * 4 + (ga.kind == "diminutive") + (gb.kind == "diminutive")
            if best is None or rank < best[0]:
                best = (rank, ga, gb)
    return (best[1], best[2]) if best else None


# "Олексій is the Ukrainian form of Алексей": one message a language, so that each translation can agree
# the adjective with its own word for "form".
_FORM_OF = {
    "ru": message_id("%(form)s is the Russian form of %(name)s"),
    "uk": message_id("%(form)s is the Ukrainian form of %(name)s"),
    "be": message_id("%(form)s is the Belarusian form of %(name)s"),
    "western": message_id("%(form)s is a Western form of %(name)s"),
}


def _equivalence_reason(a: str, b: str, ga: GivenForm, gb: GivenForm) -> Message:
    head = head_form(ga.class_id, ga.sex)
    if ga.kind == "diminutive" and gb.kind == "diminutive":
        return say("%(a)s and %(b)s are both diminutives of %(name)s", a=a, b=b, name=head)
    if ga.kind == "diminutive" or gb.kind == "diminutive":
        dim, full = (a, b) if ga.kind == "diminutive" else (b, a)
        return say("%(diminutive)s is a diminutive of %(name)s", diminutive=dim, name=full)
    if ga.lang == gb.lang:
        return say("%(a)s and %(b)s are forms of one name (%(name)s)", a=a, b=b, name=head)
    if ga.lang == "ru":
        return say(_FORM_OF[gb.lang], form=b, name=a)
    if gb.lang == "ru":
        return say(_FORM_OF[ga.lang], form=a, name=b)
    return say(
        "%(a)s (%(lang_a)s) and %(b)s (%(lang_b)s) are forms of %(name)s",
        a=a,
        b=b,
        lang_a=Message(LANG_NAMES[ga.lang]),
        lang_b=Message(LANG_NAMES[gb.lang]),
        name=head,
    )


MAY_ALSO = message_id("%(reason)s; %(form)s may also stand for %(names)s")


@lru_cache(maxsize=65536)
def _other_names(word: str, chosen: GivenForm) -> tuple[str, ...]:
    """The other names of the same sex a Cyrillic given-name form stands for (none for most forms)."""
    if readings(word).script != CYRILLIC:
        return ()
    classes = {g.class_id for g in given_forms(word) if g.sex == chosen.sex and g.class_id != chosen.class_id}
    return tuple(sorted(head_form(c, chosen.sex) for c in classes))


@lru_cache(maxsize=262144)
def compare_given(a: str, b: str) -> PartComparison:
    if norm_token(a) == norm_token(b):
        return PartComparison(1.0, "exact", _identical(a))
    sa, sb = given_sex(a), given_sex(b)
    sex_conflict = bool(sa and sb and sa != sb)
    key = common_key(a, b)
    if key is not None and not sex_conflict:
        return PartComparison(_translit_score(a, b, key), "transliteration", translit_reason(a, b, key))
    pair = _pick_pair(given_forms(a), given_forms(b))
    if pair is not None:
        ga, gb = pair
        if sex_conflict:
            return PartComparison(
                0.15,
                "different",
                say("%(a)s and %(b)s are the male and female forms of one name", a=a, b=b),
            )
        others = _other_names(a, ga) or _other_names(b, gb)
        if others:
            # A form shared by several names (Олекса: Олександр or Олексій; Слава: Вячеслав, Владислав,
            # Станислав, Ярослав) is weaker evidence than one that names a single name: it never ties
            # with a full or unambiguous counterpart, and counts as a diminutive does.
            form = a if _other_names(a, ga) else b
            reason = say(
                MAY_ALSO, reason=_equivalence_reason(a, b, ga, gb), form=form, names=", ".join(others)
            )
            return PartComparison(round(LEVEL_SCORES["diminutive"] - 0.02, 4), "diminutive", reason)
        # A form of either sex (Саша: Александр or Александра) a little less than one of this sex alone.
        either = (
            0.01 * (sa is None or sb is None) * any(len({g.sex for g in given_forms(x)}) > 1 for x in (a, b))
        )
        if ga.kind == "diminutive" or gb.kind == "diminutive":
            score = round(LEVEL_SCORES["diminutive"] - either, 4)
            return PartComparison(score, "diminutive", _equivalence_reason(a, b, ga, gb))
        score = round(LEVEL_SCORES["equivalent"] - either, 4)
        return PartComparison(score, "equivalent", _equivalence_reason(a, b, ga, gb))
    if sex_conflict:
        return PartComparison(
            0.1, "different", say("%(a)s and %(b)s differ (and are of different sexes)", a=a, b=b)
        )
    if given_forms(a) and given_forms(b):
        # Two different known names: a typo between them is far less likely than two people.
        sim = best_similarity(a, b)
        if sim < 0.88:
            return PartComparison(round(0.3 * sim, 4), "different", _differ(a, b))
        return _fuzzy("given", a, b, sim)
    # A misspelt given name is short: Jaro-Winkler forgives a lost last letter (Hann/Ганна)
    # that an edit ratio on four letters does not.
    return _fuzzy("given", a, b, *best_fuzzy(a, b, JaroWinkler))


def _fold_i(letters: frozenset[str]) -> frozenset[str]:
    return frozenset(c.replace("й", "и") for c in letters)


# An initial that fits only another language's form of the name ("O." for Алексей, as
# Олексій) is weaker than one that fits the name as written.
_INITIAL_VIA_EQUIVALENT = 0.76


@lru_cache(maxsize=65536)
def compare_initial(initial: str, full: str) -> PartComparison:
    """An initial ("Л.", "L.") against a full name or another initial, in any script."""
    direct = initial_letters(initial, False) & initial_letters(full, False)
    if not direct and readings(initial).script == CYRILLIC == readings(full).script:
        # Й and И are one letter across Russian and Ukrainian (Иосифович, Йосипович).
        direct = _fold_i(initial_letters(initial, False)) & _fold_i(initial_letters(full, False))
    if direct:
        return PartComparison(
            LEVEL_SCORES["initial"],
            "initial",
            say("initial %(initial)s fits %(name)s", initial=initial, name=full),
        )
    if initial_letters(initial) & initial_letters(full):
        return PartComparison(
            _INITIAL_VIA_EQUIVALENT,
            "initial",
            say("initial %(initial)s fits another form of %(name)s", initial=initial, name=full),
        )
    return PartComparison(
        0.05, "different", say("initial %(initial)s does not fit %(name)s", initial=initial, name=full)
    )


@lru_cache(maxsize=262144)
def compare_patronymic(a: str, b: str) -> PartComparison:
    same = _same_or_transliterated(a, b)
    if same is not None:
        return same
    pa, pb = patronymic_of(a), patronymic_of(b)
    if pa and pb:
        same_father = bool(pa.fathers & pb.fathers) or pa.stem == pb.stem
        if same_father and pa.sex != pb.sex:
            return PartComparison(
                LEVEL_SCORES["gender_form"],
                "gender_form",
                say("%(a)s and %(b)s are the two sexes' forms of one patronymic", a=a, b=b),
            )
        if same_father:
            return PartComparison(
                LEVEL_SCORES["equivalent"],
                "equivalent",
                say("%(a)s and %(b)s give the same father's name", a=a, b=b),
            )
        if pa.fathers and pb.fathers:
            # Two known fathers' names (Леонтіївна, Леонідівна): as with given names, a typo
            # from one into the other is far less likely than two fathers.
            sim, start = best_fuzzy(a, b)
            if sim < 0.88:
                return PartComparison(
                    round(0.3 * sim, 4),
                    "different",
                    say("%(a)s and %(b)s give different fathers' names", a=a, b=b),
                )
            return _fuzzy("patronymic", a, b, sim, start)
    return _fuzzy("patronymic", a, b, *best_fuzzy(a, b))


# --- whole names -----------------------------------------------------------------------------


def compare_given_part(a: ParsedName, b: ParsedName) -> PartComparison | None:
    if a.given and b.given:
        best: PartComparison | None = None
        for ga in a.given[:2]:
            for gb in b.given[:2]:
                pc = compare_given(ga, gb)
                if best is None or pc.score > best.score:
                    best = pc
        return best
    if a.given and b.initials:
        return compare_initial(b.initials[0], a.given[0])
    if b.given and a.initials:
        return compare_initial(a.initials[0], b.given[0])
    if a.initials and b.initials:
        return compare_initial(a.initials[0], b.initials[0])
    return None


def compare_patronymic_part(a: ParsedName, b: ParsedName) -> PartComparison | None:
    if a.patronymic and b.patronymic:
        return compare_patronymic(a.patronymic, b.patronymic)
    # "Пактышев Л.А." against a full name: the second initial stands for the patronymic.
    if a.patronymic and not b.given and len(b.initials) >= 2:
        return compare_initial(b.initials[1], a.patronymic)
    if b.patronymic and not a.given and len(a.initials) >= 2:
        return compare_initial(a.initials[1], b.patronymic)
    return None
