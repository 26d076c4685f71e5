"""One naming of a person in one sentence: the words as written, their nominative lemmas, their keys.

A text names a person in whatever case the sentence needs ("Вадима Михоева"), and later steps must know
it is the same person as "Вадим Михоев" elsewhere: each word keeps the folded forms it may stand for.
Whether a name is in the genitive ("мати Максима") is asked here too, because it decides both who holds a
role and whom a pronoun can mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from kinlink.ingest import gazetteer
from kinlink.ingest.dates import DateMention
from kinlink.ingest.options import ExtractOptions
from kinlink.ingest.sentences import Sent


@dataclass
class Occ:
    sent: int
    start: int
    end: int
    written: str
    tokens: list[str]  # as written, possessive marks removed
    lemmas: list[str]  # nominative where known
    keys: list[frozenset[str]]  # per token, folded forms it may stand for
    role: str | None = None
    speaker_at: int | None = None  # token index of a speech verb this person is the subject of
    source: bool = False
    possessive: bool = False
    strong: bool = True
    statuses: list[tuple[str, int]] = field(default_factory=list)  # (status, distance in tokens)
    age: int | None = None
    birth_year: int | None = None
    rank: str | None = None
    unit: str | None = None
    home: str | None = None
    place: str | None = None
    date: DateMention | None = None
    soldier: bool = False
    entity: int | None = None
    subject: bool = False  # a journalist reported on as the subject ("a fost rănit")
    donors: dict[str, set[int]] = field(default_factory=dict)  # status -> other sentences that gave it
    case: str | None = None  # the grammatical case the name was read in (ru/uk), "gent" in "мати Максима"
    gender: str | None = None  # "masc"/"femn" as the endings say (ru/uk)


def _possessive_after(sent: Sent, end: int) -> bool:
    nxt = sent.toks[end : end + 2]
    return len(nxt) == 2 and nxt[0].text in ("’", "'") and nxt[1].text.lower() == "s"


@lru_cache(maxsize=100_000)
def _keys(word: str, lang: str, use_morph: bool) -> frozenset[str]:
    keys = {gazetteer.fold(word)}
    if use_morph and lang in ("ru", "uk"):
        from kinlink.ingest import morph

        for p in morph._parses(word, lang)[:6]:
            keys.add(gazetteer.fold(p.normal_form))
            if lang == "ru":
                inflected = p.inflect({"nomn", "sing"})
                if inflected is not None:
                    keys.add(gazetteer.fold(inflected.word))
    return frozenset(keys)


def make_occ(sent: Sent, a: int, b: int, lang: str, opts: ExtractOptions) -> Occ:
    words = [sent.toks[k].text for k in range(a, b)]
    case = gender = None
    if lang in ("ru", "uk") and opts.use_morph:
        from kinlink.ingest import morph

        # The words before the name say which case it may be in ("з Данилом", "взяли в полон Данила").
        before = [t.text for t in sent.toks[max(0, a - 2) : a]]
        parsed = morph.analyse_name(words, lang, morph.context_cases(before, lang))
        lemmas, case, gender = parsed.lemmas, parsed.case, parsed.gender
    else:
        lemmas = list(words)
    written = sent.text[sent.toks[a].start : sent.toks[b - 1].stop]
    return Occ(
        sent=sent.index,
        start=a,
        end=b,
        written=written,
        tokens=words,
        lemmas=lemmas,
        keys=[_keys(w, lang, opts.use_morph) for w in words],
        possessive=_possessive_after(sent, b) or (a > 0 and sent.toks[a - 1].text.lower() in ("lui", "of")),
        case=case,
        gender=gender,
    )


def genitive(o: Occ, lang: str) -> bool:
    if lang not in ("ru", "uk"):
        return False
    from kinlink.ingest import morph

    for w in o.tokens:
        parses = morph._parses(w, lang)
        named = [p for p in parses if p.tag.grammemes & {"Name", "Surn"}]
        if named:
            return all(str(p.tag.case) in ("gent", "accs") for p in named[:2]) and not any(
                "nomn" in p.tag.grammemes for p in named
            )
    return False
