"""EM estimation of m and u on data with known duplicates."""

from __future__ import annotations

import random
from pathlib import Path

from kinlink.matching.em import estimate
from kinlink.matching.model import load_model, save_model
from kinlink.matching.record import MatchRecord

FAMILIES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Петров",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Михайлов",
    "Беляев",
    "Тарасов",
    "Белов",
    "Комаров",
    "Орлов",
]
GIVEN = [
    "Александр",
    "Сергей",
    "Дмитрий",
    "Андрей",
    "Алексей",
    "Максим",
    "Евгений",
    "Иван",
    "Михаил",
    "Артём",
]
PATR = ["Александрович", "Сергеевич", "Владимирович", "Николаевич", "Андреевич", "Викторович", "Юрьевич"]


def _data(n: int, dups: int, seed: int = 3) -> list[MatchRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            MatchRecord(
                i,
                f"{rng.choice(FAMILIES)} {rng.choice(GIVEN)} {rng.choice(PATR)}",
                sex="m",
                birth_date=f"{rng.randint(1970, 2003)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                unit=f"{rng.randint(1, 60)}-я бригада",
            )
        )
    for j in range(dups):
        src = out[rng.randrange(n)]
        fam, giv, _patronymic = src.name.split()
        out.append(
            MatchRecord(
                n + j,
                f"{fam} {giv}" if rng.random() < 0.5 else src.name,
                sex="m",
                birth_date=src.birth_date if rng.random() < 0.7 else src.birth_date[:4],  # type: ignore[index]
                unit=src.unit if rng.random() < 0.6 else None,
            )
        )
    return out


def test_em_learns_that_names_and_dates_agree_for_matches_and_rarely_by_chance(tmp_path: Path) -> None:
    model = load_model()
    est = estimate(model, _data(3000, 400), random_pairs=30_000, sample=1500, iterations=25)
    new = est.model
    assert (
        new.version == model.version + 1
        and new.trained
        and new.trained["candidate_pairs"] == est.candidate_pairs
    )
    fam = new.comparison("family_name").level("exact")
    birth_exact = new.comparison("birth").level("exact")
    # For true matches the family name agrees almost always; by chance, seldom (27 names here).
    assert fam.m > 0.8 and fam.u < 0.1
    assert birth_exact.m > 0.3 and birth_exact.u < 0.01
    unit = new.comparison("unit").level("exact")
    assert unit.m > unit.u * 5
    # Levels of each comparison still sum to one, and the file round-trips.
    for c in new.comparisons:
        assert abs(sum(lv.m for lv in c.levels) - 1) < 1e-3 and abs(sum(lv.u for lv in c.levels) - 1) < 1e-3
    save_model(new, tmp_path / "model.json")
    assert load_model(tmp_path / "model.json").to_dict() == new.to_dict()
