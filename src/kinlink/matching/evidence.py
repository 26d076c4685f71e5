"""What a caseworker reads about a scored pair, as messages (`kinlink.messages`): each field's evidence, the
probability in words, and what would tell namesakes apart. Pure; each door renders the messages in its
reader's language.

The level texts and field labels of the model (`model.json`) are message ids too: `kinlink.i18n.extract`
hands them to the catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from kinlink.matching.model import Comparison
from kinlink.messages import Message, Translate, from_data, message_id, say

# --- one field's evidence -----------------------------------------------------------------------------------

NOT_KNOWN = {
    # (the person sought has it, the record found has it) -> what is said
    (False, False): message_id("not known on either side"),
    (False, True): message_id("not given for the person sought (only the record has it)"),
    (True, False): message_id("not in the record found (only the person sought has it)"),
    # Both have it in a form the name comparison leaves uncompared: a patronymic's initial beside a given
    # name's, on both sides ("Иванов Л. А." and "Л. А. Иванов").
    (True, True): message_id("on both sides, but only in forms that are not compared (initials alone)"),
}


def missing(sought_has: bool, found_has: bool) -> Message:
    """A field that is not compared, saying which side lacks it."""
    return Message(NOT_KNOWN[(sought_has, found_has)])


@lru_cache(maxsize=65_536)  # every explained birth or date comparison reads two; birth years repeat
def range_text(r: tuple[int, int]) -> str:
    """A day range as the partial date it stands for: 1993, 1993-05, 1993-05-07, or first..last."""
    a, b = date.fromordinal(r[0]), date.fromordinal(r[1])
    if a == b:
        return a.isoformat()
    if a.month == 1 and a.day == 1 and b.month == 12 and b.day == 31:
        return str(a.year) if a.year == b.year else f"{a.year}..{b.year}"
    if a.year == b.year and a.month == b.month and a.day == 1 and date.fromordinal(r[1] + 1).day == 1:
        return f"{a.year:04d}-{a.month:02d}"
    return f"{a.isoformat()}..{b.isoformat()}"


@lru_cache(maxsize=1024)  # a model's levels: a few dozen texts
def _level_said(level_text: str) -> Message:
    # One (frozen) Message a level, shared by every hit that reaches it: a batch's workers then pickle it
    # once per task's results, not once a hit (issue 19).
    return Message(level_text)


def level_message(
    c: Comparison, level_text: str, feats: Mapping[str, Any], count: int | None, population: int
) -> Message:
    """A compared field: the level's text, with what was compared and how common the value is."""
    said = _level_said(level_text)
    reason = feats.get("reason")
    if isinstance(reason, Message):  # what was compared: a name's reading, two marks, two heights...
        said = say("%(evidence)s (%(detail)s)", evidence=said, detail=reason)
    elif c.comparator in ("birth", "date") and "a" in feats:
        said = say(
            "%(evidence)s (%(sought)s / %(found)s)",
            evidence=said,
            sought=range_text(feats["a"]),
            found=range_text(feats["b"]),
        )
    if count is not None and population:
        said = say(
            "%(evidence)s; %(count)s of %(population)s records share it",
            evidence=said,
            count=count,
            population=population,
        )
    return said


# --- the probability in words ----------------------------------------------------------------------------

# Bands of the match probability, highest first: a caseworker reads words before a number, and no number
# is shown as certain. The bands and their bounds are the scale of expressions of likelihood of the US
# Intelligence Community Directive 203 (Analytic Standards, 2015), which analysts of many agencies use.
BANDS: tuple[tuple[float, str], ...] = (
    (0.95, message_id("almost certainly the same person")),
    (0.80, message_id("very likely the same person")),
    (0.55, message_id("likely the same person")),
    (0.45, message_id("as likely as not the same person")),
    (0.20, message_id("unlikely to be the same person")),
    (0.05, message_id("very unlikely to be the same person")),
    (0.0, message_id("a remote chance of being the same person")),
)


def probability_band(p: float) -> Message:
    """The probability in words, with the number: to one decimal below 99 %, never 100 %."""
    band = next(text for floor, text in BANDS if p >= floor)
    if p >= 0.99:
        return say("%(band)s (over 99 %%)", band=Message(band))
    if p < 0.001:
        return say("%(band)s (under 0.1 %%)", band=Message(band))
    return say("%(band)s (%(percent)s %%)", band=Message(band), percent=f"{100 * p:.1f}")


# --- what would tell namesakes apart ---------------------------------------------------------------------


def either(labels: Sequence[str]) -> Message:
    """ "a, b or c" of some message ids."""
    if len(labels) == 1:
        return Message(labels[0])
    if len(labels) == 2:
        return say("%(a)s or %(b)s", a=Message(labels[0]), b=Message(labels[1]))
    return say("%(a)s, %(rest)s", a=Message(labels[0]), rest=either(labels[1:]))


def namesakes_note(count: int, telling: Sequence[str]) -> Message:
    """Only a family name was given and `count` records bear it: say so, and which fields would tell them
    apart (labels, most telling first)."""
    if not telling:
        return say("only a family name was given, and %(count)s records bear it", count=count)
    return say(
        "only a family name was given, and %(count)s records bear it: %(fields)s would tell them apart",
        count=count,
        fields=either(list(telling)),
    )


# --- reading back what was stored ------------------------------------------------------------------------


def stored_message(entry: Mapping[str, Any]) -> Message:
    """The message of one stored explanation entry ({"level", "weight", "text", "message"}); an entry
    written before messages were stored gives its English text."""
    return from_data(entry.get("message")) or Message(str(entry.get("text", "")))


def rendered_explanation(
    explanation: Mapping[str, Mapping[str, Any]], translate: Translate | None = None
) -> dict[str, dict[str, Any]]:
    """A stored explanation with each message's text filled in (English, or by `translate`); the entries'
    English "text" stays as it was."""
    return {
        field: {**entry, "message": stored_message(entry).to_json(translate)}
        for field, entry in explanation.items()
    }
