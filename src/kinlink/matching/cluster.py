"""Deduplication: records of one person from several sources joined into clusters, the evidence kept.

Connected components over links (confirmed, or above a probability threshold), strongest first, with
cannot-link constraints: a link a caseworker rejected is never bridged by a chain of weaker ones, so two
namesakes stay apart even if a third record resembles both.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Link:
    a: Hashable
    b: Hashable
    probability: float
    state: str = "pending"  # pending | confirmed | rejected
    ref: Hashable | None = None  # e.g. the candidate id


@dataclass
class Cluster:
    members: set[Hashable] = field(default_factory=set)
    evidence: list[Link] = field(default_factory=list)

    @property
    def id(self) -> Hashable:
        return min(self.members)  # type: ignore[type-var]


def cluster(links: Iterable[Link], threshold: float = 0.95) -> list[Cluster]:
    """Clusters of two or more members, in order of their lowest member."""
    links = list(links)
    parent: dict[Hashable, Hashable] = {}
    members: dict[Hashable, set[Hashable]] = {}
    cannot: dict[Hashable, set[Hashable]] = {}  # root -> members that its members must not join

    def find(x: Hashable) -> Hashable:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for lk in links:
        if lk.state == "rejected":
            for x, y in ((lk.a, lk.b), (lk.b, lk.a)):
                find(x)
                members.setdefault(x, {x})
                cannot.setdefault(x, set()).add(y)

    def forbidden(ra: Hashable, rb: Hashable) -> bool:
        ma, mb = members.get(ra, {ra}), members.get(rb, {rb})
        ca = set().union(*(cannot.get(m, set()) for m in ma))
        return bool(ca & mb)

    accepted: list[Link] = []
    ordered = sorted(
        (
            lk
            for lk in links
            if lk.state == "confirmed" or (lk.state == "pending" and lk.probability >= threshold)
        ),
        key=lambda lk: (lk.state != "confirmed", -lk.probability),
    )
    for lk in ordered:
        ra, rb = find(lk.a), find(lk.b)
        if ra == rb:
            accepted.append(lk)
            continue
        if forbidden(ra, rb):
            continue
        parent[rb] = ra
        members[ra] = members.get(ra, {ra}) | members.pop(rb, {rb})
        accepted.append(lk)

    out: dict[Hashable, Cluster] = {}
    for lk in accepted:
        root = find(lk.a)
        c = out.setdefault(root, Cluster(members=set(members.get(root, {root}))))
        c.evidence.append(lk)
    return sorted((c for c in out.values() if len(c.members) > 1), key=lambda c: c.id)  # type: ignore[arg-type,return-value]
