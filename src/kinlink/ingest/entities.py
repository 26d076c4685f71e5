"""Occurrences merged into people: "Михоев" later in a text is the "Вадим Михоев" named before.

A report names someone in full once and by surname after, and their status and attributes are spread over
those sentences; one person must make one sighting. A surname that fits two people goes to the one its
adjectives agree with in gender ("старшему лейтенанту Ведерникову, погибшему"); one that fits nobody is a
person only with a rank, role or age to say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kinlink.ingest.occurrences import Occ
from kinlink.ingest.sentences import PUNCT, Sent
from kinlink.ingest.spans import looks_like_surname


@dataclass
class Entity:
    occs: list[Occ] = field(default_factory=list)

    @property
    def main(self) -> Occ:
        return max(self.occs, key=lambda o: (len(o.tokens), -o.sent))

    def keys(self) -> list[frozenset[str]]:
        return self.main.keys


def _same(o: Occ, e: Entity) -> bool:
    ek = [k for occ in e.occs for k in occ.keys]
    ok = all(any(k & x for x in ek) for k in o.keys)
    if not ok:
        return False
    if len(o.tokens) >= 2 and len(e.main.tokens) >= 2:
        return all(any(k & x for x in o.keys) for k in e.main.keys) or ok
    return True


def _gender_of_parses(parses: list[object]) -> str | None:
    genders = {str(p.tag.gender) for p in parses if p.tag.gender}  # type: ignore[attr-defined]
    genders -= {"neut"}  # "старшему" is masculine or neuter: a person is not neuter
    return genders.pop() if len(genders) == 1 else None


def _context_gender(sent: Sent, o: Occ, lang: str) -> str | None:
    """Gender of the adjectives or participles agreeing with a lone surname ("старшему лейтенанту
    Ведерникову, погибшему"), where the surname alone could be his or his widow's."""
    from kinlink.ingest import morph

    cases = {str(p.tag.case) for p in morph._parses(o.tokens[0], lang) if p.tag.case}
    near = [t.text for t in sent.toks[max(0, o.start - 3) : o.start]][::-1]
    near += [t.text for t in sent.toks[o.end : o.end + 3] if t.text not in PUNCT][:2]
    for w in near:
        agreeing = [
            p
            for p in morph._parses(w.lower(), lang)
            if p.tag.POS in ("ADJF", "PRTF") and str(p.tag.case) in cases and p.tag.number == "sing"
        ]
        gender = _gender_of_parses(agreeing)
        if gender:
            return gender
    return None


def _entity_gender(e: Entity, lang: str) -> str | None:
    from kinlink.ingest import morph

    for lemma in e.main.lemmas:
        named = [
            p for p in morph._parses(lemma, lang) if "Name" in p.tag.grammemes and "nomn" in p.tag.grammemes
        ]
        if named:
            return _gender_of_parses(named)
    return None


def build_entities(
    strong: list[Occ], weak: list[Occ], sents: list[Sent] | None = None, lang: str = "en"
) -> list[Entity]:
    entities: list[Entity] = []
    for o in sorted(strong, key=lambda o: (o.sent, o.start)):
        target = next((e for e in entities if _same(o, e)), None)
        if target is None:
            target = Entity()
            entities.append(target)
        target.occs.append(o)
    for o in weak:
        matches = [e for e in entities if _same(o, e)]
        if len(matches) > 1 and sents is not None and lang in ("ru", "uk"):
            gender = _context_gender(sents[o.sent], o, lang)
            if gender:
                matches = [e for e in matches if _entity_gender(e, lang) == gender] or matches
        if len(matches) == 1:
            matches[0].occs.append(o)
        elif not matches and _weak_can_stand(o):
            entities.append(Entity([o]))
    return entities


def _weak_can_stand(o: Occ) -> bool:
    """A lone surname is a person only with something that says so: a rank, a role, an age."""
    return bool(o.rank or o.role or o.age or o.birth_year) and looks_like_surname(o.tokens[0])
