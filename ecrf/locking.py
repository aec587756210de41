"""Turn-taking without row locks.

A write that must not run twice at once for the same thing (handing out the next subject number
of a site, checking a site's reference ranges for overlap, replacing a study's allocation list)
takes a transaction-level advisory lock on a name instead of `SELECT ... FOR UPDATE` on the
study or site row. A row lock on a study or site would also stop every insert that references it
(a foreign key takes a KEY SHARE lock), i.e. every other write of the study; an advisory lock only
makes the writes that ask for the same name take turns. It is released at commit or rollback.
"""

from __future__ import annotations

from django.db import connection


def take_turns(scope: str, key: object) -> None:
    """Waits until no other open transaction holds (scope, key); holds it until this one ends.

    On SQLite (the laptop path) writers are serialized by the IMMEDIATE transaction already.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", [scope, str(key)]
        )
