"""Clusters: the records taken to be one person, from the record-to-record links that matching found and
caseworkers confirmed or rejected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.matching.cluster import Link, cluster
from kinlink.matching.model import Model
from kinlink.store.audit import AuditLog
from kinlink.store.models import utcnow
from kinlink.store.tracing_models import MatchCandidate, PersonCluster


def recluster(session: Session, log: AuditLog, model: Model) -> int:
    """Rewrite the clusters from the record-to-record links; returns how many clusters there are."""
    links = [
        Link(a, b, p, state, cid)
        for cid, a, b, p, state in session.execute(
            select(
                MatchCandidate.id,
                MatchCandidate.left_person_id,
                MatchCandidate.person_id,
                MatchCandidate.probability,
                MatchCandidate.state,
            ).where(MatchCandidate.left_person_id.is_not(None))
        )
    ]
    clusters = cluster(links, model.cluster_threshold)
    wanted: dict[int, tuple[int, list]] = {}
    for c in clusters:
        for m in c.members:
            ev = [
                [lk.b if lk.a == m else lk.a, lk.probability, lk.ref]
                for lk in c.evidence
                if m in (lk.a, lk.b)
            ]
            wanted[int(m)] = (int(c.id), ev)  # type: ignore[call-overload]
    have = {pc.person_id: pc for pc in session.scalars(select(PersonCluster))}
    for pid, pc in have.items():
        if pid not in wanted:
            session.delete(pc)
            log.add("delete", "person_cluster", pid, {"cluster_id": pc.cluster_id})
    for pid, (cid, ev) in wanted.items():
        pc = have.get(pid)
        if pc is None:
            session.add(PersonCluster(person_id=pid, cluster_id=cid, evidence=ev))
            log.add("create", "person_cluster", pid, {"cluster_id": cid})
        elif pc.cluster_id != cid or pc.evidence != ev:
            log.add("update", "person_cluster", pid, {"cluster_id": [pc.cluster_id, cid]})
            pc.cluster_id, pc.evidence, pc.updated_at = cid, ev, utcnow()
    session.flush()
    return len(clusters)


def cluster_of(session: Session, person_id: int) -> list[int]:
    """The records taken to be the same person as this one (itself included)."""
    cid = session.scalar(select(PersonCluster.cluster_id).where(PersonCluster.person_id == person_id))
    if cid is None:
        return [person_id]
    return sorted(session.scalars(select(PersonCluster.person_id).where(PersonCluster.cluster_id == cid)))
