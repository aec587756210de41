"""How many administrations a dosing frequency means per day."""

from __future__ import annotations

from decimal import Decimal

from ecrf.exceptions import InvalidInput

# Daily schedules; "weekly" regimens and single administrations are not daily.
ADMINISTRATIONS_PER_DAY = {"qd": 1, "bid": 2, "tid": 3, "qid": 4}
WEEKLY = "weekly"
ONCE = "once"
DAYS_PER_WEEK = 7


def administrations_per_day(frequency: str, *, field: str = "frequency") -> int | None:
    """Administrations a day for a daily frequency; None for weekly or single administrations."""
    if frequency in ADMINISTRATIONS_PER_DAY:
        return ADMINISTRATIONS_PER_DAY[frequency]
    if frequency in (WEEKLY, ONCE):
        return None
    known = ", ".join([*ADMINISTRATIONS_PER_DAY, WEEKLY, ONCE])
    raise InvalidInput(f"Unknown frequency {frequency!r} (known: {known}).", field=field)


def daily_dose(dose_mg: Decimal, frequency: str) -> Decimal:
    """mg a day for a dose record: per administration × administrations a day.

    A single administration counts its whole dose on its one day.
    """
    per_day = administrations_per_day(frequency)
    return dose_mg if per_day is None else dose_mg * per_day
