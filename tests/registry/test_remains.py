"""Unidentified remains (issue 21 item 7): matched against the missing persons and the open requests with
the remains model, each candidate explained field by field; bad input named by its field; a confirmed
identification closing both sides."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select

from kinlink.errors import Refused
from kinlink.i18n import gettext_for
from kinlink.matching.evidence import rendered_explanation
from kinlink.registry import remains as remains_actions
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Event, Person
from kinlink.store.remains_models import Remains, RemainsCandidate
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from tests.support import MATCHING, add_record, file_request

FOUND = {
    "record_id": "UR-2022-014",
    "sex": "m",
    "age_min": "30",
    "age_max": "40",
    "height_min": "176",
    "height_max": "184",
    "marks": "tattoo: eagle, left forearm",
    "clothing": "camouflage trousers, black boots",
    "found_place": "Bucha",
    "found_date": "2022-04-02",
    "recovered_by": "Bucha district police",
}


def _registry(engine: Engine) -> tuple[int, int, int]:
    """A missing man with the tattoo, another missing man, and a family's request for the first."""
    with unit_of_work(engine) as s:
        petrenko = add_record(
            s,
            "test",
            {"full_name": "Петренко Іван Васильович", "sex": "m", "birth_date": "1988-05-01",
             "distinguishing_marks": "орёл на левом предплечье; рост 180 см", "status": "missing",
             "status_date": "2022-03-05", "place": "Буча"},
        )  # fmt: skip
        other = add_record(
            s,
            "test",
            {"full_name": "Коваль Олег", "sex": "m", "birth_date": "1961", "status": "missing",
             "distinguishing_marks": "шрам на правом колене", "status_date": "2022-05-20", "place": "Ірпінь"},
        )  # fmt: skip
        req, _secret = file_request(
            s,
            "test",
            {"full_name": "Петренко Іван", "birth_date": "1988", "sex": "m", "capture_place": "Буча",
             "capture_date": "2022-03", "last_seen": "Татуювання: орел на лівому передпліччі, зріст 1,80 м",
             "enquirer_name": "Олена Петренко", "agree": True},
            match=False,
        )  # fmt: skip
        return petrenko.id, other.id, req.id


def test_remains_with_a_tattoo_and_an_age_range_become_candidates_explained(engine: Engine) -> None:
    petrenko, _other, request = _registry(engine)
    with unit_of_work(engine) as s:
        added = remains_actions.add_remains(s, "test:registrar", FOUND, matching=MATCHING)
        rid = added.remains[0].id
    with unit_of_work(engine) as s:
        cands = remains_actions.read_candidates(s, "test:registrar", rid)
        by_side = {(c.person_id, c.request_id): c for c in cands}
        assert set(by_side) == {(petrenko, None), (None, request)}  # not the other missing man
        for cand in cands:
            explained = cand.explanation
            assert explained["marks"]["level"] == "mark_and_place"
            assert explained["age_when_found"]["level"] == "consistent"
            assert explained["found_when"]["level"] == "after_within_year"
            assert cand.probability > 0.5
        said = by_side[(petrenko, None)].explanation
        assert "“tattoo: eagle, left forearm” / “орёл на левом предплечье”" in said["marks"]["text"]
        assert "estimated 30–40, 33 on the day found" in said["age_when_found"]["text"]
        # Each door renders the same explanation in its reader's language.
        starts = {"ro": "același semn în același loc", "ru": "та же примета на том же месте тела",
                  "uk": "та сама прикмета на тому самому місці тіла"}  # fmt: skip
        for lang, start in starts.items():
            rendered = rendered_explanation(said, gettext_for(lang))
            assert rendered["marks"]["message"]["text"].startswith(start), lang
        # Both reads were audited: the candidates with their ids.
        read = s.scalar(
            select(AuditEntry).where(AuditEntry.entity == "remains_candidate", AuditEntry.action == "read")
        )
        assert read is not None and sorted(read.changes["ids"]) == sorted(c.id for c in cands)
    # Matching again adds nothing.
    with unit_of_work(engine) as s:
        from kinlink.tracing.remains_matching import match_remains

        again = match_remains(s, "test", [rid], model=MATCHING.model)
        assert again.created == 0 and s.scalar(select(func.count()).select_from(RemainsCandidate)) == 2


def test_bad_input_names_the_field_and_writes_nothing(engine: Engine) -> None:
    bad = {**FOUND, "age_min": "forty", "height_max": "150", "found_date": "", "colour": "x"}
    with unit_of_work(engine) as s, pytest.raises(Refused) as refused:
        remains_actions.add_remains(s, "test", bad, matching=MATCHING)
    fields = set(refused.value.by_field())
    assert fields == {"age_min", "height_max", "found_date", "colour"}
    rows = [
        (2, {**FOUND, "record_id": "A"}),
        (3, {**FOUND, "record_id": "B", "age_min": "50", "age_max": "40"}),
    ]
    with unit_of_work(engine) as s, pytest.raises(Refused) as refused:
        remains_actions.import_remains(s, "test", rows, matching=MATCHING)
    assert set(refused.value.by_field()) == {"line 3: age_max"}
    with unit_of_work(engine) as s:
        assert s.scalar(select(func.count()).select_from(Remains)) == 0


def test_a_file_of_remains_is_read_line_by_line() -> None:
    data = b'record_id,found_date,recovered_by,marks\nA,2022-04-02,team,"scar, right knee"\n'
    assert remains_actions.parse_file(data, "csv") == [
        (
            2,
            {
                "record_id": "A",
                "found_date": "2022-04-02",
                "recovered_by": "team",
                "marks": "scar, right knee",
            },
        )
    ]


def test_a_confirmed_identification_closes_both_sides(engine: Engine) -> None:
    petrenko, _other, request = _registry(engine)
    with unit_of_work(engine) as s:
        rid = remains_actions.add_remains(s, "test:registrar", FOUND, matching=MATCHING).remains[0].id
    with unit_of_work(engine) as s:
        cands = remains_actions.read_candidates(s, "test", rid)
        ids = [c.id for c in cands]
    with unit_of_work(engine) as s, pytest.raises(Refused) as no_source:
        remains_actions.identify(s, "test", ids, "DNA", " ", matching=MATCHING)
    assert no_source.value.field == "source"
    with unit_of_work(engine) as s:
        done = remains_actions.identify(
            s,
            "test:registrar",
            ids,
            "the tattoo and DNA agree",
            "DNA report 2022/114, Kyiv lab",
            matching=MATCHING,
        )
        assert done.person_id == petrenko and done.request_ids == [request]
    with unit_of_work(engine) as s:
        rem = s.get(Remains, rid)
        assert rem is not None and rem.state == "identified" and rem.identified_person_id == petrenko
        assert rem.identified_source == "DNA report 2022/114, Kyiv lab"
        person = s.get(Person, petrenko)
        assert person is not None and person.status == "dead"
        died = s.scalar(select(Event).where(Event.person_id == petrenko, Event.kind == "died"))
        assert died is not None and died.note == "DNA report 2022/114, Kyiv lab" and died.date == "2022-04-02"
        req = s.get(TracingRequest, request)
        assert req is not None and req.state == "matched" and req.matched_person_id == petrenko
        match = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == request))
        assert match is not None and match.state == "confirmed" and match.person_id == petrenko
        assert {c.state for c in s.scalars(select(RemainsCandidate))} == {"confirmed"}
    with unit_of_work(engine) as s, pytest.raises(Refused) as twice:
        remains_actions.identify(s, "test", ids[:1], "again", "DNA", matching=MATCHING)
    assert twice.value.kind == "conflict"


def test_a_stale_or_missing_candidate_of_remains_is_refused_as_a_match_candidate_is(engine: Engine) -> None:
    """The optimistic version check `tracing.decisions` makes: the same refusals, field and kind."""
    _registry(engine)
    with unit_of_work(engine) as s:
        rid = remains_actions.add_remains(s, "test", FOUND, matching=MATCHING).remains[0].id
    with unit_of_work(engine) as s:
        cand = s.scalars(select(RemainsCandidate).where(RemainsCandidate.remains_id == rid)).first()
        assert cand is not None
        cid, version = cand.id, cand.version
    with unit_of_work(engine) as s, pytest.raises(Refused) as stale:
        remains_actions.reject(s, "test", cid, "not him", version + 1)
    assert (stale.value.kind, stale.value.field) == ("conflict", "version")
    with unit_of_work(engine) as s, pytest.raises(Refused) as gone:
        remains_actions.reject(s, "test", cid + 1000, "not him", version)
    assert (gone.value.kind, gone.value.field) == ("not_found", "candidate_id")
    with unit_of_work(engine) as s:
        assert remains_actions.reject(s, "test", cid, "not him", version).state == "rejected"


def test_a_request_alone_gets_a_record_of_its_dead(engine: Engine) -> None:
    _p, _o, request = _registry(engine)
    with unit_of_work(engine) as s:
        rid = remains_actions.add_remains(s, "test", FOUND, matching=MATCHING).remains[0].id
    with unit_of_work(engine) as s:
        cand = s.scalar(select(RemainsCandidate).where(RemainsCandidate.request_id == request))
        assert cand is not None
        done = remains_actions.identify(
            s, "test", [cand.id], "recognised", "the sister recognised the tattoo", matching=MATCHING
        )
    with unit_of_work(engine) as s:
        person = s.get(Person, done.person_id)
        assert person is not None and person.full_name == "Петренко Іван" and person.status == "dead"
        req = s.get(TracingRequest, request)
        assert req is not None and req.state == "matched" and req.matched_person_id == done.person_id
        others = s.scalars(
            select(RemainsCandidate).where(RemainsCandidate.remains_id == rid, RemainsCandidate.id != cand.id)
        )
        assert {c.state for c in others} == {"closed"}


def test_the_cli_adds_imports_lists_and_shows_remains(engine: Engine, cli, write) -> None:  # type: ignore[no-untyped-def]
    petrenko, _o, _r = _registry(engine)
    added = cli.json(
        "remains", "add", "--found-date", "2022-04-02", "--recovered-by", "Bucha district police",
        "--sex", "m", "--age-min", "30", "--age-max", "40", "--marks", "eagle, left forearm",
        "--found-place", "Bucha",
    )  # fmt: skip
    assert added["candidates"] == 2
    bad = cli("remains", "add", "--found-date", "soon", "--recovered-by", "x", "--age-min", "old", ok=False)
    assert bad.exit_code == 2 and "found_date:" in bad.output and "age_min:" in bad.output
    path = write(
        "remains.csv",
        "record_id,found_date,recovered_by,age_min,age_max\nA,2022-05-01,team,30,40\nB,2022-05-02,team,50,40\n",
    )
    refused = cli("remains", "import", str(path), ok=False)
    assert refused.exit_code == 2 and "line 3: age_max:" in refused.output
    path = write("ok.csv", "record_id,found_date,recovered_by\nA,2022-05-01,team\n")
    assert cli.json("remains", "import", str(path)) == {"imported": 1, "candidates": 0}
    listed = json.loads(cli("remains", "list", "--json").stdout)
    assert [r["record_id"] for r in listed] == ["A", added["remains"][0]["record_id"]]
    shown = cli.json("remains", "show", str(added["remains"][0]["id"]))
    person = next(c for c in shown["candidates"] if c["person_id"] == petrenko)
    assert person["explanation"]["marks"].startswith("the same mark at the same place on the body")


def test_a_missing_person_or_a_request_written_after_the_remains_meets_them(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        rid = remains_actions.add_remains(s, "test", FOUND, matching=MATCHING).remains[0].id
        captured = add_record(s, "test", {"full_name": "Інший Петро", "status": "captured"}, match=True)
    with unit_of_work(engine) as s:
        person = add_record(
            s,
            "test",
            {"full_name": "Петренко Іван", "sex": "m", "birth_date": "1988-05-01", "status": "missing",
             "distinguishing_marks": "орёл на левом предплечье", "status_date": "2022-03-05"},
            match=True,
        )  # fmt: skip
        req, _secret = file_request(
            s,
            "test",
            {"full_name": "Петренко Іван", "birth_date": "1988", "enquirer_name": "Олена", "agree": True,
             "last_seen": "tattoo of an eagle, left forearm"},
        )  # fmt: skip
    with unit_of_work(engine) as s:
        got = {(c.person_id, c.request_id) for c in remains_actions.read_candidates(s, "test", rid)}
    assert got == {(person.id, None), (None, req.id)}
    assert captured.id not in {p for p, _r in got}  # not missing: not compared


def test_a_person_outside_the_remains_window_is_never_compared(engine: Engine) -> None:
    """Blocking as a forensic service narrows a search: a woman, a man far too old, and a man last seen after
    the remains were found are not compared at all, though their marks agree perfectly."""
    same_mark = {"distinguishing_marks": "орёл на левом предплечье", "place": "Буча"}
    petrenko, other, _request = _registry(engine)
    with unit_of_work(engine) as s:
        outside = [
            add_record(s, "test", {"full_name": "Жінка Марія", "sex": "f", "birth_date": "1988-05-01",
                                   "status": "missing", "status_date": "2022-03-05", **same_mark}).id,
            add_record(s, "test", {"full_name": "Старий Іван", "sex": "m", "birth_date": "1940",
                                   "status": "missing", "status_date": "2022-03-05", **same_mark}).id,
            add_record(s, "test", {"full_name": "Пізній Іван", "sex": "m", "birth_date": "1988-05-01",
                                   "status": "missing", "status_date": "2022-06-01", **same_mark}).id,
        ]  # fmt: skip
    with unit_of_work(engine) as s:
        added = remains_actions.add_remains(s, "test", FOUND, matching=MATCHING)
        rid = added.remains[0].id
    with unit_of_work(engine) as s:
        from kinlink.matching.physical import window
        from kinlink.tracing.remains_matching import match_remains, missing_persons, remains_record

        rem = s.get(Remains, rid)
        assert rem is not None
        read = {int(r.id) for r in missing_persons(s, within=window(remains_record(rem)))}
        assert read == {petrenko}  # the three outside the window (and Коваль, 61) are not even read
        again = match_remains(s, "test", [rid], model=MATCHING.model)
        assert again.compared == 2 and other not in outside  # Петренко and the request
        got = {c.person_id for c in remains_actions.read_candidates(s, "test", rid)}
        assert got == {petrenko, None} and not got & set(outside)
