"""A name given as its parts, joined by spaces: its script and language from facts of each part.

An import's rows mostly give a name as family name, given names and patronymic, and their joined full name
is nearly always new while its parts repeat (issue 19: 100,000 rows, 3,000 family names). `detect_script`
and `name_language` of the joined name each walked its text, 3 µs a name; here each distinct part is read
once and a name's answers are put together from its parts' facts, exactly as the whole text would give them:

- the script: `detect_script` tells a text's script from three facts each a search of its characters (which
  of Cyrillic, Latin and other letters appear), so a text's facts are its parts' or-ed (`script_flags`), a
  space between them adding none;
- the language: `name_language` of three plain words is its shape's (`kinlink.names.parse._plain_shape`):
  the words of the cleaned text are the cleaned parts when each is one word (NFC, the apostrophes and the
  spaces are each a character's own business, and a space stops any composition across it), and the
  shape is looked up from their numbered facts. A name of another form, or of a shape not yet worked out,
  goes through `name_language` itself.
"""

from __future__ import annotations

from kinlink.names.parse import _SHAPES, _family_word, _other_word, name_language
from kinlink.names.script import SCRIPT_OF_FLAGS, clean_text, script_flags

# A part's facts: its script flags, and the number of its facts as a family name's word and as a given
# name's or a patronymic's (None where the cleaned part is not one plain word).
PartFacts = tuple[int, int | None, int | None]


def part_facts(part: str) -> PartFacts:
    """The facts of one part of a name (the caller keeps them per distinct part: `registry.record_names`)."""
    cleaned = clean_text(part)
    one_word = bool(cleaned) and " " not in cleaned and "," not in cleaned
    family = _family_word(cleaned) if one_word else None
    other = _other_word(cleaned) if one_word else None
    return (
        script_flags(part),
        family[1] if family is not None else None,
        other[1] if other is not None else None,
    )


def joined_script(*facts: PartFacts) -> str:
    """`detect_script` of the parts joined by spaces."""
    flags = 0
    for f in facts:
        flags |= f[0]
    return SCRIPT_OF_FLAGS[flags]


def joined_language(written: str, family: PartFacts, given: PartFacts, patronymic: PartFacts) -> str | None:
    """`name_language(written)` of a name written as these three parts joined by spaces."""
    key = (family[1], given[2], patronymic[2])
    shape = _SHAPES.get(key) if None not in key else None  # type: ignore[arg-type]
    if shape is not None:
        return shape[1]  # type: ignore[no-any-return]
    return name_language(written)
