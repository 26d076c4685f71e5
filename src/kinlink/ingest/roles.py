"""Who may take a status, and which person each status cue in a sentence goes to.

A cue goes to the nearest person allowed to take it. Officials, spokespeople, journalists and public
figures report on others and take none (unless a journalist is the one reported on); a speaker does not
take the statuses of what they report; nobody takes a cue across a named relative; people listed together
share one. Getting this wrong would put the official quoted or the mother who speaks on a casualty list.
"""

from __future__ import annotations

from kinlink.ingest import lexicon
from kinlink.ingest.occurrences import Occ, genitive
from kinlink.ingest.sentences import CONJ, PUNCT, Cue, Sent
from kinlink.ingest.spans import is_cap, role_or_rank_word

STATUS_PRIORITY = {"killed": 6, "released": 5, "captured": 4, "surrendered": 3, "missing": 2, "wounded": 1}
BLOCKING_ROLES = {"official", "spokesperson", "journalist", "public figure"}
_COMPLEMENTIZERS = {"că", "ca", "that", "что", "що", "як", "как", "whether", "dacă"}
_RANK_MODIFIERS = {"junior", "senior", "staff", "master", "lance", "first", "second", "младший", "старший",
                   "молодший", "головний", "гвардии", "гвардії", "ucrainean", "rus"}  # fmt: skip


def assign_roles(sent: Sent, occs: list[Occ], lang: str) -> None:
    for o in occs:
        for c in sent.role_cues:
            before = 0 <= o.start - c.end <= 5
            after = 0 <= c.start - o.end <= 3 and any(t.text == "," for t in sent.toks[o.end : c.start + 1])
            if not (before or after):
                continue
            between = [t.text.lower() for t in sent.toks[c.end : o.start]] if before else []
            if c.kind == "relative":
                # "mama lui Ion", "mother of Ivan", "мать Ивана": the person is the relative's relative.
                if before and (set(between) & {"lui", "of", "a", "al", "ale"} or genitive(o, lang)):
                    continue
                if before and o.start - c.end > 2:
                    continue
            if any(p is not o and p.strong and c.end <= p.start < o.start for p in occs):
                continue  # another person stands between the role word and this one
            if c.kind in ("official", "spokesperson") and _former(sent, c):
                break  # "бывший мэр", "the former mayor": no office, no official's role
            o.role = c.kind
            break
        if any(k & lexicon.PUBLIC_FIGURES for k in o.keys):
            o.role = o.role if o.role in BLOCKING_ROLES else "public figure"
        for c in sent.sources:
            if 0 <= o.start - c.end <= 1:
                o.source = True
        for c in sent.speech:
            others_between = any(p is not o and p.strong and o.end <= p.start < c.start for p in occs)
            if 0 <= c.start - o.end <= 15 and not others_between and not o.possessive:
                if lang in ("ru", "uk") and genitive(o, lang):
                    continue
                o.speaker_at = c.start
                break
            gap = {t.text.lower() for t in sent.toks[c.end : o.start]}
            after = sent.toks[o.end].text if o.end < len(sent.toks) else "."
            if (
                0 <= o.start - c.end <= 2
                and not gap & _COMPLEMENTIZERS
                and c.text.lower() not in ("according to", "potrivit", "conform")
                and (
                    after in PUNCT or after.lower() in CONJ or after.lower() in ("on", "in", "at", "în", "la")
                )
            ):
                # "– написав Валерій Залужний.", "said Ivan Petrov, ..." ends the clause; in "said soldier
                # Callum Reid had been captured" the name begins what was said.
                o.speaker_at = c.start
                break


def _former(sent: Sent, c: Cue) -> bool:
    before = {t.text.lower() for t in sent.toks[max(0, c.start - 2) : c.start]}
    return bool(before & lexicon.FORMER) or sent.toks[c.start].text.lower().startswith(
        lexicon.FORMER_PREFIXES
    )


def _blocked(o: Occ, cue: Cue, sent: Sent) -> bool:
    if o.source:
        return True
    # A journalist or an official reports on others, unless the status is said of them ("Депутат X
    # загинув", "Jurnalistul X a fost rănit"): a status about the person beats the rule of the office.
    if o.role in BLOCKING_ROLES and not (o.role in ("journalist", "official") and _subject_of(o, cue, sent)):
        return True
    if o.speaker_at is not None and cue.start >= o.speaker_at:
        return True  # what a speaker reports is about others
    if (
        o.role == "relative"
        and cue.end <= o.start
        and any(c.kind == "relative" and c.end <= cue.start and o.start - c.end <= 4 for c in sent.role_cues)
    ):
        # "Брат загиблого Іван Данилюк": the brother of the one killed ("Мати полоненого Максима":
        # the genitive name is the captive, and has no relative role)
        return True
    if (
        cue.start >= o.end
        and sent.lang in ("ru", "uk")
        and o.case in ("gent", "accs")
        and any(c.kind == "relative" and 0 <= o.start - c.end <= 2 for c in sent.role_cues)
        and not {t.text.lower() for t in sent.toks[o.end : cue.start]} & lexicon.PRONOUN_OPENERS
    ):
        # "Мама Максима, Наталія, переглядає відео з полоненими": the possessor of a relative noun is
        # not the subject of the clause that follows; only what stands before him ("мати полоненого
        # Максима") is said of him, or a clause with a pronoun for him ("...о его судьбе: он пропал").
        return True
    lo, hi = (cue.end, o.start) if cue.end <= o.start else (o.end, cue.start)
    # "captured soldier's mother Olga Petrova": a named relative between the cue and the person.
    return any(
        c.kind == "relative"
        and lo <= c.start < hi
        and any(is_cap(t.text) for t in sent.toks[c.end : c.end + 2])
        for c in sent.role_cues
    )


_EN_RO_AUX = {"was", "were", "is", "are", "has", "have", "had", "been", "got", "a", "au", "fost", "este",
              "sunt", "s-a", "s-au"}  # fmt: skip
_EN_RO_ADVERBS = {"also", "later", "reportedly", "allegedly", "seriously", "badly", "then", "himself",
                  "herself", "de", "asemenea", "grav", "ulterior", "apoi"}  # fmt: skip


def _subject_of(o: Occ, cue: Cue, sent: Sent) -> bool:
    """The cue is said of this person ("Jurnalistul X, corespondent de război, a fost rănit"): it follows
    closely, with only a description and auxiliaries between, no speech and no clause of its own. A
    parenthetical between commas ("X, the former mayor of Y, was released", "X, якого утримували понад
    рік, звільнений") is skipped: it describes the person, the predicate comes after it."""
    if cue.start < o.end or cue.start - o.end > 30:
        return False
    if any(o.end <= c.start < cue.start for c in sent.speech):
        return False
    gap = [t.text.lower() for t in sent.toks[o.end : cue.start]]
    if gap[:1] == [","] and "," in gap[1:]:
        gap = gap[len(gap) - gap[::-1].index(",") :]
    if len(gap) > 8:
        return False
    if set(gap) & _COMPLEMENTIZERS:
        return False
    if set(gap) & {":", "«", "»", '"', "—", "–"}:
        return False  # "Голова ОВА X: внаслідок обстрілу поранено двох людей": what he says follows
    if sent.lang in ("en", "ro"):
        # Only auxiliaries and adverbs between: "X, 38, was wounded"; "X a participat la înmormântare"
        # has a verb of its own, the status word is its object.
        return len(gap) <= 1 or all(w in _EN_RO_AUX or w in _EN_RO_ADVERBS or w == "," for w in gap)
    from kinlink.ingest import morph

    if len(gap) > 3 or any((p := morph._parses(w, sent.lang)) and p[0].tag.POS == "VERB" for w in gap):
        return False
    # The status word must be his predicate: singular, and a participle in the nominative ("загинув",
    # "звільнений", "освобождён"); "Голова громади X звільненим передав ..." has it in the dative plural.
    head = morph._parses(sent.toks[cue.start].text.lower(), sent.lang)
    if head and head[0].tag.POS in ("VERB", "PRTF", "PRTS", "ADJF", "ADJS"):
        tag = head[0].tag
        if tag.number == "plur" or (tag.POS in ("PRTF", "ADJF") and tag.case not in (None, "nomn")):
            return False
    return True


def _distance(o: Occ, cue: Cue) -> int:
    if cue.end <= o.start:
        return o.start - cue.end
    if cue.start >= o.end:
        return cue.start - o.end
    return 0


def own_cues(sent: Sent, occs: list[Occ]) -> None:
    cues = [c for c in sent.status_cues if not c.negated]
    for ci, c in enumerate(cues):
        cands = [(i, o) for i, o in enumerate(occs) if not _blocked(o, c, sent)]
        if not cands:
            continue
        i, o = min(cands, key=lambda t: (_distance(t[1], c), t[1].start))
        c.owner = i
        o.statuses.append((c.kind, _distance(o, c)))
        o.subject = o.subject or o.role in BLOCKING_ROLES
        del ci
    # People without a cue of their own: a coordinated neighbour's status ("рядовые A и B получили
    # ранения", "рядовой A и ефрейтор B"), else the nearest cue they may take.
    ordered = sorted(occs, key=lambda o: o.start)
    for _ in range(2):
        for k, o in enumerate(ordered):
            if o.statuses or o.role in BLOCKING_ROLES or o.source:
                continue
            for n in (ordered[k + 1] if k + 1 < len(ordered) else None, ordered[k - 1] if k > 0 else None):
                if n is not None and n.statuses and _coordinated(sent, o, n):
                    best = max(n.statuses, key=lambda t: (STATUS_PRIORITY[t[0]], -t[1]))
                    o.statuses.append(best)
                    break
    for o in occs:
        if o.statuses:
            continue
        free = [c for c in cues if c.owner is None and not _blocked(o, c, sent)]
        if free:
            c = min(free, key=lambda c: (_distance(o, c), -STATUS_PRIORITY[c.kind]))
            o.statuses.append((c.kind, _distance(o, c)))
            c.owner = c.owner if c.owner is not None else occs.index(o)


_AUX = {"was", "were", "is", "are", "has", "have", "had", "been", "a", "au", "fost", "este", "sunt", "who",
        "which", "care", "said", "a spus"}  # fmt: skip


_DESCRIBING = {"years", "year", "old", "aged", "de", "ani", "an", "the", "a", "both", "ambii", "amândoi",
               "his", "her", "their", "fellow"}  # fmt: skip


def _coordinated(sent: Sent, a: Occ, b: Occ) -> bool:
    """Two people listed together ("рядовые A и B", "матрос A та прикордонник B"): only conjunctions,
    punctuation and describing nouns between them, no verb, no cue of their own."""
    p, q = sorted((a, b), key=lambda o: o.start)
    gap = sent.toks[p.end : q.start]
    if len(gap) > 6 or not any(t.text.lower() in CONJ for t in gap):
        return False
    if any(p.end <= c.start < q.start for c in [*sent.status_cues, *sent.speech]):
        return False
    for t in gap:
        w = t.text.lower()
        if w in CONJ or w in PUNCT or w.isdigit() or (w in _AUX and sent.lang in ("en", "ro")):
            if w in _AUX:
                return False
            continue
        if sent.lang in ("en", "ro"):
            # No part-of-speech tagger here: only describing words may stand between ("private A and
            # corporal B", "A, 25, and B"); "Tatiana își caută fiul, pe Alexandru" is no list.
            if not (role_or_rank_word(t.text, sent.lang) or w in _DESCRIBING or w in _RANK_MODIFIERS):
                return False
            continue
        if sent.lang in ("ru", "uk"):
            from kinlink.ingest import morph

            parses = morph._parses(w, sent.lang)
            if parses and parses[0].tag.POS in ("VERB", "GRND", "PRTS", "INFN"):
                return False
    return True
