"""Extraction: sentences -> people named as subjects (sightings) or in other roles (mentions).

Steps, per document, each a module of pure functions:
1. sentences and tokens (razdel), title and list items marked (`sentences`);
2. cues found by pattern (`lexicon`): statuses, roles, speech verbs, military nouns, ranks, units, ages,
   birth years, home regions, places, dates (`sentences`, `attributes`);
3. person spans: pymorphy3 name tags and natasha PER spans (ru/uk), capitalised runs with a known given
   name or a surname shape (ro/en, via the `gazetteer` seam) (`spans`), each made an occurrence with its
   nominative lemmas and match keys (`occurrences`);
4. each status cue is owned by the nearest person allowed to take it: officials, spokespeople, journalists
   and public figures never are; a speaker does not take the cues of what they report; nobody takes a
   cue across a relative noun ("captured soldier's mother Olga") (`roles`);
5. occurrences merge into people ("Михоев" is "Вадим Михоев") (`entities`); a soldier-like person with no
   cue in their own sentence takes a free cue from the sentences around (±2) or from a list's heading
   (here);
6. the status with most weight wins: killed > released > captured > surrendered > missing > wounded (here).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from kinlink.ingest import lexicon
from kinlink.ingest.attributes import (
    attach_attributes,
    nominative_phrase,
    pronoun_attributes,
    pronoun_fits,
    pronoun_led,
)
from kinlink.ingest.dates import DateMention
from kinlink.ingest.entities import Entity, build_entities
from kinlink.ingest.model import ExtractionResult, Mention, Sighting, SourceDocument
from kinlink.ingest.occurrences import Occ, make_occ
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.roles import BLOCKING_ROLES, STATUS_PRIORITY, assign_roles, own_cues
from kinlink.ingest.sentences import Sent, find, prepare, tok_span
from kinlink.ingest.spans import cyr_spans, is_cap, latin_spans

WINDOW = 2
# A phone number, an e-mail address or a handle: a contact line, not a person reported on.
_CONTACT = re.compile(r"\+?\d[\d\s()-]{8,}\d|\S+@\S+\.\w+|(?:^|\s)@\w{4,}")


def extract(
    doc: SourceDocument, lang: str, opts: ExtractOptions | None = None, text: str | None = None
) -> ExtractionResult:
    """Sightings and mentions in one document of a known language (ro/ru/uk/en)."""
    opts = opts or ExtractOptions()
    text = doc.text if text is None else text
    if lang == "ro":  # cedilla forms are common in Romanian web text
        text = text.replace("ş", "ș").replace("ţ", "ț").replace("Ş", "Ș").replace("Ţ", "Ț")
    sents = prepare(text, lang, doc.title or text.split("\n", 1)[0], doc.date)
    has_cue = any(s.status_cues for s in sents)

    spans_by_sent: dict[int, list[tuple[int, int, bool]]] = {}
    for s in sents:
        if lang in ("ru", "uk"):
            spans_by_sent[s.index] = cyr_spans(s, lang, opts, [])
        else:
            spans_by_sent[s.index] = latin_spans(s, lang, opts)
    if lang in ("ru", "uk") and opts.use_natasha and has_cue:
        from kinlink.ingest import morph

        # natasha is the safety net where the dictionaries found no name: sentences near a status cue,
        # with two capitalised words in a row, and no person found by the rules. It costs most of the
        # run time when it runs on every sentence, and added nothing the rules missed on our labels.
        cued = [s.index for s in sents if s.status_cues]
        near = {k for i in cued for k in range(i - WINDOW, i + WINDOW + 1)}
        todo = [
            s
            for s in sents
            if s.index in near
            and not any(strong for _, _, strong in spans_by_sent[s.index])
            and any(_ner_worthy(a.text, b.text, lang, opts) for a, b in itertools.pairwise(s.toks))
        ]
        for s, found in zip(todo, morph.natasha_person_spans([s.text for s in todo]), strict=True):
            ner = [sp for a, b in found if (sp := tok_span(s.toks, a, b))]
            spans_by_sent[s.index] = cyr_spans(s, lang, opts, ner)

    strong: list[Occ] = []
    weak: list[Occ] = []
    per_sent: dict[int, list[Occ]] = {}
    named_after = lexicon.compiled_tail(lexicon.NAMED_AFTER[lang])
    for s in sents:
        occs = []
        for a, b, is_strong in spans_by_sent[s.index]:
            if named_after.search(s.text[: s.toks[a].start]):
                continue  # "улица Александра Невского", "лікарня імені Мечникова": not a person here
            o = make_occ(s, a, b, lang, opts)
            o.strong = is_strong
            (strong if is_strong else weak).append(o)
            occs.append(o)
        assign_roles(s, occs, lang)
        attach_attributes(s, occs, lang, opts, doc.date)
        per_sent[s.index] = occs
        if pronoun_led(s, occs):
            pronoun_attributes(s, [o for o in per_sent[s.index - 1] if o.strong], lang, opts)

    for s in sents:
        if s.list_item:  # "The 47th Brigade published the names of three soldiers missing: • Sgt. A"
            for o in per_sent[s.index]:
                if o.strong and o.unit is None:
                    o.unit = _heading_unit(_list_heading(sents, s.index), per_sent, lang, opts)
    entities = build_entities(strong, weak, sents, lang)
    for e in entities:  # an official stays one where no role word stands beside his name
        blocking = next((o.role for o in e.occs if o.role in BLOCKING_ROLES), None)
        for o in e.occs:
            if blocking and o.role is None:
                o.role = blocking
    in_entity = {id(o) for e in entities for o in e.occs}
    opener = lexicon.compiled(lexicon.ANAPHORIC_OPENERS[lang])
    for s in sents:
        occs = [o for o in per_sent[s.index] if id(o) in in_entity]
        own_cues(s, occs)
        prev_people = [o for o in per_sent.get(s.index - 1, []) if o.strong and id(o) in in_entity]
        if (
            pronoun_led(s, per_sent[s.index])
            and len(prev_people) == 1
            and pronoun_fits(s, prev_people[0], lang)
        ):
            # "Він зник безвісти..." right after a sentence about one person: the cue is theirs.
            o = prev_people[0]
            for c in s.status_cues:
                if c.owner is None and not c.negated and o.role not in BLOCKING_ROLES and not o.source:
                    o.statuses.append((c.kind, 1))
                    o.donors.setdefault(c.kind, set()).add(s.index)
                    c.owner = -1
        head = s.text.lstrip("—–-• ")[:40]
        if s.index > 0 and occs and opener.match(head):
            # "Серед них — матрос X": X is one of those the previous sentence reported on.
            prev = sents[s.index - 1]
            for c in prev.status_cues:
                if c.owner is None and not c.negated:
                    for o in occs:
                        if o.role not in BLOCKING_ROLES and not o.source:
                            o.statuses.append((c.kind, 0))
                            o.donors.setdefault(c.kind, set()).add(prev.index)
    result = ExtractionResult(path=doc.path, language=lang, document=doc)
    for e in entities:
        _finish(e, sents, lang, opts, doc, result)
    return result


def _ner_worthy(a: str, b: str, lang: str, opts: ExtractOptions) -> bool:
    """Two capitalised words in a row, one of them unknown to the dictionary: a name the rules missed?"""
    if not (is_cap(a) and is_cap(b)) or a.isupper() or b.isupper():
        return False
    if not opts.use_morph:
        return True
    from kinlink.ingest import morph

    return any(morph.name_info(w, lang).best in ("unknown", "Name", "Surn", "Patr") for w in (a, b))


def _list_heading(sents: list[Sent], item: int) -> list[Sent]:
    """The sentences before a list, back to the first with a status cue (at most three):
    "Сьогодні звільнено 90 українців. Серед них:" or "Пропала связь с бойцами. Последний выход — 2 октября."
    """
    k = item - 1
    while k >= 0 and sents[k].list_item:
        k -= 1
    out: list[Sent] = []
    while k >= 0 and len(out) < 3:
        out.append(sents[k])
        if any(not c.negated for c in sents[k].status_cues):
            break
        k -= 1
    return out


def _heading_unit(
    heading: list[Sent], per_sent: dict[int, list[Occ]], lang: str, opts: ExtractOptions
) -> str | None:
    """The one unit a list's heading names, when the heading names no person."""
    if any(o.strong for h in heading for o in per_sent.get(h.index, [])):
        return None
    flags = 0 if lang in lexicon.UNIT_CASE_SENSITIVE else re.IGNORECASE
    units = {m.group(0).strip() for h in heading for m, _, _ in find(lexicon.UNIT_PATTERNS[lang], h, flags)}
    if len(units) != 1:
        return None
    return nominative_phrase(units.pop(), lang, opts.use_morph)


def _window_status(e: Entity, sents: list[Sent]) -> tuple[str, list[int]] | None:
    """A free status cue near a soldier-like person with none of their own: (status, donor sentences).

    The nearest sentences win, then the stronger status; every sentence giving that best cue is kept
    as evidence (a caption's "Пленный" line and its "Взят в плен вчера" line).
    """
    found: list[tuple[tuple[int, int, int], str, int]] = []
    for o in e.occs:
        item = sents[o.sent].list_item
        # A list's item is reported on by its heading even if it does not look like a soldier, but then
        # only by the heading right above it; a contact line with nothing of a soldier's ("- Іван,
        # координатор, +380...", under "Якщо знаєте щось про зниклих, пишіть:") is not. A relative
        # ("Супруга офицера Елена") takes only what is said of her in her own sentence.
        if not (o.soldier or item) or o.role in BLOCKING_ROLES or o.source:
            continue
        described = o.rank or o.unit or o.age or o.birth_year
        if item and not described and _CONTACT.search(sents[o.sent].text):
            continue
        if o.role == "relative" and not _own_relative(sents[o.sent], o):
            continue
        donors: list[tuple[int, int, Sent]] = []  # (distance, 0 for the list heading, sentence)
        if item:  # a list inherits its heading's status
            heading = _list_heading(sents, o.sent)
            donors += [(1, 0, h) for h in (heading if o.soldier else heading[:1])]
        for k in range(max(0, o.sent - WINDOW), min(len(sents), o.sent + WINDOW + 1)):
            if k != o.sent and o.soldier:
                donors.append((abs(k - o.sent), 1, sents[k]))
        for dist, heading, d in donors:
            for c in d.status_cues:
                # A heading's status is said of every item, even when its first item took it.
                if not c.negated and (c.owner is None or heading == 0):
                    found.append(((dist, heading, -STATUS_PRIORITY[c.kind]), c.kind, d.index))
    if not found:
        return None
    best = min(f[0] for f in found)
    kind = next(f[1] for f in found if f[0] == best)
    return kind, sorted({f[2] for f in found if f[0] == best})


_FIRST_PERSON = {"my", "our", "мой", "моя", "мои", "моего", "наш", "наша", "наши", "мій", "мого",
                 "наші", "meu", "mea", "nostru", "noastră"}  # fmt: skip


def _own_relative(sent: Sent, o: Occ) -> bool:
    """'Мой сын Артемий', 'fiul meu Ion': the writer's relative, whom an appeal is about, not a relative
    of the person reported on."""
    for c in sent.role_cues:
        if c.kind == "relative" and 0 <= o.start - c.end <= 3:
            near = {t.text.lower() for t in sent.toks[max(0, c.start - 1) : c.end + 1]}
            if near & _FIRST_PERSON:
                return True
    return False


def _finish(e: Entity, sents: list[Sent], lang: str, opts: ExtractOptions, doc: SourceDocument,
            result: ExtractionResult) -> None:  # fmt: skip
    main = e.main
    name = " ".join(_name_case(t) for t in main.lemmas)
    roles = [o.role for o in e.occs if o.role]
    blocking = next((r for r in roles if r in BLOCKING_ROLES), None)
    if blocking in ("journalist", "official") and any(o.subject for o in e.occs):
        blocking = None  # "Jurnalistul X ... a fost rănit", "Депутат X загинув": the one reported on
    direct = [(st, d, o) for o in e.occs for st, d in o.statuses]
    status: str | None = None
    evidence_sents: list[int] = []
    if blocking is None and direct:
        status, _, occ = max(direct, key=lambda t: (STATUS_PRIORITY[t[0]], -t[1]))
        evidence_sents = sorted({occ.sent, *occ.donors.get(status, ())})
    elif blocking is None and opts.use_window:
        found = _window_status(e, sents)
        if found:
            status, donors = found
            occ = next(o for o in e.occs if o.soldier)
            evidence_sents = sorted({occ.sent, *donors})
    if status is None:
        role = blocking or (roles[0] if roles else None)
        if role is None:
            role = "speaker" if any(o.speaker_at is not None or o.source for o in e.occs) else "other"
        first = min(e.occs, key=lambda o: o.sent)
        result.mentions.append(Mention(name, role, main.written, sents[first.sent].text))
        return

    def first(attr: str, only_evidence: bool = False) -> object:
        occs = sorted(e.occs, key=lambda o: o.sent)
        if only_evidence:  # where and when: from the sentences that report the event
            occs = [o for o in occs if o.sent in evidence_sents]
        return next((getattr(o, attr) for o in occs if getattr(o, attr)), None)

    age = first("age")
    birth_year = first("birth_year")
    date: DateMention | None = first("date", only_evidence=True)  # type: ignore[assignment]
    if date is None:  # "Взят в плен вчера": a date right beside the status word that was used
        date = next(
            (
                d
                for k in evidence_sents
                for c in sents[k].status_cues
                if c.kind == status
                for d in sents[k].dates
                if abs(d.start - sents[k].toks[c.start].start) <= 40
            ),
            None,
        )
    evidence = " … ".join(sents[k].text for k in evidence_sents)
    via = [kind for kind, pat in lexicon.MEDIA_PATTERNS if re.search(pat, evidence, re.IGNORECASE)]
    via += [m for m in doc.media if m not in via]
    if doc.kind == "telegram" and "telegram" not in via:
        via.append("telegram")
    result.sightings.append(
        Sighting(
            name=name,
            name_as_written=main.written,
            status=status,
            evidence=evidence,
            age=age,  # type: ignore[arg-type]
            birth_year=birth_year,  # type: ignore[arg-type]
            birth_year_range=_birth_range(age, birth_year, doc.date),  # type: ignore[arg-type]
            rank=first("rank"),  # type: ignore[arg-type]
            unit=first("unit"),  # type: ignore[arg-type]
            home=first("home"),  # type: ignore[arg-type]
            place=first("place", only_evidence=True),  # type: ignore[arg-type]
            date=date.date if date else None,
            date_text=date.text if date else None,
            reported_via=via,
        )
    )


def _name_case(token: str) -> str:
    """'КАРПОВ' -> 'Карпов', 'O'BRIEN' -> 'O'Brien'; an initial ('A.') and mixed case stay as written."""
    if len(token) < 2 or not token.isupper() or len(token.rstrip(".")) == 1:
        return token
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), token)


def _birth_range(age: int | None, birth_year: int | None, ref: dt.date | None) -> tuple[int, int] | None:
    if birth_year:
        return (birth_year, birth_year)
    if age is not None and ref is not None:
        # 28 on the document date: born in the year 28 years before, or the one before that.
        return (ref.year - age - 1, ref.year - age)
    return None
