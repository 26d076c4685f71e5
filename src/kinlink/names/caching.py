"""How many distinct words the per-word caches of the name functions keep.

A full name is nearly always new (94 % of a registry's are distinct), but its words repeat: the
generated million-record registry of bench/matching holds 166,595 distinct words (47,815 names of the
first 50,000 records share 30,424), and each word is also looked up lower-cased or stripped. Below that
size the caches of a million-record index build or import evict words that come back, and each is
parsed, transliterated and analysed again (issue 19). An entry is a few hundred bytes: the bound is
~100-200 MiB per cache only when a registry really holds that many words.
"""

from __future__ import annotations

WORD_CACHE = 2**19  # 524,288 words
