"""Generated registrar files for the import benchmark and the crash tests (Faker ru_RU / uk_UA names)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from faker import Faker

from kinlink.person.fields import COLUMNS

STATUSES = ["captured", "missing", "died", "released", "interned", "wounded"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    fakers = [Faker("ru_RU"), Faker("uk_UA")]
    for f in fakers:
        f.seed_instance(seed)
    # Faker is slow per call; draw pools once and combine them.
    pools = [
        (
            [f.last_name_male() for _ in range(3000)],
            [f.first_name_male() for _ in range(500)],
            [f.middle_name_male() for _ in range(300)],
        )
        for f in fakers
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        for i in range(rows):
            fam, giv, pat = pools[i % 2]
            year = rnd.randint(1965, 2004)
            events = [{"kind": "captured", "date": f"2022-{rnd.randint(3, 12):02d}-{rnd.randint(1, 28):02d}"}]
            w.writerow(
                {
                    "record_id": f"R{i:07d}",
                    "family_name": rnd.choice(fam),
                    "given_names": rnd.choice(giv),
                    "patronymic": rnd.choice(pat),
                    "sex": "m",
                    "birth_date": f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    "rank": "рядовой",
                    "unit": f"{rnd.randint(1, 150)}-я бригада",
                    "service_number": f"S{rnd.randint(10**6, 10**7)}",
                    "status": rnd.choice(STATUSES),
                    "status_date": "2023-01-15",
                    "events": json.dumps(events, ensure_ascii=False),
                }
            )
