"""A transliteration convention: rules read as an alternation scanned left to right, the earliest
rule matching at a position winning, computed as a `str.translate` of the single letters plus a
regex for the few longer or context rules (issue 19: a Latin word is read under 16 conventions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    code: str
    label: str
    rules: tuple[tuple[str, str], ...]  # (regex, phonemes), earlier wins at a position
    # A variant reading applied only to tokens this regex finds in (Italian "sc" as щ).
    only_if: str = ""

    def __post_init__(self) -> None:
        weights = tuple(0 if r in COMMON_RULES else _evidence_weight(r[0]) for r in self.rules)
        regex_rules, outs, rx_weights, table = _split_rules(self.rules, weights)
        # "(?!)" matches nowhere: a convention all of whose rules are single letters.
        rx = re.compile("|".join(f"({p})" for p in regex_rules) or "(?!)")
        pairs, lone = _regex_needs(regex_rules)
        object.__setattr__(self, "_rx", rx)
        object.__setattr__(self, "_out", outs)
        object.__setattr__(self, "_weights", rx_weights)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_pairs", pairs)
        object.__setattr__(self, "_lone", lone)
        object.__setattr__(self, "_only_rx", re.compile(self.only_if))

    def read(self, token: str) -> str:
        return self.read_scored(token)[0]

    def read_scored(self, token: str) -> tuple[str, int]:
        """The phonemes, and how much of the spelling this convention's own digraphs explain."""
        if self._rx.search(token) is None:  # type: ignore[attr-defined]  # most tokens: letters read alone
            return token.translate(self._table), 0  # type: ignore[attr-defined]
        return self._read_by_regex(token)

    def _read_by_regex(self, token: str) -> tuple[str, int]:
        """`read_scored`: the regex's rules where it matches, the table elsewhere."""
        rx: re.Pattern[str] = self._rx  # type: ignore[attr-defined]
        table: dict[int, str] = self._table  # type: ignore[attr-defined]
        out: tuple[str, ...] = self._out  # type: ignore[attr-defined]
        weights: tuple[int, ...] = self._weights  # type: ignore[attr-defined]
        hits = 0
        parts: list[str] = []
        pos = 0
        for m in rx.finditer(token):
            start = m.start()
            if start != pos:
                parts.append(token[pos:start].translate(table))
            i = m.lastindex - 1  # type: ignore[operator]
            hits += weights[i]
            parts.append(out[i])
            pos = m.end()
        parts.append(token[pos:].translate(table))
        return "".join(parts), hits

    def read_known(self, token: str, letters: set[str], pairs: set[str]) -> tuple[str, int]:
        """`read_scored` of a token whose letters and adjacent letter pairs are given: where none
        of them starts one of the regex's rules, the regex cannot match and is not run."""
        if pairs.isdisjoint(self._pairs) and letters.isdisjoint(self._lone):  # type: ignore[attr-defined]
            return token.translate(self._table), 0  # type: ignore[attr-defined]
        return self._read_by_regex(token)


# A rule that reads one letter (or one of a class) whatever surrounds it.
_SINGLE = re.compile(r"\[([^\]\\^-]+)\]|([^\\\[\]().*+?$^|{}])")
# The letter a longer or context rule starts with: after an optional lookbehind, one literal or one class.
_LETTER = r"(?:\[([^\]\\^-]+)\]|([^\\\[\]().*+?$^|{}]))"
_FIRST = re.compile(r"(?:\(\?<[=!]\[[^\]]*\]\))?" + _LETTER + r"(?![*+?{])")
# The two letters a rule starts with, the second read or looked ahead at.
_PAIR = re.compile(_FIRST.pattern + r"(?:\(\?=" + _LETTER + r"\)|" + _LETTER + r"(?![*+?{]))")


def _regex_needs(rules: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """What a token must hold for the regex to match in it: one of these letter pairs at the start
    of a rule that has a second letter, or one of these letters for a rule that has none."""
    pairs: set[str] = set()
    lone: set[str] = set()
    for rule in rules:
        pair = _PAIR.match(rule)
        if pair is not None:
            seconds = pair[3] or pair[4] or pair[5] or pair[6]
            pairs.update(a + b for a in pair[1] or pair[2] for b in seconds)
            continue
        first = _FIRST.match(rule)
        if first is None:
            raise ValueError(f"rule {rule!r}: cannot tell the letter it starts with")
        lone.update(first[1] or first[2])
    return frozenset(pairs), frozenset(lone)


def _split_rules(
    rules: tuple[tuple[str, str], ...], weights: tuple[int, ...]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], dict[int, str]]:
    """A convention's rules split: the rules of a regex for what needs one, a `str.translate` table
    for the rest.

    The rules are an alternation scanned left to right, the earliest rule matching at a position
    winning. A single-letter rule without context gets the letters it is the first single rule
    for (a later one never fires on them); such a letter goes to the table unless a later longer
    or context rule may start with it, where it stays in the regex, so that it still wins there.
    A longer rule starting only with letters an earlier single rule takes never fires: dropped.
    Then at every position the regex matches the rule the full alternation would, and where it
    matches nothing the full alternation read one letter by the table (or none, left as is).
    """
    singles: list[str] = []  # per rule: the letters it is the first single rule for
    starts: list[frozenset[str] | None] = []  # per rule: first letters of a longer rule
    taken: set[str] = set()
    table: dict[int, str] = {}
    for (pattern, phonemes), weight in zip(rules, weights, strict=True):
        if "|" in pattern:  # the rules are joined by "|": each must be one alternative
            raise ValueError(f"rule {pattern!r} is an alternation")
        single = _SINGLE.fullmatch(pattern)
        if single:
            if weight:
                raise ValueError(f"single-letter rule {pattern!r} with weight {weight}")
            own = [ch for ch in single[1] or single[2] if ch not in taken]
            taken.update(own)
            table.update((ord(ch), phonemes) for ch in own)
            singles.append("".join(own))
            starts.append(None)
            continue
        first = _FIRST.match(pattern)
        if first is None:
            raise ValueError(f"rule {pattern!r}: cannot tell the letter it starts with")
        letters = frozenset(first[1] or first[2])
        singles.append("")
        starts.append(letters if letters - taken else None)  # None: never fires
    alternatives: list[str] = []
    outs: list[str] = []
    rx_weights: list[int] = []
    for i, (pattern, phonemes) in enumerate(rules):
        if starts[i] is not None:
            alternatives.append(pattern)
        else:
            later = set().union(*(s for s in starts[i + 1 :] if s is not None))
            kept = [ch for ch in singles[i] if ch in later]
            if not kept:
                continue
            alternatives.append("[" + "".join(re.escape(ch) for ch in kept) + "]")
        outs.append(phonemes)
        rx_weights.append(weights[i])
    return tuple(alternatives), tuple(outs), tuple(rx_weights), table


_LOOKAROUND = re.compile(r"\(\?<?[=!][^)]*\)|\$")


def _evidence_weight(pattern: str) -> int:
    """How strongly a rule firing says that its convention wrote the token.

    A digraph or trigraph counts one per extra letter it explains ("schtsch" 6, "sh" 1);
    single letters and context rules (Romance c/g before e/i, s-voicing) count 0.
    """
    core = _LOOKAROUND.sub("", pattern)
    if core.startswith("["):
        return 0
    return max(0, len(core) - 1)


# Letters every convention reads the same way; appended after each convention's own rules.
COMMON_RULES: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("th", "t"), ("ck", "k"), ("qu", "k"), ("q", "k"), ("w", "v"), ("y", "i"),
    ("'", ""), ("-", ""),
)  # fmt: skip
