"""The endpoint engine against the endpoint definitions shipped in ``trials/protocols/*.yaml``.

Each protocol file is loaded into the database as the product loads it (``load_protocol``, once per
session in conftest), and its design is read back from the database (jsonb on PostgreSQL, as in CI)
and built into specs by ``visits.endpoints.evaluation`` exactly as the product does (``conftest``
and ``support`` of this package), and small patient courses are evaluated at the boundaries of
each trial's own definitions, so that a change to a protocol file or to the engine that moves a
boundary fails here. One module per concern (counts, confirmation, bleeding and rescue, loss and
missing visits, withdrawal) and per trial (its own endpoints).

Day n below is day 1 + n days (``time_point.day: 180`` targets day(180)); D1 is 2025-01-01, so
day 180 is 2025-06-30 and the 6-month window (day 166 to 194) runs 2025-06-16 to 2025-07-14.
"""
