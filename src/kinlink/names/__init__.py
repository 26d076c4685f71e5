"""kinlink.names: one person, every spelling.

Parsing, transliteration-aware comparison and blocking keys for personal names written in
Cyrillic (Russian, Ukrainian, Belarusian) and in the Latin renderings used by passports,
libraries and the press of several languages. Pure functions and data tables; the only I/O is
reading ``data/given_names.tsv`` once.
"""

from kinlink.names.blocking import BlockingIndex, blocking_keys, typo_keys
from kinlink.names.cases import load_dictionaries
from kinlink.names.compare import (
    MATCH_THRESHOLD,
    NameComparison,
    compare,
    has_part,
    labelled,
    settled_key,
    settled_parts,
)
from kinlink.names.compare_parts import (
    LEVELS,
    PartComparison,
    compare_family,
    compare_given,
    compare_patronymic,
    family_level,
)
from kinlink.names.given import canonical_given, given_forms, is_known_given_name
from kinlink.names.parse import ParsedName, parse_name
from kinlink.names.script import detect_script
from kinlink.names.translit import readings, skeleton

__all__ = [
    "LEVELS",
    "MATCH_THRESHOLD",
    "BlockingIndex",
    "NameComparison",
    "ParsedName",
    "PartComparison",
    "blocking_keys",
    "canonical_given",
    "compare",
    "compare_family",
    "compare_given",
    "compare_patronymic",
    "detect_script",
    "family_level",
    "given_forms",
    "has_part",
    "is_known_given_name",
    "labelled",
    "load_dictionaries",
    "parse_name",
    "readings",
    "settled_key",
    "settled_parts",
    "skeleton",
    "typo_keys",
]
