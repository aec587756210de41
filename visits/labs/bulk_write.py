"""Writing the results of a bulk import, each with its history row.

Every result gets one history row "+" with the import's user, reason and time, as
`save_audited` would write it; the freeze/lock guard (`ecrf.write_guards`) is asked first, so a
frozen or locked patient refuses the import as it refuses a single entry.

On PostgreSQL the rows are written with COPY: their ids are taken from the table's sequence
first, so a result graded against another result of the same file names it directly (no
second pass), and neither model instances for the INSERT parameters nor historical instances
are built — a row is a tuple of the values the instance already holds. Elsewhere (SQLite, for
development) Django's `bulk_create` and simple-history's `bulk_history_create` write the same
rows (tests/test_labs_bulk_write.py compares the two on PostgreSQL).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from ecrf.write_guards import check_writes
from visits.labs.models import LabResult

BATCH = 1000  # rows per INSERT where COPY is not available

# The columns simple-history adds to the record's own; history_id is the table's identity.
HISTORY_ONLY = ("history_date", "history_change_reason", "history_type", "history_user_id")
CREATED = "+"


def store_results(new: list[LabResult], *, actor, reason: str) -> None:
    """Inserts the new results (in list order, which is the order of their ids) with their
    history rows. A result may be graded against another one in `new` (`baseline_result` set
    to an unsaved result): it is stored naming that result's id."""
    # A freeze or lock of a patient refuses the import as it refuses a single write.
    check_writes(new, actor=actor)
    if copy_available():
        _copy_results(new, actor=actor, reason=reason)
    else:
        _create_results(new, actor=actor, reason=reason)


def copy_available() -> bool:
    return connection.vendor == "postgresql"


def _copy_results(new: list[LabResult], *, actor, reason: str) -> None:
    ids = _next_ids(len(new))
    now = timezone.now()  # the time of the import: created, updated and history date
    for result, pk in zip(new, ids, strict=True):
        result.pk = pk
        result.created_at = result.updated_at = now
    for result in new:
        baseline = result.baseline_result
        if baseline is not None and result.baseline_result_id is None:
            result.baseline_result_id = baseline.pk  # a result of this file: its id is known now
    # The record's values as Django would send them: on PostgreSQL a concrete field's stored
    # value is its attribute (decimals, aware datetimes and ids pass through unchanged).
    fields = [f.attname for f in LabResult._meta.concrete_fields]
    rows = [tuple([getattr(result, name) for name in fields]) for result in new]
    history_values = (now, reason, CREATED, None if actor is None else actor.pk)
    historical = LabResult.history.model
    tracked = {f.attname for f in historical._meta.concrete_fields} - set(HISTORY_ONLY)
    tracked.discard(historical._meta.pk.attname)  # history_id: from the identity
    assert tracked == set(fields), "the history table tracks every column of the record"
    with connection.cursor() as cursor:
        copy_rows(cursor, LabResult._meta.db_table, fields, rows)
        copy_rows(
            cursor,
            historical._meta.db_table,
            [*fields, *HISTORY_ONLY],
            (row + history_values for row in rows),
        )


def _next_ids(count: int) -> list[int]:
    table = LabResult._meta.db_table
    column = LabResult._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


def copy_rows(cursor, table: str, columns: list[str], rows) -> None:
    """COPY the rows (tuples in `columns` order) into `table` through Django's cursor."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _create_results(new: list[LabResult], *, actor, reason: str) -> None:
    # The baseline of a result may be a result of this file: stored without it first, then
    # linked once its id is known.
    later = [r for r in new if r.baseline_result is not None and r.baseline_result.pk is None]
    baselines = {id(r): r.baseline_result for r in later}
    for result in later:
        result.baseline_result = None
    LabResult.objects.bulk_create(new, batch_size=BATCH)
    if later:
        for result in later:
            result.baseline_result = baselines[id(result)]
        LabResult.objects.bulk_update(later, ["baseline_result"], batch_size=BATCH)
    for result in new:
        result._history_date = result.created_at  # the history row dated as the row it records
    LabResult.history.bulk_history_create(
        new, batch_size=BATCH, default_user=actor, default_change_reason=reason
    )
