"""Checking the audit log (kinlink.store.audit): every chain walked, entry by entry, against its links, its
keyed hashes and its head, and against an anchor (each chain's head kept outside the database)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.store.audit_hash import MAIN_CHAIN, REKEY_ACTION, REKEY_ENTITY, entry_hash, legacy_entry_hash
from kinlink.store.models import AuditEntry, AuditHead


def entry_count(session: Session) -> int:
    """Entries in all chains."""
    return sum(n for n, _ in heads(session).values())


def heads(session: Session) -> dict[int, tuple[int, str | None]]:
    """Each chain's head (entry count, last hash), by chain: to be kept outside the database as an anchor."""
    rows = session.execute(select(AuditHead.id, AuditHead.entries, AuditHead.hash).order_by(AuditHead.id))
    return {r.id: (r.entries, r.hash) for r in rows}


def format_anchor(chains: Mapping[int, tuple[int, str | None]]) -> str:
    """COUNT:HASH of chain 1, then ,N=COUNT:HASH of every other chain that has entries."""
    main = chains.get(MAIN_CHAIN, (0, None))
    parts = [f"{main[0]}:{main[1] or ''}"]
    parts += [f"{c}={n}:{h or ''}" for c, (n, h) in sorted(chains.items()) if c != MAIN_CHAIN and n]
    return ",".join(parts)


def parse_anchor(anchor: str) -> dict[int, tuple[int, str]]:
    """The chains' heads an anchor holds (chain 1's alone in one printed before there were chains)."""
    usage = "an anchor is COUNT:HASH[,CHAIN=COUNT:HASH...] as printed by `kinlink audit anchor`"
    out: dict[int, tuple[int, str]] = {}
    for i, part in enumerate(anchor.strip().split(",")):
        chain, eq, head = part.strip().rpartition("=")
        if (i == 0) == bool(eq) or (eq and not chain.isdigit()):
            raise ValueError(usage)  # chain 1's head first, unnamed; every other named
        c = int(chain) if eq else MAIN_CHAIN
        count, sep, last_hash = head.partition(":")
        empty = count == "0" and not last_hash  # a chain 1 without entries
        if c in out or not sep or not count.isdigit() or not (len(last_hash) == 64 or empty):
            raise ValueError(usage)
        out[c] = (int(count), last_hash.lower())
    return out


class _Chain:
    """What `verify` knows of one chain as it walks it."""

    __slots__ = ("anchored", "keyed", "legacy", "n", "prev")

    def __init__(self) -> None:
        self.prev: str | None = None
        self.n = 0
        self.legacy = 0
        self.keyed = False
        self.anchored = False


def verify(session: Session, anchor: str | None = None) -> list[str]:
    """Walk every chain; return the problems found (empty when intact). With an anchor (from
    `format_anchor`), each chain must also still hold the head it names as its COUNT-th entry."""
    want = parse_anchor(anchor) if anchor is not None else None
    problems: list[str] = []
    chains: dict[int, _Chain] = {}
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(5000):
        chain = e.chain
        at = chains.get(chain)
        if at is None:
            at = chains[chain] = _Chain()
        where = "" if chain == MAIN_CHAIN else f" (chain {chain})"
        at.n += 1
        if e.prev_hash != at.prev:
            problems.append(f"entry {e.id}{where}: previous hash does not match entry before it (deleted?)")
        fields = (e.prev_hash, e.at, e.actor, e.action, e.entity, e.entity_id, e.changes)
        if hmac.compare_digest(entry_hash(*fields, e.credential, chain), e.hash):
            if not at.keyed and at.legacy and (e.action, e.entity) != (REKEY_ACTION, REKEY_ENTITY):
                problems.append(f"entry {e.id}: unkeyed entries before it are not closed by a rekey entry")
            at.keyed = True
        elif chain == MAIN_CHAIN and not at.keyed and legacy_entry_hash(*fields) == e.hash:
            at.legacy += 1  # only chain 1 is old enough to hold unkeyed entries
        else:
            problems.append(
                f"entry {e.id}{where}: content does not match its hash (edited, or not this key?)"
            )
        anchored = want.get(chain) if want is not None else None
        if anchored is not None and at.n == anchored[0]:
            at.anchored = True
            if e.hash != anchored[1]:
                problems.append(
                    f"entry {e.id}{where}: the anchored head {anchored[0]}:{anchored[1]} is no longer in"
                    " the chain"
                )
        at.prev = e.hash
    found = heads(session)
    for chain in sorted(found.keys() | chains.keys() | (want or {}).keys()):
        at = chains.get(chain) or _Chain()
        where = "the chain" if chain == MAIN_CHAIN else f"chain {chain}"
        if at.legacy and not at.keyed:
            problems.append(f"the chain's {at.legacy} entries are unkeyed and no rekey entry closes them")
        anchored = want.get(chain) if want is not None else None
        if anchored is not None and not at.anchored and anchored[0] > 0:
            problems.append(
                f"{where} has {at.n} entries, fewer than the anchor's {anchored[0]} (entries removed)"
            )
        if chain not in found:
            problems.append(f"{where} has {at.n} entries but no head (its head removed?)")
            continue
        entries, last = found[chain]
        if last != at.prev or entries != at.n:
            head_of = "chain head" if chain == MAIN_CHAIN else f"chain {chain}'s head"
            problems.append(f"{head_of} says {entries} entries ending {last}, found {at.n} ending {at.prev}")
    return problems
