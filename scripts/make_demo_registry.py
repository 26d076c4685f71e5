"""Writes src/kinlink/demo/registry.csv: fictional people for the demo (Faker ru_RU / uk_UA, fixed seed).

The one real name is the seed article's Leonid Paktishev, with only what the article published.
Run: .venv/bin/python scripts/make_demo_registry.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from faker import Faker

from kinlink.person.fields import COLUMNS

OUT = Path(__file__).resolve().parents[1] / "src/kinlink/demo/registry.csv"
RANKS_RU = ["рядовой", "ефрейтор", "младший сержант", "сержант", "старшина", "лейтенант", "капитан"]
RANKS_UK = ["солдат", "старший солдат", "молодший сержант", "сержант", "старшина", "лейтенант", "капітан"]
UNITS_RU = [
    "74-я отдельная мотострелковая бригада",
    "11-я отдельная десантно-штурмовая бригада",
    "6-й танковый полк",
    "138-я отдельная мотострелковая бригада",
]
UNITS_UK = [
    "72-га окрема механізована бригада",
    "36-та окрема бригада морської піхоти",
    "93-тя окрема механізована бригада",
    "128-ма окрема гірсько-штурмова бригада",
]
PLACES = ["Харків", "Київська область", "Маріуполь", "Оленівка", "Херсон", "Ізюм"]


def person(fake: Faker, rnd: random.Random, n: int, uk: bool) -> dict[str, object]:
    female = rnd.random() < 0.1
    if female:
        family, given, patr = fake.last_name_female(), fake.first_name_female(), fake.middle_name_female()
    else:
        family, given, patr = fake.last_name_male(), fake.first_name_male(), fake.middle_name_male()
    year = rnd.randint(1970, 2003)
    captured = f"2022-{rnd.randint(3, 12):02d}-{rnd.randint(1, 28):02d}"
    events = [{"kind": "captured", "date": captured, "place": rnd.choice(PLACES)}]
    roll = rnd.random()
    if roll < 0.3:
        events.append(
            {"kind": "transferred", "date": f"2023-{rnd.randint(1, 6):02d}-01", "place": "Оленівка"}
        )
    elif roll < 0.45:
        events.append({"kind": "released", "date": f"2023-{rnd.randint(1, 12):02d}-15"})
        events.append({"kind": "repatriated", "date": f"2023-{rnd.randint(1, 12):02d}-20"})
    elif roll < 0.55:
        events = [{"kind": "missing", "date": captured, "place": rnd.choice(PLACES)}]
    elif roll < 0.6:
        events.append({"kind": "died", "date": f"2023-{rnd.randint(1, 12):02d}-10"})
    row: dict[str, object] = {
        "record_id": f"{'UA' if uk else 'RU'}-{n:04d}",
        "family_name": family.upper() if rnd.random() < 0.5 else family,
        "given_names": given,
        "patronymic": patr,
        "name_language": "uk" if uk else "ru",
        "sex": "f" if female else "m",
        "birth_date": f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        if rnd.random() < 0.7
        else str(year),
        "rank": rnd.choice(RANKS_UK if uk else RANKS_RU),
        "unit": rnd.choice(UNITS_UK if uk else UNITS_RU),
        "service_number": f"{'UA' if uk else 'RU'}{rnd.randint(100000, 999999)}"
        if rnd.random() < 0.6
        else "",
        "place_of_birth": fake.city(),
        "nationality": "Україна" if uk else "Российская Федерация",
        "power": "Збройні сили України" if uk else "Вооружённые силы Российской Федерации",
        "father_name": fake.first_name_male(),
        "consent_inform_family": "yes" if rnd.random() < 0.8 else "no",
        "consent_share_location": "yes" if rnd.random() < 0.5 else "no",
        "consent_share_health": "yes" if rnd.random() < 0.5 else "no",
        "consent_share_photo": "no",
        "events": json.dumps(events, ensure_ascii=False),
    }
    return row


def main() -> None:
    rnd = random.Random(7)
    ru, uk = Faker("ru_RU"), Faker("uk_UA")
    ru.seed_instance(7)
    uk.seed_instance(7)
    rows = [
        {
            "record_id": "RU-0000",
            "full_name": "ПАКТЫШЕВ Леонид Андреевич",
            "alternate_names": "Leonid Paktishev",
            "name_language": "ru",
            "sex": "m",
            "age": "28",
            "age_as_of": "2022-02-27",
            "power": "Вооружённые силы Российской Федерации",
            "status": "captured",
            "status_date": "2022-02-27",
            "notes": "Only what the press published (seed article, March 2022).",
        }
    ]
    rows += [person(ru, rnd, n, uk=False) for n in range(1, 26)]
    rows += [person(uk, rnd, n, uk=True) for n in range(1, 16)]
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[c for c in COLUMNS], lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: r.get(c, "") for c in COLUMNS})
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
