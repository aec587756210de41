"""Dates and times as the admin shows them: ISO dates, and every timestamp with its time zone
(2026-01-05 09:30 UTC), since a trial's sites may sit in several zones."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
