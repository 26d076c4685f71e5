"""Comparing two names part by part, with comparison levels and reasons.

A reason is a `kinlink.messages.Message` (an English message id and its values): each door renders it in
its reader's language. A part's reason leaves the part unnamed ("identical (Гаврилов)"); the whole name's
reasons name it ("family name: identical (Гаврилов)")."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kinlink.messages import Message, message_id, say
from kinlink.names.compare_parts import (
    LEVEL_SCORES,
    PartComparison,
    compare_family,
    compare_given_part,
    compare_patronymic_part,
)
from kinlink.names.parse import UNKNOWN, ParsedName, parse_name

# Weights of the parts in the overall score; parts missing on either side are left out.
WEIGHTS = {"family": 0.5, "given": 0.35, "patronymic": 0.15}

# Scores at or above this are "probably the same name" (used by the CLI and the benchmark to
# count false matches; the matching engine makes its own decision from the levels).
MATCH_THRESHOLD = 0.85


# What each part is called in a reason ("family name: ...").
PART_LABELS: dict[str, str] = {
    "family": message_id("family name"),
    "given": message_id("given name"),
    "patronymic": message_id("patronymic"),
    "order": message_id("order"),
}
LABELLED = message_id("%(part)s: %(reason)s")


def labelled(part: str, reason: Message) -> Message:
    """A part's reason with the part named: "family name: identical (Гаврилов)"."""
    return say(LABELLED, part=Message(PART_LABELS[part]), reason=reason)


@dataclass
class NameComparison:
    score: float
    family: PartComparison | None = None
    given: PartComparison | None = None
    patronymic: PartComparison | None = None
    swapped: bool = False  # True when the best reading took one name's family and given swapped
    a: ParsedName | None = field(default=None, repr=False)
    b: ParsedName | None = field(default=None, repr=False)
    one_sided: tuple[str, ...] = ()  # the parts only one of the names has

    @property
    def is_match(self) -> bool:
        return self.score >= MATCH_THRESHOLD

    @property
    def reasons(self) -> list[Message]:
        """Each part's reason, labelled. Built when asked for, not by `compare`: a matcher compares
        thousands of pairs for each one it explains."""
        parts = (("family", self.family), ("given", self.given), ("patronymic", self.patronymic))
        out = [labelled(name, pc.reason) for name, pc in parts if pc is not None]
        out += [labelled(name, Message(ONLY_IN_ONE)) for name in self.one_sided]
        if self.swapped:
            out.append(labelled("order", Message(READ_SWAPPED)))
        return out


ONLY_IN_ONE = message_id("only in one of the names")
READ_SWAPPED = message_id("read with family and given name the other way round")


def _combine(parts: dict[str, PartComparison | None]) -> float:
    num = den = 0.0
    penalty = 1.0
    fitting: list[tuple[float, float]] = []  # (weight, share of the other parts' score)
    for name, pc in parts.items():
        if pc is None:
            continue
        w = WEIGHTS[name]
        if pc.level == "initial":
            # A fitting initial is weaker than the full part but must not drag the score
            # below a record that lacks the part: it counts at 0.95 of what the other parts
            # say (less when it fits only another language's form of the name).
            fitting.append((w, 0.95 * pc.score / LEVEL_SCORES["initial"]))
            continue
        if name == "patronymic" and pc.level == "fuzzy":
            # A father's name with a typo likewise; at 0.935 it stays above a record without
            # a patronymic (which loses 0.01) and below one whose patronymic agrees.
            fitting.append((w, 0.935))
            continue
        num += w * pc.score
        den += w
        if pc.level == "different":
            penalty *= 0.8
    if fitting:
        base = num / den if den else LEVEL_SCORES["initial"]
        for w, share in fitting:
            num += w * share * base
            den += w
    if den == 0:
        return 0.0
    # Agreement on fewer parts is weaker evidence: a family name alone is not a person.
    coverage = 0.6 + 0.4 * min(1.0, den / (WEIGHTS["family"] + WEIGHTS["given"]))
    return max(0.0, min(1.0, num / den * coverage * penalty))


CASE_NAMES = {
    "gent": message_id("genitive"),
    "datv": message_id("dative"),
    "accs": message_id("accusative"),
    "ablt": message_id("instrumental"),
    "loct": message_id("prepositional"),
}
IN_NOMINATIVE = message_id("%(reason)s; compared in the nominative: %(written)s is the %(case)s of %(name)s")


def _in_nominative(pc: PartComparison | None, p: ParsedName, part: str) -> PartComparison | None:
    """The part's reason saying that it was compared in the nominative, when the name was declined."""
    if pc is None or p.case is None:
        return pc
    value = getattr(p, part)
    words = value if isinstance(value, tuple) else (value,)
    for written, nom in p.written:
        if nom in words:
            reason = say(
                IN_NOMINATIVE, reason=pc.reason, written=written, case=Message(CASE_NAMES[p.case]), name=nom
            )
            return replace(pc, reason=reason)
    return pc


def _compare_parsed(a: ParsedName, b: ParsedName) -> NameComparison:
    fam = compare_family(a.family, b.family) if a.family and b.family else None
    parts = {"family": fam, "given": compare_given_part(a, b), "patronymic": compare_patronymic_part(a, b)}
    if a.case or b.case:  # rare: a name copied from a sentence
        for name in parts:
            parts[name] = _in_nominative(_in_nominative(parts[name], a, name), b, name)
        fam = parts["family"]
    score = _combine(parts)
    one_sided = []
    for name in ("family", "given", "patronymic"):
        if parts[name] is None and has_part(a, name) != has_part(b, name):
            one_sided.append(name)
            # A tie-break more than a penalty: a record that agrees on a part, even loosely,
            # ranks above one that lacks it (ПАКТЫШЕВ Леонид Андреевич above ПАКТЫШЕВ Леонид
            # for a query with the patronymic).
            score = max(0.0, score - 0.01)
    return NameComparison(
        score=round(score, 4),
        family=fam,
        given=parts["given"],
        patronymic=parts["patronymic"],
        a=a,
        b=b,
        one_sided=tuple(one_sided),
    )


def has_part(p: ParsedName, part: str) -> bool:
    """Whether the name has this part (family, given or patronymic), in full or as an initial."""
    if part == "family":
        return p.family is not None
    if part == "given":
        return bool(p.given or p.initials)
    return p.patronymic is not None or (not p.given and len(p.initials) >= 2)


def _swap(p: ParsedName) -> ParsedName:
    return replace(p, family=p.given[0], given=(p.family, *p.given[1:]))  # type: ignore[arg-type]


def settled_parts(a: ParsedName, b: ParsedName) -> dict[str, PartComparison | None] | None:
    """The given-name and patronymic comparisons that `compare(a, b)` will hold, worked out without
    comparing the family names (the costly part, and the one least often cached). Only where the pair
    alone settles them: neither name's order a guess, since `compare` may then read one name the other
    way round. None where it does not. A matcher uses it to bound a pair's score cheaply."""
    if a.order == UNKNOWN or b.order == UNKNOWN:
        return None
    return {"given": compare_given_part(a, b), "patronymic": compare_patronymic_part(a, b)}


def settled_key(p: ParsedName) -> tuple[object, ...]:
    """All that `settled_parts` reads of one side: two pairs whose sides have equal keys settle the same
    parts alike, so a matcher may remember its outcome by these keys (a search's candidates share given
    names and patronymics far more often than whole names)."""
    return (p.order == UNKNOWN, p.given[:2], p.initials[:2], p.patronymic)


def compare(a: str | ParsedName, b: str | ParsedName) -> NameComparison:
    """Similarity of two names in [0, 1] with per-part levels and plain reasons."""
    pa = a if isinstance(a, ParsedName) else parse_name(a)
    pb = b if isinstance(b, ParsedName) else parse_name(b)
    result = _compare_parsed(pa, pb)
    # When one name's order was a guess, the other reading may fit better.
    if (pa.order == UNKNOWN or pb.order == UNKNOWN) and result.score < 0.97:
        alts = []
        if pa.order == UNKNOWN and pa.family and pa.given:
            alts.append((_swap(pa), pb))
        if pb.order == UNKNOWN and pb.family and pb.given:
            alts.append((pa, _swap(pb)))
        for xa, xb in alts:
            alt = _compare_parsed(xa, xb)
            alt_score = round(alt.score - 0.02, 4)
            if alt_score > result.score:
                alt.score = alt_score
                alt.swapped = True
                alt.a, alt.b = pa, pb
                result = alt
    return result
