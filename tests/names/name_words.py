"""Real name words for the names library's property tests: Russian and Ukrainian names (Faker's tables),
their romanisations by five conventions (iuliia), and the case and homoglyph variants people type."""

from __future__ import annotations

import faker
import iuliia
from hypothesis import strategies as st

_RU = faker.Faker("ru_RU").provider("faker.providers.person")
_UK = faker.Faker("uk_UA").provider("faker.providers.person")
SCHEMES = [iuliia.ICAO_DOC_9303, iuliia.BGN_PCGN, iuliia.GOST_779, iuliia.WIKIPEDIA, iuliia.MVD_310_FR]
NAME_WORDS = frozenset(
    {*_RU.last_names_male, *_RU.last_names_female, *_RU.first_names, *_RU.middle_names, *_UK.last_names}
    | set(_UK.first_names)
)


def as_typed(draw: st.DrawFn, w: str) -> str:
    """The word as written, romanised, in capitals or lower case, cut to an initial, or with Latin
    look-alikes typed into it."""
    how = draw(st.integers(0, 6))
    if how == 1:
        w = draw(st.sampled_from(SCHEMES)).translate(w)
    elif how == 2:
        w = w.upper()
    elif how == 3:
        w = w.lower()
    elif how == 4:
        w = w[0] + "."
    elif how == 5:  # a Latin look-alike typed into a Cyrillic word
        w = w.replace("о", "o").replace("е", "e").replace("Р", "P")
    elif how == 6:
        w = draw(st.sampled_from(SCHEMES)).translate(w).upper()
    return w
