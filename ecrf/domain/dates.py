"""Calendar arithmetic shared by the rules (no Django)."""

from __future__ import annotations

import datetime as dt


def age_in_years(birth_date: dt.date, on: dt.date) -> int:
    """Completed years of age on `on` (a birthday counts from the day itself)."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)
