"""A synthetic registry with known truth: people drawn from real name lists, records and requests with noise.

Names come from Faker's ru_RU and uk_UA lists, drawn with Zipf weights (a few names are very common, as in
life), plus a long tail of rarer family names made from the same stems with the usual suffixes. Requests
are written as families write them: Latin transliterations by several conventions, Russian forms of
Ukrainian names, diminutives, missing patronymics, typos, a birth year or an age at a date instead of the
date, units written another way. Everything is seeded, so every run sees the same data.
"""

from __future__ import annotations

import os
import pickle
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

import iuliia
from faker.providers.address.ru_RU import Provider as RuAddress
from faker.providers.lorem.ru_RU import Provider as RuLorem
from faker.providers.person.ru_RU import Provider as Ru
from faker.providers.person.uk_UA import Provider as Uk

from kinlink.matching.record import MatchRecord

# KINLINK_BENCH_CACHE: a cache of one's own, where another run may be generating the same sizes meanwhile.
CACHE = Path(os.environ.get("KINLINK_BENCH_CACHE", "/tmp/kinlink_bench"))

RANKS = [
    ("рядовой", 45),
    ("ефрейтор", 10),
    ("младший сержант", 10),
    ("сержант", 9),
    ("старший сержант", 6),
    ("прапорщик", 4),
    ("лейтенант", 5),
    ("старший лейтенант", 5),
    ("капитан", 3),
    ("майор", 2),
]
_RANK_NAMES = [r for r, _ in RANKS]
_RANK_W = list(accumulate(w for _, w in RANKS))
UNIT_KINDS = [
    ("отдельная мотострелковая бригада", "ОМСБр", "separate motor rifle brigade"),
    ("мотострелковый полк", "МСП", "motor rifle regiment"),
    ("гвардейская танковая дивизия", "ГвТД", "guards tank division"),
    ("отдельная бригада специального назначения", "ОБрСпН", "special forces brigade"),
    ("воздушно-десантный полк", "ПДП", "airborne regiment"),
]
SCHEMAS = [iuliia.WIKIPEDIA, iuliia.ICAO_DOC_9303, iuliia.BGN_PCGN, iuliia.TELEGRAM, iuliia.MOSMETRO]
DIMINUTIVES = {
    "Александр": "Саша",
    "Алексей": "Алёша",
    "Дмитрий": "Дима",
    "Сергей": "Серёжа",
    "Николай": "Коля",
    "Михаил": "Миша",
    "Владимир": "Вова",
    "Иван": "Ваня",
    "Евгений": "Женя",
    "Андрей": "Андрюша",
    "Павел": "Паша",
    "Константин": "Костя",
    "Виктор": "Витя",
    "Анатолий": "Толя",
    "Василий": "Вася",
    "Олександр": "Сашко",
    "Дмитро": "Дмитрик",
    "Микола": "Миколка",
    "Петро": "Петрик",
}
UK_TO_RU = {
    "Олександр": "Александр",
    "Сергій": "Сергей",
    "Дмитро": "Дмитрий",
    "Микола": "Николай",
    "Андрій": "Андрей",
    "Олексій": "Алексей",
    "Василь": "Василий",
    "Петро": "Пётр",
    "Іван": "Иван",
    "Юрій": "Юрий",
    "Віктор": "Виктор",
    "Михайло": "Михаил",
    "Григорій": "Григорий",
    "Володимир": "Владимир",
    "Євген": "Евгений",
    "Павло": "Павел",
    "Анатолій": "Анатолий",
    "Олег": "Олег",
}
HEAD_SHARE = 0.3  # of people carrying one of the few hundred commonest family names
_SYL_A = [c + v for c in "бвгдзклмнпрстфхчш" for v in "аоуеи"]
_SYL_B = [c + v + e for c in "бвгдзклмнпрст" for v in "аоуи" for e in ("", "н", "р", "л")]
_SUFFIXES_M = ["ов", "ев", "ин", "ский", "енко", "ук", "чук", "ко", "ых"]
_FEM = {
    "ов": "ова",
    "ев": "ева",
    "ин": "ина",
    "ский": "ская",
    "ых": "ых",
    "енко": "енко",
    "ук": "ук",
    "чук": "чук",
    "ко": "ко",
}


# The most common names first (as in Russian and Ukrainian statistics); the rest of Faker's list follows in a
# seeded shuffle, so that the Zipf weights fall on plausible names rather than on alphabetical order.
COMMON = {
    "ru_family": "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров "
    "Никитин Захаров",
    "uk_family": "Мельник Шевченко Коваленко Бондаренко Бойко Ткаченко Кравченко Ковальчук Коваль Олійник "
    "Шевчук Поліщук Іваненко Ткачук Савченко Бондар Руденко Марченко Лисенко Мороз",
    "ru_m": "Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Николай Владимир Денис Артём "
    "Павел Роман Игорь Олег Виктор Антон Юрий Никита Илья Кирилл Вадим Константин",
    "uk_m": "Олександр Сергій Андрій Дмитро Володимир Юрій Віктор Іван Михайло Микола Олег Василь Максим",
    "ru_f": "Елена Ольга Наталья Анна Татьяна Ирина Екатерина Мария Светлана Юлия",
    "uk_f": "Олена Ольга Наталія Тетяна Ірина Юлія Анна Оксана",
    "ru_patr": "Александрович Сергеевич Владимирович Николаевич Андреевич Викторович Алексеевич Юрьевич "
    "Дмитриевич Михайлович Иванович Евгеньевич Анатольевич Игоревич Олегович Васильевич",
    "uk_patr": "Олександрович Сергійович Володимирович Миколайович Андрійович Вікторович Іванович Васильович",
}


def _ordered(rng: random.Random, key: str, names: list[str]) -> list[str]:
    common = COMMON[key].split()
    rest = [n for n in dict.fromkeys(names) if n not in common]
    rng.shuffle(rest)
    return common + rest


def _zipf(n: int, s: float) -> list[float]:
    """Cumulative Zipf weights (cum_weights: a draw is a bisection, not a pass over the list)."""
    return list(accumulate(1.0 / (i + 1) ** s for i in range(n)))


@dataclass
class Person:
    pid: int
    lang: str
    sex: str
    family: str
    given: str
    patronymic: str
    birth: date
    region: str
    unit_number: int
    unit_kind: int
    rank: str
    service_number: str | None


class Generator:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        # Family names: Faker's lists (with the commonest first) are the head; the long tail of rarer names
        # is made from Russian stems (words, given names, towns) with the usual suffixes, as real ones are.
        stems = {_stem(w) for w in RuLorem.word_list if len(w) >= 5 and w.isalpha()}
        stems |= {_stem(w) for w in list(Ru.first_names_male) + list(RuAddress.city_names) if w.isalpha()}
        stems |= {a + b for a in _SYL_A for b in _SYL_B}
        tail = sorted({w.capitalize() + suf for w in stems for suf in _SUFFIXES_M if len(w) >= 3})
        rng.shuffle(tail)
        half = len(tail) // 2
        self.ru_head = _ordered(rng, "ru_family", list(Ru.last_names_male))
        self.uk_head = _ordered(rng, "uk_family", list(Uk.last_names_male))
        self.ru_tail, self.uk_tail = tail[:half], tail[half:]
        self.ru_head_w, self.uk_head_w = _zipf(len(self.ru_head), 1.0), _zipf(len(self.uk_head), 1.0)
        self.ru_tail_w, self.uk_tail_w = _zipf(len(self.ru_tail), 0.5), _zipf(len(self.uk_tail), 0.5)
        self.ru_given_m = _ordered(rng, "ru_m", list(Ru.first_names_male))
        self.ru_given_f = _ordered(rng, "ru_f", list(Ru.first_names_female))
        self.uk_given_m = _ordered(rng, "uk_m", list(Uk.first_names_male))
        self.uk_given_f = _ordered(rng, "uk_f", list(Uk.first_names_female))
        # Given names are far more concentrated than family names.
        self.w_given = {k: _zipf(len(v), 1.1) for k, v in self._given_lists().items()}
        self.ru_patr = _ordered(rng, "ru_patr", list(Ru.middle_names_male))
        self.uk_patr = _ordered(rng, "uk_patr", list(Uk.middle_names_male))
        self.w_patr = {"ru": _zipf(len(self.ru_patr), 1.0), "uk": _zipf(len(self.uk_patr), 1.0)}
        self.regions = [f"{r} обл." for r in RuAddress.region_oblast] + list(RuAddress.city_names[:60])
        self.region_w = _zipf(len(self.regions), 0.6)

    def _given_lists(self) -> dict[str, list[str]]:
        return {
            "ru_m": self.ru_given_m,
            "ru_f": self.ru_given_f,
            "uk_m": self.uk_given_m,
            "uk_f": self.uk_given_f,
        }

    def person(self, pid: int) -> Person:
        rng = self.rng
        lang = "ru" if rng.random() < 0.75 else "uk"
        sex = "m" if rng.random() < 0.94 else "f"
        if rng.random() < HEAD_SHARE:
            family = _draw(
                rng, *((self.ru_head, self.ru_head_w) if lang == "ru" else (self.uk_head, self.uk_head_w))
            )
        else:
            family = _draw(
                rng, *((self.ru_tail, self.ru_tail_w) if lang == "ru" else (self.uk_tail, self.uk_tail_w))
            )
        if sex == "f":
            for m, f in _FEM.items():
                if family.endswith(m):
                    family = family[: -len(m)] + f
                    break
        gkey = f"{lang}_{sex}"
        given = _draw(rng, self._given_lists()[gkey], self.w_given[gkey])
        patr_list = self.ru_patr if lang == "ru" else self.uk_patr
        patronymic = _draw(rng, patr_list, self.w_patr[lang])
        if sex == "f":
            patronymic = (
                patronymic.replace("ович", "овна")
                .replace("евич", "евна")
                .replace("ьич", "ьинична")
                .replace("ич", "івна")
            )
        year = int(min(2004, max(1962, rng.gauss(1991, 7.5))))
        birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        return Person(
            pid=pid,
            lang=lang,
            sex=sex,
            family=family,
            given=given,
            patronymic=patronymic,
            birth=birth,
            region=_draw(rng, self.regions, self.region_w),
            unit_number=rng.randrange(1, 400),
            unit_kind=rng.randrange(len(UNIT_KINDS)),
            rank=_draw(rng, _RANK_NAMES, _RANK_W),
            service_number=f"{rng.choice('ABCEHKMOPTX')}{rng.choice('ABCEHKMOPTX')}-{rng.randrange(10**6):06d}"
            if rng.random() < 0.6
            else None,
        )

    # --- how a registry writes a person ----------------------------------------------------------------

    def record(self, p: Person) -> MatchRecord:
        rng = self.rng
        r = rng.random()
        birth_date: str | None = p.birth.isoformat()
        age = as_of = None
        if r < 0.1:
            birth_date = str(p.birth.year)
        elif r < 0.2:
            as_of_d = date(2022, 3, 1) + timedelta(days=rng.randrange(900))
            birth_date, age, as_of = None, _age(p.birth, as_of_d), as_of_d.isoformat()
        kind = UNIT_KINDS[p.unit_kind]
        return MatchRecord(
            id=p.pid,
            source_record_id=f"REG-{p.pid:07d}",
            name=f"{p.family} {p.given} {p.patronymic}",
            sex=p.sex,
            birth_date=birth_date,
            age=age,
            age_as_of=as_of,
            place_of_birth=p.region if rng.random() < 0.8 else None,
            unit=f"{p.unit_number}-я {kind[0]}" if rng.random() < 0.85 else None,
            rank=p.rank if rng.random() < 0.8 else None,
            service_number=p.service_number,
        )

    # --- how a family (or a news report) writes a person -------------------------------------------------

    def request(self, p: Person, complete: bool = False) -> MatchRecord:
        """complete: every field known (Cyrillic name with patronymic, full date, unit, region)."""
        rng = self.rng
        family, given, patr = p.family, p.given, p.patronymic
        if rng.random() < 0.06 and given in DIMINUTIVES:
            given = DIMINUTIVES[given]
        elif p.lang == "uk" and rng.random() < 0.3 and given in UK_TO_RU:
            given = UK_TO_RU[given]
        if rng.random() < 0.08:
            family = _typo(rng, family)
        if rng.random() < 0.4 and not complete:
            patr = ""
        script = rng.random() if not complete else 0.5
        if script < 0.25:
            schema = rng.choice(SCHEMAS)
            name = " ".join(schema.translate(t) for t in (given, family) if t)  # Latin: given name first
        elif script < 0.35:
            name = " ".join(t for t in (family.upper(), given, patr) if t)
        else:
            name = " ".join(t for t in (family, given, patr) if t)
        r = rng.random() if not complete else 0.0
        birth_date = None
        age = as_of = None
        if r < 0.45:
            d = p.birth
            if rng.random() < 0.04:  # day and month swapped, or a wrong day
                d = date(d.year, min(d.day, 12), min(d.month, 28)) if d.day <= 12 else d + timedelta(days=1)
            birth_date = d.isoformat()
        elif r < 0.7:
            year = p.birth.year + (rng.choice((-1, 1)) if rng.random() < 0.08 else 0)
            birth_date = str(year)
        elif r < 0.88:
            as_of_d = date(2022, 2, 24) + timedelta(days=rng.randrange(900))
            age, as_of = _age(p.birth, as_of_d), as_of_d.isoformat()
        kind = UNIT_KINDS[p.unit_kind]
        unit = None
        u = rng.random() if not complete else 0.0
        if u < 0.15:
            unit = f"{p.unit_number}-я {kind[0]}"
        elif u < 0.3:
            unit = f"{p.unit_number} {kind[1]}"
        elif u < 0.35:
            unit = f"{p.unit_number}th {kind[2]}"
        return MatchRecord(
            id=None,
            name=name,
            sex=p.sex if rng.random() < 0.7 else None,
            birth_date=birth_date,
            age=age,
            age_as_of=as_of,
            place_of_birth=p.region if complete or rng.random() < 0.35 else None,
            unit=unit,
            service_number=p.service_number if p.service_number and rng.random() < 0.12 else None,
            kind="request",
        )


def _draw(rng: random.Random, items: list[str], cum_weights: list[float]) -> str:
    return rng.choices(items, cum_weights=cum_weights)[0]


def _stem(word: str) -> str:
    for end in ("ый", "ий", "ой", "ая", "ое", "ть"):
        if word.endswith(end):
            return word[: -len(end)]
    return word[:-1] if word[-1] in "аеиоуыэюяйь" else word


def _age(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.random()
    letters = "аеиоуынлрвкмст"
    if op < 0.4:
        return s[:i] + rng.choice(letters) + s[i + 1 :]
    if op < 0.7:
        return s[:i] + s[i + 1 :]
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]


@dataclass
class Dataset:
    people: list[Person]
    records: list[MatchRecord]
    requests: list[MatchRecord]
    truth: list[int | None]  # the person id each request is about, None if not in the registry
    complete: list[MatchRecord]  # requests with every field known, for the field-by-field table
    complete_truth: list[int | None]


def dataset(n_records: int, n_requests: int, seed: int = 7, in_registry: float = 0.8) -> Dataset:
    """Cached in /tmp/kinlink_bench, since generating a million people takes a while."""
    path = CACHE / f"data_{n_records}_{n_requests}_{seed}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    g = Generator(seed)
    people = [g.person(i + 1) for i in range(n_records)]
    records = [g.record(p) for p in people]
    requests, truth = [], []
    outsiders = 0
    for _ in range(n_requests):
        if g.rng.random() < in_registry:
            p = people[g.rng.randrange(n_records)]
            truth.append(p.pid)
        else:
            outsiders += 1
            p = g.person(10_000_000 + outsiders)  # someone the registry does not hold
            truth.append(None)
        requests.append(g.request(p))
    complete, complete_truth = [], []
    for i in range(min(n_requests, 20_000)):
        if i % 5 == 4:
            outsiders += 1
            p, t = g.person(10_000_000 + outsiders), None
        else:
            p = people[g.rng.randrange(n_records)]
            t = p.pid
        complete.append(g.request(p, complete=True))
        complete_truth.append(t)
    ds = Dataset(people, records, requests, truth, complete, complete_truth)
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
    with _stream_path(path).open("wb") as f:
        for i in range(0, len(records), 10_000):
            pickle.dump(records[i : i + 10_000], f, protocol=pickle.HIGHEST_PROTOCOL)
    with _queries_path(path).open("wb") as f:
        pickle.dump(Queries(requests, truth, complete, complete_truth), f, protocol=pickle.HIGHEST_PROTOCOL)
    return ds


@dataclass
class Queries:
    requests: list[MatchRecord]
    truth: list[int | None]
    complete: list[MatchRecord]
    complete_truth: list[int | None]


def _stream_path(path: Path) -> Path:
    return path.with_suffix(".records")


def _queries_path(path: Path) -> Path:
    return path.with_suffix(".queries")


def _ensure(n_records: int, n_requests: int, seed: int) -> Path:
    path = CACHE / f"data_{n_records}_{n_requests}_{seed}.pkl"
    if not (_stream_path(path).exists() and _queries_path(path).exists()):
        path.unlink(missing_ok=True)
        dataset(n_records, n_requests, seed)
    return path


def stream_records(n_records: int, n_requests: int, seed: int = 7) -> Iterator[MatchRecord]:
    """The registry's records one by one, as `kinlink match` reads them from the database: whoever indexes
    them holds the index, not the generator's lists."""
    with _stream_path(_ensure(n_records, n_requests, seed)).open("rb") as f:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk


def queries(n_records: int, n_requests: int, seed: int = 7) -> Queries:
    with _queries_path(_ensure(n_records, n_requests, seed)).open("rb") as f:
        return pickle.load(f)


def strip_request(q: MatchRecord, stage: int) -> MatchRecord:
    """The request reduced to what a family may know, for the field-by-field table.

    0: name (no patronymic) and birth year or age; 1: + patronymic; 2: + full birth date; 3: + unit;
    4: + region (place of birth). Sex and service numbers are left out of every stage.
    """
    name = q.name
    birth_date = q.birth_date
    if stage < 1:
        parts = name.split()
        if len(parts) == 3 and not _is_latin(name):
            name = " ".join(parts[:2])
    if stage < 2 and birth_date and len(birth_date) > 4:
        birth_date = birth_date[:4]
    return replace(
        q,
        name=name,
        birth_date=birth_date,
        sex=None,
        service_number=None,
        unit=q.unit if stage >= 3 else None,
        place_of_birth=q.place_of_birth if stage >= 4 else None,
    )


def _is_latin(s: str) -> bool:
    return all(ord(c) < 0x400 for c in s)
