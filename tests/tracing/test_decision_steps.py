"""A decision one step at a time (issue 18 item 1): what it will do and who is told before it is taken,
what it did after, a decided candidate only undone (with a reason, recorded), never flipped."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from kinlink.errors import Refused
from kinlink.store.db import unit_of_work
from kinlink.store.tracing_models import MatchCandidate
from kinlink.tracing.decisions import decide as decide_candidate
from kinlink.tracing.decisions import last_decision, next_decisions, preview, undo
from kinlink.tracing.verification import record_verification
from tests.support import MODEL, add_record, file_request


def _candidate(engine: Engine, *, consent: bool, email: str | None) -> tuple[int, int, str]:
    with unit_of_work(engine) as s:
        add_record(
            s,
            "test",
            {"full_name": "Ткаченко Андрій Петрович", "birth_date": "1991-04-02", "status": "captured",
             "status_date": "2022-05-01", "location": "Оленівка", "consent_inform_family": consent,
             "consent_share_location": consent},
        )  # fmt: skip
        values = {"full_name": "Ткаченко Андрій Петрович", "birth_date": "1991", "enquirer_name": "Олена",
                  "agree": True, **({"contact": email} if email else {})}  # fmt: skip
        req, _secret = file_request(s, "test", values)
        record_verification(s, "test", req.id, "call_back", "сестра")
        cand = s.scalar(select(MatchCandidate).where(MatchCandidate.request_id == req.id))
        assert cand is not None
        return cand.id, cand.version, req.reference


def _texts(said: list) -> list[str]:  # type: ignore[type-arg]
    return [m.text() for m in said]


def test_a_check_before_says_what_confirming_does_and_who_is_told(engine: Engine) -> None:
    cid, version, ref = _candidate(engine, consent=True, email="olena@example.org")
    with unit_of_work(engine) as s:
        ahead = preview(s, cid, "confirmed", "same name and birth year", version)
        said = _texts(ahead.said)
        cand = s.get(MatchCandidate, cid)
        assert cand is not None and cand.state == "pending"  # nothing written
    assert said[0] == f"Request {ref} will be matched to record #{cand.person_id}."
    assert "The family will be told that the person was found alive." in said
    assert "They will be told where the person is (the person agreed to share it)." in said
    assert "They will get an email, and read it on their status page." in said
    # Refused as the decision itself would be: no reason, a stale version.
    with unit_of_work(engine) as s, pytest.raises(Refused) as no_reason:
        preview(s, cid, "confirmed", "  ", version)
    assert no_reason.value.field == "reason"
    with unit_of_work(engine) as s, pytest.raises(Refused) as stale:
        preview(s, cid, "confirmed", "why", version + 1)
    assert stale.value.field == "version" and stale.value.kind == "conflict"


def test_without_consent_or_email_the_check_says_so(engine: Engine) -> None:
    cid, version, _ref = _candidate(engine, consent=False, email=None)
    with unit_of_work(engine) as s:
        said = _texts(preview(s, cid, "confirmed", "same person", version).said)
    assert any(t.startswith("The person has not agreed that the family is told") for t in said)
    assert not any("email" in t for t in said)  # nothing will be told, so no channel is named


def test_a_decided_candidate_is_undone_not_flipped_and_the_undo_is_recorded(engine: Engine) -> None:
    cid, version, ref = _candidate(engine, consent=True, email=None)
    assert next_decisions("pending") == ("confirmed", "rejected")
    with unit_of_work(engine) as s:
        decided = decide_candidate(s, "cw", cid, "confirmed", "same birth date", version, model=MODEL)
        version = decided.candidate.version
    assert next_decisions("confirmed") == ("pending",)
    with unit_of_work(engine) as s, pytest.raises(Refused) as flip:
        decide_candidate(s, "cw", cid, "rejected", "not him", version, model=MODEL)
    assert flip.value.kind == "conflict" and flip.value.field == "decision"
    with unit_of_work(engine) as s:
        done = last_decision(s, cid)
        assert done is not None and done[0].decision == "confirmed" and done[1:] == ("cw", "same birth date")
        undone = undo(s, "cw2", cid, "the photo shows someone else", None, model=MODEL)
        assert undone.candidate.state == "pending" and undone.candidate.decided_by is None
    with unit_of_work(engine) as s:
        after = last_decision(s, cid)
        assert after is not None
        said, by, why = after
        assert (said.before, said.decision, by, why) == (
            "confirmed",
            "pending",
            "cw2",
            "the photo shows someone else",
        )
        assert _texts(said.said)[0] == f"Request {ref} goes back to being checked."
    with unit_of_work(engine) as s, pytest.raises(Refused) as again:
        undo(s, "cw2", cid, "twice", None, model=MODEL)
    assert again.value.field == "decision"
