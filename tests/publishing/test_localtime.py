"""Wall-clock times in a client's zone → UTC instants, across daylight-saving changes.

Australia/Sydney in 2025: clocks go back on Sun 6 April (03:00 AEDT → 02:00 AEST) and forward on
Sun 5 October (02:00 AEST → 03:00 AEDT).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from apps.publishing import localtime

SYDNEY = "Australia/Sydney"


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        # The day before clocks go forward: AEST, UTC+10.
        (date(2025, 10, 4), datetime(2025, 10, 3, 23, 0, tzinfo=UTC)),
        # The day they go forward: 09:00 is already AEDT, UTC+11.
        (date(2025, 10, 5), datetime(2025, 10, 4, 22, 0, tzinfo=UTC)),
        # The day before clocks go back: AEDT, UTC+11.
        (date(2025, 4, 5), datetime(2025, 4, 4, 22, 0, tzinfo=UTC)),
        # The day they go back: 09:00 is AEST again, UTC+10.
        (date(2025, 4, 6), datetime(2025, 4, 5, 23, 0, tzinfo=UTC)),
    ],
)
def test_nine_in_the_morning_in_sydney_is_the_right_instant_on_both_sides_of_a_change(
    day, expected_utc
):
    assert localtime.to_utc(day, time(9, 0), SYDNEY) == expected_utc


def test_it_refuses_a_time_in_the_spring_forward_gap_and_names_the_gap():
    with pytest.raises(localtime.NonexistentTime) as refused:
        localtime.to_utc(date(2025, 10, 5), time(2, 30), SYDNEY)
    message = str(refused.value)
    assert "02:30 on Sunday 5 October 2025 doesn't exist in Australia/Sydney" in message
    assert "from 02:00 to 03:00" in message
    assert refused.value.gap_start == datetime(2025, 10, 5, 2, 0)
    assert refused.value.gap_end == datetime(2025, 10, 5, 3, 0)


def test_the_edges_of_the_gap_are_real_times():
    assert localtime.to_utc(date(2025, 10, 5), time(1, 59), SYDNEY) == datetime(
        2025, 10, 4, 15, 59, tzinfo=UTC
    )
    assert localtime.to_utc(date(2025, 10, 5), time(3, 0), SYDNEY) == datetime(
        2025, 10, 4, 16, 0, tzinfo=UTC
    )


def test_a_repeated_time_is_not_guessed_it_asks_which():
    with pytest.raises(localtime.AmbiguousTime) as asked:
        localtime.to_utc(date(2025, 4, 6), time(2, 30), SYDNEY)
    first, second = asked.value.occurrences
    assert (first.offset, first.abbreviation) == ("UTC+11:00", "AEDT")
    assert (second.offset, second.abbreviation) == ("UTC+10:00", "AEST")
    assert "happens twice in Australia/Sydney" in str(asked.value)


@pytest.mark.parametrize(
    ("fold", "expected_utc"),
    [
        (0, datetime(2025, 4, 5, 15, 30, tzinfo=UTC)),  # the first 02:30, still AEDT
        (1, datetime(2025, 4, 5, 16, 30, tzinfo=UTC)),  # the second 02:30, AEST
    ],
)
def test_the_chosen_occurrence_of_a_repeated_time_is_used(fold, expected_utc):
    assert localtime.to_utc(date(2025, 4, 6), time(2, 30), SYDNEY, fold=fold) == expected_utc


def test_a_half_hour_zone_and_a_zone_west_of_utc_are_labelled_with_their_offsets():
    winter = datetime(2025, 1, 15, tzinfo=UTC)
    assert localtime.zone_label(SYDNEY, winter) == "Australia/Sydney (UTC+11:00)"
    assert localtime.zone_label("Asia/Kolkata", winter) == "Asia/Kolkata (UTC+05:30)"
    assert localtime.zone_label("America/St_Johns", winter) == "America/St_Johns (UTC-03:30)"


def test_an_instant_reads_back_as_the_wall_time_with_its_zone():
    instant = datetime(2025, 10, 4, 22, 0, tzinfo=UTC)
    assert localtime.describe(instant, SYDNEY) == "Sun 5 Oct 2025, 09:00 AEDT (UTC+11:00)"
    second = localtime.to_local(datetime(2025, 4, 5, 16, 30, tzinfo=UTC), SYDNEY)
    assert (second.hour, second.minute, second.fold) == (2, 30, 1)
