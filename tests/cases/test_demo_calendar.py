"""The demo generator's calendar tables: agent work moves forward to the next opening,
never back in time (a long case pushed past the table's last day once moved backwards)."""

from datetime import UTC, date, datetime

import numpy as np

from cases.demo.calendar import AFTER, build_calendars
from cases.demo.reference import TeamSpec

# Mon–Fri 09:00–17:00 UTC, no holidays: every figure below is easy to check by hand.
TEAM = TeamSpec(
    "t",
    "T",
    "UTC",
    1,
    "",
    "",
    tuple((d, "09:00", "17:00") for d in ("mon", "tue", "wed", "thu", "fri")),
)
FIRST_DAY = date(2026, 11, 2)  # a Monday
N_DAYS = 21


def unix(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def calendars():
    return build_calendars((TEAM,), FIRST_DAY, N_DAYS, [[]])


def test_saturday_work_moves_to_monday_opening():
    inside, opening = calendars().next_opening(np.array([0]), np.array([unix(2026, 11, 7, 10)]))
    assert inside.tolist() == [False]
    assert opening.tolist() == [unix(2026, 11, 9, 9)]


def test_work_inside_opening_hours_stays():
    inside, _ = calendars().next_opening(np.array([0]), np.array([unix(2026, 11, 10, 16, 59)]))
    assert inside.tolist() == [True]


def test_evening_work_moves_to_next_morning():
    inside, opening = calendars().next_opening(np.array([0]), np.array([unix(2026, 11, 10, 17)]))
    assert inside.tolist() == [False]
    assert opening.tolist() == [unix(2026, 11, 11, 9)]


def test_work_past_the_table_is_never_moved_back():
    # The table ends AFTER days past the window; a Saturday beyond it has no next opening.
    beyond = unix(2026, 11, 2) + (N_DAYS + AFTER + 5) * 86_400
    at = np.array([beyond + 3_600 * h for h in range(0, 72, 7)])
    inside, opening = calendars().next_opening(np.zeros(len(at), dtype=np.int64), at)
    assert inside.all()
    assert (opening <= at).all()
