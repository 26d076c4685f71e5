from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinlink.person.partial_dates import DateError, birth_year_range, parse_partial_date
from kinlink.person.status import DatedEvent, current_status, event_kind_for_status

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1993", "1993"),
        ("1993-2", "1993-02"),
        ("1993-02-28", "1993-02-28"),
        ("28.02.1993", "1993-02-28"),
        ("02.1993", "1993-02"),
        (" 2022-02-27 ", "2022-02-27"),
    ],
)
def test_partial_dates_read(text: str, iso: str) -> None:
    assert parse_partial_date(text, today=TODAY).iso() == iso


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2022-02-30", "not a day of the calendar"),
        ("2022-13", "no month 13"),
        ("2030-01-01", "in the future"),
        ("1850", "before 1900"),
        ("yesterday", "not a date"),
        ("31.02.2000", "not a day"),
    ],
)
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(DateError, match=reason):
        parse_partial_date(text, today=TODAY)


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_full_dates_round_trip(d: date) -> None:
    assert parse_partial_date(d.isoformat(), today=TODAY).iso() == d.isoformat()


@given(st.integers(1900, 2026), st.integers(1, 12))
def test_partial_range_covers_the_month(year: int, month: int) -> None:
    pd = parse_partial_date(f"{year}-{month:02d}", allow_future=True)
    assert pd.earliest().day == 1 and pd.latest().month == month and pd.latest() >= pd.earliest()


def test_age_on_a_date_gives_two_possible_years() -> None:
    # The seed article: 28 years old on 2022-02-27 -> born 1993 or 1994.
    assert birth_year_range(None, 28, "2022-02-27") == (1993, 1994)
    assert birth_year_range("1993-05", None, None) == (1993, 1993)
    assert birth_year_range(None, None, None) is None


def test_status_follows_the_dated_history_not_the_order_of_entry() -> None:
    events = [
        DatedEvent("released", "2023-05-01", 0),
        DatedEvent("captured", "2022-03-01", 1),
        DatedEvent("transferred", "2022-06-01", 2),
    ]
    assert current_status(events) == ("released", "2023-05-01")


def test_transfer_keeps_status_and_burial_means_dead() -> None:
    assert current_status(
        [DatedEvent("captured", "2022-03", 0), DatedEvent("transferred", "2022-04", 1)]
    ) == (
        "captured",
        "2022-03",
    )
    assert current_status([DatedEvent("died", "2022-05", 0), DatedEvent("buried", "2022-06", 1)])[0] == "dead"
    assert current_status([]) == (None, None)


def test_status_words() -> None:
    assert event_kind_for_status("Seriously ill") == "seriously_ill"
    assert event_kind_for_status("KILLED") == "died"
    assert event_kind_for_status("hospitalized") == "hospitalised"
    assert event_kind_for_status("on holiday") is None
